"""Bounded searches give exactly the plain whole-graph search's answers, with and without cutoffs and closures.

No database: a generated street grid (bench.grid) and the Jambi network, each queried on seeded
random points by an engine with ``bounded_search`` on and one with it off.
"""

from __future__ import annotations

import numpy as np
import osmnx as ox
import pytest
from pyproj import Transformer

from bench.grid import city_grid_graph
from gis_core.routing.bounded import LocalSearch, max_speed_mps, tree_lengths
from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.graph import RoadGraph, min_time_adjacency, road_graph_from_networkx


def random_points(graph: RoadGraph, rng: np.random.Generator, count: int) -> list[tuple[float, float]]:
    """Points a little off random edges, EPSG:4326."""
    edges = rng.integers(0, graph.n_edges, size=count)
    xy = np.array([graph.edge_geometry_m[e].interpolate(rng.random(), normalized=True).coords[0] for e in edges])
    xy += rng.uniform(-30, 30, size=xy.shape)
    lon, lat = Transformer.from_crs(graph.metric_crs, "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def assert_same(bounded, plain) -> None:
    assert [t is None for t in bounded] == [t is None for t in plain]
    for b, p in zip(bounded, plain, strict=True):
        if p is not None:
            assert b.eta_s == p.eta_s
            assert b.network_s == p.network_s
            assert (b.access_s, b.access_m) == (p.access_s, p.access_m)
            assert b.distance_m == pytest.approx(p.distance_m, rel=1e-12, abs=1e-6)


def compare(graph: RoadGraph, *, seed: int, cutoffs: list[float | None], queries: int) -> int:
    """Compare both engines on ``queries`` seeded one-to-many queries per cutoff; return the timed pairs."""
    bounded, plain = CsgraphEngine(graph), CsgraphEngine(graph, bounded_search=False)
    rng = np.random.default_rng(seed)
    timed = 0
    for cutoff_s in cutoffs:
        for _ in range(queries):
            points = random_points(graph, rng, 21)
            hub, others = points[0], points[1:]
            to_b = bounded.travel_times_to(others, hub, cutoff_s=cutoff_s)
            assert_same(to_b, plain.travel_times_to(others, hub, cutoff_s=cutoff_s))
            assert_same(
                bounded.travel_times_from(hub, others, cutoff_s=cutoff_s),
                plain.travel_times_from(hub, others, cutoff_s=cutoff_s),
            )
            timed += sum(t is not None for t in to_b)
    return timed


@pytest.fixture(scope="module")
def grid() -> RoadGraph:
    return city_grid_graph(80, seed=5)


def test_grid_pairs_match_the_plain_search(grid):
    timed = compare(grid, seed=1, cutoffs=[None, 60.0, 180.0, 400.0], queries=6)
    assert timed > 150  # many pairs are within the cutoffs: the comparison is not vacuous


def test_a_short_limit_searches_only_a_cut_out(grid):
    engine = CsgraphEngine(grid)
    network = engine._network
    slots = engine._links.entries(engine._snapper.resolve([random_points(grid, np.random.default_rng(3), 1)[0]]))
    local = network.bounded_search(slots, reverse=True, limit_s=40.0)
    assert isinstance(local, LocalSearch)
    assert 0 < len(local.nodes) < grid.n_nodes / 4
    whole = network.search(slots, reverse=True, limit_s=40.0)
    reached = np.flatnonzero(np.isfinite(whole.dist_s[:-1]))
    assert len(reached) > 5
    np.testing.assert_array_equal(local.dist_at(np.arange(grid.n_nodes)), whole.dist_s[:-1])
    np.testing.assert_allclose(local.lengths_to(reached), network.tree_lengths(whole, reached), rtol=1e-12)


def test_without_cutoff_nearby_points_are_settled_by_a_widening_search(grid):
    engine, plain = CsgraphEngine(grid), CsgraphEngine(grid, bounded_search=False)
    rng = np.random.default_rng(4)
    hub = random_points(grid, rng, 1)[0]
    near = [(hub[0] + dx, hub[1] + dy) for dx, dy in rng.uniform(-0.003, 0.003, size=(15, 2))]  # ~330 m
    calls = []
    network = engine._network
    original = network.bounded_search

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        calls.append(type(result).__name__)
        return result

    network.bounded_search = spy  # type: ignore[method-assign]
    assert_same(engine.travel_times_to(near, hub), plain.travel_times_to(near, hub))
    assert "LocalSearch" in calls
    far = [*near, random_points(grid, rng, 1)[0], *random_points(grid, rng, 3)]
    assert_same(engine.travel_times_to(far, hub), plain.travel_times_to(far, hub))


def test_closures_keep_the_variant_exact(grid):
    rng = np.random.default_rng(6)
    closed = rng.choice(grid.n_edges, size=grid.n_edges // 20, replace=False)
    variant = CsgraphEngine(grid).with_closed_edges(closed)
    assert variant.bounded_search
    timed = compare(variant.graph, seed=2, cutoffs=[None, 120.0, 300.0], queries=4)
    assert timed > 100


def test_slowed_edges_lower_the_speed_bound(grid):
    fast = max_speed_mps(grid.node_xy_m, min_time_adjacency(grid))
    slowed = RoadGraph(**{**grid.__dict__, "edge_travel_time_s": grid.edge_travel_time_s * 2.0})
    assert max_speed_mps(slowed.node_xy_m, min_time_adjacency(slowed)) == pytest.approx(fast / 2)
    assert 13.0 < fast < 14.5  # 50 km/h arterials, straight edges
    compare(slowed, seed=3, cutoffs=[150.0], queries=3)


def test_speed_bound_and_tree_lengths_on_a_tiny_tree():
    # 0 -> 1 -> 2 and 0 -> 3; the virtual root 4 reaches 0.
    pred = np.array([4, 0, 1, 0, -9999])
    length_m = np.array([5.0, 10.0, 20.0, 7.0, 99.0])
    np.testing.assert_array_equal(tree_lengths(pred, length_m, np.array([2, 3, 0, 4])), [35.0, 12.0, 5.0, 0.0])


def test_jambi_pairs_match_the_plain_search(data_dir):
    nx_graph = ox.truncate.largest_component(
        ox.load_graphml(data_dir / "jambi" / "roads_main_jambi_osm.graphml"), strongly=True
    )
    for _, _, data in nx_graph.edges(data=True):
        data["travel_time"] = data["length"] / (40 / 3.6)
    graph = road_graph_from_networkx(nx_graph, metric_crs="EPSG:32748")
    assert compare(graph, seed=7, cutoffs=[None, 60.0, 300.0, 900.0], queries=4) > 100
    rng = np.random.default_rng(8)
    closed = rng.choice(graph.n_edges, size=graph.n_edges // 50, replace=False)
    variant = CsgraphEngine(graph).with_closed_edges(closed).graph
    assert compare(variant, seed=9, cutoffs=[None, 600.0], queries=3) > 50
