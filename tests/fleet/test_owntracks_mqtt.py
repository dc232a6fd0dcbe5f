"""OwnTracks over MQTT: messages relayed by a real Mosquitto on 127.0.0.1:1883 (scripts/setup.sh starts
one), each stored first, then recorded for the device its topic names."""

from __future__ import annotations

import json
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from django.conf import settings
from factories.fleet import make_agency, make_device, make_unit

from fleet.management.commands.mqtt_ingest import bridge_client
from fleet.models import InboundMessage, PositionFix
from fleet.services.owntracks_mqtt import device_identifier_of_topic, owntracks_mqtt_message

CENTRE = (103.6131, -1.5913)


def _location(tst: int, lonlat=CENTRE, **extra) -> bytes:
    # As the Android app publishes it (PROTOCOLS.md: the same JSON as in HTTP mode).
    body = {"_type": "location", "lat": lonlat[1], "lon": lonlat[0], "tst": tst, "acc": 9, "vel": 36, "tid": "a1"}
    return json.dumps(body | extra).encode()


@pytest.fixture
def phone(jambi_kecamatan):
    unit = make_unit(agency=make_agency(region=jambi_kecamatan), call_sign="PSC119-01")
    return make_device(unit=unit, identifier="psc119/amb01")


def test_topics_name_the_device() -> None:
    assert device_identifier_of_topic("owntracks/psc119/amb01") == "psc119/amb01"
    assert device_identifier_of_topic("owntracks/psc119/amb01/event") is None  # a subtopic: not a location
    for bad in ("owntracks/psc119", "traccar/x/y", "owntracks//amb01"):
        with pytest.raises(Exception, match="is not owntracks/<user>/<device>"):
            device_identifier_of_topic(bad)


@pytest.mark.django_db
def test_a_location_is_stored_then_recorded_with_km_per_hour(phone) -> None:
    tst = int(time.time()) - 30
    outcome = owntracks_mqtt_message(topic="owntracks/psc119/amb01", payload=_location(tst))
    assert (outcome.outcome, outcome.fixes) == ("accepted", 1)
    fix = PositionFix.objects.get()
    assert (fix.unit_id, fix.protocol, fix.speed_kph, fix.is_valid) == (phone.unit_id, "owntracks", 36.0, True)
    assert fix.message_id == outcome.message.pk
    message = InboundMessage.objects.get(pk=outcome.message.pk)
    assert (message.channel, message.headers["Topic"]) == ("owntracks_mqtt", "owntracks/psc119/amb01")
    assert message.outcome == "accepted"
    phone.unit.refresh_from_db()
    assert phone.unit.last_fix_id == fix.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("topic", "payload", "outcome", "error"),
    [
        ("owntracks/budi/hp", _location(1767225600), "rejected", "unknown device 'budi/hp'"),
        ("owntracks/psc119/amb01", b"{not json", "rejected", "not valid JSON"),
        ("owntracks/psc119/amb01", b'{"_type":"location","lon":103.6}', "rejected", "lat"),
        ("owntracks/psc119/amb01/event", b'{"_type":"transition"}', "ignored", "subtopic"),
        ("owntracks/psc119/amb01", b'{"_type":"lwt","tst":1767225600}', "ignored", "no location"),
    ],
)
def test_what_cannot_be_recorded_is_still_stored_with_why(phone, topic, payload, outcome, error) -> None:
    result = owntracks_mqtt_message(topic=topic, payload=payload)
    assert result.outcome == outcome
    message = InboundMessage.objects.get(channel="owntracks_mqtt")
    assert (message.outcome, message.body) == (outcome, payload.decode())
    assert error in message.error
    assert not PositionFix.objects.exists()


@pytest.mark.django_db
def test_a_deactivated_phone_is_refused(phone) -> None:
    phone.is_active = False
    phone.save(update_fields=["is_active"])
    result = owntracks_mqtt_message(topic="owntracks/psc119/amb01", payload=_location(int(time.time())))
    assert result.outcome == "rejected"
    assert "deactivated" in InboundMessage.objects.get().error


