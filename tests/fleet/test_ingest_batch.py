"""The native batch parser: many fixes per request, every unit in its field name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fleet.ingest.batch import MAX_FIXES, UNIT_ID_ATTRIBUTE, parse_batch
from fleet.ingest.fix import PayloadError

DEVICE = "psc119-amb-01"
WIB = timezone(timedelta(hours=7))


def _fix(**fields) -> dict:
    return {"recorded_at": "2026-01-01T09:00:00+07:00", "lon": 103.6131, "lat": -1.5913, **fields}


def test_full_fix_keeps_units_as_named() -> None:
    body = {
        "fixes": [
            _fix(speed_kph=42.5, heading_deg=270, accuracy_m=8, altitude_m=21, battery_pct=87, attributes={"odo": 1}),
        ]
    }
    [fix] = parse_batch(body, device_identifier_default=DEVICE)
    assert fix.device_identifier == DEVICE
    assert fix.recorded_at == datetime(2026, 1, 1, 9, 0, tzinfo=WIB)
    assert fix.recorded_at == datetime(2026, 1, 1, 2, 0, tzinfo=UTC)  # 09:00 WIB is 02:00 UTC
    assert (fix.speed_kph, fix.heading_deg, fix.accuracy_m, fix.altitude_m, fix.battery_pct) == (42.5, 270, 8, 21, 87)
    assert fix.attributes == {"odo": 1}


def test_unix_seconds_null_time_and_order_kept() -> None:
    body = {"fixes": [_fix(recorded_at=1767232805), _fix(recorded_at=None), _fix(recorded_at=1767232800)]}
    fixes = parse_batch(body, device_identifier_default=DEVICE)
    assert fixes[0].recorded_at == datetime(2026, 1, 1, 2, 0, 5, tzinfo=UTC)  # date -u -d @1767232805
    assert fixes[1].recorded_at is None  # stored and flagged missing_timestamp by the service
    assert fixes[2].recorded_at == datetime(2026, 1, 1, 2, 0, tzinfo=UTC)


def test_named_device_and_unit_travel_with_the_fix() -> None:
    body = {"device": "bridge-a", "fixes": [_fix(), _fix(device="other", unit_id=7)]}
    fixes = parse_batch(body, device_identifier_default=DEVICE)
    assert [f.device_identifier for f in fixes] == ["bridge-a", "other"]
    assert fixes[1].attributes[UNIT_ID_ATTRIBUTE] == 7  # checked against the device's unit by the service


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "expected a JSON object with 'fixes'"),
        ({"fixes": []}, "fixes: expected a non-empty list"),
        ({"fixes": [], "unit": 3}, "unknown top-level key"),
        ({"fixes": [_fix(speed=12)]}, r"fixes\[0\]: unknown key\(s\) speed"),
        ({"fixes": [_fix(recorded_at="2026-01-01T09:00:00")]}, r"fixes\[0\]\.recorded_at: .* has no time zone"),
        ({"fixes": [_fix(recorded_at=1767232800000)]}, "milliseconds are not accepted"),
        ({"fixes": [_fix(), {"lon": 103.6}]}, r"1 of 2 fixes cannot be read: fixes\[1\]\.lat is missing"),
        ({"fixes": [_fix(lat="south")]}, r"fixes\[0\]\.lat: expected a number, got 'south'"),
        ({"fixes": [_fix(unit_id="3")]}, r"fixes\[0\]\.unit_id: expected an integer"),
        ({"fixes": [_fix(attributes=[1])]}, r"fixes\[0\]\.attributes: expected an object"),
    ],
)
def test_bad_batches_name_index_and_field(body, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        parse_batch(body, device_identifier_default=DEVICE)


def test_size_limit_and_problem_list_is_capped() -> None:
    with pytest.raises(PayloadError, match=f"send at most {MAX_FIXES} per request"):
        parse_batch({"fixes": [_fix()] * (MAX_FIXES + 1)}, device_identifier_default=DEVICE)
    with pytest.raises(PayloadError, match=r"25 of 25 fixes cannot be read: .*; and 15 more$"):
        parse_batch({"fixes": [{"lon": 1}] * 25}, device_identifier_default=DEVICE)
