"""Record OwnTracks phones that publish over MQTT: subscribe at the broker and store every message.

Several bridges can run at once (on one host or several): they share one subscription (MQTT shared
subscriptions, ``$share/<group>/<filter>``; Mosquitto 2 has them), so the broker hands each message to one of
them, and each has its own client id. The id must stay the same across restarts of one bridge (``--instance``,
or ``--client-id``): the broker keeps its persistent session under that id, with the messages it had queued or
not yet acknowledged, and gives them back when that bridge reconnects.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connections

from fleet.services.owntracks_mqtt import TOPIC_FILTER, owntracks_mqtt_message
from fleet.services.spool import spool_replay

logger = logging.getLogger(__name__)
RETRY_S = 5.0  # wait before resuming the session after a message could not be stored


def subscription(topic: str, *, share_group: str | None) -> str:
    """The filter to subscribe to: ``$share/<group>/<topic>`` when bridges share it, else ``topic``."""
    if not share_group:
        return topic
    if any(c in share_group for c in "/+#") or topic.startswith("$share/"):
        raise CommandError(f"share group {share_group!r} and topic {topic!r}: a group name has no / + #")
    return f"$share/{share_group}/{topic}"


def spool_replayer(*, every_s: float) -> threading.Thread:
    """A daemon thread replaying the ingest spool every ``every_s`` (the bridge runs one: it outlives outages)."""

    def loop() -> None:
        while True:
            time.sleep(every_s)
            close_old_connections()
            try:
                spool_replay()
            except Exception:  # Redis or the database away: the next round tries again
                logger.warning("spool replay failed; trying again in %.0f s", every_s, exc_info=True)
            finally:
                connections.close_all()

    return threading.Thread(target=loop, name="spool-replay", daemon=True)


def default_client_id(instance: int) -> str:
    """``siaga-ingest-<host>-<instance>``: distinct per bridge, the same each time that bridge starts."""
    return f"siaga-ingest-{socket.gethostname()}-{instance}"


def bridge_client(
    *, url: str, topic: str = TOPIC_FILTER, client_id: str = "siaga-ingest", persistent: bool = True
) -> mqtt.Client:
    """An MQTT client that subscribes to ``topic`` on (re)connect and records each message it receives.

    ``url``: ``mqtt://[user:password@]host[:port]``. ``persistent``: a session the broker keeps
    (``clean_session=False``) with QoS 1, so messages published while the bridge was down are
    delivered when it is back. A message is acknowledged only once it is stored: if storing fails
    (the database is down), the broker still holds it and delivers it again after a reconnect.
    """
    parts = urlsplit(url)
    if parts.scheme != "mqtt" or not parts.hostname:
        raise CommandError(f"--url {url!r}: expected mqtt://[user:password@]host[:port]")
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=not persistent, manual_ack=True
    )
    if parts.username:
        client.username_pw_set(parts.username, parts.password)

    def on_connect(client, userdata, flags, reason_code, properties) -> None:
        client.subscribe(topic, qos=1)

    def on_message(client, userdata, msg) -> None:
        close_old_connections()  # a long-running loop: drop a connection the database closed
        try:
            owntracks_mqtt_message(topic=msg.topic, payload=msg.payload)
        except Exception:  # not stored (it raises only then): no ack, so the broker keeps it
            logger.exception("could not store the message on %s; reconnecting for it to come again", msg.topic)
            client.disconnect()  # the broker delivers unacknowledged messages again when the session resumes
            return
        client.ack(msg.mid, msg.qos)

    def on_disconnect(client, userdata, flags, reason_code, properties) -> None:
        connections.close_all()  # this thread's database connection; a reconnect opens a new one

    client.on_connect = on_connect
    client.on_message = on_message
    client.on_disconnect = on_disconnect
    client.connect(parts.hostname, parts.port or 1883, keepalive=60)
    return client


class Command(BaseCommand):
    help = (
        "Subscribe to owntracks/+/+ at an MQTT broker and record every location message (OwnTracks in "
        "MQTT mode). The broker authenticates the phones; give it a per-user topic ACL. Several bridges share "
        "the subscription ($share/siaga/...): give each its own --instance."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=settings.SIAGA_MQTT_URL, help="mqtt://[user:password@]host[:port]")
        parser.add_argument("--topic", default=TOPIC_FILTER, help="topic filter (default %(default)s)")
        parser.add_argument(
            "--share-group", default=settings.SIAGA_MQTT_SHARE_GROUP,
            help="MQTT shared-subscription group (default SIAGA_MQTT_SHARE_GROUP, %(default)s; '' subscribes alone)",
        )  # fmt: skip
        parser.add_argument(
            "--instance", type=int, default=0,
            help="this bridge's number on this host (default 0): its client id is siaga-ingest-<host>-<instance>",
        )  # fmt: skip
        parser.add_argument("--client-id", default="", help="the client id instead (stable across restarts)")

    def handle(self, *args, url: str, topic: str, share_group: str, instance: int, client_id: str, **options) -> None:
        subscribed = subscription(topic, share_group=share_group or None)
        client_id = client_id or default_client_id(instance)
        try:
            client = bridge_client(url=url, topic=subscribed, client_id=client_id)
        except OSError as exc:
            raise CommandError(f"cannot reach the MQTT broker at {url}: {exc}") from exc
        self.stdout.write(f"recording {subscribed} from {url} as {client_id} (Ctrl-C to stop)")
        spool_replayer(every_s=settings.SIAGA_SPOOL_REPLAY_EVERY_S).start()
        try:
            while True:
                # Returns only after the bridge disconnected itself: a message could not be stored.
                client.loop_forever(retry_first_connection=True)
                time.sleep(RETRY_S)
                with contextlib.suppress(OSError):  # the broker is away too: loop_forever keeps trying
                    client.reconnect()
        except KeyboardInterrupt:
            client.disconnect()
