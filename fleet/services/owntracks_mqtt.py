"""OwnTracks over MQTT: the phones publish to a broker, this records what the broker relays.

OwnTracks in MQTT mode publishes the same JSON as in HTTP mode to ``owntracks/<user>/<device>``
(PROTOCOLS.md). The broker (Mosquitto) authenticates each phone and, with a per-user ACL, lets it
publish only under its own user name, so the topic names the device. Each message is stored raw first
(``InboundMessage``, channel ``owntracks_mqtt``), then its device is looked up by the topic and its
fixes recorded like HTTP ones (``position_record``: validated, flagged, never dropped). The bridge
subscribes to location topics only; a subtopic (``.../event``, ``.../cmd``) that a wider filter
lets in is stored and ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fleet.errors import DeviceAuthError
from fleet.ingest import owntracks
from fleet.ingest.fix import PayloadError, device_identifier, loads_json
from fleet.models import InboundMessage
from fleet.services.devices import device_for_broker
from fleet.services.inbound import inbound_message_close, inbound_message_store
from fleet.services.positions import position_record

logger = logging.getLogger(__name__)

CHANNEL = "owntracks_mqtt"
TOPIC_FILTER = "owntracks/+/+"  # location messages only: subtopics such as owntracks/u/d/event are not needed


@dataclass(frozen=True)
class MqttOutcome:
    """What became of one message: the stored raw message, its outcome and the fixes recorded."""

    message: InboundMessage
    outcome: str
    fixes: int


def device_identifier_of_topic(topic: str) -> str | None:
    """``user/device`` of an OwnTracks location topic ``owntracks/<user>/<device>``; None for a subtopic.

    Raises
    ------
    PayloadError
        A topic that is not OwnTracks'.
    """
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "owntracks" or not parts[1] or not parts[2]:
        raise PayloadError(f"topic {topic!r} is not owntracks/<user>/<device>")
    if len(parts) > 3:
        return None
    return device_identifier("topic", f"{parts[1]}/{parts[2]}")


def owntracks_mqtt_message(*, topic: str, payload: bytes) -> MqttOutcome:
    """Store one MQTT message, then record its fixes for the device its topic names.

    Raises only when the message could not be stored (the database is down), so the caller knows
    whether to acknowledge it. What happens after storing is written on the stored message: a refusal
    (``rejected`` with why, as an MQTT publisher gets no answer to read) or a failure (``error``).
    """
    message = inbound_message_store(channel=CHANNEL, body=payload, headers={"Topic": topic}, remote_addr=None)
    try:
        return _record(message, topic, payload)
    except Exception as exc:
        logger.exception("recording the OwnTracks MQTT message %s failed", message.pk)
        inbound_message_close(message=message, outcome="error", error=f"{type(exc).__name__}: {exc}")
        return MqttOutcome(message, "error", 0)


def _record(message: InboundMessage, topic: str, payload: bytes) -> MqttOutcome:
    try:
        identifier = device_identifier_of_topic(topic)
        if identifier is None:
            inbound_message_close(message=message, outcome="ignored", error="subtopic: not a location message")
            return MqttOutcome(message, "ignored", 0)
        device = device_for_broker(identifier=identifier)
        body = loads_json(payload) if payload.strip() else None
        result = position_record(
            device=device,
            fixes=owntracks.parse_owntracks(body, device_identifier=identifier),
            protocol="owntracks",
            message=message,
        )
    except (PayloadError, DeviceAuthError) as exc:
        inbound_message_close(message=message, outcome="rejected", error=str(exc))
        logger.info("OwnTracks MQTT message on %s refused: %s", topic, exc)
        return MqttOutcome(message, "rejected", 0)
    return MqttOutcome(message, message.outcome, len(result.fixes))
