"""Vehicle-profile benchmark: building each profile's engine once per network version, and answering on it.

Pure (no database): a generated city grid (bench/grid.py) with seeded tags on its residential streets
(10% of them 2.5 m wide, 3% footways open to motorbikes), as the registry would load it. Prints, per
grid size and profile: the time to build the profile's engine (weights, the walk graph, the engine's
indexes) and the memory it added; p50/p95 of ``reach`` (where the vehicle stops for a caller, with the
walk) and of the recommendation query (50 origins -> 1 caller, ``travel_times_to``) over seeded callers.

Run: ``.venv/bin/python bench/profiles.py [--queries 300] [--sizes 141,300]``
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.grid import city_grid
from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.graph import road_graph_from_networkx
from gis_core.routing.profiles import (
    PROFILE_NAMES,
    EdgeAttributes,
    OnFootAccess,
    allowed_edges,
    profile_graph,
    vehicle_profile,
)
from gis_core.speeds import DEFAULT_SPEEDS_KPH


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tagged_grid(n_side: int, seed: int = 0):
    grid = city_grid(n_side, seed=seed)
    for _, _, data in grid.edges(data=True):  # the class table's speeds (gis_core.speeds), as an import gives
        data["travel_time_s"] = float(data["length"]) / (DEFAULT_SPEEDS_KPH[data["highway"]] / 3.6)
    return tagged(road_graph_from_networkx(grid, metric_crs="EPSG:32748"), seed=seed)


def tagged(graph, *, seed: int = 0):
    """``graph`` with seeded tags on its residential streets (10% 2.5 m wide, 3% footways open to motorbikes)."""
    rng = np.random.default_rng(seed)
    # One draw per street segment (twins share it), so both directions of a street carry the same tags.
    segment = np.where(
        graph.edge_twin >= 0, np.minimum(np.arange(graph.n_edges), graph.edge_twin), np.arange(graph.n_edges)
    )
    draw = rng.random(graph.n_edges)[segment]
    tags, highway = [], list(graph.edge_highway)
    for i in range(graph.n_edges):
        if highway[i] == "residential" and draw[i] < 0.10:
            tags.append({"width": "2.5"})
        elif highway[i] == "residential" and draw[i] < 0.13:
            tags.append({"motorcycle": "yes"})
            highway[i] = "footway"
        else:
            tags.append({})
    graph = graph.__class__(**{**vars(graph), "edge_highway": tuple(highway)})
    speed = graph.edge_length_m / graph.edge_travel_time_s * 3.6
    return graph, EdgeAttributes(tags=tags, speed_kph=speed, speed_source=["table"] * graph.n_edges)


def build(graph, attributes, name: str, *, bounded_search: bool = True) -> CsgraphEngine:
    profile = vehicle_profile(name)
    on_foot = None
    if profile.on_foot:
        on_foot = OnFootAccess(graph, allowed_edges(graph, attributes, profile), speed_kph=3.6, max_on_foot_m=3000)
    return CsgraphEngine(profile_graph(graph, attributes, profile), on_foot=on_foot, bounded_search=bounded_search)


def percentiles_ms(samples: list[float]) -> str:
    p50, p95 = np.percentile(np.array(samples) * 1000, [50, 95])
    return f"p50 {p50:6.2f} ms  p95 {p95:6.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sizes", default="141,300", help="grid sides: 141 is about 20k nodes, 300 about 90k")
    args = parser.parse_args()
    for n_side in [int(s) for s in args.sizes.split(",")]:
        graph, attributes = tagged_grid(n_side)
        print(f"grid {n_side}x{n_side}: {graph.n_nodes} nodes, {graph.n_edges} edges")
        rng = np.random.default_rng(1)
        lonlat = graph.node_lonlat
        for name in PROFILE_NAMES:
            gc.collect()
            before, started = rss_mb(), time.perf_counter()
            engine = build(graph, attributes, name)
            built_s, added_mb = time.perf_counter() - started, rss_mb() - before
            reach_s, query_s, walked = [], [], 0
            for _ in range(args.queries):
                caller = tuple(lonlat[rng.integers(len(lonlat))] + rng.normal(0, 2e-4, 2))
                origins = [tuple(p) for p in lonlat[rng.integers(len(lonlat), size=50)]]
                t0 = time.perf_counter()
                reach = engine.reach(caller)
                t1 = time.perf_counter()
                engine.travel_times_to(origins, reach.snap)
                t2 = time.perf_counter()
                reach_s.append(t1 - t0)
                query_s.append(t2 - t1)
                walked += reach.on_foot_m > 0
            print(
                f"  {name:11s} engine {engine.graph.n_edges:7d} edges, "
                f"built in {built_s:5.2f} s (+{added_mb:5.0f} MB); reach {percentiles_ms(reach_s)}; "
                f"50 -> 1 {percentiles_ms(query_s)}; {walked}/{args.queries} callers reached on foot"
            )
            del engine


if __name__ == "__main__":
    main()
