"""OwnTracks in HTTP mode, after the device is known: the body's fixes recorded for it.

Shared by the HTTP endpoint (``fleet.api.ingest_views``) and the replay of what was spooled while the database
was away (``fleet.services.spool``), so a spooled message is recorded exactly as it would have been.
"""

from __future__ import annotations

from fleet.errors import DeviceUnitMismatchError
from fleet.ingest import owntracks
from fleet.ingest.fix import loads_json
from fleet.models import Device, InboundMessage
from fleet.services.positions import PositionRecordResult, position_record


def owntracks_identifier(*, user: str, device_name: str) -> str:
    """``user/device`` from the HTTP Basic user and the ``X-Limit-D`` header (or the user alone if it has a /)."""
    device_name = device_name.strip()
    return user if "/" in user or not device_name else f"{user}/{device_name}"


def owntracks_http_record(*, device: Device, body: bytes | str, message: InboundMessage) -> PositionRecordResult:
    """Record the fixes of one OwnTracks HTTP body for ``device`` (authenticated by the caller).

    Raises
    ------
    PayloadError
        Not JSON, or a location without its coordinates.
    DeviceUnitMismatchError
        The body's ``topic`` names another device.
    """
    payload = loads_json(body) if body.strip() else None
    topic = payload.get("topic") if isinstance(payload, dict) else None
    if isinstance(topic, str) and topic.removeprefix("owntracks/") != device.identifier:
        raise DeviceUnitMismatchError(f"device {device.identifier!r} sent a message for topic {topic!r}")
    fixes = owntracks.parse_owntracks(payload, device_identifier=device.identifier)
    return position_record(device=device, fixes=fixes, protocol="owntracks", message=message)
