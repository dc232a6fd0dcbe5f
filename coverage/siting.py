"""Siting runs: where new posko or standby points should go (MCLP and LSCP), stored like every coverage run."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from django.conf import settings

from coverage import selectors
from coverage.context import DEFAULT_CELL_M, Context, coverage_context, kecamatan_of_points, snap_sources, source_data
from coverage.errors import CoverageInputError, CoverageTooLargeError
from coverage.matrix import site_matrix, times_from_sources
from coverage.models import CoverageRun, RunKind
from coverage.selectors import SourcePoint, SourceSpec
from coverage.services import (
    ProgressFactory,
    Thresholds,
    compare_tables,
    coverage_run_save,
    coverage_thresholds,
    evaluate,
    run_profile,
)
from coverage.solvers import SitingResult, lscp_solve, mclp_solve
from fleet.actors import SYSTEM, Actor
from gis_core.crs import transformer_to_metric
from gis_core.models import Region

DEFAULT_CANDIDATES = 1000


def propose_candidates(context: Context, n: int, *, kecamatan: str | None = None) -> np.ndarray:
    """Up to ``n`` road-network points inside the region, spread evenly: one per square of a grid sized to fit.

    The points are the network's nodes; when the network has fewer nodes than ``n`` (a simplified main-road
    network), points along its streets are added, about ``total street length / 2n`` apart, so that the
    planner gets the number of candidates asked for. Returns positions (EPSG:4326), shape (<= n, 2), in a
    stable order.

    Parameters
    ----------
    kecamatan : str, optional
        Only points inside this kecamatan (its code; a point on a shared boundary belongs to the lower code,
        as in ``kecamatan_of_points``).
    """
    if n < 1:
        raise CoverageInputError(f"n_candidates must be >= 1, got {n}")
    lonlat = _network_points(context, n)
    x, y = transformer_to_metric(context.metric_crs).transform(lonlat[:, 0], lonlat[:, 1])
    xy = np.column_stack([x, y])
    if kecamatan is not None:
        row = next((r for r in context.kecamatan_rows if r.code == kecamatan), None)
        if row is None:
            raise CoverageInputError(f"the region has no kecamatan {kecamatan[:40]!r}")
        x0, y0, x1, y1 = row.geom_m.bounds  # a cheap cut before the polygon test on a city's nodes
        near = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        lonlat, xy = lonlat[near], xy[near]
    codes = kecamatan_of_points(context, lonlat)
    inside = np.array([c is not None and (kecamatan is None or c == kecamatan) for c in codes], dtype=bool)
    lonlat, xy = lonlat[inside], xy[inside]
    if len(lonlat) <= n:
        return lonlat
    side = _square_side(xy, n)
    bins = np.floor(xy / side).astype(np.int64)
    _, inverse = np.unique(bins, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    # The point nearest each square's centre represents it.
    distance = np.linalg.norm(xy - (bins + 0.5) * side, axis=1)
    order = np.lexsort((distance, inverse))
    first = order[np.r_[True, inverse[order][1:] != inverse[order][:-1]]]
    return lonlat[np.sort(first)]


def _square_side(xy: np.ndarray, n: int) -> float:
    """About the smallest square side (metres) for which at most ``n`` squares hold a point."""

    def occupied(side: float) -> int:
        return len(np.unique(np.floor(xy / side).astype(np.int64), axis=0))

    side = float(np.sqrt(np.prod(np.ptp(xy, axis=0)) / n)) or 1.0
    while occupied(side) > n:
        side *= 1.05
    # Streets leave most squares empty: shrink while the count still fits, so close to n points are kept.
    while side > 1.0 and occupied(side * 0.95) <= n:
        side *= 0.95
    return side


def _network_points(context: Context, n: int) -> np.ndarray:
    """The network's nodes, plus evenly spaced points along its edges when there are fewer than ``n`` nodes."""
    nodes = np.asarray(context.engine.node_lonlat, dtype=float).reshape(-1, 2)
    if len(nodes) >= n:
        return nodes
    return np.concatenate([nodes, context.engine.points_along_roads_lonlat(2 * n)])


