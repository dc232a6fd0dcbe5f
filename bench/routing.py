"""Routing benchmark: the unit-recommendation query (50 origins -> 1 destination) on every network.

For each real network in SIAGA_DATA_DIR and for generated city grids of about 20,000 and 90,000
nodes, it imports the network into PostGIS (as throw-away ``bench-*`` regions, deleted at the end),
loads it through the registry, and prints:

- graph load time (PostGIS -> arrays -> engine) and the process memory it added;
- p50/p95 of 500 seeded queries in the engine and through the HTTP API (a real WSGI server on
  127.0.0.1, JSON over HTTP);
- beside them, networkx on the same graph and weights: one ``shortest_path_length`` per origin, and
  one reverse ``single_source_dijkstra_path_length``; and the ratios;
- a second table: the plain whole-graph search (``bounded_search=False``) against the bounded search
  (:mod:`gis_core.routing.bounded`) on the same queries, without a cutoff and with each ``--cutoffs``
  value, p50/p95, and whether every answer agreed. It adds ``grid-1m``, a generated grid of about
  10^6 nodes built straight from arrays (``bench.grid.city_grid_graph``: a PostGIS import of that
  size takes too long for a benchmark), so that row has no import, API or networkx figures;
- a third table: the recommendation's own engine calls (``incidents.selectors.recommend``: ``reach`` for the
  report, one ``travel_times_to`` of 50 units to where the vehicle stops, ``try_snap`` of the units it
  did not time, and, when none is reached within the bound, the same units again with it doubled) on the
  same seeded queries per grid, for the car, the car with one live closure (a 1 km flood box at the
  grid's centre) and the fire_engine profile (seeded narrow streets, its walk): the whole-graph search
  and today's unbounded one against each ``--max-etas`` bound (``SIAGA_RECOMMEND_MAX_ETA_S``), p50/p95,
  how often the fallback ran, and whether every unit reached got the unbounded answer;
- OSRM's table service where ``osrm-routed`` is on PATH, else the reason it is left out.

Run: ``.venv/bin/python bench/routing.py [--queries 500] [--only grid-20k] [--search-only] [--recommend-only]``
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import networkx as nx  # noqa: E402
from django.conf import settings  # noqa: E402

from bench.grid import city_grid, city_grid_graph  # noqa: E402
from bench.profiles import build as profile_engine  # noqa: E402
from bench.profiles import tagged  # noqa: E402
from gis_core.crs import transformer_to_lonlat  # noqa: E402
from gis_core.importers.osm import read_road_file  # noqa: E402
from gis_core.importers.roads import import_road_graph  # noqa: E402
from gis_core.models import Region  # noqa: E402
from gis_core.routing.bounded import BoundedSearch  # noqa: E402
from gis_core.routing.csgraph_engine import CsgraphEngine  # noqa: E402
from gis_core.routing.graph import min_time_adjacency  # noqa: E402
from gis_core.routing.registry import clear_engines, engine_for  # noqa: E402

N_ORIGINS = 50
GRID_SIDES = {"grid-20k": 141, "grid-90k": 300}
MAX_OFFSET_M = 60.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def networks(only: str | None) -> list[tuple[str, int, callable]]:
    data = Path(settings.SIAGA_DATA_DIR)
    items = [
        ("jambi-main", 32748, lambda: read_road_file(data / "jambi" / "roads_main_jambi_osm.graphml")),
        (
            "balikpapan-kota",
            32750,
            lambda: read_road_file(data / "balikpapan" / "roads_drive_balikpapan_kota_osm.graphml"),
        ),
        ("liechtenstein", 32632, lambda: read_road_file(data / "reference" / "liechtenstein.osm.pbf")),
        ("monaco", 32632, lambda: read_road_file(data / "reference" / "monaco.osm.pbf")),
        ("grid-20k", 32748, lambda: city_grid(141, seed=1)),
        ("grid-90k", 32748, lambda: city_grid(300, seed=2)),
    ]
    return [item for item in items if only is None or item[0] == only]


def random_points(engine, rng: np.random.Generator, count: int) -> list[tuple[float, float]]:
    """Points near random edges: a random spot along the edge, moved up to MAX_OFFSET_M sideways."""
    graph = engine.graph
    edges = rng.integers(0, graph.n_edges, size=count)
    points = []
    for e in edges:
        line = graph.edge_geometry_m[e]
        p = line.interpolate(rng.random(), normalized=True)
        angle = rng.uniform(0, 2 * np.pi)
        offset = rng.uniform(0, MAX_OFFSET_M)
        points.append((p.x + offset * np.cos(angle), p.y + offset * np.sin(angle)))
    xy = np.array(points)
    lon, lat = transformer_to_lonlat(graph.metric_crs).transform(xy[:, 0], xy[:, 1])
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def percentiles_ms(samples: list[float]) -> tuple[float, float]:
    p50, p95 = np.percentile(np.array(samples) * 1000, [50, 95])
    return float(p50), float(p95)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def start_api_server() -> tuple[WSGIServer, int]:
    from config.wsgi import application

    server = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


def api_query(port: int, body: dict) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/api/routing/eta/", json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"API answered {response.status}: {payload[:300]!r}")
    return json.loads(payload)


def nx_graph(engine) -> nx.DiGraph:
    """The engine's graph as a networkx DiGraph with the same (fastest parallel) edge weights."""
    graph = engine.graph
    g = nx.DiGraph()
    g.add_nodes_from(range(graph.n_nodes))
    for u, v, t in zip(graph.edge_source.tolist(), graph.edge_target.tolist(), graph.edge_travel_time_s.tolist(),
                       strict=True):  # fmt: skip
        if u != v and (not g.has_edge(u, v) or g[u][v]["w"] > t):
            g.add_edge(u, v, w=t)
    return g


