"""Coverage runs: compute, store with inputs, audit. One function per kind of run.

Every run searches the region's active network through the routing interface (one multi-source
search per set of sources), evaluates coverage on the cached demand points, and is stored as a
:class:`~coverage.models.CoverageRun` so it can be shown again and compared.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import shapely
from django.db import transaction

from coverage import analysis, selectors
from coverage.context import (
    DEFAULT_CELL_M,
    Context,
    coverage_context,
    require_sources,
    snap_sources,
    source_data,
    with_engine,
)
from coverage.errors import CoverageInputError, CoverageRunNotReadyError
from coverage.matrix import site_matrix, times_from_sources
from coverage.models import DEFAULT_THRESHOLDS_S, AgencyCoverageSettings, CoverageRun, RunKind
from coverage.selectors import SourceSpec
from coverage.solvers import moveup_rank
from fleet.actors import SYSTEM, Actor
from fleet.models import Agency
from fleet.services.audit import audit_record
from gis_core.models import Region
from gis_core.routing.live_closures import network_state
from gis_core.routing.profiles import PROFILE_NAMES
from gis_core.routing.speed_learning import ALL_DAY
from gis_core.selectors import speed_factors_stored

GAP_LIMIT = 50

ProgressFactory = Callable[[int, str], Callable[[int], None]]
"""``factory(total, description)`` returns ``update(n)``: how a long run reports progress (a tqdm bar)."""


@dataclass(frozen=True)
class Thresholds:
    """Thresholds reported, the target used for gaps and siting, and where they came from."""

    thresholds_s: tuple[int, ...]
    target_s: int
    origin: str


def coverage_thresholds(
    *,
    region: Region,
    agencies: Sequence[str] = (),
    thresholds_s: Sequence[int] | None = None,
    target_s: int | None = None,
) -> Thresholds:
    """Thresholds of a request: as given, else the one named agency's settings, else 8, 10 and 15 minutes.

    The target defaults to the agency's coverage target, then its ``response_target_s``, then the
    largest threshold; it is always among the thresholds reported.
    """
    agency = Agency.objects.filter(region=region, code=agencies[0]).first() if len(agencies) == 1 else None
    settings = AgencyCoverageSettings.objects.filter(agency=agency).first() if agency else None
    origin = "request"
    if not thresholds_s:
        thresholds_s = (settings.thresholds_s if settings and settings.thresholds_s else None) or DEFAULT_THRESHOLDS_S
        origin = (
            f"settings of {agency.code}"
            if agency and settings and settings.thresholds_s
            else "defaults (8, 10, 15 min)"
        )
    if target_s is None:
        target_s = (settings.target_s if settings else None) or (agency.response_target_s if agency else None)
        target_s = target_s or max(thresholds_s)
    return Thresholds(tuple(sorted({int(t) for t in (*thresholds_s, target_s)})), int(target_s), origin)


def _sources(context: Context, spec: SourceSpec, *, what: str) -> tuple[list, list, list[dict]]:
    sources = selectors.coverage_sources(region=context.region, spec=spec)
    kept, snaps, dropped = snap_sources(context.engine, sources)
    require_sources(kept, dropped, what=what)
    return kept, snaps, dropped


def evaluate(context: Context, times: np.ndarray, thresholds: Thresholds, *, limit: int = GAP_LIMIT) -> dict:
    """Every coverage figure of one travel-time vector over the demand points (JSON-ready)."""
    demand = context.demand
    kelurahan = analysis.kelurahan_table(demand, times, thresholds.thresholds_s)
    kecamatan = analysis.kecamatan_table(demand, times, thresholds.thresholds_s, kelurahan)
    cells = analysis.cell_table(demand, times, target_s=thresholds.target_s)
    return {
        "thresholds_s": list(thresholds.thresholds_s),
        "thresholds_from": thresholds.origin,
        "target_s": thresholds.target_s,
        "totals": analysis.totals(demand, times, thresholds.thresholds_s),
        "kecamatan": kecamatan,
        "kelurahan": kelurahan,
        "cells": cells,
        "gaps": analysis.gap_ranking(kecamatan, cells, target_s=thresholds.target_s, limit=limit),
        "provenance": analysis.provenance(demand),
        "grid": {"origin_m": list(demand.origin_m), "cell_m": demand.cell_m, "metric_crs": demand.metric_crs},
        "demand_points": len(demand),
        "demand_unattached": int((~context.attachment.inside).sum()),
    }


def run_profile(*, region: Region, spec: SourceSpec, profile: str | None) -> tuple[str, str]:
    """The vehicle profile a run routes on and why: ``profile`` when asked for, else the one of the units
    the spec's stations send (:func:`coverage.selectors.coverage_profile`).

    Raises
    ------
    CoverageInputError
        An unknown profile.
    """
    if profile is None:
        return selectors.coverage_profile(region=region, spec=spec)
    if profile not in PROFILE_NAMES:
        raise CoverageInputError(f"unknown vehicle profile {profile!r}; use one of {', '.join(PROFILE_NAMES)}")
    return profile, "asked for"


def coverage_run_save(
    *,
    region: Region,
    kind: str,
    context: Context,
    inputs: dict,
    results: dict,
    started: float,
    label: str,
    actor: Actor,
    run: CoverageRun | None = None,
    profile_from: str = "",
) -> CoverageRun:
    """Store a computed run: a new row, or ``run`` (queued by the API, computed by a job worker) filled in.

    The run records what it routed on: ``profile`` (the context's) and ``hour_band``, the band whose
    learned speeds were used, or ``all`` (none asked, or the version stores none for the band asked, which
    ``inputs["hour_band_asked"]`` keeps); ``inputs["profile_from"]`` says why that profile.
    """
    if run is None:
        run = CoverageRun(region=region, kind=kind, label=label, created_by=actor.person_user)
    run.network_version_id = context.version_id
    band = context.hour_band
    learned = band is not None and speed_factors_stored(version_id=context.version_id, band=band)
    run.profile, run.hour_band = context.profile, band if band is not None and learned else ALL_DAY
    inputs = {**inputs, "profile_from": profile_from, "hour_band_asked": band}
    run.inputs, run.results = inputs, results
    run.duration_s = round(time.perf_counter() - started, 3)
    run.full_clean()
    with transaction.atomic():
        run.save()
        audit_record(
            action=f"coverage.run_{kind}", actor=actor, obj=run, data={"label": label, "duration_s": run.duration_s}
        )
    return run


def _steps(progress: ProgressFactory | None, total: int, description: str) -> Callable[[int], None]:
    """``update(1)`` after each of ``total`` steps, reported through ``progress`` when one is given."""
    return progress(total, description) if progress is not None else (lambda _n: None)


def coverage_run_create(
    *,
    region: Region,
    spec: SourceSpec,
    kind: str = RunKind.COVERAGE,
    thresholds_s: Sequence[int] | None = None,
    target_s: int | None = None,
    cell_m: float = DEFAULT_CELL_M,
    label: str = "",
    actor: Actor = SYSTEM,
    run: CoverageRun | None = None,
    progress: ProgressFactory | None = None,
    profile: str | None = None,
    hour_band: str | None = None,
) -> CoverageRun:
    """Travel-time surface, coverage per kecamatan and gap ranking from one multi-source search; stored.

    Parameters
    ----------
    region : Region
    spec : SourceSpec
        The stations and units (and extra points) searched from.
    kind : str
        ``surface``, ``coverage`` or ``gaps``: what the caller shows; the run holds all three.
    thresholds_s, target_s : optional
        See :func:`coverage_thresholds`.
    cell_m : float
        Grid cell side for demand points and the surface, metres in the region's metric CRS.
    run : CoverageRun, optional
        The queued run to fill in (a job worker's); a new one is stored otherwise.
    progress : ProgressFactory, optional
        Told of the run's four steps (demand grid, sources, travel times, figures).
    profile : str, optional
        The vehicle profile to route; by default the one of the spec's units (:func:`run_profile`).
    hour_band : str, optional
        A local hour band whose learned speeds to plan with (``16-20``); by default none: the network's
        all-day weights (:func:`coverage.context.coverage_context`).
    """
    started = time.perf_counter()
    step = _steps(progress, 4, "coverage run")
    profile, profile_from = run_profile(region=region, spec=spec, profile=profile)
    context = coverage_context(region=region, cell_m=cell_m, profile=profile, hour_band=hour_band)
    step(1)
    thresholds = coverage_thresholds(
        region=region, agencies=spec.agencies, thresholds_s=thresholds_s, target_s=target_s
    )
    sources, snaps, dropped = _sources(context, spec, what="stations or units")
    step(1)
    _, times = times_from_sources(context.engine, snaps, context.attachment)
    step(1)
    results = evaluate(context, times, thresholds)
    step(1)
    inputs = {
        "spec": spec_data(spec),
        "cell_m": cell_m,
        "thresholds_s": list(thresholds.thresholds_s),
        "target_s": thresholds.target_s,
        "sources": [source_data(s) for s in sources],
        "sources_dropped": dropped,
    }
    return coverage_run_save(
        region=region,
        kind=kind,
        context=context,
        inputs=inputs,
        results=results,
        started=started,
        label=label,
        actor=actor,
        run=run,
        profile_from=profile_from,
    )


def coverage_whatif_run(
    *,
    region: Region,
    spec: SourceSpec,
    close_edge_ids: Sequence[int] = (),
    close_near: shapely.Geometry | None = None,
    close_tolerance_m: float = 25.0,
    add_points: Sequence[tuple[float, float]] = (),
    thresholds_s: Sequence[int] | None = None,
    target_s: int | None = None,
    cell_m: float = DEFAULT_CELL_M,
    label: str = "",
    actor: Actor = SYSTEM,
    run: CoverageRun | None = None,
    progress: ProgressFactory | None = None,
    profile: str | None = None,
    hour_band: str | None = None,
) -> CoverageRun:
    """Coverage before and after closing roads and/or adding stations; the live network is not touched.

    "Before" is the network as dispatch routes on it now: the region's live road closures in force are
    already applied (their ids are kept in the run's inputs, ``live_closure_ids``), and an edge they closed
    is not in it to close again.

    Parameters
    ----------
    close_edge_ids : sequence of int
        ``RoadEdge`` ids of the active network to close.
    close_near : shapely geometry, optional
        A point or line (EPSG:4326): every edge within ``close_tolerance_m`` metres closes, both ways.
    add_points : sequence of (lon, lat)
        Proposed stations added to the sources after the change.
    run, progress, profile, hour_band : optional
        As for :func:`coverage_run_create` (three steps: before, after, figures).
    """
    started = time.perf_counter()
    step = _steps(progress, 3, "what-if: before and after")
    profile, profile_from = run_profile(region=region, spec=spec, profile=profile)
    before_ctx = coverage_context(region=region, cell_m=cell_m, profile=profile, hour_band=hour_band)
    thresholds = coverage_thresholds(
        region=region, agencies=spec.agencies, thresholds_s=thresholds_s, target_s=target_s
    )
    sources, snaps, dropped = _sources(before_ctx, spec, what="stations or units")
    _, before = times_from_sources(before_ctx.engine, snaps, before_ctx.attachment)
    step(1)
    closed = _closures(before_ctx, close_edge_ids, close_near, close_tolerance_m)
    if not len(closed) and not add_points:
        raise CoverageInputError("nothing to compare: close roads (close_edge_ids, close_near) or add stations")
    after_ctx = with_engine(before_ctx, before_ctx.engine.with_closed_edges(closed)) if len(closed) else before_ctx
    after_spec = SourceSpec(**{**asdict(spec), "points": (*spec.points, *map(tuple, add_points))})
    after_sources, after_snaps, after_dropped = _sources(after_ctx, after_spec, what="stations or units")
    _, after = times_from_sources(after_ctx.engine, after_snaps, after_ctx.attachment)
    step(1)
    b, a = evaluate(before_ctx, before, thresholds), evaluate(after_ctx, after, thresholds)
    step(1)
    results = {
        "thresholds_s": list(thresholds.thresholds_s),
        "target_s": thresholds.target_s,
        "closed_edges": [
            {"edge_id": edge.edge_id, "name": edge.name, "highway": edge.highway, "length_m": round(edge.length_m, 1)}
            for edge in before_ctx.engine.edges_info(closed)
        ],
        "added_stations": [list(p) for p in add_points],
        "before": {"totals": b["totals"], "kecamatan": b["kecamatan"]},
        "after": {"totals": a["totals"], "kecamatan": a["kecamatan"]},
        "delta": compare_tables(b["kecamatan"], a["kecamatan"], b["totals"], a["totals"]),
        "cells_after": a["cells"],
        "grid": a["grid"],
        "provenance": a["provenance"],
        "demand_unattached_after": a["demand_unattached"],
    }
    inputs = {
        "spec": spec_data(spec),
        "cell_m": cell_m,
        "close_edge_ids": list(close_edge_ids),
        "close_near": None if close_near is None else shapely.to_geojson(close_near),
        "close_tolerance_m": close_tolerance_m,
        "add_points": [list(p) for p in add_points],
        "live_closure_ids": [pk for pk, _ in network_state(region)[1]],
        "sources": [source_data(s) for s in after_sources],
        "sources_dropped": dropped + after_dropped,
    }
    del sources
    return coverage_run_save(
        region=region,
        kind=RunKind.WHATIF,
        context=before_ctx,
        inputs=inputs,
        results=results,
        started=started,
        label=label,
        actor=actor,
        run=run,
        profile_from=profile_from,
    )


def _closures(
    context: Context, edge_ids: Sequence[int], near: shapely.Geometry | None, tolerance_m: float
) -> np.ndarray:
    picked = [context.engine.edge_indices_for_ids(edge_ids)] if len(edge_ids) else []
    if near is not None:
        hits = context.engine.edges_near(near, tolerance_m=tolerance_m)
        if not len(hits):
            raise CoverageInputError(
                f"no road lies within {tolerance_m:.0f} m of close_near: move it onto the road "
                "or raise close_tolerance_m"
            )
        picked.append(hits)
    return np.unique(np.concatenate(picked)).astype(np.intp) if picked else np.empty(0, dtype=np.intp)


def compare_tables(before: list[dict], after: list[dict], before_totals: dict, after_totals: dict) -> dict:
    """Per kecamatan and city-wide: population within each threshold after minus before (a change, people)."""

    def deltas(b: dict, a: dict) -> list[dict]:
        by_threshold = {t["threshold_s"]: t for t in a["thresholds"]}
        return [
            {
                "threshold_s": t["threshold_s"],
                "population_within_before": t["population_within"],
                "population_within_after": by_threshold[t["threshold_s"]]["population_within"],
                "change": round(by_threshold[t["threshold_s"]]["population_within"] - t["population_within"], 1),
            }
            for t in b["thresholds"]
            if t["threshold_s"] in by_threshold
        ]

    after_by_code = {row["code"]: row for row in after}
    return {
        "totals": deltas(before_totals, after_totals),
        "kecamatan": [
            {"code": row["code"], "name": row["name"], "thresholds": deltas(row, after_by_code[row["code"]])}
            for row in before
            if row["code"] in after_by_code
        ],
    }


def coverage_runs_compare(*, run_a: CoverageRun, run_b: CoverageRun) -> dict:
    """Compare two stored runs with kecamatan figures: population within each common threshold, b minus a."""
    if run_a.region_id != run_b.region_id:
        raise CoverageInputError(f"runs {run_a.pk} and {run_b.pk} are of different regions")
    tables = []
    for run in (run_a, run_b):
        if run.results is None:
            raise CoverageRunNotReadyError(f"coverage run {run.pk} is {run.state}: it has no figures yet")
        results = run.results.get("after", run.results)  # a what-if compares its "after" state
        if "kecamatan" not in results:
            raise CoverageInputError(f"run {run.pk} ({run.kind}) has no kecamatan figures to compare")
        tables.append(results)
    delta = compare_tables(tables[0]["kecamatan"], tables[1]["kecamatan"], tables[0]["totals"], tables[1]["totals"])
    return {"a": run_a.pk, "b": run_b.pk, "region": run_a.region.slug, **delta}


def coverage_live_run(
    *,
    region: Region,
    agencies: Sequence[str],
    unit_types: Sequence[str] = (),
    threshold_s: int | None = None,
    max_moves: int = 1,
    cell_m: float = DEFAULT_CELL_M,
    label: str = "",
    actor: Actor = SYSTEM,
    run: CoverageRun | None = None,
    progress: ProgressFactory | None = None,
    profile: str | None = None,
    hour_band: str | None = None,
) -> CoverageRun:
    """Coverage now from available units, against all of the agencies' stations staffed, with move-up suggestions.

    Population covered from the stations but not by any available unit is what dispatches left
    uncovered. Move-ups are chosen greedily, one unit at a time, each the single move that restores
    the most covered population (:func:`coverage.solvers.moveup_rank`), up to ``max_moves``. ``run``,
    ``progress``, ``profile`` and ``hour_band`` as for :func:`coverage_run_create` (three steps: travel
    times, move-ups, figures).
    """
    started = time.perf_counter()
    step = _steps(progress, 3, "live coverage and move-ups")
    if not agencies:
        raise CoverageInputError("name at least one agency whose units and stations to look at")
    profile, profile_from = run_profile(
        region=region, spec=SourceSpec(agencies=tuple(agencies), unit_types=tuple(unit_types)), profile=profile
    )
    context = coverage_context(region=region, cell_m=cell_m, profile=profile, hour_band=hour_band)
    thresholds = coverage_thresholds(
        region=region, agencies=agencies, thresholds_s=[threshold_s] if threshold_s else None, target_s=threshold_s
    )
    target = thresholds.target_s
    spec_now = SourceSpec(
        agencies=tuple(agencies), unit_types=tuple(unit_types), units=True, stations=False, available_only=True
    )
    units, unit_snaps, dropped = snap_sources(context.engine, selectors.coverage_sources(region=region, spec=spec_now))
    stations, station_snaps, _ = _sources(context, SourceSpec(agencies=tuple(agencies)), what="stations")
    _, full = times_from_sources(context.engine, station_snaps, context.attachment)
    unit_times = site_matrix(context.engine, unit_snaps, context.attachment, cutoff_s=target)
    station_times = site_matrix(context.engine, station_snaps, context.attachment, cutoff_s=target)
    step(1)
    now = unit_times.min(axis=1) if len(units) else np.full(len(context.demand), np.inf)
    w = context.demand.population
    moves = []
    current = unit_times.copy()
    for _ in range(max_moves if len(units) else 0):
        ranked = moveup_rank(current, station_times, w, threshold_s=target, top=1)
        if not ranked:
            break
        best = ranked[0]
        moves.append(
            {
                "unit": units[best.unit].ref,
                "from": source_data(units[best.unit])["point"],
                "to_station": stations[best.station].ref,
                "to_station_name": stations[best.station].label,
                "gain_population": round(best.gain, 1),
                "covered_after_share": round(best.covered / float(w.sum()), 4) if w.sum() else None,
            }
        )
        current[:, best.unit] = station_times[:, best.station]
    step(1)
    gap = (full <= target) & ~(now <= target)
    results = {
        "target_s": target,
        "now": evaluate(context, now, thresholds),
        "stations_staffed_totals": analysis.totals(context.demand, full, thresholds.thresholds_s),
        "uncovered_by_dispatch_population": round(float(w[gap].sum()), 1),
        "available_units": [source_data(u) for u in units],
        "moveups": moves,
    }
    inputs = {
        "agencies": list(agencies),
        "unit_types": list(unit_types),
        "threshold_s": target,
        "max_moves": max_moves,
        "cell_m": cell_m,
        "stations": [source_data(s) for s in stations],
        "sources_dropped": dropped,
    }
    step(1)
    return coverage_run_save(
        region=region,
        kind=RunKind.LIVE,
        context=context,
        inputs=inputs,
        results=results,
        started=started,
        label=label,
        actor=actor,
        run=run,
        profile_from=profile_from,
    )


def spec_data(spec: SourceSpec) -> dict:
    data = asdict(spec)
    data["points"] = [list(p) for p in spec.points]
    return data
