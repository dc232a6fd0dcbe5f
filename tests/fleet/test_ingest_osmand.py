"""The OsmAnd query/form parser, fed with requests as Traccar Client and trackers send them.

The query strings below are the ones in Traccar's own ``OsmAndProtocolDecoderTest`` (captured from
real clients), plus a Traccar Client request from a crew phone in Kota Jambi.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.http import QueryDict

from fleet.ingest.fix import PayloadError
from fleet.ingest.osmand import identifier_of, parse_osmand


def _pairs(query: str) -> list[tuple[str, str]]:
    """Decode a query string the way the view does (Django's QueryDict: %XX and '+' as space)."""
    return [(key, value) for key, values in QueryDict(query).lists() for value in values]


def _one(query: str):
    fixes = parse_osmand(_pairs(query))
    assert len(fixes) == 1
    return fixes[0]


def test_traccar_client_android_request_speed_in_knots_becomes_kph() -> None:
    # What Traccar Client (Android, query form) sends: speed is m/s x 1.943844, i.e. knots.
    fix = _one(
        "id=psc119-amb-01&timestamp=1767232800&lat=-1.6101&lon=103.6131&speed=21.598&bearing=271.5"
        "&altitude=21.0&accuracy=6.5&batt=83.0&charge=false"
    )
    assert fix.device_identifier == "psc119-amb-01"
    assert (fix.lon, fix.lat) == (103.6131, -1.6101)
    assert fix.recorded_at == datetime(2026, 1, 1, 2, 0, tzinfo=UTC)  # date -u -d @1767232800
    assert fix.speed_kph == pytest.approx(40.0, abs=0.01)  # 21.598 kn x 1.852 = 39.999 km/h
    assert fix.heading_deg == 271.5
    assert (fix.altitude_m, fix.accuracy_m, fix.battery_pct) == (21.0, 6.5, 83.0)
    assert fix.attributes == {"charge": False}


def test_speed_40_knots_is_74_kph() -> None:
    fix = _one(
        "id=123456789012345&timestamp=1504763810&lat=40.7232948571&lon=-74.0061408571&bearing=7.19889788244"
        "&speed=40&ignition=true&rpm=933&fuel=24"
    )
    assert fix.speed_kph == pytest.approx(74.08)  # 40 x 1.852 (1 kn = 1852 m/h exactly)
    assert fix.recorded_at == datetime(2017, 9, 7, 5, 56, 50, tzinfo=UTC)  # date -u -d @1504763810
    # Unknown keys are attributes: numbers as numbers, true/false as booleans (Traccar's rule).
    assert fix.attributes == {"ignition": True, "rpm": 933.0, "fuel": 24.0}


def test_iso_timestamp_with_zone() -> None:
    fix = _one(
        "id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0&altitude=224.0&speed=0.0"
    )
    assert fix.recorded_at == datetime(2016, 1, 27, 18, 55, 47, tzinfo=UTC)
    assert fix.speed_kph == 0.0
    assert fix.attributes == {"hdop": 6.0}
    assert "timestamp_zone_assumed" not in fix.attributes


def test_millisecond_timestamp() -> None:
    fix = _one("id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&hdop=6.0&altitude=224.0&speed=0.0")
    # 1442068686579 >= 2^31 - 1, so milliseconds: date -u -d @1442068686.579
    assert fix.recorded_at == datetime(2015, 9, 12, 14, 38, 6, 579000, tzinfo=UTC)


def test_space_separated_timestamp_without_zone_is_read_as_utc_and_marked() -> None:
    # '+' in a query string is a space: 2014-06-04 09:10:11 (a tracker's yyyy-MM-dd HH:mm:ss).
    fix = _one("lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&altitude=384.7&speed=0.0&id=353861053849681")
    assert fix.device_identifier == "353861053849681"
    assert fix.recorded_at == datetime(2014, 6, 4, 9, 10, 11, tzinfo=UTC)
    assert fix.attributes["timestamp_zone_assumed"] == "UTC"


def test_location_parameter_is_lat_comma_lon() -> None:
    fix = _one("id=123456&timestamp=1377177267&location=60.0,30.0")
    assert (fix.lat, fix.lon) == (60.0, 30.0)


def test_deviceid_and_heading_aliases_and_no_timestamp_means_none() -> None:
    fix = _one("lat=60.0&lon=30.0&speed=0.0&heading=90.0&vacc=0&hacc=0&altitude=0&deviceid=123456")
    assert fix.device_identifier == "123456"
    assert fix.heading_deg == 90.0
    assert fix.recorded_at is None  # never "now": the service flags missing_timestamp
    assert fix.attributes == {"vacc": 0.0, "hacc": 0.0}


def test_cell_and_wifi_only_report_has_no_position_and_keeps_every_repeat() -> None:
    fix = _one(
        "id=123456&timestamp=1377177267&cell=257,02,16,2224&cell=257,02,16,2223,-90"
        "&wifi=00-14-22-01-23-45,-80&wifi=00-1C-B3-09-85-15,-70"
    )
    assert (fix.lon, fix.lat) == (None, None)
    assert fix.attributes["cell"] == ["257,02,16,2224", "257,02,16,2223,-90"]
    assert fix.attributes["wifi"] == ["00-14-22-01-23-45,-80", "00-1C-B3-09-85-15,-70"]


def test_battery_without_timestamp_from_a_hardware_tracker() -> None:
    fix = _one("id=861001000719969&lat=41.666667&lon=-0.883333&altitude=350.059479&speed=0.000000&batt=87")
    assert fix.battery_pct == 87.0
    assert fix.altitude_m == pytest.approx(350.059479)


def test_valid_false_driver_id_and_the_key_never_reach_the_fix() -> None:
    fix = _one("id=amb-2&lat=-1.61&lon=103.61&timestamp=1767232800&valid=false&driverUniqueId=0042&key=SECRET")
    assert fix.attributes == {"valid": False, "driverUniqueId": "0042"}
    assert "SECRET" not in repr(fix)


def test_negative_speed_and_bearing_mean_unknown() -> None:
    fix = _one("id=amb-2&lat=-1.61&lon=103.61&timestamp=1767232800&speed=-1&bearing=-1")
    assert (fix.speed_kph, fix.heading_deg) == (None, None)


def test_identifier_of_reads_the_id_before_anything_else() -> None:
    assert identifier_of(_pairs("lat=1&id=abc")) == "abc"
    with pytest.raises(PayloadError, match="device identifier is missing"):
        identifier_of(_pairs("timestamp=1377177267&lat=60.0&lon=30.0"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("timestamp=1377177267&lat=60.0&lon=30.0", "id: the device identifier is missing"),
        ("id=1&lat=abc&lon=30.0", "lat: expected a number, got 'abc'"),
        ("id=1&lat=60.0", "lat and lon must be sent together"),
        ("id=1&location=60.0", "location: expected 'lat,lon'"),
        ("id=1&lat=1&lon=2&timestamp=yesterday", "timestamp: 'yesterday' is not a time"),
        ("id=1&lat=1&lon=2&speed=fast", "speed: expected a number"),
    ],
)
def test_bad_requests_name_the_field(query: str, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_osmand(_pairs(query))
