"""fleet.ingest.checks without the database: the flags a burst of fixes gets from its own content."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fleet.ingest.checks import Limits, Prev, flag_fixes, haversine_m

NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
LIMITS = Limits(max_future_s=120, max_past_s=7 * 86400, max_accuracy_m=500, max_speed_kph=200)


@dataclass
class Row:
    recorded_at: datetime | None
    lon: float | None
    lat: float | None
    accuracy_m: float | None = 10.0
    attributes: dict = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    is_valid: bool = False


def _flag(rows, *, previous=None, stored=frozenset(), outside=None) -> list[list[str]]:
    outside = outside if outside is not None else [False] * len(rows)
    flag_fixes(rows, previous=previous or {}, stored=set(stored), outside=outside, now=NOW, limits=LIMITS)
    return [row.flags for row in rows]


def test_each_static_flag_and_the_warning_that_keeps_a_fix_valid() -> None:
    t = NOW - timedelta(minutes=1)
    rows = [
        Row(t, 0.0, 0.0),
        Row(t, 200.0, -1.6),
        Row(t, None, None),
        Row(None, 103.6, -1.6),
        Row(NOW + timedelta(hours=1), 103.6, -1.6),
        Row(NOW - timedelta(days=30), 103.6, -1.6),
        Row(t, 103.61, -1.61, accuracy_m=900.0),
        Row(t, 103.62, -1.62, attributes={"valid": False}),
        Row(t, 103.63, -1.63),
    ]
    flags = _flag(rows, outside=[False] * 8 + [True])
    assert flags == [
        ["zero_position"], ["out_of_range"], ["missing_position"], ["missing_timestamp"], ["future_timestamp"],
        ["stale_timestamp"], ["poor_accuracy"], ["device_invalid"], ["outside_region"],
    ]  # fmt: skip
    assert rows[6].is_valid
    assert not any(r.is_valid for i, r in enumerate(rows) if i != 6)


def test_a_resend_and_a_copy_in_the_same_burst_are_duplicates_and_the_original_is_not() -> None:
    t = NOW - timedelta(minutes=2)
    rows = [Row(t, 103.6, -1.6), Row(t, 103.6, -1.6), Row(t + timedelta(seconds=30), 103.601, -1.6)]
    assert _flag(rows, stored={(t + timedelta(seconds=30), 103.601, -1.6)}) == [[], ["duplicate"], ["duplicate"]]


def test_speed_is_measured_from_the_newer_of_the_stored_and_the_bursts_previous_fix() -> None:
    t = NOW - timedelta(minutes=10)
    stored_prev = Prev(t - timedelta(minutes=1), 103.60, -1.60, 5.0)
    # 1 minute later, ~1.1 km on: 66 km/h (fine); then 30 s later ~55 km on: far beyond 200 km/h.
    rows = [Row(t, 103.61, -1.60), Row(t + timedelta(seconds=30), 104.10, -1.60)]
    assert _flag(rows, previous={t: stored_prev, t + timedelta(seconds=30): stored_prev}) == [[], ["impossible_speed"]]
    assert [r.is_valid for r in rows] == [True, False]


def test_jitter_within_the_accuracy_radii_is_no_jump() -> None:
    t = NOW - timedelta(minutes=1)
    prev = Prev(t - timedelta(seconds=1), 103.6, -1.6, 40.0)
    row = Row(t, 103.6005, -1.6, accuracy_m=40.0)  # ~56 m in one second, inside 40 + 40 m of accuracy
    assert _flag([row], previous={t: prev}) == [[]]


def test_haversine_matches_a_degree_of_longitude_at_the_equator() -> None:
    assert abs(haversine_m(0.0, 0.0, 1.0, 0.0) - 111_195.08) < 0.5