def search_rows(name: str, graph, *, queries: int, cutoffs: list[float]) -> list[dict]:
    """Plain whole-graph search against the bounded search on the same seeded queries, per cutoff."""
    plain = CsgraphEngine(graph, bounded_search=False)
    bounded = CsgraphEngine(graph)
    t0 = time.perf_counter()  # what a variant (closures, a profile's weights) adds to build: both directions
    for reverse in (False, True):
        BoundedSearch(graph.node_xy_m, min_time_adjacency(graph, reverse=reverse))
    build_s = time.perf_counter() - t0
    rng = np.random.default_rng(2026)
    workload = [(random_points(plain, rng, N_ORIGINS), random_points(plain, rng, 1)[0]) for _ in range(queries)]
    rows = []
    for cutoff_s in [None, *cutoffs]:
        times: dict[str, list[float]] = {"plain": [], "bounded": []}
        answers: dict[str, list] = {"plain": [], "bounded": []}
        for label, engine in (("plain", plain), ("bounded", bounded)):
            engine.travel_times_to(*workload[0], cutoff_s=cutoff_s)  # warm caches once
            for origins, destination in workload:
                t = time.perf_counter()
                answers[label].append(engine.travel_times_to(origins, destination, cutoff_s=cutoff_s))
                times[label].append(time.perf_counter() - t)
        same = all(
            same_answer(a, b)
            for qa, qb in zip(answers["plain"], answers["bounded"], strict=True)
            for a, b in zip(qa, qb, strict=True)
        )
        timed = sum(t is not None for q in answers["plain"] for t in q)
        rows.append(
            {
                "network": name,
                "nodes": graph.n_nodes,
                "cutoff_s": cutoff_s,
                "plain": percentiles_ms(times["plain"]),
                "bounded": percentiles_ms(times["bounded"]),
                "same": same,
                "timed_share": timed / (queries * N_ORIGINS),
                "build_s": build_s,
            }
        )
    return rows


def same_answer(a, b) -> bool:
    """Both None, or the same ETA and (to rounding) the same path length."""
    if a is None or b is None:
        return a is None and b is None
    return a.eta_s == b.eta_s and abs(a.distance_m - b.distance_m) < 1e-6


def recommend_variants(graph) -> dict[str, tuple[CsgraphEngine, CsgraphEngine]]:
    """Per variant the engine with the whole-graph search and the one with the bounded search (same weights)."""
    tagged_graph, attributes = tagged(graph, seed=7)
    car, car_plain = CsgraphEngine(tagged_graph), CsgraphEngine(tagged_graph, bounded_search=False)
    xy = tagged_graph.node_xy_m
    centre = (xy.min(axis=0) + xy.max(axis=0)) / 2
    box_m = shapely.box(*(centre - 500.0), *(centre + 500.0))  # a flood area of 1 km x 1 km
    lon, lat = transformer_to_lonlat(tagged_graph.metric_crs).transform(*np.asarray(box_m.exterior.coords).T)
    flood = shapely.Polygon(zip(lon, lat, strict=True))
    closed = car.edges_covered_by(flood, line_tolerance_m=15.0)
    factors = np.full(len(closed), np.inf)
    return {
        "car": (car_plain, car),
        f"car, 1 closure ({len(closed)} edges)": (
            car_plain.with_edge_factors(closed, factors),
            car.with_edge_factors(closed, factors),
        ),
        "fire_engine": (
            profile_engine(tagged_graph, attributes, "fire_engine", bounded_search=False),
            profile_engine(tagged_graph, attributes, "fire_engine"),
        ),
    }


