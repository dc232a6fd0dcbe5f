"""Coverage figures from demand points and their travel times: per kecamatan, kelurahan and grid cell.

Pure: a :class:`~coverage.population.DemandSet` and a travel time per demand point in, JSON-ready
dicts out (``inf`` becomes ``None``; seconds stay seconds). A point is covered at a threshold when
its time is at most the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coverage.population import ESTIMATED, MISSING, OFFICIAL, DemandSet

WORST_PLACES = 3


def _seconds(value: float) -> float | None:
    return round(float(value), 1) if np.isfinite(value) else None


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` weighted by ``weights`` (inverted CDF); ``nan`` with no weight.

    ``inf`` values take part: a quantile falling among unreachable people is ``inf``.
    """
    keep = weights > 0
    if not keep.any():
        return float("nan")
    order = np.argsort(values[keep], kind="stable")
    v, w = values[keep][order], weights[keep][order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, q * cum[-1], side="left")])


def _group_stats(pop: np.ndarray, area: np.ndarray, times: np.ndarray, thresholds: Sequence[float]) -> dict:
    total_pop, total_area = float(pop.sum()), float(area.sum())
    reached = np.isfinite(times)
    stats: dict[str, Any] = {
        "population": round(total_pop, 1),
        "area_m2": round(total_area, 1),
        "mean_time_s": _seconds(np.average(times[reached], weights=pop[reached])) if pop[reached].sum() > 0 else None,
        "p90_time_s": _seconds(weighted_quantile(times, pop, 0.9)) if total_pop > 0 else None,
        "max_time_s": _seconds(times.max()) if len(times) else None,
        "unreachable_population": round(float(pop[~reached].sum()), 1),
        "thresholds": [],
    }
    for threshold in thresholds:
        inside = times <= threshold
        within = float(pop[inside].sum())
        stats["thresholds"].append(
            {
                "threshold_s": threshold,
                "population_within": round(within, 1),
                "population_outside": round(total_pop - within, 1),
                "population_share": round(within / total_pop, 4) if total_pop > 0 else None,
                "area_share": round(float(area[inside].sum()) / total_area, 4) if total_area > 0 else None,
            }
        )
    return stats


def kelurahan_table(demand: DemandSet, times: np.ndarray, thresholds: Sequence[float]) -> list[dict]:
    """Per kelurahan: population, mean / p90 / max time, unreachable people and shares within each threshold."""
    out = []
    for index, area in enumerate(demand.kelurahan_areas):
        mask = demand.kelurahan == index
        row = {
            "code": area.code,
            "name": area.name,
            "kecamatan_code": area.parent_code,
            "population_kind": area.kind,
            "population_year": area.year,
        }
        row.update(_group_stats(demand.population[mask], demand.area_m2[mask], times[mask], thresholds))
        out.append(row)
    return out


def kecamatan_table(
    demand: DemandSet, times: np.ndarray, thresholds: Sequence[float], kelurahan_rows: list[dict] | None = None
) -> list[dict]:
    """Per kecamatan: the figures of :func:`kelurahan_table`, the population's provenance and its worst places.

    The worst-served places are its kelurahan with the largest population-weighted mean time
    (unreachable ones first), at most ``WORST_PLACES``.
    """
    kelurahan_rows = kelurahan_rows if kelurahan_rows is not None else kelurahan_table(demand, times, thresholds)
    out = []
    for index, area in enumerate(demand.kecamatan_areas):
        mask = demand.kecamatan == index
        row: dict[str, Any] = {
            "code": area.code,
            "name": area.name,
            "population_kind": area.kind,
            "population_year": area.year,
            "population_source": area.source,
        }
        row.update(_group_stats(demand.population[mask], demand.area_m2[mask], times[mask], thresholds))
        kids = [k for k in kelurahan_rows if k["kecamatan_code"] == area.code and k["population"] > 0]
        kids.sort(key=lambda k: (-(k["unreachable_population"] > 0), -(k["mean_time_s"] or 0.0), k["code"]))
        row["worst_places"] = [
            {
                "code": k["code"],
                "name": k["name"],
                "mean_time_s": k["mean_time_s"],
                "max_time_s": k["max_time_s"],
                "unreachable_population": k["unreachable_population"],
            }
            for k in kids[:WORST_PLACES]
        ]
        out.append(row)
    return out


