"""Response times of a period in SQL: mean, p90 and share within target per agency, priority and kecamatan.

The same figures, by the same rules, as ``incidents.selectors.kpis.response_kpis`` (tests/reports check
them against it on one history), computed in PostgreSQL so that a year of ~640,000 reports takes seconds
rather than loading every report into Python:

- a report's response time is ``received_at`` to its first unit on scene (grouped by agency: that
  agency's first unit); a dispatch cancelled before arrival does not count; a report no unit reached is
  counted in ``reports`` but has no time;
- p90 is ``percentile_cont(0.9)``, the linear-interpolation percentile of ``kpis.percentile_linear``;
- per agency, the phases of that first unit on scene (``kpis.PHASES``: report -> dispatch, dispatch -> en
  route, en route -> on scene; mean, p90 and how many had both times), as a CAD's response report shows;
- the target is the first-arriving agency's target for the report's priority (``ResponseTarget``), else
  its ``response_target_s``, else ``kpis.DEFAULT_TARGET_S`` for its kind; reports with no target are left
  out of the share.
"""

from __future__ import annotations

from typing import TypedDict

from fleet.models import Agency
from gis_core.models import Kecamatan
from incidents.selectors.kpis import DEFAULT_TARGET_S, PHASES
from reports import labels
from reports.periods import Period
from reports.selectors.sql import report_cursor

_DEFAULT_TARGET = " ".join(f"WHEN '{kind}' THEN {seconds}" for kind, seconds in DEFAULT_TARGET_S.items())

# Each report's first unit on scene per agency (the order of kpis.response_kpis: on scene first, nulls last,
# then dispatch, then id; a dispatch cancelled before arrival does not count), with its response time and the
# target it is judged on, kept in a temporary table that both aggregates read: one pass over a year's dispatches.
SAMPLES_SQL = f"""
DROP TABLE IF EXISTS pg_temp.report_agency_samples;
CREATE TEMP TABLE report_agency_samples ON COMMIT DROP AS
WITH period_reports AS (
    SELECT id, priority, kecamatan_id, received_at FROM fleet_incident
    WHERE region_id = %(region)s AND received_at >= %(since)s AND received_at < %(until)s
), first_unit AS (
    SELECT DISTINCT ON (a.incident_id, u.agency_id) a.id, a.incident_id, u.agency_id, a.on_scene_at,
           a.dispatched_at, a.en_route_at, r.priority, r.kecamatan_id, r.received_at
    FROM fleet_assignment a
    JOIN period_reports r ON r.id = a.incident_id
    JOIN fleet_unit u ON u.id = a.unit_id
    WHERE NOT (a.status = 'cancelled' AND a.on_scene_at IS NULL)
    ORDER BY a.incident_id, u.agency_id, a.on_scene_at ASC NULLS LAST, a.dispatched_at, a.id
)
SELECT f.id, f.incident_id, f.agency_id, f.on_scene_at, f.dispatched_at, f.priority, f.kecamatan_id,
       extract(epoch FROM f.on_scene_at - f.received_at) AS response_s,
       CASE WHEN f.on_scene_at IS NOT NULL THEN extract(epoch FROM f.dispatched_at - f.received_at) END
           AS received_to_dispatched_s,
       CASE WHEN f.on_scene_at IS NOT NULL THEN extract(epoch FROM f.en_route_at - f.dispatched_at) END
           AS dispatched_to_en_route_s,
       CASE WHEN f.on_scene_at IS NOT NULL THEN extract(epoch FROM f.on_scene_at - f.en_route_at) END
           AS en_route_to_on_scene_s,
       CASE WHEN f.on_scene_at IS NULL THEN NULL
            ELSE coalesce(t.target_s, ag.response_target_s, CASE ag.kind {_DEFAULT_TARGET} END) END AS target_s
FROM first_unit f
JOIN fleet_agency ag ON ag.id = f.agency_id
LEFT JOIN fleet_responsetarget t ON t.agency_id = f.agency_id AND t.priority = f.priority
"""

_FIGURES = """
    count(*) AS reports,
    count(response_s) AS responded,
    avg(response_s) AS mean_s,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY response_s) AS p90_s,
    count(*) FILTER (WHERE response_s IS NOT NULL AND target_s IS NOT NULL) AS judged,
    count(*) FILTER (WHERE response_s <= target_s) AS within
"""

# Per report: its first unit on scene of any agency is the first of its agencies' firsts. Only reports a unit
# reached have a time, so only they are sorted for the percentiles; the reports themselves are counted apart,
# by hashing (REPORTS_SQL): a year's percentile sorts then see 360,000 rows instead of 640,000.
BY_REPORT_SQL = """
WITH first_unit AS (
    SELECT DISTINCT ON (incident_id) priority, kecamatan_id, response_s, target_s FROM report_agency_samples
    WHERE on_scene_at IS NOT NULL
    ORDER BY incident_id, on_scene_at, dispatched_at, id
)
SELECT priority, kecamatan_id, GROUPING(priority, kecamatan_id) AS grouping_mask,
    count(*) AS responded,
    avg(response_s) AS mean_s,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY response_s) AS p90_s,
    count(*) FILTER (WHERE target_s IS NOT NULL) AS judged,
    count(*) FILTER (WHERE response_s <= target_s) AS within
FROM first_unit GROUP BY GROUPING SETS ((priority), (kecamatan_id), ())
"""
REPORTS_SQL = """
SELECT priority, kecamatan_id, GROUPING(priority, kecamatan_id) AS grouping_mask, count(*) AS reports
FROM fleet_incident
WHERE region_id = %(region)s AND received_at >= %(since)s AND received_at < %(until)s
GROUP BY GROUPING SETS ((priority), (kecamatan_id), ())
"""
# The phases per agency only (not per priority too): each percentile is a sort of its group's values.
_PHASE_FIGURES = ", ".join(f"avg({p}), percentile_cont(0.9) WITHIN GROUP (ORDER BY {p}), count({p})" for p in PHASES)
BY_AGENCY_SQL = f"""
SELECT agency_id, priority, GROUPING(agency_id, priority) AS grouping_mask, {_FIGURES}
FROM report_agency_samples GROUP BY GROUPING SETS ((agency_id), (agency_id, priority))
"""
PHASES_SQL = f"SELECT agency_id, {_PHASE_FIGURES} FROM report_agency_samples GROUP BY agency_id"