def recommend_call(engine, origins, destination, max_eta_s: float | None) -> tuple[list, bool]:
    """What ``units_recommend`` asks the engine for one need of 50 units; the times with the walk, and
    whether the fallback (the bound doubled up to 3 times, then none) ran."""
    reach = engine.reach(destination)
    cutoff_s = None if max_eta_s is None else max(0.0, max_eta_s - reach.on_foot_s)
    times = engine.travel_times_to(origins, reach.snap, cutoff_s=cutoff_s)
    failed = [i for i, tt in enumerate(times) if tt is None]
    if failed:
        engine.try_snap([origins[i] for i in failed])  # to say why
    fell_back = cutoff_s is not None and len(failed) == len(origins)
    widening = 0
    while max_eta_s is not None and len(failed) == len(origins):  # none reached: the bound doubled, 3 times
        widening += 1
        bound_s = max_eta_s * 2**widening if widening <= 3 else None
        reach = engine.reach(destination)
        cutoff_s = None if bound_s is None else max(0.0, bound_s - reach.on_foot_s)
        times = engine.travel_times_to(origins, reach.snap, cutoff_s=cutoff_s)
        failed = [i for i, tt in enumerate(times) if tt is None]
        if failed:
            engine.try_snap([origins[i] for i in failed])
        if bound_s is None:
            break
    return [None if tt is None else (tt.eta_s + reach.on_foot_s, tt.distance_m) for tt in times], fell_back