def coverage_siting_run(
    *,
    region: Region,
    model: str,
    spec: SourceSpec,
    k: int | None = None,
    required_share: float | None = None,
    threshold_s: int | None = None,
    candidates: Sequence[tuple[float, float]] | None = None,
    n_candidates: int = DEFAULT_CANDIDATES,
    cell_m: float = DEFAULT_CELL_M,
    time_limit_s: float | None = None,
    progress: ProgressFactory | None = None,
    label: str = "",
    actor: Actor = SYSTEM,
    run: CoverageRun | None = None,
    profile: str | None = None,
    hour_band: str | None = None,
) -> Any:
    """Choose new sites keeping existing stations: ``mclp`` (k sites, most people covered) or ``lscp``.

    Parameters
    ----------
    model : str
        ``mclp`` (needs ``k``) or ``lscp`` (needs ``required_share``, 0 < share <= 1).
    spec : SourceSpec
        The existing stations (and units) kept; may name nothing (a blank slate).
    threshold_s : int, optional
        Coverage threshold; the agency's target by default (see ``coverage_thresholds``).
    candidates : sequence of (lon, lat), optional
        Sites a planner proposes; without them up to ``n_candidates`` road-network nodes are proposed.
    progress : callable, optional
        ``progress(total, description)`` is called once the candidate sites are known and returns a
        callable that is then called with 1 after each site's search (e.g. a tqdm bar's ``update``).
    run : CoverageRun, optional
        The queued run to fill in (a job worker's); a new one is stored otherwise.
    profile, hour_band : str, optional
        As for :func:`coverage.services.coverage_run_create`: new sites are timed on the profile of the
        spec's units (a new fire post for Damkar's engines) and by default on the all-day weights.

    Returns
    -------
    CoverageRun
        ``results`` lists the chosen sites in order of marginal gain with their kecamatan, coverage
        before and after (city-wide and per kecamatan) and the solver's figures.
    """
    started = time.perf_counter()
    if model not in {RunKind.MCLP, RunKind.LSCP}:
        raise CoverageInputError(f"model must be mclp or lscp, got {model!r}")
    if model == RunKind.MCLP and (k is None or k < 1):
        raise CoverageInputError("mclp needs k, the number of new sites (>= 1)")
    if model == RunKind.LSCP and required_share is None:
        raise CoverageInputError("lscp needs required_share, e.g. 0.9 for 90% of the population")
    k_sites, share = k or 0, required_share or 0.0  # each present for its model (checked above)
    profile, profile_from = run_profile(region=region, spec=spec, profile=profile)
    context = coverage_context(region=region, cell_m=cell_m, profile=profile, hour_band=hour_band)
    thresholds = coverage_thresholds(
        region=region, agencies=spec.agencies, target_s=threshold_s, thresholds_s=[threshold_s] if threshold_s else None
    )
    target = thresholds.target_s
    existing = selectors.coverage_sources(region=region, spec=spec)
    existing, existing_snaps, dropped = snap_sources(context.engine, existing)
    _, existing_times = times_from_sources(context.engine, existing_snaps, context.attachment)
    given = candidates is not None
    points = np.asarray(candidates if given else propose_candidates(context, n_candidates), dtype=float).reshape(-1, 2)
    proposed = [
        SourcePoint(
            "candidate",
            f"candidate #{i}",
            f"candidate #{i}",
            "",
            float(p[0]),
            float(p[1]),
            "given" if given else "network node",
        )
        for i, p in enumerate(points)
    ]
    proposed, site_snaps, dropped_sites = snap_sources(context.engine, proposed)
    if not proposed:
        raise CoverageInputError("no candidate site lies within reach of the road network")
    if model == RunKind.MCLP and k_sites > len(proposed):
        raise CoverageInputError(
            f"k={k} new sites asked but only {len(proposed)} candidate sites lie on the network: lower k or give "
            "more candidates"
        )
    _pairs_check(sites=len(site_snaps), demand=len(context.demand.population), cell_m=cell_m)
    matrix_started = time.perf_counter()
    update = progress(len(site_snaps), "travel times from candidate sites") if progress is not None else None
    matrix = site_matrix(context.engine, site_snaps, context.attachment, cutoff_s=target, progress=update)
    matrix_s = time.perf_counter() - matrix_started
    weights = context.demand.population
    if model == RunKind.MCLP:
        result = mclp_solve(
            matrix, weights, threshold_s=target, k=k_sites, existing_time_s=existing_times, time_limit_s=time_limit_s
        )
    else:
        result = lscp_solve(
            matrix,
            weights,
            threshold_s=target,
            required_share=float(share),
            existing_time_s=existing_times,
            time_limit_s=time_limit_s,
        )
    results = _siting_results(context, thresholds, result, proposed, matrix, existing_times, matrix_s)
    inputs = {
        "model": model,
        "spec": {"agencies": list(spec.agencies), "unit_types": list(spec.unit_types)},
        "k": k,
        "required_share": required_share,
        "threshold_s": target,
        "cell_m": cell_m,
        "candidates_from": "planner" if given else "network nodes",
        "n_candidates": len(proposed),
        "candidates": [source_data(s)["point"] for s in proposed],
        "existing": [source_data(s) for s in existing],
        "sources_dropped": dropped,
        "candidates_dropped": len(dropped_sites),
    }
    return coverage_run_save(
        region=region,
        kind=model,
        context=context,
        inputs=inputs,
        results=results,
        started=started,
        label=label,
        actor=actor,
        run=run,
        profile_from=profile_from,
    )


