"""Units' time per status over a period, from the status history (``fleet_statuschange``).

A unit's status at any moment is the ``to_status`` of its last change at or before it, else the
``from_status`` of its first change after it, else (no change ever recorded) its status now, which has
then held throughout. The period is cut at now: a month still running counts up to this moment.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from django.utils import timezone

from fleet.models import Unit, UnitStatus
from reports import labels
from reports.periods import Period
from reports.selectors.sql import fetch_all

SQL = """
WITH units AS (
    SELECT u.id, u.status FROM fleet_unit u JOIN fleet_agency a ON a.id = u.agency_id WHERE a.region_id = %(region)s
), inside AS (  -- each change in the period opens a segment that the unit's next change closes, summed per status
    SELECT c.* FROM units CROSS JOIN LATERAL (  -- per unit, in the index's order: no sort of the whole period
        SELECT units.id AS unit_id, status, sum(extract(epoch FROM coalesce(end_at, %(end)s) - start_at)) AS seconds,
               min(start_at) AS first_at
        FROM (
            SELECT sc.to_status AS status, sc.at AS start_at, lead(sc.at) OVER (ORDER BY sc.at, sc.id) AS end_at
            FROM fleet_statuschange sc
            WHERE sc.unit_id = units.id AND sc.at >= %(since)s AND sc.at < %(end)s
        ) AS segments
        GROUP BY status
    ) AS c
), opening AS (  -- the status a unit entered the period in (index-only lookups on reports_statuschange_unit_at_status)
    SELECT units.id AS unit_id,
           coalesce(
               (SELECT b.to_status FROM fleet_statuschange b WHERE b.unit_id = units.id AND b.at < %(since)s
                ORDER BY b.at DESC, b.id DESC LIMIT 1),
               (SELECT f.from_status FROM fleet_statuschange f WHERE f.unit_id = units.id AND f.at >= %(since)s
                ORDER BY f.at, f.id LIMIT 1),
               units.status
           ) AS status,
           extract(epoch FROM coalesce((SELECT min(first_at) FROM inside WHERE inside.unit_id = units.id), %(end)s)
                              - %(since)s::timestamptz) AS seconds
    FROM units
)
SELECT unit_id, status, sum(seconds) AS seconds
FROM (SELECT unit_id, status, seconds FROM inside UNION ALL SELECT unit_id, status, seconds FROM opening) AS parts
GROUP BY unit_id, status
"""


class UnitTimeRow(TypedDict):
    unit: int
    call_sign: str
    agency: str
    seconds_by_status: dict[str, float]
    total_s: float


class AgencyTimeRow(TypedDict):
    agency: str
    label: str
    units: int
    seconds_by_status: dict[str, float]
    share_by_status: dict[str, float | None]


class UnitTimes(TypedDict):
    counted_until: str
    statuses: list[dict]
    units: list[UnitTimeRow]
    agencies: list[AgencyTimeRow]


def unit_status_times(*, region_id: int, period: Period, now: datetime | None = None) -> UnitTimes:
    """Seconds each unit of the region spent in each status within the period (see the module docstring)."""
    end = min(period.until, now or timezone.now())
    statuses = list(UnitStatus.values)
    units = list(
        Unit.objects.filter(agency__region_id=region_id).select_related("agency").order_by("agency__code", "call_sign")
    )
    seconds: dict[int, dict[str, float]] = {u.pk: dict.fromkeys(statuses, 0.0) for u in units}
    if end > period.since:
        for unit_id, status, value in fetch_all(SQL, {"region": region_id, "since": period.since, "end": end}):
            seconds[unit_id][status] = round(float(value), 1)
    rows = [
        UnitTimeRow(
            unit=u.pk,
            call_sign=u.call_sign,
            agency=u.agency.code,
            seconds_by_status=seconds[u.pk],
            total_s=round(sum(seconds[u.pk].values()), 1),
        )
        for u in units
    ]
    agencies: dict[str, AgencyTimeRow] = {}
    for u, row in zip(units, rows, strict=True):
        entry = agencies.setdefault(
            u.agency.code,
            AgencyTimeRow(
                agency=u.agency.code,
                label=u.agency.name,
                units=0,
                seconds_by_status=dict.fromkeys(statuses, 0.0),
                share_by_status={},
            ),
        )
        entry["units"] += 1
        for status, value in row["seconds_by_status"].items():
            entry["seconds_by_status"][status] = round(entry["seconds_by_status"][status] + value, 1)
    for entry in agencies.values():
        total = sum(entry["seconds_by_status"].values())
        entry["share_by_status"] = {
            s: (round(v / total, 4) if total else None) for s, v in entry["seconds_by_status"].items()
        }
    return UnitTimes(
        counted_until=end.isoformat(),
        statuses=[{"key": s, "label": labels.label(labels.UNIT_STATUSES, s)} for s in statuses],
        units=rows,
        agencies=list(agencies.values()),
    )