def close(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """Both None, or the same ETA and (to rounding) the same path length."""
    if a is None or b is None:
        return a is None and b is None
    return a[0] == b[0] and abs(a[1] - b[1]) < 1e-6


def recommend_rows(name: str, graph, *, queries: int, max_etas: list[float]) -> list[dict]:
    """The recommendation's engine calls, unbounded and bounded, on the same seeded queries per variant."""
    t0 = time.perf_counter()
    variants = recommend_variants(graph)
    print(f"{name}: recommendation variants built in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    rng = np.random.default_rng(2027)
    any_engine = variants["car"][1]
    workload = [
        (random_points(any_engine, rng, N_ORIGINS), random_points(any_engine, rng, 1)[0]) for _ in range(queries)
    ]
    rows = []
    for variant, (plain, bounded) in variants.items():

        def timed(engine, max_eta_s):
            recommend_call(engine, *workload[0], max_eta_s)  # warm caches once
            samples, cpu, answers, fallbacks = [], [], [], 0
            for origins, destination in workload:
                t, c = time.perf_counter(), time.process_time()
                answer, fell_back = recommend_call(engine, origins, destination, max_eta_s)
                cpu.append(time.process_time() - c)
                samples.append(time.perf_counter() - t)
                answers.append(answer)
                fallbacks += fell_back
            return (percentiles_ms(samples), percentiles_ms(cpu)), answers, fallbacks

        whole, reference, _ = timed(plain, None)
        today, today_answers, _ = timed(bounded, None)
        row = {"network": name, "nodes": graph.n_nodes, "variant": variant, "whole": whole, "today": today,
               "today_same": all(close(a, b) for qa, qb in zip(today_answers, reference, strict=True)
                                 for a, b in zip(qa, qb, strict=True)), "bounds": []}  # fmt: skip
        for max_eta_s in max_etas:
            times, answers, fallbacks = timed(bounded, max_eta_s)
            agree = all(
                close(b, p) if b is not None else (p is None or p[0] > max_eta_s)
                for qa, qp in zip(answers, reference, strict=True)
                for b, p in zip(qa, qp, strict=True)
            )
            reached = sum(b is not None for q in answers for b in q) / (queries * N_ORIGINS)
            row["bounds"].append((max_eta_s, times, fallbacks / queries, reached, agree))
        rows.append(row)
    return rows


def print_recommend_table(rows: list[dict], queries: int) -> None:
    for clock, label in ((0, "wall-clock"), (1, "CPU (this process: steadier than wall-clock on a loaded machine)")):
        print_recommend_clock(rows, queries, clock, label)
    print(
        "whole: the whole-graph search (bounded_search=False), no bound; today: the bounded search without a "
        "cutoff (widened until every unit is settled), as recommendation ran before SIAGA_RECOMMEND_MAX_ETA_S; "
        "fallback: share of queries where no unit was within the bound and all 50 were searched again "
        "with it doubled (x2, x4, x8, then unbounded) until one was; timed: share of units with an ETA; "
        "same: every ETA given equals the whole-graph one and "
        "every unit left without one is beyond the bound there."
    )


def print_recommend_clock(rows: list[dict], queries: int, clock: int, label: str) -> None:
    print(
        f"\nRecommendation's engine calls ({N_ORIGINS} units -> 1 report: reach, travel_times_to, try_snap of the "
        f"untimed, fallback), same {queries} seeded queries per grid and variant; {label} times in ms"
    )
    print(
        f"{'network':<10}{'nodes':>8}  {'variant':<26}{'whole p50/p95':>15}{'today p50/p95':>15}"
        f"{'bound s':>9}{'bounded p50/p95':>17}{'fallback':>10}{'timed':>7}{'same':>6}"
    )
    for r in rows:
        whole, today = r["whole"][clock], r["today"][clock]
        for k, (max_eta_s, times, fallback, reached, agree) in enumerate(r["bounds"]):
            p50, p95 = times[clock]
            head = (
                f"{r['network']:<10}{r['nodes']:>8}  {r['variant']:<26}{whole[0]:>8.2f}/{whole[1]:<6.2f}"
                f"{today[0]:>8.2f}/{today[1]:<6.2f}"
                if k == 0
                else " " * 74
            )
            same = "yes" if agree and r["today_same"] else "NO"
            print(f"{head}{max_eta_s:>9.0f}{p50:>10.2f}/{p95:<6.2f}{fallback:>10.1%}{reached:>7.0%}{same:>6}")


def osrm_note() -> str:
    """Why OSRM's table service is not in the table (it is only run where ``osrm-routed`` exists)."""
    import shutil

    if shutil.which("osrm-routed") is None:
        return (
            "OSRM table service: not run: osrm-routed is not installed (Debian has no osrm package; "
            "building osrm-backend from source with its Boost/TBB/Lua toolchain takes far longer than a "
            "benchmark run on this machine; the osrm-bindings wheel would also need the grid exported "
            "as an OSM file and osrm-extract/contract runs per weights, not done here)."
        )
    return "OSRM table service: osrm-routed found, but this benchmark does not drive it yet."


def bench_network(name: str, srid: int, load, *, queries: int, port: int) -> dict:
    graph_nx = load()
    code = f"BENCH-{name[:10]}"  # Region.code holds 16 characters; the first 10 of each name differ
    region = Region.objects.create(
        code=code, slug=f"bench-{name}", name=f"bench {name}", metric_srid=srid, time_zone="Asia/Jakarta"
    )
    t0 = time.perf_counter()
    import_road_graph(region=region, graph=graph_nx, source=name, source_kind="graph")
    import_s = time.perf_counter() - t0
    del graph_nx
    gc.collect()
    clear_engines()
    rss_before = rss_mb()
    t0 = time.perf_counter()
    engine = engine_for(region)
    load_s = time.perf_counter() - t0
    gc.collect()
    memory_mb = rss_mb() - rss_before

    rng = np.random.default_rng(2026)
    workload = [(random_points(engine, rng, N_ORIGINS), random_points(engine, rng, 1)[0]) for _ in range(queries)]
    engine.travel_times_to(*workload[0])  # warm caches once
    engine_times = []
    for origins, destination in workload:
        t = time.perf_counter()
        engine.travel_times_to(origins, destination)
        engine_times.append(time.perf_counter() - t)

    api_times = []
    for origins, destination in workload:
        body = {"region": region.slug, "destination": destination, "origins": origins}
        t = time.perf_counter()
        api_query(port, body)
        api_times.append(time.perf_counter() - t)

    # networkx on node-snapped points (the nearest edge's target): a lower bound of its real cost.
    g = nx_graph(engine)
    g_rev = g.reverse(copy=False)
    node_of = {}

    def node(point):
        if point not in node_of:
            node_of[point] = int(engine.graph.edge_target[engine.snap([point])[0].edge_index])
        return node_of[point]

    nx_reverse_times, nx_per_origin_times = [], []
    reverse_budget_s, per_origin_budget_s = 30.0, 60.0
    started = time.perf_counter()
    for origins, destination in workload:
        d = node(destination)
        t = time.perf_counter()
        dist = nx.single_source_dijkstra_path_length(g_rev, d, weight="w")
        [dist.get(node(o)) for o in origins]
        nx_reverse_times.append(time.perf_counter() - t)
        if time.perf_counter() - started > reverse_budget_s:
            break
    started = time.perf_counter()
    for origins, destination in workload:
        d = node(destination)
        t = time.perf_counter()
        for o in origins:
            with contextlib.suppress(nx.NetworkXNoPath):
                nx.shortest_path_length(g, node(o), d, weight="w")
        nx_per_origin_times.append(time.perf_counter() - t)
        if time.perf_counter() - started > per_origin_budget_s:
            break
    region.delete()
    clear_engines()
    return {
        "graph": engine.graph,
        "network": name,
        "nodes": engine.graph.n_nodes,
        "edges": engine.graph.n_edges,
        "import_s": import_s,
        "load_s": load_s,
        "memory_mb": memory_mb,
        "engine": percentiles_ms(engine_times),
        "api": percentiles_ms(api_times),
        "nx_reverse": percentiles_ms(nx_reverse_times),
        "nx_reverse_n": len(nx_reverse_times),
        "nx_per_origin": percentiles_ms(nx_per_origin_times),
        "nx_per_origin_n": len(nx_per_origin_times),
        "queries": queries,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--only", help="one network name, e.g. grid-20k or grid-1m")
    parser.add_argument("--search-only", action="store_true", help="only the plain/bounded search table")
    parser.add_argument(
        "--cutoffs", default="600,1200", help="cutoffs (s) for the plain/bounded table, comma-separated"
    )
    parser.add_argument("--search-queries", type=int, default=200, help="queries per cutoff in that table")
    parser.add_argument(
        "--recommend-only", action="store_true", help="only the recommendation table (grid-90k and grid-1m)"
    )
    parser.add_argument(
        "--max-etas", default="600,900,1800", help="bounds (s) for the recommendation table, comma-separated"
    )
    args = parser.parse_args()
    cutoffs = [float(c) for c in args.cutoffs.split(",") if c]
    max_etas = [float(c) for c in args.max_etas.split(",") if c]
    if args.recommend_only:
        recommend_only(args.search_queries, max_etas, args.only)
        return
    Region.objects.filter(slug__startswith="bench-").delete()
    server, port = start_api_server()
    rows, search, recommend = [], [], []
    try:
        for name, srid, load in networks(args.only):
            if args.search_only:
                if name in GRID_SIDES:  # the same kind of grid, from arrays: no import needed
                    print(f"... {name} (from arrays)", file=sys.stderr, flush=True)
                    graph = city_grid_graph(GRID_SIDES[name], seed=2)
                    search += search_rows(name, graph, queries=args.search_queries, cutoffs=cutoffs)
                    recommend += recommend_rows(name, graph, queries=args.search_queries, max_etas=max_etas)
                continue
            print(f"... {name}", file=sys.stderr, flush=True)
            row = bench_network(name, srid, load, queries=args.queries, port=port)
            graph = row.pop("graph")
            rows.append(row)
            if name in GRID_SIDES:
                search += search_rows(name, graph, queries=args.search_queries, cutoffs=cutoffs)
                recommend += recommend_rows(name, graph, queries=args.search_queries, max_etas=max_etas)
            del graph
            gc.collect()
    finally:
        server.shutdown()
        Region.objects.filter(slug__startswith="bench-").delete()
    if args.only in (None, "grid-1m"):
        print("... grid-1m (built from arrays, no PostGIS import)", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        graph = city_grid_graph(1000, seed=3)
        print(f"grid-1m: {graph.n_nodes} nodes built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        search += search_rows("grid-1m", graph, queries=args.search_queries, cutoffs=cutoffs)
        recommend += recommend_rows("grid-1m", graph, queries=args.search_queries, max_etas=max_etas)
        del graph
        gc.collect()
    if rows:
        print_main_table(rows, args.queries)
    print(
        f"\nPlain whole-graph search vs bounded search, same {args.search_queries} seeded queries "
        f"({N_ORIGINS} origins -> 1 destination) per cutoff; times in ms"
    )
    print(
        f"{'network':<12}{'nodes':>9}{'cutoff s':>10}{'plain p50/p95':>16}{'bounded p50/p95':>18}"
        f"{'p95 ratio':>10}{'timed':>7}{'same':>6}"
    )
    for r in search:
        cutoff = "none" if r["cutoff_s"] is None else f"{r['cutoff_s']:.0f}"
        print(
            f"{r['network']:<12}{r['nodes']:>9}{cutoff:>10}{r['plain'][0]:>9.2f}/{r['plain'][1]:<6.2f}"
            f"{r['bounded'][0]:>10.2f}/{r['bounded'][1]:<7.2f}{r['plain'][1] / r['bounded'][1]:>9.2f}x"
            f"{r['timed_share']:>6.0%}{'yes' if r['same'] else 'NO':>6}"
        )
    print(
        "timed: share of unit/report pairs with an ETA (the rest are beyond the cutoff). grid-1m (and, with "
        "--search-only, every grid) is built in memory from arrays (bench.grid.city_grid_graph), not "
        "imported into PostGIS."
    )
    builds = {r["network"]: r["build_s"] for r in search}
    print(
        "Building the bounded search's index and speed bound per weights (adjacency included, both "
        "directions): " + ", ".join(f"{name} {build_s:.2f} s" for name, build_s in builds.items())
    )
    print_recommend_table(recommend, args.search_queries)
    print(osrm_note())
    print("Targets: bounded p95 <= 3 ms at grid-90k and <= 10 ms at grid-1m.")


def recommend_only(queries: int, max_etas: list[float], only: str | None) -> None:
    """The recommendation table alone, on grids built from arrays (no database rows, no server)."""
    recommend = []
    for name, side, seed in (("grid-90k", GRID_SIDES["grid-90k"], 2), ("grid-1m", 1000, 3)):
        if only not in (None, name):
            continue
        print(f"... {name} (from arrays)", file=sys.stderr, flush=True)
        graph = city_grid_graph(side, seed=seed)
        recommend += recommend_rows(name, graph, queries=queries, max_etas=max_etas)
        del graph
        gc.collect()
    print_recommend_table(recommend, queries)
    print(osrm_note())
    print("Targets: recommendation p95 <= 3 ms at grid-90k and <= 10 ms at grid-1m.")


def print_main_table(rows: list[dict], queries: int) -> None:
    print(f"\nUnit-recommendation query: {N_ORIGINS} origins -> 1 destination, {queries} seeded queries; times in ms")
    header = (
        f"{'network':<16}{'nodes':>7}{'edges':>8}{'import s':>9}{'load s':>8}{'mem MB':>8}"
        f"{'engine p50/p95':>16}{'API p50/p95':>14}{'nx rev p50/p95':>17}{'nx 1/origin p50/p95':>22}"
        f"{'rev/eng':>9}{'1-o/eng':>9}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['network']:<16}{r['nodes']:>7}{r['edges']:>8}{r['import_s']:>9.2f}{r['load_s']:>8.2f}"
            f"{r['memory_mb']:>8.1f}{r['engine'][0]:>8.2f}/{r['engine'][1]:<7.2f}{r['api'][0]:>7.2f}/{r['api'][1]:<6.2f}"
            f"{r['nx_reverse'][0]:>9.1f}/{r['nx_reverse'][1]:<7.1f}{r['nx_per_origin'][0]:>12.1f}/{r['nx_per_origin'][1]:<9.1f}"
            f"{r['nx_reverse'][0] / r['engine'][0]:>8.0f}x{r['nx_per_origin'][0] / r['engine'][0]:>8.0f}x"
        )
    print(
        "\nnetworkx runs on node-snapped points with the same weights; where its time budget ran out it "
        "timed fewer queries: "
        + ", ".join(f"{r['network']} rev {r['nx_reverse_n']}, 1/origin {r['nx_per_origin_n']}" for r in rows)
    )
    print("Targets on grid-20k: engine p95 <= 3 ms, API p95 <= 25 ms.")


if __name__ == "__main__":
    main()
