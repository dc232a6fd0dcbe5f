"""How wrong the ETAs were: the ETA given at dispatch against the time the unit took to get there.

Every assignment keeps the road ETA shown to the dispatcher when it was made (``eta_s_at_dispatch``),
with the network version, vehicle profile, road class and hour band of learned speeds it was computed
on. Once the crew reports on scene the actual time is known: ``on_scene_at - dispatched_at`` (what the
ETA promised: dispatch to arrival, turnout included). The error is actual minus promised, in seconds:
positive when the unit arrived later than the ETA said.

Per group: ``n``, the median error, the bias (mean error), the mean and 90th percentile of the absolute
error, and the median actual and promised times. Percentiles are PostgreSQL's ``percentile_cont``
(linear interpolation, as :func:`incidents.selectors.kpis.percentile_linear`). Computed in one SQL
query, so a year of a large centre's assignments stays fast.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from django.db import connection

from fleet.models import Agency, Unit
from gis_core.models import Kecamatan, Region
from gis_core.routing.speed_learning import ALL_DAY
from incidents.models import Assignment, Incident
from incidents.selectors.kpis import check_window

ALL_DAY_LABEL = "all-day weights"
GROUP_BY = ("agency", "road_class", "hour", "hour_band", "kecamatan", "profile", "month", "week")


class EtaErrorRow(TypedDict):
    """The error figures of one group (all seconds; None where the group has no sample)."""

    key: str | int | None
    label: str
    n: int
    median_error_s: float | None
    bias_s: float | None
    mean_abs_error_s: float | None
    p90_abs_error_s: float | None
    median_actual_s: float | None
    median_eta_s: float | None


class EtaExcluded(TypedDict):
    """Assignments of the window that could not be judged, and why."""

    no_arrival: int
    no_eta: int


class EtaAccuracy(TypedDict):
    region: str
    time_zone: str
    group_by: str
    since: str
    until: str
    definition: str
    overall: EtaErrorRow
    groups: list[EtaErrorRow]
    excluded: EtaExcluded


DEFINITION = (
    "error_s = (on_scene_at - dispatched_at) - eta_s_at_dispatch, per assignment dispatched in [since, until) "
    "that reached the scene; positive: later than the ETA said"
)

# Each grouping: the SQL key over the judged rows (``j``) and, for ids, how to name them.
_KEYS: dict[str, str] = {
    "agency": "j.agency_id",
    "road_class": "NULLIF(j.eta_road_class, '')",
    "hour": "EXTRACT(HOUR FROM j.dispatched_at AT TIME ZONE %(tz)s)::int",
    "hour_band": "NULLIF(j.eta_hour_band, '')",
    "kecamatan": "j.kecamatan_id",
    "profile": "NULLIF(j.eta_profile, '')",
    "month": "to_char(j.dispatched_at AT TIME ZONE %(tz)s, 'YYYY-MM')",
    "week": "to_char(j.dispatched_at AT TIME ZONE %(tz)s, 'IYYY-\"W\"IW')",
}

_FIGURES = """
    count(*) AS n,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY j.error_s) AS median_error_s,
    avg(j.error_s) AS bias_s,
    avg(abs(j.error_s)) AS mean_abs_error_s,
    percentile_cont(0.9) WITHIN GROUP (ORDER BY abs(j.error_s)) AS p90_abs_error_s,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY j.actual_s) AS median_actual_s,
    percentile_cont(0.5) WITHIN GROUP (ORDER BY j.eta_s_at_dispatch) AS median_eta_s
