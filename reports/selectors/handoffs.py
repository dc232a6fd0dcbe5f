"""Hand-offs of a period per agency: how many, how many acknowledged and how fast, how many escalated.

The rules are the hand-off KPI's (``incidents.selectors.kpis.handoff_kpis``): a hand-off counts in the
period it was created in (the region's local dates, so one created at 23:50 on 31 October WIB is
October's whatever the hour of its acknowledgement); its time to acknowledgement is sent -> acknowledged;
``unacknowledged`` are those sent and still waiting, ``escalated`` those escalated. The report adds
``acknowledged_share``: acknowledged over sent (a hand-off never delivered cannot be acknowledged).
"""

from __future__ import annotations

from typing import TypedDict

from gis_core.models import Region
from incidents.selectors.kpis import handoff_kpis
from reports.periods import Period


class Seconds(TypedDict):
    n: int
    mean: float | None
    p90: float | None


class HandoffRow(TypedDict):
    key: str
    label: str
    agency_kind: str
    handoffs: int
    sent: int
    acknowledged: int
    acknowledged_share: float | None
    unacknowledged: int
    escalated: int
    ack_s: Seconds


class HandoffTables(TypedDict):
    by_agency: list[HandoffRow]


def handoff_tables(*, region: Region, period: Period) -> HandoffTables:
    """Per agency, the hand-offs created in ``period``: counts, acknowledged share, mean and p90 seconds to it."""
    groups = handoff_kpis(region=region, since=period.since, until=period.until)["groups"]
    rows = [
        HandoffRow(
            key=g["key"],
            label=g["label"],
            agency_kind=g["agency_kind"],
            handoffs=g["handoffs"],
            sent=g["sent"],
            acknowledged=g["acknowledged"],
            acknowledged_share=round(g["acknowledged"] / g["sent"], 4) if g["sent"] else None,
            unacknowledged=g["unacknowledged"],
            escalated=g["escalated"],
            ack_s=Seconds(n=g["ack_s"]["n"], mean=g["ack_s"]["mean"], p90=g["ack_s"]["p90"]),
        )
        for g in groups
    ]
    return HandoffTables(by_agency=rows)