def cell_table(demand: DemandSet, times: np.ndarray, *, target_s: float) -> list[dict]:
    """Per grid cell: population, the time at its largest piece, fastest and slowest piece, people beyond target."""
    cells, inverse = np.unique(demand.cell, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    pop = np.bincount(inverse, weights=demand.population, minlength=len(cells))
    beyond = np.bincount(inverse, weights=demand.population * ~(times <= target_s), minlength=len(cells))
    # The largest piece of each cell: sort by (cell, -area) and take the first of each run.
    order = np.lexsort((-demand.area_m2, inverse))
    first = order[np.r_[True, inverse[order][1:] != inverse[order][:-1]]]
    fastest = np.full(len(cells), np.inf)
    np.minimum.at(fastest, inverse, times)
    slowest = np.full(len(cells), -np.inf)
    np.maximum.at(slowest, inverse, times)
    return [
        {
            "i": int(c[0]),
            "j": int(c[1]),
            "population": round(float(p), 1),
            "time_s": _seconds(times[f]),
            "min_time_s": _seconds(lo),
            "max_time_s": _seconds(hi),
            "population_beyond_target": round(float(b), 1),
        }
        for c, p, f, lo, hi, b in zip(cells, pop, first, fastest, slowest, beyond, strict=True)
    ]


def totals(demand: DemandSet, times: np.ndarray, thresholds: Sequence[float]) -> dict:
    """City-wide figures, in the shape of one kecamatan row."""
    return _group_stats(demand.population, demand.area_m2, times, thresholds)


def provenance(demand: DemandSet) -> dict:
    """Which kecamatan figures are official, which estimated (and how), which missing; with years and sources."""
    groups: dict[str, list[dict]] = {OFFICIAL: [], ESTIMATED: [], MISSING: []}
    for area in demand.kecamatan_areas:
        groups.setdefault(area.kind, []).append(
            {
                "code": area.code,
                "name": area.name,
                "population": round(area.population, 1),
                "year": area.year,
                "source": area.source,
            }
        )
    official = sum(a["population"] for a in groups[OFFICIAL])
    total = sum(a.population for a in demand.kecamatan_areas)
    return {
        "spread": f"population is spread inside each kelurahan by area over {demand.cell_m:.0f} m grid cells",
        "official": groups[OFFICIAL],
        "estimated": groups[ESTIMATED],
        "missing": groups[MISSING],
        "official_share": round(official / total, 4) if total > 0 else None,
        "notes": list(demand.notes),
    }


def gap_ranking(kecamatan_rows: list[dict], cells: list[dict], *, target_s: float, limit: int) -> dict:
    """Kecamatan and cells ranked by population beyond the target (largest first)."""
    ranked_kec = []
    for row in kecamatan_rows:
        at = next((t for t in row["thresholds"] if t["threshold_s"] == target_s), None)
        if at is None:
            raise ValueError(f"the kecamatan rows have no figures at the target {target_s} s")
        ranked_kec.append(
            {
                "code": row["code"],
                "name": row["name"],
                "population": row["population"],
                "population_kind": row["population_kind"],
                "population_year": row["population_year"],
                "population_beyond_target": at["population_outside"],
                "share_beyond_target": None if at["population_share"] is None else round(1 - at["population_share"], 4),
                "unreachable_population": row["unreachable_population"],
                "p90_time_s": row["p90_time_s"],
            }
        )
    ranked_kec.sort(key=lambda r: (-r["population_beyond_target"], r["code"]))
    ranked_cells = sorted(
        (c for c in cells if c["population_beyond_target"] > 0),
        key=lambda c: (-c["population_beyond_target"], c["i"], c["j"]),
    )
    return {"target_s": target_s, "kecamatan": ranked_kec, "cells": ranked_cells[:limit]}
