"""Several ``mqtt_ingest`` bridges at once: one shared subscription at a real Mosquitto (127.0.0.1:1883, started by
scripts/setup.sh), a client id each, and every message recorded once between them."""

from __future__ import annotations

import json
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from django.core.management.base import CommandError
from factories.fleet import make_agency, make_device, make_unit

from fleet.management.commands.mqtt_ingest import bridge_client, default_client_id, subscription
from fleet.models import InboundMessage, PositionFix

CENTRE = (103.6131, -1.5913)
MESSAGES = 20


def test_the_subscription_is_shared_unless_no_group_is_given() -> None:
    assert subscription("owntracks/+/+", share_group="siaga") == "$share/siaga/owntracks/+/+"
    assert subscription("owntracks/+/+", share_group=None) == "owntracks/+/+"
    for bad_group in ("a/b", "+", "#"):
        with pytest.raises(CommandError, match="a group name has no"):
            subscription("owntracks/+/+", share_group=bad_group)
    assert default_client_id(0) != default_client_id(1)
    assert default_client_id(1) == default_client_id(1)  # the same session after a restart


def _bridge(topic: str, counts: dict[str, int]) -> mqtt.Client:
    client_id = f"siaga-test-{uuid.uuid4().hex[:8]}"
    bridge = bridge_client(url=settings.SIAGA_MQTT_URL, topic=topic, client_id=client_id, persistent=False)
    counts[client_id] = 0
    recorded = bridge.on_message

    def counted(client, userdata, msg) -> None:
        counts[client_id] += 1
        recorded(client, userdata, msg)

    bridge.on_message = counted
    subscribed = threading.Event()
    bridge.on_subscribe = lambda *args: subscribed.set()
    bridge.loop_start()
    assert subscribed.wait(10), "the bridge did not subscribe at the broker (is Mosquitto running?)"
    return bridge


@pytest.mark.django_db(transaction=True)  # the bridges record from their own threads and connections
def test_two_bridges_record_each_message_once_between_them(jambi_kecamatan) -> None:
    # A user name of this test's own: other runs on this machine publish to the same broker.
    user = f"t{uuid.uuid4().hex[:8]}"
    unit = make_unit(agency=make_agency(region=jambi_kecamatan), call_sign="PSC119-07")
    make_device(unit=unit, identifier=f"{user}/amb07")
    topic = subscription(f"owntracks/{user}/+", share_group=f"siaga-test-{uuid.uuid4().hex[:8]}")
    counts: dict[str, int] = {}
    bridges = [_bridge(topic, counts), _bridge(topic, counts)]
    try:
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"phone-{uuid.uuid4().hex[:8]}")
        host, port = settings.SIAGA_MQTT_URL.removeprefix("mqtt://").split(":")
        publisher.connect(host, int(port))
        publisher.loop_start()
        now = int(time.time())
        for n in range(MESSAGES):
            body = {"_type": "location", "lat": CENTRE[1], "lon": CENTRE[0] + 0.0001 * n, "tst": now - 60 + n}
            publisher.publish(f"owntracks/{user}/amb07", json.dumps(body), qos=1).wait_for_publish(10)
        publisher.disconnect()
        publisher.loop_stop()
        handled = InboundMessage.objects.filter(channel="owntracks_mqtt").exclude(outcome="received")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and sum(counts.values()) < MESSAGES:
            time.sleep(0.05)
        while time.monotonic() < deadline and handled.count() < MESSAGES:
            time.sleep(0.05)
        time.sleep(0.5)  # room for a second delivery of any message to show up before the bridges stop
    finally:
        for bridge in bridges:
            bridge.disconnect()
            bridge.loop_stop()
    assert sum(counts.values()) == MESSAGES, counts  # each message reached one bridge: none twice, none lost
    assert all(counts.values()), f"the broker gave every message to one bridge: {counts}"
    assert handled.count() == MESSAGES
    fixes = PositionFix.objects.filter(unit=unit)
    assert fixes.count() == MESSAGES
    assert fixes.values("recorded_at").distinct().count() == MESSAGES
    assert not fixes.filter(flags__contains=["duplicate"]).exists()