def _pairs_check(*, sites: int, demand: int, cell_m: float) -> None:
    """Refuse a siting matrix of more than ``SIAGA_SITING_MAX_PAIRS`` travel times before computing it."""
    limit = settings.SIAGA_SITING_MAX_PAIRS
    if sites * demand > limit:
        raise CoverageTooLargeError(
            f"{sites:,} candidate sites x {demand:,} demand points (cell_m={cell_m:g}) are {sites * demand:,} travel "
            f"times (at most {limit:,} in one run): give at most {max(1, limit // demand):,} candidates "
            "(n_candidates or candidates) or a larger cell_m"
        )


def _siting_results(
    context: Context,
    thresholds: Thresholds,
    result: SitingResult,
    sites: list[SourcePoint],
    matrix: np.ndarray,
    existing_times: np.ndarray,
    matrix_s: float,
) -> dict:
    target = thresholds.target_s
    single = Thresholds((target,), target, thresholds.origin)
    after_times = np.min(np.column_stack([existing_times, matrix[:, list(result.chosen)]]), axis=1)
    before, after = evaluate(context, existing_times, single), evaluate(context, after_times, single)
    lonlat = np.array([[sites[j].lon, sites[j].lat] for j in result.chosen]).reshape(-1, 2)
    codes = kecamatan_of_points(context, lonlat)
    names = {a.code: a.name for a in context.demand.kecamatan_areas}
    cumulative, chosen = result.covered_before, []
    for rank, (j, gain, code) in enumerate(zip(result.chosen, result.gains, codes, strict=True), start=1):
        cumulative += gain
        chosen.append(
            {
                "rank": rank,
                "candidate": j,
                "point": [round(sites[j].lon, 7), round(sites[j].lat, 7)],
                "kecamatan_code": code,
                "kecamatan": names.get(code) if code else None,
                "gain_population": round(gain, 1),
                "covered_share_after": round(cumulative / result.total, 4) if result.total else None,
            }
        )
    return {
        "model": result.model,
        "threshold_s": target,
        "objective": result.objective,
        "status": result.status,
        "covered_before": round(result.covered_before, 1),
        "covered_after": round(result.covered_after, 1),
        "share_before": round(result.share_before, 4),
        "share_after": round(result.share_after, 4),
        "population": round(result.total, 1),
        "chosen": chosen,
        "before": {"totals": before["totals"], "kecamatan": before["kecamatan"]},
        "after": {"totals": after["totals"], "kecamatan": after["kecamatan"]},
        "delta": compare_tables(before["kecamatan"], after["kecamatan"], before["totals"], after["totals"]),
        "cells": after["cells"],
        "grid": after["grid"],
        "provenance": after["provenance"],
        "solver": {
            "matrix_s": round(matrix_s, 3),
            "solve_s": round(result.solve_s, 3),
            "model_rows": result.n_rows,
            "model_columns": result.n_cols,
            "candidates": len(sites),
            "demand_points": len(context.demand),
        },
    }
