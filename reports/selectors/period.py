"""The period report of one centre: what the council asks a 112 centre for a month, quarter or year.

Assembles the SQL selectors (``counts``, ``response``, ``unit_time``) and the hand-offs (``handoffs``) into
one typed answer, in the language active when it is called (labels of types, channels, outcomes and statuses).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from django.utils import timezone

from gis_core.models import Region
from gis_core.time_zones import zone_label
from reports.periods import Period
from reports.selectors.counts import Counts, report_counts
from reports.selectors.handoffs import HandoffTables, handoff_tables
from reports.selectors.response import ResponseTables, response_tables
from reports.selectors.unit_time import UnitTimes, unit_status_times


class PeriodInfo(TypedDict):
    kind: str
    key: str
    label_id: str
    first_day: str
    last_day: str
    since: str
    until: str
    time_zone: dict


class PeriodReport(TypedDict):
    region: str
    region_name: str
    period: PeriodInfo
    generated_at: str
    counts: Counts
    response: ResponseTables
    unit_time: UnitTimes
    hand_offs: HandoffTables


def period_info(period: Period) -> PeriodInfo:
    return PeriodInfo(
        kind=period.kind,
        key=period.key,
        label_id=period.label_id(),
        first_day=period.first.isoformat(),
        last_day=period.last.isoformat(),
        since=period.since.isoformat(),
        until=period.until.isoformat(),
        time_zone=zone_label(period.time_zone, at=period.since),
    )


def period_report(*, region: Region, period: Period, now: datetime | None = None) -> PeriodReport:
    """Counts, outcomes, response times and units' time per status of the region's reports in ``period``.

    Parameters
    ----------
    region
        The centre; ``period`` must be read in its time zone (``reports.periods.period_parse``).
    period
        The local dates covered.
    now
        Where the units' time is cut (default: now); tests pass a fixed moment.

    Returns
    -------
    PeriodReport
        ``hand_offs``: per agency the hand-offs created in the period (``reports.selectors.handoffs``).
    """
    return PeriodReport(
        region=region.slug,
        region_name=region.name,
        period=period_info(period),
        generated_at=(now or timezone.now()).isoformat(),
        counts=report_counts(region_id=region.pk, period=period),
        response=response_tables(region_id=region.pk, period=period),
        unit_time=unit_status_times(region_id=region.pk, period=period, now=now),
        hand_offs=handoff_tables(region=region, period=period),
    )