@pytest.mark.django_db(transaction=True)  # the bridge records from its own thread and connection
def test_the_bridge_records_what_a_phone_publishes_through_mosquitto(phone) -> None:
    topic = "owntracks/psc119/amb01"
    client_id = f"siaga-test-{uuid.uuid4().hex[:8]}"
    bridge = bridge_client(url=settings.SIAGA_MQTT_URL, client_id=client_id, persistent=False)
    subscribed = threading.Event()
    bridge.on_subscribe = lambda *args: subscribed.set()
    bridge.loop_start()
    try:
        assert subscribed.wait(10), "the bridge did not subscribe at the broker (is Mosquitto running?)"
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"phone-{uuid.uuid4().hex[:8]}")
        host, port = settings.SIAGA_MQTT_URL.removeprefix("mqtt://").split(":")
        publisher.connect(host, int(port))
        publisher.loop_start()
        now = int(time.time())
        # A burst sent late and out of order, as a phone that was offline sends it.
        for tst in (now - 20, now - 40, now - 30):
            publisher.publish(topic, _location(tst), qos=1).wait_for_publish(10)
        handled = InboundMessage.objects.filter(channel="owntracks_mqtt").exclude(outcome="received")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and handled.count() < 3:
            time.sleep(0.05)
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        bridge.disconnect()  # its on_disconnect closes the bridge thread's database connection
        bridge.loop_stop()
    assert PositionFix.objects.filter(unit=phone.unit).count() == 3
    phone.unit.refresh_from_db()
    assert int(phone.unit.last_fix.recorded_at.timestamp()) == now - 20  # the newest, though sent first
    assert list(handled.values_list("outcome", flat=True)) == ["accepted"] * 3


@pytest.mark.django_db
def test_a_failure_after_storing_is_written_on_the_message(phone, monkeypatch) -> None:
    def broken(**kwargs):
        raise RuntimeError("validation blew up")

    monkeypatch.setattr("fleet.services.owntracks_mqtt.position_record", broken)
    result = owntracks_mqtt_message(topic="owntracks/psc119/amb01", payload=_location(int(time.time())))
    assert result.outcome == "error"
    message = InboundMessage.objects.get(channel="owntracks_mqtt")
    assert (message.outcome, message.error) == ("error", "RuntimeError: validation blew up")


def _wait(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_message_that_could_not_be_stored_is_delivered_again_after_a_reconnect(phone, monkeypatch) -> None:
    from django.db import OperationalError

    from fleet.management.commands import mqtt_ingest

    calls: list[str] = []
    real = mqtt_ingest.owntracks_mqtt_message

    def database_down_once(**kwargs):
        calls.append(kwargs["topic"])
        if len(calls) == 1:
            raise OperationalError("the database is down")
        return real(**kwargs)

    monkeypatch.setattr(mqtt_ingest, "owntracks_mqtt_message", database_down_once)
    client_id = f"siaga-test-{uuid.uuid4().hex[:8]}"  # one persistent session at the broker, used twice
    host, port = settings.SIAGA_MQTT_URL.removeprefix("mqtt://").split(":")

    def start():
        bridge = bridge_client(url=settings.SIAGA_MQTT_URL, client_id=client_id, persistent=True)
        subscribed = threading.Event()
        bridge.on_subscribe = lambda *args: subscribed.set()
        bridge.loop_start()
        assert subscribed.wait(10), "the bridge did not subscribe at the broker (is Mosquitto running?)"
        return bridge

    bridge = start()
    try:
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"phone-{uuid.uuid4().hex[:8]}")
        publisher.connect(host, int(port))
        publisher.loop_start()
        publisher.publish("owntracks/psc119/amb01", _location(int(time.time()) - 5), qos=1).wait_for_publish(10)
        publisher.disconnect()
        publisher.loop_stop()
        assert _wait(lambda: len(calls) == 1)
        bridge.disconnect()
        bridge.loop_stop()
        assert not InboundMessage.objects.exists()  # not stored, and not acknowledged either
        bridge = start()  # the same session: the broker delivers the unacknowledged message again
        assert _wait(lambda: PositionFix.objects.filter(unit=phone.unit).exists())
    finally:
        bridge.disconnect()
        bridge.loop_stop()
        cleanup = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        cleanup.connect(host, int(port))  # a clean session with the same id: the broker forgets the old one
        cleanup.disconnect()
    assert len(calls) == 2
    assert InboundMessage.objects.get(channel="owntracks_mqtt").outcome == "accepted"
