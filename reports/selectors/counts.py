"""How many reports a period had: by channel, type, kecamatan, local hour, outcome, and pranks per month.

One SQL statement with two grouping sets over the period's reports (``fleet_incident``), so a year of a
Jakarta-sized history is counted in one scan (bench/reports.py). Hours and months are the region's
local ones (``received_at AT TIME ZONE``), so an Ambon call at 23:30 UTC counts at 08 WIT the next day.
"""

from __future__ import annotations

from typing import TypedDict

from gis_core.models import Kecamatan
from incidents.models import IncidentType
from reports import labels
from reports.periods import Period
from reports.selectors.sql import fetch_all

# Two fine groupings in one scan, rolled up in Python: by time and outcome (channel, local hour, outcome, local
# month: at most 2 x 24 x 4 x 12 rows) and by place and type (type x kecamatan). Two hash lookups per report
# instead of one per figure (seven grouping sets took 2.6 times as long on a Jakarta-sized year).
SQL = """
SELECT channel, hour, outcome, month, incident_type_id, kecamatan_id,
       GROUPING(channel, incident_type_id) AS grouping_mask, count(*) AS reports
FROM (
    SELECT channel, incident_type_id, kecamatan_id, outcome,
           extract(hour FROM local_at)::smallint AS hour, date_trunc('month', local_at)::date AS month
    FROM (
        SELECT channel, incident_type_id, kecamatan_id, outcome, received_at AT TIME ZONE %(tz)s AS local_at
        FROM fleet_incident
        WHERE region_id = %(region)s AND received_at >= %(since)s AND received_at < %(until)s
    ) AS local_reports
) AS period_reports
GROUP BY GROUPING SETS ((channel, hour, outcome, month), (incident_type_id, kecamatan_id))
"""
BY_TIME_MASK = 0b01  # grouped on channel (and hour, outcome, month), not on the type


class CountRow(TypedDict):
    key: str | int | None
    label: str
    reports: int
    share: float | None


class PrankMonth(TypedDict):
    month: str
    reports: int
    prank: int
    prank_share: float | None


class Counts(TypedDict):
    reports: int
    by_channel: list[CountRow]
    by_type: list[CountRow]
    by_kecamatan: list[CountRow]
    by_hour: list[CountRow]
    outcomes: list[CountRow]
    prank: int
    prank_share: float | None
    prank_trend: list[PrankMonth]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def report_counts(*, region_id: int, period: Period) -> Counts:
    """The period's report counts (see the module docstring); shares are of all the period's reports."""
    params = {"region": region_id, "since": period.since, "until": period.until, "tz": period.time_zone}
    by_channel: dict[str, int] = {}
    by_type: dict[int | None, int] = {}
    by_kecamatan: dict[int | None, int] = {}
    hours: dict[int, int] = {}
    outcomes: dict[str, int] = {}
    by_month_outcome: dict[tuple, int] = {}
    for channel, hour, outcome, month, type_id, kec_id, mask, n in fetch_all(SQL, params):
        if mask == BY_TIME_MASK:
            by_channel[channel] = by_channel.get(channel, 0) + n
            hours[hour] = hours.get(hour, 0) + n
            outcomes[outcome] = outcomes.get(outcome, 0) + n
            by_month_outcome[(month, outcome)] = by_month_outcome.get((month, outcome), 0) + n
        else:
            by_type[type_id] = by_type.get(type_id, 0) + n
            by_kecamatan[kec_id] = by_kecamatan.get(kec_id, 0) + n
    total = sum(by_channel.values())

    def rows_of(counted: dict, label_of) -> list[CountRow]:
        out = [CountRow(key=key, label=label_of(key), reports=n, share=_share(n, total)) for key, n in counted.items()]
        return sorted(out, key=lambda c: (-c["reports"], str(c["key"])))

    types = {t.pk: t for t in IncidentType.objects.filter(pk__in=[pk for pk in by_type if pk])}
    kecamatan = dict(Kecamatan.objects.filter(region_id=region_id).values_list("pk", "name"))
    kec_codes = dict(Kecamatan.objects.filter(region_id=region_id).values_list("pk", "code"))
    type_rows = rows_of(by_type, lambda pk: types[pk].name_in() if pk else str(labels.NO_TYPE))
    for type_row in type_rows:
        type_row["key"] = types[int(type_row["key"])].code if type_row["key"] else None
    by_kec = rows_of(by_kecamatan, lambda pk: kecamatan.get(pk, str(labels.NO_KECAMATAN)))
    for kec_row in by_kec:
        kec_row["key"] = kec_codes.get(int(kec_row["key"])) if kec_row["key"] else None
    by_hour = [CountRow(key=h, label=f"{h:02d}", reports=hours.get(h, 0), share=_share(hours.get(h, 0), total))
               for h in range(24)]  # fmt: skip
    prank = outcomes.get("prank", 0)
    return Counts(
        reports=total,
        by_channel=rows_of(by_channel, lambda key: labels.label(labels.CHANNELS, key)),
        by_type=type_rows,
        by_kecamatan=by_kec,
        by_hour=by_hour,
        outcomes=[
            CountRow(key=key, label=str(text), reports=outcomes.get(key, 0), share=_share(outcomes.get(key, 0), total))
            for key, text in labels.OUTCOMES.items()
        ],
        prank=prank,
        prank_share=_share(prank, total),
        prank_trend=_prank_trend(period, by_month_outcome),
    )


def _prank_trend(period: Period, by_month_outcome: dict[tuple, int]) -> list[PrankMonth]:
    reports: dict[str, int] = {}
    pranks: dict[str, int] = {}
    for (month, outcome), n in by_month_outcome.items():
        key = month.strftime("%Y-%m")
        reports[key] = reports.get(key, 0) + n
        if outcome == "prank":
            pranks[key] = n
    return [
        PrankMonth(
            month=month,
            reports=reports.get(month, 0),
            prank=pranks.get(month, 0),
            prank_share=_share(pranks.get(month, 0), reports.get(month, 0)),
        )
        for month in period.months()
    ]
