"""Live road closures benchmark: what a closure costs the first request after it starts or lifts.

What it does, on seeded city grids (``bench/grid.py``: 20k and 90k nodes) and no database:

1. builds the base engine as the registry does;
2. for a flood area of about 1 km² (and of about 9 km²) in the middle of the grid, times finding the edges
   it covers (``edges_covered_by``: the closure matching on the base engine) and building the variant with
   them closed (``with_edge_factors``): together, the one-off cost the first ``engine_for`` call pays in
   each process after a closure's key changes (every later call is served from the cache);
3. times a street line closure (a 2 km line along an arterial) the same way;
4. checks that the variant answers (one one-to-many ETA query of 50 origins, before and after) and prints
   how many of those origins got slower.

The per-call cost that stays (the one query of ``live_closures.network_state``, which replaced the query of
the active version) is not timed here: ``tests/gis_core/test_routing_live_closures.py`` holds it at one query.

Run: ``.venv/bin/python bench/closures.py [--only grid-20k]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.grid import ORIGIN_LAT, ORIGIN_LON, city_grid  # noqa: E402
from gis_core.routing.csgraph_engine import CsgraphEngine  # noqa: E402
from gis_core.routing.graph import road_graph_from_networkx  # noqa: E402

GRIDS = {"grid-20k": 141, "grid-90k": 300}
SPEED_MPS = {"primary": 40 / 3.6, "residential": 20 / 3.6}
M_PER_DEG = 111_320.0


def engine_of(n_side: int) -> CsgraphEngine:
    graph = city_grid(n_side, seed=2)
    for _, _, data in graph.edges(data=True):
        data["travel_time"] = data["length"] / SPEED_MPS[data["highway"]]
    return CsgraphEngine(road_graph_from_networkx(graph, metric_crs="EPSG:32748"))


def square(centre: tuple[float, float], side_m: float) -> shapely.Polygon:
    half = side_m / 2 / M_PER_DEG
    lon, lat = centre
    return shapely.box(lon - half, lat - half, lon + half, lat + half)


def timed(fn):
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def bench(name: str, n_side: int) -> None:
    base, build_s = timed(lambda: engine_of(n_side))
    middle_m = n_side * 100 / 2
    centre = (ORIGIN_LON + middle_m / (M_PER_DEG * np.cos(np.radians(ORIGIN_LAT))), ORIGIN_LAT + middle_m / M_PER_DEG)
    rng = np.random.default_rng(2026)
    lonlat = base.node_lonlat
    origins = [tuple(lonlat[i]) for i in rng.choice(len(lonlat), 50, replace=False)]
    print(f"{name}: {base.graph.n_nodes:,} nodes, {base.graph.n_edges:,} edges; base engine built in {build_s:.2f} s")
    arterial_lat = ORIGIN_LAT + (n_side // 2 // 10 * 10 + 5) * 100 / M_PER_DEG  # a primary street (line % 10 == 5)
    line = shapely.LineString([(centre[0] - 0.009, arterial_lat), (centre[0] + 0.009, arterial_lat)])
    for label, shape in (
        ("1 km² area", square(centre, 1000)),
        ("9 km² area", square(centre, 3000)),
        ("2 km line", line),
    ):
        edges, match_s = timed(lambda shape=shape: base.edges_covered_by(shape, line_tolerance_m=15))
        variant, variant_s = timed(lambda edges=edges: base.with_edge_factors(edges, np.full(len(edges), np.inf)))
        before = base.travel_times_to(origins, centre)
        after = variant.travel_times_to(origins, centre)
        slower = sum(1 for b, a in zip(before, after, strict=True) if b and (a is None or a.eta_s > b.eta_s + 1e-6))
        print(
            f"  {label:>10}: {len(edges):6,} edges closed; match {match_s * 1000:7.1f} ms, "
            f"variant {variant_s * 1000:7.1f} ms, first request pays {(match_s + variant_s) * 1000:7.1f} ms; "
            f"{slower}/50 ETAs to the centre slower"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(GRIDS))
    args = parser.parse_args()
    for name, n_side in GRIDS.items():
        if args.only in (None, name):
            bench(name, n_side)


if __name__ == "__main__":
    main()
