"""The checks a GPS fix gets when it is recorded: pure (no Django, no database), checked by mypy.

``fleet.services.positions`` reads what the checks need from the database under the unit's lock (the
unit's previous valid fix before each time, the device's stored fixes at those times, whether each
point lies outside the region) and hands it here with the limits from settings; :func:`flag_fixes` sets
each row's ``flags`` and ``is_valid``. The flags are listed in ``fleet.services.positions``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

# Flags that leave a fix valid: a fix a few hundred metres wide still places a moving unit better than
# its previous fix or its home station.
WARNING_FLAGS = frozenset({"poor_accuracy"})
_EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius


@dataclass(frozen=True)
class Limits:
    """What a fix may be and still count (from the ``SIAGA_FIX_*`` settings)."""

    max_future_s: float
    max_past_s: float
    max_accuracy_m: float
    max_speed_kph: float


@dataclass
class Prev:
    """A valid fix a row is compared with for its implied speed."""

    recorded_at: datetime
    lon: float
    lat: float
    accuracy_m: float | None


class FixRow(Protocol):
    """What the checks read and set on a fix (``fleet.models.PositionFix`` is one)."""

    recorded_at: datetime | None
    lon: float | None
    lat: float | None
    accuracy_m: float | None
    attributes: Any
    flags: list[str]
    is_valid: bool


def flag_fixes(
    rows: Sequence[FixRow],
    *,
    previous: Mapping[datetime, Prev],
    stored: set[tuple],
    outside: Sequence[bool],
    now: datetime,
    limits: Limits,
) -> None:
    """Set ``flags`` and ``is_valid`` on ``rows`` (in the order sent).

    Parameters
    ----------
    previous
        For each ``recorded_at`` in the rows: the unit's newest stored valid fix strictly before it.
    stored
        ``(recorded_at, lon, lat)`` of the device's stored fixes at the rows' times (a resend).
    outside
        Per row: whether its point lies outside the region (with its margin).
    """
    for row, is_outside in zip(rows, outside, strict=True):
        row.flags = static_flags(row, is_outside, now, limits)
    seen: set[tuple] = set(stored)
    for row in rows:  # in the order sent: the first copy is the original, the next ones duplicates
        key = (row.recorded_at, row.lon, row.lat)
        if row.recorded_at is not None and key in seen:
            row.flags.append("duplicate")
        seen.add(key)
    batch_prev: Prev | None = None
    for row in sorted((r for r in rows if r.recorded_at is not None), key=lambda r: _time(r)):
        if blocking(row.flags):
            continue
        when, lon, lat = _time(row), row.lon, row.lat
        if lon is None or lat is None:  # cannot be: a row without a position carries a blocking flag
            continue
        prev = newer(previous.get(when), batch_prev, before=when)
        if prev is not None and implied_speed_kph(prev, when, lon, lat, row.accuracy_m) > limits.max_speed_kph:
            row.flags.append("impossible_speed")
            continue
        batch_prev = Prev(when, lon, lat, row.accuracy_m)
    for row in rows:
        row.is_valid = not blocking(row.flags)


def _time(row: FixRow) -> datetime:
    assert row.recorded_at is not None
    return row.recorded_at


def newer(stored: Prev | None, in_request: Prev | None, *, before: datetime) -> Prev | None:
    """The later of the stored previous fix and the request's own previous valid fix, if before ``before``."""
    if in_request is None or in_request.recorded_at >= before:
        return stored
    if stored is None or in_request.recorded_at > stored.recorded_at:
        return in_request
    return stored


def blocking(flags: list[str]) -> bool:
    """Whether any flag makes the fix invalid (anything but a warning)."""
    return any(flag not in WARNING_FLAGS for flag in flags)


def static_flags(row: FixRow, is_outside: bool, now: datetime, limits: Limits) -> list[str]:
    """The flags a fix gets on its own, without its history."""
    flags = []
    if row.lon is None or row.lat is None:
        flags.append("missing_position")
    elif not in_range(row.lon, row.lat):
        flags.append("out_of_range")
    elif row.lon == 0 and row.lat == 0:
        flags.append("zero_position")
    elif is_outside:
        flags.append("outside_region")
    if row.recorded_at is None:
        flags.append("missing_timestamp")
    elif row.recorded_at > now + timedelta(seconds=limits.max_future_s):
        flags.append("future_timestamp")
    elif row.recorded_at < now - timedelta(seconds=limits.max_past_s):
        flags.append("stale_timestamp")
    if row.accuracy_m is not None and row.accuracy_m > limits.max_accuracy_m:
        flags.append("poor_accuracy")
    if row.attributes.get("valid") is False:
        flags.append("device_invalid")
    return flags


def in_range(lon: float | None, lat: float | None) -> bool:
    """Whether (lon, lat) are finite and within [-180, 180] x [-90, 90]."""
    return (
        lon is not None
        and lat is not None
        and math.isfinite(lon)
        and math.isfinite(lat)
        and -180.0 <= lon <= 180.0
        and -90.0 <= lat <= 90.0
    )


def implied_speed_kph(prev: Prev, recorded_at: datetime, lon: float, lat: float, accuracy_m: float | None) -> float:
    """Speed from ``prev`` to a fix, km/h; the distance counts only beyond the two accuracy radii."""
    dt_s = (recorded_at - prev.recorded_at).total_seconds()
    distance_m = haversine_m(prev.lon, prev.lat, lon, lat)
    distance_m = max(0.0, distance_m - (prev.accuracy_m or 0.0) - (accuracy_m or 0.0))
    return distance_m / dt_s * 3.6


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two EPSG:4326 points (spherical Earth, mean radius)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
