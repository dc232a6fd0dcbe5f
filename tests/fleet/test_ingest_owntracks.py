"""The OwnTracks HTTP parser, fed with message bodies as the Android and iOS apps post them.

Field names and units per the OwnTracks booklet (tech/json): ``vel`` km/h, ``tst`` Unix seconds,
zero-valued ``acc``/``alt``/``cog``/``vac``/``vel`` omitted.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fleet.ingest.fix import PayloadError, loads_json
from fleet.ingest.owntracks import parse_owntracks

DEVICE = "psc119/amb01"

# Android, moving along Jl. Sultan Thaha, Kota Jambi.
ANDROID_MOVING = (
    '{"_type":"location","acc":12,"alt":21,"batt":81,"bs":1,"conn":"m","created_at":1767225605,'
    '"lat":-1.5913,"lon":103.6131,"m":1,"t":"u","tid":"a1","tst":1767225600,"vac":3,"vel":38,"cog":270,'
    '"topic":"owntracks/psc119/amb01"}'
)
# Standing still: vel, cog and alt are zero and therefore left out by the app; acc left out too.
ANDROID_STILL = (
    '{"_type":"location","batt":80,"bs":2,"conn":"w","lat":-1.5913,"lon":103.6131,"tid":"a1","tst":1767225660}'
)


def test_location_velocity_is_already_kph() -> None:
    [fix] = parse_owntracks(loads_json(ANDROID_MOVING), device_identifier=DEVICE)
    assert fix.device_identifier == DEVICE
    assert (fix.lon, fix.lat) == (103.6131, -1.5913)
    assert fix.recorded_at == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)  # date -u -d @1767225600
    assert fix.speed_kph == 38.0  # vel is km/h: no conversion
    assert fix.heading_deg == 270.0
    assert (fix.accuracy_m, fix.altitude_m, fix.battery_pct) == (12.0, 21.0, 81.0)
    # created_at (message built 5 s after the fix) and the rest stay as attributes.
    assert fix.attributes["created_at"] == 1767225605
    assert fix.attributes["tid"] == "a1"
    assert fix.attributes["topic"] == "owntracks/psc119/amb01"


def test_omitted_zero_fields() -> None:
    [fix] = parse_owntracks(loads_json(ANDROID_STILL), device_identifier=DEVICE)
    assert fix.speed_kph == 0.0  # vel omitted = 0 km/h
    assert fix.altitude_m == 0.0  # alt omitted = 0 m
    assert fix.heading_deg is None  # a course at speed 0 means nothing
    assert fix.accuracy_m is None  # 0 m is not a measurement: unknown, not "perfect"


@pytest.mark.parametrize(
    "body",
    [
        '{"_type":"transition","wtst":1767225000,"lat":-1.59,"lon":103.61,"tst":1767225600,"acc":10,"tid":"a1",'
        '"event":"enter","desc":"RSUD Raden Mattaher","t":"c"}',
        '{"_type":"lwt","tst":1767225600}',
        '{"_type":"waypoint","desc":"Posko Damkar","lat":-1.61,"lon":103.59,"rad":100,"tst":1767225000}',
        '{"_type":"status","android":{"hib":1,"bo":1,"loc":0}}',
        '{"_type":"encrypted","data":"c29tZSBlbmNyeXB0ZWQgYnl0ZXM="}',
        '{"_type":"card","name":"Ambulans 01"}',
    ],
)
def test_other_message_types_give_no_fix_and_no_error(body: str) -> None:
    assert parse_owntracks(loads_json(body), device_identifier=DEVICE) == []


def test_empty_body_gives_no_fix() -> None:
    # The app POSTs a zero-length body when a friend is removed.
    assert parse_owntracks(None, device_identifier=DEVICE) == []


def test_a_list_of_messages() -> None:
    fixes = parse_owntracks(
        [loads_json(ANDROID_MOVING), {"_type": "lwt", "tst": 1}, loads_json(ANDROID_STILL)], device_identifier=DEVICE
    )
    assert [f.recorded_at.timestamp() for f in fixes] == [1767225600, 1767225660]


def test_location_without_tst_has_no_time() -> None:
    [fix] = parse_owntracks({"_type": "location", "lat": -1.59, "lon": 103.61}, device_identifier=DEVICE)
    assert fix.recorded_at is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"_type": "location", "lon": 103.61, "tst": 1767225600}, "body: a location message needs lat"),
        ({"_type": "location", "lat": "x", "lon": 103.61}, "body.lat: expected a number"),
        ({"_type": "location", "lat": -1.6, "lon": 103.61, "vel": "fast"}, "body.vel: expected a number"),
        ("location", "body: expected a JSON object with _type"),
    ],
)
def test_bad_location_names_the_field(body, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_owntracks(body, device_identifier=DEVICE)
