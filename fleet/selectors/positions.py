"""Reads over crews' GPS fixes: a unit's history in a time range, as points and a track."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.gis.geos import LineString
from django.db.models import QuerySet

from fleet.errors import HistoryTooLargeError
from fleet.models import PositionFix

MAX_HISTORY_FIXES = 20_000
# Beyond what validation allows between a valid fix's time and its arrival: the milliseconds between the
# clock validation reads and the row's received_at, and room for the limits to have been changed since.
RECEIVED_SLACK = timedelta(days=1)
HISTORY_FIELDS = (
    "id", "unit_id", "device_id", "protocol", "recorded_at", "received_at", "lon", "lat", "geom", "speed_kph",
    "heading_deg", "accuracy_m", "altitude_m", "battery_pct", "flags", "is_valid",
)  # fmt: skip


def unit_fixes_between(
    *, unit_id: int, start: datetime, end: datetime, include_invalid: bool = False, limit: int = MAX_HISTORY_FIXES
) -> list[PositionFix]:
    """A unit's fixes with ``start <= recorded_at < end``, oldest first (one query).

    Parameters
    ----------
    unit_id
        The unit.
    start, end
        Timezone-aware bounds on the device's ``recorded_at``; fixes without a time are never in a range.
    include_invalid
        Also return flagged fixes (each carries its ``flags``); by default only valid ones.
    limit
        Most fixes returned.

    Returns
    -------
    list of PositionFix

    Raises
    ------
    HistoryTooLargeError
        More than ``limit`` fixes in the range.
    """
    queryset: QuerySet[PositionFix] = PositionFix.objects.filter(
        unit_id=unit_id, recorded_at__gte=start, recorded_at__lt=end
    )
    if not include_invalid:
        # A valid fix arrived close to its own time (validation flags it otherwise), so the range also
        # bounds received_at, the partition key: PostgreSQL reads only the partitions of that window.
        received_from, received_until = received_window(start, end)
        queryset = queryset.filter(is_valid=True, received_at__gte=received_from, received_at__lt=received_until)
    fixes = list(queryset.only(*HISTORY_FIELDS).order_by("recorded_at", "id")[: limit + 1])
    if len(fixes) > limit:
        raise HistoryTooLargeError(
            f"more than {limit} fixes between {start.isoformat()} and {end.isoformat()}: ask for a shorter range"
        )
    return fixes


def received_window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The ``received_at`` bounds of every valid fix with ``start <= recorded_at < end``.

    Validation (``fleet.ingest.checks``) flags a fix more than ``SIAGA_FIX_MAX_FUTURE_S`` ahead of the
    server's clock or more than ``SIAGA_FIX_MAX_PAST_S`` behind it, and a flagged fix is not valid; so a
    valid fix was received within those limits of its time (plus ``RECEIVED_SLACK``). Flagged fixes
    (a device clock years off) have no such bound: a query that includes them reads every partition.
    """
    before = timedelta(seconds=settings.SIAGA_FIX_MAX_FUTURE_S) + RECEIVED_SLACK
    after = timedelta(seconds=settings.SIAGA_FIX_MAX_PAST_S) + RECEIVED_SLACK
    return start - before, end + after


def fixes_track(fixes: list[PositionFix]) -> LineString | None:
    """The track line through the valid fixes in ``recorded_at`` order (EPSG:4326), or None below two points.

    Flagged fixes are left out even when listed: a (0, 0) or a jump would draw a line across the map.
    Consecutive fixes at the same place add no vertex.
    """
    coords: list[tuple[float, float]] = []
    for fix in fixes:
        if fix.is_valid and fix.geom is not None:
            point = (fix.geom.x, fix.geom.y)
            if not coords or coords[-1] != point:
                coords.append(point)
    if len(coords) < 2:
        return None
    return LineString(coords, srid=4326)
