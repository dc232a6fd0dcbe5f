"""The SPM table per kecamatan (Permendagri 114/2018): events reached within the standard, and WMK population.

For one agency kind (``fire``: Damkar against the SPM's 15 minutes; ``ems``: PSC 119 against the centre's
own target) and a period, per kecamatan:

- ``events``: the period's reports whose incident type's category is one the kind answers
  (``SIAGA_SPM_CATEGORIES``: fire -> ``fire``; ems -> ``medical``, ``traffic``);
- ``reached``: those a unit of the kind's agencies reached (first on scene; a cancelled dispatch does not
  count), ``within``: reached within ``target_s`` of the report (report -> on scene), ``share_within``:
  ``within / events`` (an event never reached fails the standard), ``p90_s`` of the reached ones
  (``percentile_cont(0.9)``);
- ``wmk_population_share``: the share of the kecamatan's population within ``wmk_travel_s`` of road travel
  from the agencies' stations and posko (the coverage engine: ``coverage.context``, ``coverage.analysis``);
  None with ``wmk_note`` when the region has no road network or no station to search from.

A kecamatan fails when either share is under ``SIAGA_SPM_REQUIRED_SHARE``; the failing ones are ranked by
their WMK share, then by their share within the standard (worst first). ``new_posko`` says, for the worst
of them, what the best single new posko inside each would change (``reports.selectors.posko``: the siting
model with one new site); empty, with ``new_posko_note``, when the WMK could not be computed.
"""

from __future__ import annotations

from typing import NamedTuple, TypedDict

import numpy as np
from django.conf import settings

from coverage import analysis
from coverage.context import Context, coverage_context, snap_sources
from coverage.matrix import times_from_sources
from coverage.selectors import SourceSpec, coverage_profile, coverage_sources
from fleet.models import Agency, AgencyKind
from gis_core.errors import DomainError
from gis_core.models import Kecamatan, Region
from incidents.selectors.kpis import DEFAULT_TARGET_S
from reports.errors import ReportError
from reports.periods import Period
from reports.selectors.posko import Fire, PoskoEffect, new_posko_effect, posko_settings
from reports.selectors.sql import fetch_all

KINDS = (AgencyKind.FIRE, AgencyKind.EMS)

EVENTS_CTE = """
WITH events AS (
    SELECT r.id, r.kecamatan_id, r.received_at, r.geom FROM fleet_incident r
    JOIN fleet_incidenttype t ON t.id = r.incident_type_id
    WHERE r.region_id = %(region)s AND r.received_at >= %(since)s AND r.received_at < %(until)s
      AND t.category = ANY(%(categories)s)
), first_unit AS (
    SELECT DISTINCT ON (a.incident_id) a.incident_id, a.on_scene_at
    FROM fleet_assignment a JOIN events e ON e.id = a.incident_id JOIN fleet_unit u ON u.id = a.unit_id
    WHERE u.agency_id = ANY(%(agencies)s) AND a.on_scene_at IS NOT NULL
    ORDER BY a.incident_id, a.on_scene_at, a.dispatched_at, a.id
)"""
SQL = (
    EVENTS_CTE
    + """, timed AS (
    SELECT e.kecamatan_id, extract(epoch FROM f.on_scene_at - e.received_at) AS response_s
    FROM events e LEFT JOIN first_unit f ON f.incident_id = e.id
)
SELECT kecamatan_id, GROUPING(kecamatan_id), count(*), count(response_s),
       count(*) FILTER (WHERE response_s <= %(target)s), percentile_cont(0.9) WITHIN GROUP (ORDER BY response_s)
FROM timed GROUP BY GROUPING SETS ((kecamatan_id), ())
"""
)
# The events of some kecamatan one by one: where they were, and whether reached within the standard.
FIRES_SQL = (
    EVENTS_CTE
    + """
SELECT k.code, ST_X(e.geom), ST_Y(e.geom),
       coalesce(extract(epoch FROM f.on_scene_at - e.received_at) <= %(target)s, false)
FROM events e JOIN gis_core_kecamatan k ON k.id = e.kecamatan_id LEFT JOIN first_unit f ON f.incident_id = e.id
WHERE k.code = ANY(%(codes)s) ORDER BY e.id
"""
)


class SpmRow(TypedDict):
    code: str | None
    name: str
    events: int
    reached: int
    within: int
    share_within: float | None
    p90_s: float | None
    population: float | None
    wmk_population_share: float | None
    fails: bool


class SpmTable(TypedDict):
    kind: str
    agencies: list[str]
    categories: list[str]
    target_s: int
    wmk_travel_s: int
    required_share: float
    wmk_note: str
    totals: SpmRow
    kecamatan: list[SpmRow]
    failing: list[str]
    new_posko: list[PoskoEffect]
    new_posko_note: str


def spm_settings() -> dict:
    return {
        "categories": {AgencyKind.FIRE: ["fire"], AgencyKind.EMS: ["medical", "traffic"]}
        | getattr(settings, "SIAGA_SPM_CATEGORIES", {}),
        "fire_target_s": int(getattr(settings, "SIAGA_SPM_FIRE_TARGET_S", 900)),
        "required_share": float(getattr(settings, "SIAGA_SPM_REQUIRED_SHARE", 1.0)),
    }


def _target_s(kind: str, agencies: list[Agency], config: dict) -> int:
    if kind == AgencyKind.FIRE:
        return config["fire_target_s"]
    own = [a.response_target_s for a in agencies if a.response_target_s]
    return min(own) if own else DEFAULT_TARGET_S[AgencyKind.EMS]