class ResponseRow(TypedDict):
    key: str | int | None
    label: str
    reports: int
    responded: int
    mean_s: float | None
    p90_s: float | None
    judged_against_target: int
    share_within_target: float | None


class PhaseFigures(TypedDict):
    n: int
    mean_s: float | None
    p90_s: float | None


class AgencyResponseRow(ResponseRow):
    target_s: int | None
    by_priority: list[ResponseRow]
    phases: dict[str, PhaseFigures]


class ResponseTables(TypedDict):
    overall: ResponseRow
    by_agency: list[AgencyResponseRow]
    by_priority: list[ResponseRow]
    by_kecamatan: list[ResponseRow]


def _round1(value) -> float | None:
    return None if value is None else round(float(value), 1)


def _row(key, label: str, figures: tuple) -> ResponseRow:
    reports, responded, mean_s, p90_s, judged, within = figures
    return ResponseRow(
        key=key,
        label=label,
        reports=reports,
        responded=responded,
        mean_s=_round1(mean_s),
        p90_s=_round1(p90_s),
        judged_against_target=judged,
        share_within_target=round(within / judged, 4) if judged else None,
    )


def response_tables(*, region_id: int, period: Period) -> ResponseTables:
    """The period's response times overall, per agency (and its priorities), per priority and per kecamatan."""
    params = {"region": region_id, "since": period.since, "until": period.until}
    overall = _row(None, "", (0, 0, None, None, 0, 0))
    by_priority, by_kecamatan = [], []
    kecamatan = {k.pk: k for k in Kecamatan.objects.filter(region_id=region_id).only("code", "name")}
    with report_cursor() as cursor:
        cursor.execute(SAMPLES_SQL, params)
        cursor.execute(REPORTS_SQL, params)
        reports = {(mask, priority, kec_id): n for priority, kec_id, mask, n in cursor.fetchall()}
        cursor.execute(BY_REPORT_SQL)
        responded = {(mask, priority, kec_id): figures for priority, kec_id, mask, *figures in cursor.fetchall()}
        cursor.execute(BY_AGENCY_SQL)
        by_agency_rows = cursor.fetchall()
        cursor.execute(PHASES_SQL)
        phase_rows = {row[0]: row[1:] for row in cursor.fetchall()}
    for (mask, priority, kec_id), n in reports.items():
        figures = (n, *responded.get((mask, priority, kec_id), (0, None, None, 0, 0)))
        if mask == 0b11:
            overall = _row(None, "", tuple(figures))
        elif mask == 0b01:
            by_priority.append(_row(priority, labels.label(labels.PRIORITIES, priority), tuple(figures)))
        else:
            kec = kecamatan.get(kec_id)
            by_kecamatan.append(
                _row(kec.code if kec else None, kec.name if kec else str(labels.NO_KECAMATAN), tuple(figures))
            )
    by_priority.sort(key=lambda r: int(r["key"] or 0))
    by_kecamatan.sort(key=lambda r: (r["key"] is None, str(r["key"])))
    agencies = {a.pk: a for a in Agency.objects.filter(region_id=region_id)}
    rows: dict[int, AgencyResponseRow] = {}
    nested: dict[int, list[ResponseRow]] = {}
    for agency_id, priority, mask, *figures in by_agency_rows:
        agency = agencies[agency_id]
        if mask == 0b01:
            phase_figures = phase_rows[agency_id]
            base = _row(agency.code, agency.name, tuple(figures))
            target = agency.response_target_s or DEFAULT_TARGET_S.get(agency.kind)
            phases = {
                phase: PhaseFigures(
                    n=phase_figures[3 * i + 2],
                    mean_s=_round1(phase_figures[3 * i]),
                    p90_s=_round1(phase_figures[3 * i + 1]),
                )
                for i, phase in enumerate(PHASES)
            }
            rows[agency_id] = AgencyResponseRow(**base, target_s=target, by_priority=[], phases=phases)
        else:
            nested.setdefault(agency_id, []).append(
                _row(priority, labels.label(labels.PRIORITIES, priority), tuple(figures))
            )
    for agency_id, row in rows.items():
        row["by_priority"] = sorted(nested.get(agency_id, []), key=lambda r: int(r["key"] or 0))
    by_agency = sorted(rows.values(), key=lambda r: str(r["key"]))
    return ResponseTables(overall=overall, by_agency=by_agency, by_priority=by_priority, by_kecamatan=by_kecamatan)
