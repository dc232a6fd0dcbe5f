"""What one new posko would change in a kecamatan that fails the SPM: the siting model on that kecamatan alone.

For each failing kecamatan (the worst ``SIAGA_SPM_POSKO_KECAMATAN`` of them, default 10), up to
``SIAGA_SPM_POSKO_CANDIDATES`` (default 16) road-network points inside it are proposed
(``coverage.siting.propose_candidates``: nodes spread evenly over the kecamatan) and snapped through the
engine; each is searched from once (``coverage.matrix.times_from_sources``: one node-time search cut at
the WMK travel time, read through the context's one demand attachment, and through one attachment of the
kecamatan's fires). The best site is the MCLP with one new site (Church and ReVelle 1974, ``k = 1``) over
the kecamatan's demand points with the existing stations kept: the candidate that adds the most people
within the WMK travel time (``coverage.solvers.coverage_mask``); ties go to the one reaching more of the
period's fires, then to the first proposed.

Per kecamatan: the site (lon, lat of its snapped point on the road, and that street's name), the
kecamatan's population share inside a WMK before and after, the people gained, and the period's fires
there: ``fires_within_share_before`` (reached within the standard, as the table), ``fires_within_share_after``
(reached within the standard, or whose network ETA from the new site is within it: travel only, the time
to dispatch not added; a fire without a location counts as before).
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from django.conf import settings

from coverage.context import Context
from coverage.matrix import times_from_sources
from coverage.siting import propose_candidates
from coverage.solvers import coverage_mask
from gis_core.routing.engine import Snap


class PoskoSite(TypedDict):
    lon: float
    lat: float
    street: str | None


class PoskoEffect(TypedDict):
    code: str
    name: str
    site: PoskoSite | None
    candidates: int
    population: float
    wmk_population_share_before: float | None
    wmk_population_share_after: float | None
    population_gained: float
    fires: int
    fires_located: int
    fires_within_share_before: float | None
    fires_within_share_after: float | None
    note: str


class Fire(TypedDict):
    lon: float | None
    lat: float | None
    within: bool


def posko_settings() -> tuple[int, int]:
    """(kecamatan examined at most, candidate sites per kecamatan), from the settings."""
    kecamatan = int(getattr(settings, "SIAGA_SPM_POSKO_KECAMATAN", 10))
    candidates = int(getattr(settings, "SIAGA_SPM_POSKO_CANDIDATES", 16))
    if kecamatan < 0 or candidates < 1:
        raise ValueError("SIAGA_SPM_POSKO_KECAMATAN must be >= 0 and SIAGA_SPM_POSKO_CANDIDATES >= 1")
    return kecamatan, candidates


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def new_posko_effect(
    context: Context,
    *,
    code: str,
    name: str,
    existing_times_s: np.ndarray,
    travel_s: float,
    target_s: float,
    fires: list[Fire],
    n_candidates: int,
) -> PoskoEffect:
    """The best single new posko inside kecamatan ``code`` and what it changes (module docstring).

    Parameters
    ----------
    context
        The region's coverage context (engine, demand points and their attachment).
    existing_times_s
        Seconds from the nearest existing station to each demand point, shape (D,).
    travel_s
        The WMK travel time, seconds; ``target_s`` the standard a fire is judged on (report -> on scene).
    fires
        The period's fires in the kecamatan: location (EPSG:4326, or None) and whether reached within the standard.
    """
    index = next((i for i, a in enumerate(context.demand.kecamatan_areas) if a.code == code), -2)
    rows = context.demand.kecamatan == index  # -2: a kecamatan without demand points matches none
    weights = context.demand.population[rows]
    population = float(weights.sum())
    base = existing_times_s[rows] <= travel_s
    before = float(weights[base].sum())
    within_before = sum(1 for f in fires if f["within"])
    located = [f for f in fires if f["lon"] is not None and f["lat"] is not None]
    effect = PoskoEffect(
        code=code, name=name, site=None, candidates=0, population=round(population, 1),
        wmk_population_share_before=_share(before, population), wmk_population_share_after=_share(before, population),
        population_gained=0.0, fires=len(fires), fires_located=len(located),
        fires_within_share_before=_share(within_before, len(fires)),
        fires_within_share_after=_share(within_before, len(fires)), note="",
    )  # fmt: skip
    proposed = propose_candidates(context, n_candidates, kecamatan=code)
    snaps = [s for s in context.engine.try_snap([(float(x), float(y)) for x, y in proposed]) if isinstance(s, Snap)]
    if not snaps:
        effect["note"] = "no road-network point inside the kecamatan to place a posko on"
        return effect
    fire_points = context.engine.attach_points(np.array([[f["lon"], f["lat"]] for f in located]).reshape(-1, 2))
    fire_before = np.array([f["within"] for f in located], dtype=bool)
    cutoff = max(travel_s, target_s)
    gains, fires_after = [], []
    for snap in snaps:
        node_times, point_times = times_from_sources(context.engine, [snap], context.attachment, cutoff_s=cutoff)
        adds = coverage_mask(point_times[rows], travel_s) & ~base
        gains.append(float(weights[adds].sum()))
        fires_after.append(int((fire_before | (fire_points.point_times_s(node_times) <= target_s)).sum()))
    best = max(range(len(snaps)), key=lambda j: (gains[j], fires_after[j], -j))
    snap = snaps[best]
    street = context.engine.edges_info([snap.edge_index])[0].name or None
    unlocated_within = within_before - int(fire_before.sum())
    effect["site"] = PoskoSite(lon=round(snap.snapped_lon, 7), lat=round(snap.snapped_lat, 7), street=street)
    effect["candidates"] = len(snaps)
    effect["wmk_population_share_after"] = _share(before + gains[best], population)
    effect["population_gained"] = round(gains[best], 1)
    effect["fires_within_share_after"] = _share(fires_after[best] + unlocated_within, len(fires))
    return effect