def spm_standard(*, region: Region, kind: str) -> tuple[list[Agency], int, int]:
    """The agencies of ``kind`` (``fire`` or ``ems``, else a 400), their standard (seconds, report -> on scene)
    and the WMK travel time (``SIAGA_SPM_WMK_TRAVEL_S``, default the standard)."""
    if kind not in KINDS:
        raise ReportError(f"the SPM table is for fire (Damkar) or ems (PSC 119), not {kind[:40]!r}")
    agencies = list(Agency.objects.filter(region=region, kind=kind).order_by("code"))
    target = _target_s(kind, agencies, spm_settings())
    return agencies, target, int(getattr(settings, "SIAGA_SPM_WMK_TRAVEL_S", None) or target)


def spm_table(*, region: Region, period: Period, kind: str = AgencyKind.FIRE, wmk: bool = True) -> SpmTable:
    """The SPM table of ``kind`` (``fire`` or ``ems``) for the region's reports in ``period`` (module docstring).

    Parameters
    ----------
    wmk
        Compute the WMK population shares through the coverage engine (a road search from every station).
    """
    config = spm_settings()
    agencies, target, wmk_travel = spm_standard(region=region, kind=kind)
    params = {
        "region": region.pk, "since": period.since, "until": period.until, "target": target,
        "categories": list(config["categories"][kind]), "agencies": [a.pk for a in agencies],
    }  # fmt: skip
    figures = fetch_all(SQL, params)
    found = _wmk(region, agencies, wmk_travel) if wmk else Wmk({}, {}, "not computed", None, None)
    shares, populations, note = found.shares, found.populations, found.note
    required = config["required_share"]
    kecamatan = list(Kecamatan.objects.filter(region=region).order_by("code"))
    by_id = {row[0]: row for row in figures if row[1] == 0}
    rows = [_row(k.code, k.name, by_id.get(k.pk), shares, populations, required) for k in kecamatan]
    if None in by_id:
        rows.append(_row(None, "", by_id[None], {}, {}, required))
    total = next((row for row in figures if row[1] == 1), None)
    failing = sorted((r for r in rows if r["fails"] and r["code"]), key=_rank)
    return SpmTable(
        kind=kind,
        agencies=[a.code for a in agencies],
        categories=list(config["categories"][kind]),
        target_s=target,
        wmk_travel_s=wmk_travel,
        required_share=required,
        wmk_note=note,
        totals=_row(None, region.name, total, {}, {}, required),
        kecamatan=rows,
        failing=[r["code"] for r in failing if r["code"]],
        new_posko=_new_posko(found, failing, params, travel_s=wmk_travel, target_s=target),
        new_posko_note=note,
    )


def _new_posko(found: Wmk, failing: list[SpmRow], params: dict, *, travel_s: int, target_s: int) -> list[PoskoEffect]:
    """What one new posko would change in each of the worst failing kecamatan (``reports.selectors.posko``)."""
    most, n_candidates = posko_settings()
    if found.context is None or found.times is None or not most:
        return []
    rows = [r for r in failing if r["code"]][:most]
    fires: dict[str, list[Fire]] = {str(r["code"]): [] for r in rows}
    for code, lon, lat, within in fetch_all(FIRES_SQL, {**params, "codes": list(fires)}):
        fires[code].append(Fire(lon=lon, lat=lat, within=bool(within)))
    return [
        new_posko_effect(
            found.context,
            code=str(r["code"]),
            name=r["name"],
            existing_times_s=found.times,
            travel_s=travel_s,
            target_s=target_s,
            fires=fires[str(r["code"])],
            n_candidates=n_candidates,
        )
        for r in rows
    ]


def _rank(row: SpmRow) -> tuple:
    wmk, share = row["wmk_population_share"], row["share_within"]
    return (wmk if wmk is not None else 2.0, share if share is not None else 2.0, row["code"])


def _row(code, name, figures, shares: dict, populations: dict, required: float) -> SpmRow:
    events, reached, within, p90 = figures[2:] if figures else (0, 0, 0, None)
    share = round(within / events, 4) if events else None
    wmk = shares.get(code)
    fails = (share is not None and share < required) or (wmk is not None and wmk < required)
    return SpmRow(
        code=code,
        name=name,
        events=events,
        reached=reached,
        within=within,
        share_within=share,
        p90_s=None if p90 is None else round(float(p90), 1),
        population=populations.get(code),
        wmk_population_share=wmk,
        fails=bool(fails),
    )


class Wmk(NamedTuple):
    """Per kecamatan code the WMK population share and the population; why not, else the context and times."""

    shares: dict
    populations: dict
    note: str
    context: Context | None
    times: np.ndarray | None


def _wmk(region: Region, agencies: list[Agency], travel_s: int) -> Wmk:
    """Per kecamatan code: the population share within ``travel_s`` of the agencies' stations, the population."""
    if not agencies:
        return Wmk({}, {}, "the region has no agency of this kind", None, None)
    try:
        spec = SourceSpec(agencies=tuple(a.code for a in agencies))
        # The stations' own vehicles: a Damkar WMK is how far its fire engines get (coverage.selectors).
        context = coverage_context(region=region, profile=coverage_profile(region=region, spec=spec)[0])
        sources = coverage_sources(region=region, spec=spec)
        _, snaps, _ = snap_sources(context.engine, sources)
        if not snaps:
            return Wmk({}, {}, "no station of these agencies lies on the road network", None, None)
        _, times = times_from_sources(context.engine, snaps, context.attachment)
    except DomainError as error:  # no road network, a region CRS to fix: the table stands without WMK
        return Wmk({}, {}, str(error), None, None)
    table = analysis.kecamatan_table(context.demand, times, [travel_s])
    shares = {row["code"]: row["thresholds"][0]["population_share"] for row in table}
    populations = {row["code"]: row["population"] for row in table}
    return Wmk(shares, populations, "", context, times)
