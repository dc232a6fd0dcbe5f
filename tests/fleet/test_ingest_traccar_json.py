"""The Traccar Client 9+ JSON parser, fed with bodies as the app's location SDK posts them.

The first three bodies are from Traccar's ``OsmAndProtocolDecoderTest.testDecodeJson`` (captured from
Android and iOS clients, one of them in Jakarta); the last one is a crew phone in Kota Jambi.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fleet.ingest.fix import PayloadError, loads_json
from fleet.ingest.traccar_json import identifier_of, parse_traccar_json

ANDROID_STILL = (
    '{"location":{"timestamp":"2025-06-15T13:45:12.862Z","coords":{"latitude":37.4219983,"longitude":-122.084,'
    '"accuracy":5,"speed":0,"heading":-1,"altitude":5},"is_moving":false,"odometer":0,"event":"motionchange",'
    '"battery":{"level":1,"is_charging":false},"activity":{"type":"still"},"extras":{},'
    '"_":"&id=48241179&lat=37.4219983&lon=-122.084&timestamp=2025-06-15T13:45:12.862Z&"},"device_id":"48241179"}'
)
IOS_SIMULATOR = (
    '{"location":{"extras":{},"mock":true,"coords":{"speed_accuracy":-1,"speed":-1,"longitude":-122.406417,'
    '"ellipsoidal_altitude":0,"floor":null,"heading_accuracy":-1,"latitude":37.785834000000001,"accuracy":5,'
    '"altitude_accuracy":-1,"altitude":0,"heading":-1},"is_moving":false,"age":188,"odometer":0,'
    '"uuid":"2FB04C65-99CF-42AB-8DD3-EBCB4B108BF8","event":"motionchange","battery":{"level":-1,"is_charging":false},'
    '"activity":{"type":"unknown","confidence":100},"timestamp":"2025-05-09T04:11:30.579Z"},"device_id":"658765"}'
)
JAKARTA_MOVING = (
    '{"location":{"event":"motionchange","is_moving":false,"uuid":"0e9a2473-a9a7-4c00-997b-fb97d2154e75",'
    '"timestamp":"2021-07-21T08:06:34.444Z","odometer":0,"coords":{"latitude":-6.1148096,"longitude":106.6837015,'
    '"accuracy":3.8,"speed":18.67,"speed_accuracy":0.26,"heading":63,"heading_accuracy":0.28,"altitude":35.7,'
    '"altitude_accuracy":3.8},"activity":{"type":"still","confidence":100},"battery":{"is_charging":false,'
    '"level":0.79},"extras":{}},"device_id":"8737767034"}'
)


def test_android_body_units_and_unknown_heading() -> None:
    [fix] = parse_traccar_json(loads_json(ANDROID_STILL))
    assert fix.device_identifier == "48241179"
    assert (fix.lon, fix.lat) == (-122.084, 37.4219983)
    assert fix.recorded_at == datetime(2025, 6, 15, 13, 45, 12, 862000, tzinfo=UTC)
    assert fix.speed_kph == 0.0
    assert fix.heading_deg is None  # -1 is the SDK's "unknown"
    assert (fix.accuracy_m, fix.altitude_m) == (5.0, 5.0)
    assert fix.battery_pct == 100.0  # level 1 (0..1) x 100
    assert fix.attributes["event"] == "motionchange"
    assert fix.attributes["is_charging"] is False
    assert fix.attributes["activity"] == {"type": "still"}


def test_speed_is_metres_per_second_and_battery_a_fraction() -> None:
    [fix] = parse_traccar_json(loads_json(JAKARTA_MOVING))
    assert fix.speed_kph == pytest.approx(67.212)  # 18.67 m/s x 3.6
    assert fix.battery_pct == pytest.approx(79.0)  # 0.79 x 100
    assert fix.heading_deg == 63.0
    assert fix.attributes["coords.speed_accuracy"] == 0.26
    assert fix.attributes["uuid"] == "0e9a2473-a9a7-4c00-997b-fb97d2154e75"


def test_ios_unknowns_are_none_not_minus_one() -> None:
    [fix] = parse_traccar_json(loads_json(IOS_SIMULATOR))
    assert fix.device_identifier == "658765"
    assert (fix.speed_kph, fix.heading_deg, fix.battery_pct) == (None, None, None)
    assert fix.attributes["mock"] is True
    assert fix.recorded_at == datetime(2025, 5, 9, 4, 11, 30, 579000, tzinfo=UTC)


def test_numeric_device_id_and_a_batch_of_locations() -> None:
    body = {
        "device_id": 48241179,
        "location": [
            {"timestamp": "2026-01-01T02:00:00Z", "coords": {"latitude": -1.61, "longitude": 103.61, "speed": 10}},
            {"timestamp": "2026-01-01T02:00:05Z", "coords": {"latitude": -1.6101, "longitude": 103.6102}},
        ],
    }
    fixes = parse_traccar_json(body)
    assert [f.device_identifier for f in fixes] == ["48241179", "48241179"]
    assert fixes[0].speed_kph == pytest.approx(36.0)  # 10 m/s x 3.6
    assert fixes[1].speed_kph is None


def test_identifier_of() -> None:
    assert identifier_of(loads_json(ANDROID_STILL)) == "48241179"
    with pytest.raises(PayloadError, match="expected a JSON object"):
        identifier_of([1, 2])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"location": {}}, "device_id: the device identifier is missing"),
        ({"device_id": "1"}, "location: expected an object"),
        ({"device_id": "1", "location": {"timestamp": "2026-01-01T00:00:00Z"}}, "location.coords: expected an object"),
        ({"device_id": "1", "location": {"coords": {"latitude": 1}}}, "location.coords.longitude is missing"),
        (
            {"device_id": "1", "location": {"timestamp": 1767225600, "coords": {"latitude": 1, "longitude": 2}}},
            "location.timestamp: expected an ISO 8601 text",
        ),
        (
            {"device_id": "1", "location": {"coords": {"latitude": "north", "longitude": 2}}},
            "location.coords.latitude: expected a number",
        ),
    ],
)
def test_bad_bodies_name_the_field(body, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_traccar_json(body)


def test_bad_json_says_where() -> None:
    with pytest.raises(PayloadError, match=r"body is not valid JSON: Expecting .* at line 1 column"):
        loads_json(b'{"device_id": "1", "location": ')
