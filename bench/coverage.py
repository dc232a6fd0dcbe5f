"""Coverage benchmark: the travel-time surface of a whole region and MCLP with k = 1..5 on 1,000 candidate sites.

Networks:

- ``jambi``: Kota Jambi as the demo loads it (``gis_core.demo.region_load``, idempotent: boundaries,
  population and the OSM main-road network; nothing else is changed, the runs timed here are deleted);
- ``grid-20k``: the generated ~20,000-node street grid (``bench.grid.city_grid(141)``) as a throw-away
  ``bench-*`` region with 3 x 3 synthetic kecamatan (seeded populations), deleted at the end.

For each it prints, in seconds:

- ``context``: the one-off work per network version, cached per process: demand points (population
  spread over 250 m cells inside each kelurahan) and their attachment to the network;
- ``surface``: one multi-source search from the sources to every node and demand point, plus every
  aggregate (kecamatan, kelurahan, grid cells, gap ranking) and the grid as GeoJSON; median of 5;
- ``run``: the same as a stored ``coverage_run_create`` (sources read and snapped, run saved); median of 5;
- MCLP: the demand x site matrix for 1,000 proposed candidates (one search per site, cut off at the
  threshold), then CBC on the reduced model for k = 1..5, and ``coverage_siting_run`` end to end at k = 5;
  with ``--spopt``, PySAL spopt's MCLP on the same matrix at k = 5 for comparison.

Targets: surface < 1 s, MCLP < 30 s.

Run: ``.venv/bin/python bench/coverage.py [--only jambi|grid-20k] [--spopt] [--threshold 900]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import shapely  # noqa: E402
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon  # noqa: E402

from bench.grid import city_grid  # noqa: E402
from coverage import render  # noqa: E402
from coverage.context import clear_contexts, coverage_context  # noqa: E402
from coverage.matrix import site_matrix, times_from_sources  # noqa: E402
from coverage.models import CoverageRun  # noqa: E402
from coverage.selectors import SourceSpec  # noqa: E402
from coverage.services import Thresholds, coverage_run_create, evaluate  # noqa: E402
from coverage.siting import coverage_siting_run, propose_candidates  # noqa: E402
from coverage.solvers import mclp_solve  # noqa: E402
from gis_core.crs import transform_geometries, transformer_to_lonlat  # noqa: E402
from gis_core.demo import region_load  # noqa: E402
from gis_core.importers.roads import import_road_graph  # noqa: E402
from gis_core.models import Kecamatan, PopulationKind, Region  # noqa: E402
from gis_core.routing.registry import clear_engines, engine_for  # noqa: E402

THRESHOLD_S = 900  # the SPM fire target, 15 minutes; --threshold changes it for MCLP
THRESHOLDS = Thresholds((480, 600, 900), 900, "bench")
N_CANDIDATES = 1000
REPEATS = 5
# Jambi sources: the three PSC 119 standby points of fixtures/demo_fleet_jambi.json (OSM hospital positions).
JAMBI_SOURCES = ((103.57932615608027, -1.60280705), (103.5790352730996, -1.6410166), (103.6118, -1.6106))


def jambi() -> tuple[Region, tuple]:
    return region_load(slug="kota-jambi", say=lambda line: None), JAMBI_SOURCES


def grid_20k() -> tuple[Region, tuple]:
    """A throw-away region on city_grid(141) with 3 x 3 kecamatan boxes and seeded official populations."""
    region = Region.objects.create(
        code="99.98", slug="bench-coverage-grid-20k", name="bench grid 20k", metric_srid=32748, time_zone="Asia/Jakarta"
    )
    import_road_graph(region=region, graph=city_grid(141, seed=1), source="grid-20k", source_kind="graph")
    graph = engine_for(region).graph
    (x0, y0), (x1, y1) = graph.node_xy_m.min(axis=0) - 60, graph.node_xy_m.max(axis=0) + 60
    rng = np.random.default_rng(2026)
    to_lonlat = transformer_to_lonlat(graph.metric_crs)
    xs, ys = np.linspace(x0, x1, 4), np.linspace(y0, y1, 4)
    for n, (i, j) in enumerate(((i, j) for j in range(3) for i in range(3)), start=1):
        box = shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1])
        geom = MultiPolygon(GEOSGeometry(transform_geometries(box, to_lonlat).wkt, srid=4326), srid=4326)
        area = Kecamatan(region=region, code=f"99.98.{n:02d}", name=f"Grid {n}", geom=geom, area_m2=box.area,
                         population=int(rng.integers(20_000, 90_000)), population_year=2024,
                         population_source="bench (seeded)", population_kind=PopulationKind.OFFICIAL)  # fmt: skip
        area.full_clean()
        area.save()
    # Two sources only, so that new sites have people left to cover within 900 s on a 14 km grid.
    nodes = graph.node_lonlat[rng.choice(graph.n_nodes, size=2, replace=False)]
    return region, tuple(map(tuple, nodes.tolist()))


def median_s(work, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench(name: str, load, *, with_spopt: bool, threshold_s: int) -> dict:
    clear_engines()
    clear_contexts()
    region, sources = load()
    engine = engine_for(region)
    started = time.perf_counter()
    context = coverage_context(region=region)
    context_s = time.perf_counter() - started
    snaps = engine.snap(list(sources))

    def surface() -> None:
        _, times = times_from_sources(engine, snaps, context.attachment)
        render.cell_features(evaluate(context, times, THRESHOLDS))

    surface_s = median_s(surface)
    spec = SourceSpec(points=sources)
    before = set(CoverageRun.objects.filter(region=region).values_list("pk", flat=True))
    run_s = median_s(lambda: coverage_run_create(region=region, spec=spec, thresholds_s=THRESHOLDS.thresholds_s))

    _, existing = times_from_sources(engine, snaps, context.attachment)
    started = time.perf_counter()
    candidates = engine.snap([tuple(p) for p in propose_candidates(context, N_CANDIDATES).tolist()])
    matrix = site_matrix(engine, candidates, context.attachment, cutoff_s=threshold_s)
    matrix_s = time.perf_counter() - started
    weights = context.demand.population
    solves = [mclp_solve(matrix, weights, threshold_s=threshold_s, k=k, existing_time_s=existing) for k in range(1, 6)]
    started = time.perf_counter()
    coverage_siting_run(region=region, model="mclp", spec=spec, k=5, threshold_s=threshold_s, n_candidates=N_CANDIDATES)
    siting_s = time.perf_counter() - started
    spopt = spopt_mclp(matrix, weights, existing, k=5, threshold_s=threshold_s) if with_spopt else None
    CoverageRun.objects.filter(region=region).exclude(pk__in=before).delete()
    return {
        "network": name,
        "nodes": engine.graph.n_nodes,
        "demand": len(context.demand),
        "sources": len(sources),
        "context_s": context_s,
        "surface_s": surface_s,
        "run_s": run_s,
        "candidates": len(candidates),
        "matrix_s": matrix_s,
        "solves": solves,
        "siting_s": siting_s,
        "spopt": spopt,
    }


def spopt_mclp(
    matrix: np.ndarray, weights: np.ndarray, existing: np.ndarray, *, k: int, threshold_s: int
) -> tuple[float, float]:
    """spopt's MCLP on the same matrix (existing stations as one predefined column): (seconds, objective)."""
    import pulp
    from spopt.locate import MCLP

    full = np.column_stack([existing, matrix])
    finite = np.where(np.isfinite(full), full, 1e12)
    predefined = np.r_[1, np.zeros(matrix.shape[1], dtype=int)]
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MCLP.from_cost_matrix(finite, weights, threshold_s, p_facilities=k + 1,
                                      predefined_facilities_arr=predefined)  # fmt: skip
        model.solve(pulp.PULP_CBC_CMD(msg=False))
    return time.perf_counter() - started, float(pulp.value(model.problem.objective))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["jambi", "grid-20k"])
    parser.add_argument("--spopt", action="store_true", help="also time spopt's MCLP on the same matrix (k = 5)")
    parser.add_argument("--threshold", type=int, default=THRESHOLD_S, help="MCLP coverage threshold, seconds")
    args = parser.parse_args()
    items = [("jambi", jambi), ("grid-20k", grid_20k)]
    Region.objects.filter(slug__startswith="bench-coverage-").delete()
    rows = []
    try:
        for name, load in items:
            if args.only in (None, name):
                print(f"... {name}", file=sys.stderr, flush=True)
                rows.append(bench(name, load, with_spopt=args.spopt, threshold_s=args.threshold))
    finally:
        Region.objects.filter(slug__startswith="bench-coverage-").delete()
        clear_engines()
        clear_contexts()
    print(f"\nTravel-time surface (median of {REPEATS}; seconds)")
    print(f"{'network':<10}{'nodes':>7}{'demand pts':>11}{'sources':>8}{'context':>9}{'surface':>9}{'stored run':>11}")
    for r in rows:
        print(f"{r['network']:<10}{r['nodes']:>7}{r['demand']:>11}{r['sources']:>8}{r['context_s']:>9.2f}"
              f"{r['surface_s']:>9.3f}{r['run_s']:>11.3f}")  # fmt: skip
    print(f"\nMCLP at {args.threshold} s with existing sources kept, {N_CANDIDATES} proposed candidates (seconds)")
    print(f"{'network':<10}{'sites':>6}{'matrix':>8}" + "".join(f"{f'k={k} solve':>11}" for k in range(1, 6))
          + f"{'k=5 total':>10}{'k=5 run':>9}{'spopt k=5':>10}")  # fmt: skip
    for r in rows:
        spopt = "-" if r["spopt"] is None else f"{r['spopt'][0]:.2f}"
        print(f"{r['network']:<10}{r['candidates']:>6}{r['matrix_s']:>8.2f}"
              + "".join(f"{s.solve_s:>11.3f}" for s in r["solves"])
              + f"{r['matrix_s'] + r['solves'][-1].solve_s:>10.2f}{r['siting_s']:>9.2f}{spopt:>10}")  # fmt: skip
    for r in rows:
        shares = ", ".join(f"k={k}: {s.share_after:.1%} ({s.status})" for k, s in enumerate(r["solves"], start=1))
        line = f"{r['network']}: covered share {r['solves'][0].share_before:.1%} before; {shares}"
        if r["spopt"] is not None:
            line += f"; spopt k=5 objective {r['spopt'][1]:,.1f} vs ours {r['solves'][-1].objective:,.1f}"
        print(line)
    print("Targets: surface < 1 s, MCLP < 30 s (matrix + solve).")


if __name__ == "__main__":
    main()
