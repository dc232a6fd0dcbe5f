"""How many reports a period had: by channel, type, kecamatan, local hour, outcome, and pranks per month.

One SQL statement with grouping sets over the period's reports (``fleet_incident``), so a year of a
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

COLUMNS = ("channel", "incident_type_id", "kecamatan_id", "hour", "outcome", "month")
SETS = {
    "channel": ("channel",),
    "type": ("incident_type_id",),
    "kecamatan": ("kecamatan_id",),
    "hour": ("hour",),
    "outcome": ("outcome",),
    "month_outcome": ("month", "outcome"),
    "total": (),
}

SQL = f"""
SELECT {", ".join(COLUMNS)}, GROUPING({", ".join(COLUMNS)}) AS grouping_mask, count(*) AS reports
FROM (
    SELECT channel, incident_type_id, kecamatan_id, outcome,
           extract(hour FROM local_at)::smallint AS hour, date_trunc('month', local_at)::date AS month
    FROM (
        SELECT channel, incident_type_id, kecamatan_id, outcome, received_at AT TIME ZONE %(tz)s AS local_at
        FROM fleet_incident
        WHERE region_id = %(region)s AND received_at >= %(since)s AND received_at < %(until)s
    ) AS local_reports
) AS period_reports
GROUP BY GROUPING SETS ({", ".join("(" + ", ".join(cols) + ")" for cols in SETS.values())})
"""


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


def _mask(grouped: tuple[str, ...]) -> int:
    """The GROUPING() bitmask of a set: bit i (from the left) is 1 when column i is *not* grouped on."""
    bits = ["0" if column in grouped else "1" for column in COLUMNS]
    return int("".join(bits), 2)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def report_counts(*, region_id: int, period: Period) -> Counts:
    """The period's report counts (see the module docstring); shares are of all the period's reports."""
    params = {"region": region_id, "since": period.since, "until": period.until, "tz": period.time_zone}
    rows = fetch_all(SQL, params)
    by_set: dict[str, list[tuple]] = {name: [] for name in SETS}
    masks = {_mask(cols): name for name, cols in SETS.items()}
    for row in rows:
        by_set[masks[row[6]]].append(row)
    total = by_set["total"][0][7] if by_set["total"] else 0

    def rows_of(name: str, column: str, label_of) -> list[CountRow]:
        index = COLUMNS.index(column)
        out = [
            CountRow(key=r[index], label=label_of(r[index]), reports=r[7], share=_share(r[7], total))
            for r in by_set[name]
        ]
        return sorted(out, key=lambda c: (-c["reports"], str(c["key"])))

    types = {t.pk: t for t in IncidentType.objects.filter(pk__in=[r[1] for r in by_set["type"] if r[1]])}
    kecamatan = dict(Kecamatan.objects.filter(region_id=region_id).values_list("pk", "name"))
    kec_codes = dict(Kecamatan.objects.filter(region_id=region_id).values_list("pk", "code"))
    by_type = rows_of("type", "incident_type_id", lambda pk: types[pk].name_in() if pk else str(labels.NO_TYPE))
    for type_row in by_type:
        type_row["key"] = types[int(type_row["key"])].code if type_row["key"] else None
    by_kec = rows_of("kecamatan", "kecamatan_id", lambda pk: kecamatan.get(pk, str(labels.NO_KECAMATAN)))
    for kec_row in by_kec:
        kec_row["key"] = kec_codes.get(int(kec_row["key"])) if kec_row["key"] else None
    hours = {r[3]: r[7] for r in by_set["hour"]}
    by_hour = [CountRow(key=h, label=f"{h:02d}", reports=hours.get(h, 0), share=_share(hours.get(h, 0), total))
               for h in range(24)]  # fmt: skip
    outcomes = {r[4]: r[7] for r in by_set["outcome"]}
    prank = outcomes.get("prank", 0)
    return Counts(
        reports=total,
        by_channel=rows_of("channel", "channel", lambda key: labels.label(labels.CHANNELS, key)),
        by_type=by_type,
        by_kecamatan=by_kec,
        by_hour=by_hour,
        outcomes=[
            CountRow(key=key, label=str(text), reports=outcomes.get(key, 0), share=_share(outcomes.get(key, 0), total))
            for key, text in labels.OUTCOMES.items()
        ],
        prank=prank,
        prank_share=_share(prank, total),
        prank_trend=_prank_trend(period, by_set["month_outcome"]),
    )


def _prank_trend(period: Period, rows: list[tuple]) -> list[PrankMonth]:
    reports: dict[str, int] = {}
    pranks: dict[str, int] = {}
    for row in rows:
        month, outcome, n = row[5].strftime("%Y-%m"), row[4], row[7]
        reports[month] = reports.get(month, 0) + n
        if outcome == "prank":
            pranks[month] = n
    return [
        PrankMonth(
            month=month,
            reports=reports.get(month, 0),
            prank=pranks.get(month, 0),
            prank_share=_share(pranks.get(month, 0), reports.get(month, 0)),
        )
        for month in period.months()
    ]