"""


def _window_sql() -> str:
    a, i, u = Assignment._meta.db_table, Incident._meta.db_table, Unit._meta.db_table
    return f"""
        SELECT a.id, a.dispatched_at, a.on_scene_at, a.eta_s_at_dispatch, a.eta_road_class, a.eta_profile,
               a.eta_hour_band,
               u.agency_id, i.kecamatan_id,
               EXTRACT(EPOCH FROM a.on_scene_at - a.dispatched_at) AS actual_s,
               EXTRACT(EPOCH FROM a.on_scene_at - a.dispatched_at) - a.eta_s_at_dispatch AS error_s
          FROM {a} a
          JOIN {i} i ON i.id = a.incident_id
          JOIN {u} u ON u.id = a.unit_id
         WHERE i.region_id = %(region)s AND a.dispatched_at >= %(since)s AND a.dispatched_at < %(until)s
    """


def eta_accuracy(*, region: Region, since: datetime, until: datetime, group_by: str = "agency") -> EtaAccuracy:
    """The error of the ETAs given at dispatch in [since, until), overall and per group.

    Parameters
    ----------
    region
        The region whose assignments count.
    since, until
        Window on ``Assignment.dispatched_at``, timezone-aware; ``until`` excluded.
    group_by
        ``agency``, ``road_class`` (of the road the report's location attaches to), ``hour`` (of dispatch,
        0-23, in the region's time zone), ``hour_band`` (whose learned speeds the ETA used, ``00-06`` ...
        ``20-24``, or ``all`` for the all-day weights), ``kecamatan``, ``profile``, or ``month`` / ``week``
        for the trend (the region's local calendar; weeks are ISO weeks, ``2026-W49``).

    Returns
    -------
    EtaAccuracy
        ``overall`` and ``groups`` (sorted by key, the unknown key last) of :class:`EtaErrorRow`, and how
        many assignments could not be judged (``excluded``: never on scene, or no ETA at dispatch).
    """
    check_window(group_by, GROUP_BY, since, until)
    params: dict[str, int | str | datetime] = {
        "region": region.pk, "since": since, "until": until, "tz": region.time_zone,
    }  # fmt: skip
    window = _window_sql()
    judged = f"({window}) j WHERE j.on_scene_at IS NOT NULL AND j.eta_s_at_dispatch IS NOT NULL"
    key = _KEYS[group_by]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT NULL AS key, {_FIGURES} FROM {judged}", params)
        overall = _rows(cursor)[0]
        cursor.execute(f"SELECT {key} AS key, {_FIGURES} FROM {judged} GROUP BY 1 ORDER BY 1 NULLS LAST", params)
        groups = _rows(cursor)
        cursor.execute(
            f"""SELECT count(*) FILTER (WHERE w.on_scene_at IS NULL),
                       count(*) FILTER (WHERE w.on_scene_at IS NOT NULL AND w.eta_s_at_dispatch IS NULL)
                  FROM ({window}) w""",
            params,
        )
        no_arrival, no_eta = cursor.fetchone()
    names = _names(group_by, [g["key"] for g in groups])
    for group in groups:
        group["label"] = names.get(group["key"], str(group["key"])) if group["key"] is not None else "unknown"
    overall["label"] = "all"
    return {
        "region": region.slug,
        "time_zone": region.time_zone,
        "group_by": group_by,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "definition": DEFINITION,
        "overall": overall,
        "groups": groups,
        "excluded": {"no_arrival": no_arrival, "no_eta": no_eta},
    }


def _rows(cursor) -> list[EtaErrorRow]:
    columns = [c.name for c in cursor.description]
    rows: list[EtaErrorRow] = []
    for values in cursor.fetchall():
        row = dict(zip(columns, values, strict=True))
        figures = {k: None if row[k] is None else round(float(row[k]), 1) for k in columns if k not in ("key", "n")}
        rows.append({"key": row["key"], "label": "", "n": int(row["n"]), **figures})  # type: ignore[typeddict-item]
    return rows


def _names(group_by: str, keys: list) -> dict:
    ids = [k for k in keys if k is not None]
    if group_by == "agency":
        return dict(Agency.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "kecamatan":
        return dict(Kecamatan.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "hour":
        return {h: f"{h:02d}:00-{h:02d}:59" for h in ids}
    if group_by == "hour_band":
        return {k: ALL_DAY_LABEL if k == ALL_DAY else k for k in ids}
    return {k: str(k) for k in ids}
