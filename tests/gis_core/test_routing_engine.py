"""CsgraphEngine: hand-calculated cases on five-node graphs, then an oracle check on real networks.

No database: the engine is pure. Small graphs sit near Kota Jambi in UTM 48S with straight edges
whose lengths are round numbers of metres; the access speed is 3.6 km/h = 1 m/s, so an access leg
in seconds equals its length in metres.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Point

from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.engine import RoutingEngine, Snap, TravelTime
from gis_core.routing.errors import (
    InvalidPointError,
    NoRouteError,
    OutsideNetworkError,
    TooManyPointsError,
)
from gis_core.routing.graph import road_graph_from_arrays, road_graph_from_networkx

CRS = "EPSG:32748"
X0, Y0 = 500_000.0, 9_820_000.0  # about 105.0 E, 1.63 S
_TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
_TO_METRIC = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
DIAGONAL_M = 1000 * math.sqrt(2)  # 1414.2136 m


def ll(x_m: float, y_m: float) -> tuple[float, float]:
    """(lon, lat) of a point given in metres east and north of (X0, Y0)."""
    lon, lat = _TO_LONLAT.transform(X0 + x_m, Y0 + y_m)
    return (lon, lat)


def xy(lonlat) -> tuple[float, float]:
    x, y = _TO_METRIC.transform(*lonlat)
    return (x - X0, y - Y0)


def build(nodes: dict[str, tuple[float, float]], ways: list[tuple], **options) -> CsgraphEngine:
    """Engine over straight (or bent, via extra points) ways; nodes keep the order given.

    ``ways`` items are ``(a, b, forward_s, backward_s or None for one-way, name, *via_points)``.
    """
    index = {name: i for i, name in enumerate(nodes)}
    src, tgt, time_s, length_m, geometry, names = [], [], [], [], [], []
    for a, b, forward_s, backward_s, name, *via in ways:
        line = LineString([(X0 + x, Y0 + y) for x, y in [nodes[a], *via, nodes[b]]])
        for u, v, t, g in [(a, b, forward_s, line), (b, a, backward_s, line.reverse())]:
            if t is not None:
                src.append(index[u])
                tgt.append(index[v])
                time_s.append(t)
                length_m.append(line.length)
                geometry.append(g)
                names.append(name)
    graph = road_graph_from_arrays(
        edge_source=src,
        edge_target=tgt,
        edge_travel_time_s=time_s,
        edge_length_m=length_m,
        metric_crs=CRS,
        node_xy_m=np.array([(X0 + x, Y0 + y) for x, y in nodes.values()]),
        edge_geometry_m=geometry,
        edge_name=names,
        reorder_nodes=False,
    )
    return CsgraphEngine(graph, access_speed_kph=3.6, **options)


@pytest.fixture(scope="module")
def line() -> CsgraphEngine:
    """D --- A === B --- C along the x axis, 1000 m blocks.

    D-A and B-C take 100 s either way; A->B takes 100 s but B->A 200 s (uphill, say).
    """
    nodes = {"D": (-1000, 0), "A": (0, 0), "B": (1000, 0), "C": (2000, 0)}
    ways = [
        ("D", "A", 100, 100, "Jalan Nol"),
        ("A", "B", 100, 200, "Jalan Satu"),
        ("B", "C", 100, 100, "Jalan Dua"),
    ]
    return build(nodes, ways, max_access_m=500, isochrone_buffer_m=10)


@pytest.fixture(scope="module")
def triangle() -> CsgraphEngine:
    """A -> B one-way (100 s), B - C two-way (100 s), C - A two-way diagonal (150 s)."""
    nodes = {"A": (0, 0), "B": (1000, 0), "C": (1000, 1000)}
    ways = [
        ("A", "B", 100, None, "Jalan Searah"),
        ("B", "C", 100, 100, "Jalan Timur"),
        ("C", "A", 150, 150, "Jalan Diagonal"),
    ]
    return build(nodes, ways)


def one(engine: CsgraphEngine, origin, destination, **kw) -> TravelTime | None:
    return engine.travel_times_to([ll(*origin)], ll(*destination), **kw)[0]


def both_ways(engine: CsgraphEngine, origin, destination, **kw) -> TravelTime | None:
    """travel_times_to and travel_times_from must agree; return their answer."""
    to = engine.travel_times_to([ll(*origin)], ll(*destination), **kw)[0]
    frm = engine.travel_times_from(ll(*origin), [ll(*destination)], **kw)[0]
    assert (to is None) == (frm is None)
    if to is not None:
        assert frm.eta_s == pytest.approx(to.eta_s, abs=1e-9)
        assert frm.distance_m == pytest.approx(to.distance_m, abs=1e-9)
    return to


def test_engine_satisfies_the_interface(line):
    assert isinstance(line, RoutingEngine)


@pytest.mark.parametrize(
    ("origin", "destination", "eta_s", "distance_m"),
    [
        # On A=B at 300 m: leaving via B costs 0.7 * 100 s, then B->C 100 s; 700 + 1000 m.
        ((300, 0), (2000, 0), 170.0, 1700.0),
        # Leaving via A runs the twin B->A for the last 300 m: 0.3 * 200 s, then A->D 100 s.
        ((300, 0), (-1000, 0), 160.0, 1300.0),
        # Partial at both ends: 0.7 * 100 s to B, then half of B->C at 100 s: 70 + 50.
        ((300, 0), (1500, 0), 120.0, 1200.0),
        # Backwards: half of C->B (50 s), then B->A from B to 300 m: 0.7 * 200 s.
        ((1500, 0), (300, 0), 190.0, 1200.0),
    ],
)
def test_mid_edge_points_pay_partial_edges_at_both_ends(line, origin, destination, eta_s, distance_m):
    tt = both_ways(line, origin, destination)
    assert tt.eta_s == pytest.approx(eta_s)
    assert tt.network_s == pytest.approx(eta_s)
    assert tt.distance_m == pytest.approx(distance_m)
    assert tt.access_s == pytest.approx(0.0, abs=1e-6)  # the lon/lat round trip leaves ~1e-10 m


def test_same_edge_in_both_orders(line):
    # 200 m -> 700 m along A->B: half the edge at 100 s; 500 m.
    ahead = both_ways(line, (200, 0), (700, 0))
    assert (ahead.eta_s, ahead.distance_m) == (pytest.approx(50.0), pytest.approx(500.0))
    # 700 m -> 200 m along the twin B->A: half of 200 s. Going round via B is 0.3*100+200+0.2*100.
    back = both_ways(line, (700, 0), (200, 0))
    assert (back.eta_s, back.distance_m) == (pytest.approx(100.0), pytest.approx(500.0))


def test_one_way_street_forces_the_longer_way_back(triangle):
    # A->B directly: 100 s, 1000 m.
    there = both_ways(triangle, (0, 0), (1000, 0))
    assert (there.eta_s, there.distance_m) == (pytest.approx(100.0), pytest.approx(1000.0))
    # B->A must go B->C->A: 100 + 150 s, 1000 + 1414.2136 m.
    back = both_ways(triangle, (1000, 0), (0, 0))
    assert (back.eta_s, back.distance_m) == (pytest.approx(250.0), pytest.approx(1000 + DIAGONAL_M))
    # Same one-way edge, destination behind the origin: 0.3*100 to B, round the loop, 0.2*100 in.
    loop = both_ways(triangle, (700, 0), (200, 0))
    assert loop.eta_s == pytest.approx(30 + 100 + 150 + 20)
    assert loop.distance_m == pytest.approx(300 + 1000 + DIAGONAL_M + 200)
    ahead = both_ways(triangle, (200, 0), (700, 0))
    assert ahead.eta_s == pytest.approx(50.0)


def test_a_point_on_the_end_node_of_a_one_way_street_is_on_that_node(triangle):
    # 0.1 micrometre before B on the one-way A->B (nearer to it than to B-C): within NODE_TOLERANCE_M, so the
    # point is B itself and C reaches it straight down B-C in 100 s. A point given on a junction lands
    # about this far inside an edge after the lon/lat -> UTM round trip.
    on_node = both_ways(triangle, (1000, 1000), (1000 - 1e-7, 0))
    assert on_node.eta_s == pytest.approx(100.0, abs=1e-6)
    assert triangle.snap([ll(1000 - 1e-7, 0)])[0].fraction == 1.0
    # 1 mm before B is on the street, not the junction: coming from C it must go C->A, then A->B almost to B.
    before_node = both_ways(triangle, (1000, 1000), (1000 - 1e-3, 0))
    assert before_node.eta_s == pytest.approx(150 + 100 * (1 - 1e-6), abs=1e-6)


def test_off_network_legs_are_reported_apart(line):
    # 40 m north of A=B at 300 m and 25 m south of B-C at 1500 m: 120 s on the network (see above)
    # plus 40 + 25 m at 1 m/s.
    tt = both_ways(line, (300, 40), (1500, -25))
    assert tt.network_s == pytest.approx(120.0)
    assert tt.access_s == pytest.approx(65.0)
    assert tt.access_m == pytest.approx(65.0)
    assert tt.eta_s == pytest.approx(185.0)
    assert tt.distance_m == pytest.approx(1200.0)


def test_points_closer_to_each_other_than_to_the_road_go_straight(line):
    # Both 40 m north of A=B, 30 m apart: straight 30 s at 1 m/s, not 40 + 40 m of access legs plus
    # the network between their snaps (3 s east, 6 s west on the slow direction).
    for origin, destination in [((300, 40), (330, 40)), ((330, 40), (300, 40))]:
        tt = both_ways(line, origin, destination)
        assert (tt.eta_s, tt.access_s, tt.access_m, tt.network_s, tt.distance_m) == pytest.approx((30, 30, 30, 0, 0))
    # A unit parked at the caller's door: 0 s (it was 80 s: out to the road and back).
    assert both_ways(line, (300, 40), (300, 40)).eta_s == pytest.approx(0.0)
    # 30 m apart but one of them 20 m from the road: the road is nearer than the other point, so the
    # trip uses it: 20 + 40 m of legs and 3 s along A=B.
    tt = both_ways(line, (300, 20), (330, 40))
    assert (tt.eta_s, tt.network_s, tt.access_m) == pytest.approx((63.0, 3.0, 60.0))
    # The route is the straight line itself.
    route = line.route(ll(300, 40), ll(330, 40))
    assert (route.eta_s, route.travel_time_s, route.length_m, route.street_names) == (pytest.approx(30), 0, 0, ())
    assert [xy(c) for c in route.geometry_lonlat.coords] == [pytest.approx((300, 40)), pytest.approx((330, 40))]


def test_snap_reports_edge_fraction_offset_and_the_point_on_the_road(line):
    (snap,) = line.snap([ll(300, 40)])
    edge = snap.edge_index
    assert line.graph.edge_name[edge] == "Jalan Satu"
    # Measured from the edge's own source: 300 m along A->B, or 700 m along B->A.
    expected = 0.3 if line.graph.edge_source[edge] == 1 else 0.7
    assert snap.fraction == pytest.approx(expected)
    assert snap.offset_m == pytest.approx(40.0)
    assert snap.access_s == pytest.approx(40.0)
    assert xy((snap.snapped_lon, snap.snapped_lat)) == (pytest.approx(300.0), pytest.approx(0.0, abs=1e-6))
    assert (snap.lon, snap.lat) == ll(300, 40)


def test_a_snap_can_be_passed_back_instead_of_a_point(line):
    snap = line.snap([ll(300, 40)])[0]
    assert line.travel_times_to([snap], ll(1500, -25))[0].eta_s == pytest.approx(185.0)


def test_point_too_far_from_any_road(line):
    # (300, 800) is 800 m north of A=B; the engine's limit is 500 m.
    with pytest.raises(OutsideNetworkError, match=r"point #1 \(.*\) is 800 m from the nearest road") as caught:
        line.snap([ll(0, 0), ll(300, 800)])
    assert caught.value.index == 1
    assert caught.value.offset_m == pytest.approx(800.0)
    snapped, error = line.try_snap([ll(300, 0), ll(300, 800)])
    assert isinstance(snapped, Snap)
    assert isinstance(error, OutsideNetworkError)
    # In a batch the far origin becomes None; as the single destination it is an error.
    far, near = line.travel_times_to([ll(300, 800), ll(300, 0)], ll(1500, 0))
    assert far is None
    assert near.eta_s == pytest.approx(120.0)
    with pytest.raises(OutsideNetworkError, match="destination"):
        line.travel_times_to([ll(300, 0)], ll(300, 800))
    with pytest.raises(OutsideNetworkError, match="origin"):
        line.route(ll(300, 800), ll(300, 0))


def test_unreachable_is_none_not_an_error():
    # B->X is a one-way dead end: nothing leaves X.
    engine = build(
        {"A": (0, 0), "B": (1000, 0), "X": (2000, 0)},
        [("A", "B", 100, 100, None), ("B", "X", 100, None, None)],
    )
    assert both_ways(engine, (1500, 0), (500, 0)) is None
    assert both_ways(engine, (2000, 0), (500, 0)) is None
    # The other way works: half of A->B, then half of B->X.
    assert both_ways(engine, (500, 0), (1500, 0)).eta_s == pytest.approx(100.0)
    assert engine.matrix([ll(1500, 0)], [ll(500, 0), ll(600, 0)]) == [[None, None]]
    with pytest.raises(NoRouteError):
        engine.route(ll(1500, 0), ll(500, 0))


def test_cutoff_applies_to_the_total_including_access(line):
    # 120 s on the network (see above).
    assert both_ways(line, (300, 0), (1500, 0), cutoff_s=120.0).eta_s == pytest.approx(120.0)
    assert both_ways(line, (300, 0), (1500, 0), cutoff_s=119.9) is None
    # 120 s network + 65 s access = 185 s > 150 s.
    assert both_ways(line, (300, 40), (1500, -25), cutoff_s=150.0) is None
    assert both_ways(line, (300, 40), (1500, -25), cutoff_s=185.1).eta_s == pytest.approx(185.0)
    with pytest.raises(ValueError, match="cutoff_s"):
        line.travel_times_to([ll(0, 0)], ll(1, 0), cutoff_s=-1.0)


@pytest.fixture(scope="module")
def parallel() -> CsgraphEngine:
    """Two one-way ways A->B: straight 1000 m in 200 s, bent through (500, 300) in 80 s; B - C 100 s."""
    return build(
        {"A": (0, 0), "B": (1000, 0), "C": (2000, 0)},
        [
            ("A", "B", 200, None, "Jalan Lurus"),
            ("A", "B", 80, None, "Jalan Lengkung", (500, 300)),
            ("B", "C", 100, 100, "Jalan Tiga"),
        ],
    )


def test_parallel_edges_take_the_fastest_not_the_sum(parallel):
    bent_m = 2 * math.hypot(500, 300)  # 1166.19 m
    tt = both_ways(parallel, (0, 0), (2000, 0))
    # min(200, 80) + 100 s; summed parallel edges would give 380 s.
    assert tt.eta_s == pytest.approx(180.0)
    assert tt.distance_m == pytest.approx(bent_m + 1000)
    route = parallel.route(ll(0, 0), ll(2000, 0))
    assert route.street_names == ("Jalan Lengkung", "Jalan Tiga")
    assert route.length_m == pytest.approx(bent_m + 1000)
    assert any(abs(x - 500) < 1 and abs(y - 300) < 1 for x, y in map(xy, route.geometry_lonlat.coords))


def test_on_a_loop_both_exits_reach_one_node_and_the_faster_counts():
    # A square loop from A through (0, 500), (500, 500), (500, 0): 2000 m, 100 s one way round,
    # 400 s the other; then A - B 1000 m, 100 s. From (0, 300), 300 m into the loop: back to A
    # costs 0.15 * 400 = 60 s over 300 m, forward 0.85 * 100 = 85 s over 1700 m.
    engine = build(
        {"A": (0, 0), "B": (-1000, 0)},
        [("A", "A", 100, 400, "Gang Keliling", (0, 500), (500, 500), (500, 0)), ("A", "B", 100, 100, None)],
    )
    tt = both_ways(engine, (0, 300), (-1000, 0))
    assert (tt.eta_s, tt.distance_m) == (pytest.approx(160.0), pytest.approx(1300.0))
    route = engine.route(ll(0, 300), ll(-1000, 0))
    assert (route.travel_time_s, route.length_m) == (pytest.approx(160.0), pytest.approx(1300.0))


def test_route_follows_partial_edges_and_access_legs(line):
    route = line.route(ll(300, 40), ll(1500, -25))
    # As in the travel-time case: 120 s and 1200 m on the network, 65 m / 65 s off it.
    assert route.travel_time_s == pytest.approx(120.0)
    assert route.length_m == pytest.approx(1200.0)
    assert (route.access_s, route.access_m, route.eta_s) == (
        pytest.approx(65.0),
        pytest.approx(65.0),
        pytest.approx(185.0),
    )
    assert route.street_names == ("Jalan Satu", "Jalan Dua")
    coords = [xy(c) for c in route.geometry_lonlat.coords]
    expected = [(300, 40), (300, 0), (1000, 0), (1500, 0), (1500, -25)]
    assert coords == [(pytest.approx(x, abs=1e-6), pytest.approx(y, abs=1e-6)) for x, y in expected]
    bare = line.route(ll(300, 40), ll(1500, -25), with_access_legs=False)
    assert next(xy(c) for c in bare.geometry_lonlat.coords) == (pytest.approx(300), pytest.approx(0, abs=1e-6))


def test_route_backwards_and_on_one_edge(line):
    back = line.route(ll(1500, 0), ll(300, 0))
    assert back.travel_time_s == pytest.approx(190.0)  # 50 s on C->B, 0.7 * 200 s on B->A
    assert back.street_names == ("Jalan Dua", "Jalan Satu")
    same = line.route(ll(700, 0), ll(200, 0))  # along the twin B->A: 0.5 * 200 s
    assert (same.travel_time_s, same.length_m) == (pytest.approx(100.0), pytest.approx(500.0))
    assert [round(xy(c)[0], 6) for c in same.geometry_lonlat.coords] == [700, 200]
    still = line.route(ll(300, 0), ll(300, 0))
    assert (still.travel_time_s, still.length_m, still.street_names) == (0.0, 0.0, ())
    assert len(still.geometry_lonlat.coords) == 2


def reach(iso, x_m: float, y_m: float = 0.0) -> bool:
    return iso.geometry_lonlat.contains(Point(ll(x_m, y_m)))


def test_isochrones_cover_whole_and_partial_edges(line):
    # From A with 150 s: A->B whole (100 s) and half of B->C, A->D whole; buffered by 10 m.
    # With 50 s: half of A->B and half of A->D.
    wide, narrow = line.isochrones(ll(0, 0), [150, 50])
    assert (wide.threshold_s, narrow.threshold_s) == (150, 50)
    assert reach(wide, 1505)
    assert not reach(wide, 1515)
    assert reach(wide, -1005)
    assert not reach(wide, -1015)
    assert reach(narrow, 505)
    assert not reach(narrow, 515)
    assert reach(narrow, -505)
    assert not reach(narrow, -515)
    # A 2500 m line buffered by 10 m: 2500 * 20 m2 plus a (polygonal) disc of radius 10 m.
    assert wide.area_m2 == pytest.approx(2500 * 20 + math.pi * 100, rel=1e-3)


def test_isochrone_from_mid_edge_spends_the_budget_on_each_direction(line):
    # From 300 m on A=B with 50 s: 50 s / 100 s of A->B ahead (to 800 m), 50 s / 200 s of B->A back.
    (iso,) = line.isochrones(ll(300, 0), [50])
    assert reach(iso, 805)
    assert not reach(iso, 815)
    assert reach(iso, 45)
    assert not reach(iso, 35)


def test_isochrone_subtracts_the_access_leg(line):
    # 30 m off A: 150 - 30 = 120 s left, so B-C is reached for 20 s of its 100 s (to 1200 m).
    wide, empty = line.isochrones(ll(0, -30), [150, 20])
    assert reach(wide, 1205)
    assert not reach(wide, 1215)
    assert empty.geometry_lonlat.is_empty
    assert empty.area_m2 == 0.0


def test_node_times_from_nearest_source(line):
    # Sources at 300 m on A=B and at C. Nodes in the order D, A, B, C:
    # A: 0.3 * 200 s on B->A = 60; D: 60 + 100; B: min(0.7 * 100, 100 from C) = 70; C: 0.
    times = line.node_times_from_sources([ll(300, 0), ll(2000, 0)])
    assert times == pytest.approx([160.0, 60.0, 70.0, 0.0], abs=1e-6)
    cut = line.node_times_from_sources([ll(300, 0), ll(2000, 0)], cutoff_s=65)
    assert cut == pytest.approx([math.inf, 60.0, math.inf, 0.0], abs=1e-6)
    # A 40 m access leg adds 40 s to everything that source reaches first.
    assert line.node_times_from_sources([ll(300, 40)]) == pytest.approx([200.0, 100.0, 110.0, 210.0])


def test_matrix_matches_one_to_many_in_both_layouts(line):
    a = [ll(300, 0), ll(1500, 0)]
    b = [ll(2000, 0), ll(-1000, 0), ll(700, 0)]
    wide = line.matrix(a, b)  # one search per origin
    assert [[round(t.eta_s, 6) for t in row] for row in wide] == [
        # 300 m on A=B to C and to D as above; to 700 m: 400 m ahead on A->B, 0.4 * 100 s.
        [170.0, 160.0, 40.0],
        # 1500 m on B-C: half of B->C (50 s) to C; to D 50 + 200 (B->A) + 100 (A->D);
        # to 700 m: 50 s to B, then 300 m of B->A at 200 s / 1000 m.
        [50.0, 350.0, 110.0],
    ]
    for origin, row in zip(a, wide, strict=True):
        assert row == line.travel_times_from(origin, b)
    tall = line.matrix(b, a)  # one search per destination
    for j, destination in enumerate(a):
        assert [row[j] for row in tall] == line.travel_times_to(b, destination)
    assert line.matrix([], a) == []
    assert line.matrix(a, []) == [[], []]


def test_bad_points_are_rejected(line):
    for bad in [(200.0, 0.0), (103.6, math.nan), (103.6, -95.0)]:
        with pytest.raises(InvalidPointError):
            line.travel_times_to([bad], ll(0, 0))
    with pytest.raises(InvalidPointError):
        line.snap([(1.0, 2.0, 3.0)])
    small = CsgraphEngine(line.graph, max_batch_points=2)
    with pytest.raises(TooManyPointsError):
        small.travel_times_to([ll(0, 0)] * 3, ll(0, 0))


# ---------------------------------------------------------------------------------------------
# Oracle: real networks against networkx on a copy with the snapped points spliced in.

SPEED_KPH = {  # a plain table, enough to give every edge a time
    "motorway": 80, "trunk": 60, "primary": 50, "secondary": 40, "tertiary": 35,
    "unclassified": 30, "residential": 25, "living_street": 15, "service": 15,
}  # fmt: skip


def load_network(path: Path, *, strongly_connected: bool) -> nx.MultiDiGraph:
    if not path.is_file():
        pytest.fail(f"missing road network {path}")
    graph = ox.load_graphml(path)
    if strongly_connected:
        graph = ox.truncate.largest_component(graph, strongly=True)
    for _, _, data in graph.edges(data=True):
        highway = data["highway"][0] if isinstance(data["highway"], list) else data["highway"]
        kind = highway.split(";")[0].removesuffix("_link")
        data["travel_time"] = data["length"] / (SPEED_KPH.get(kind, 20) / 3.6)
    return graph


NETWORKS = {
    "jambi": ("jambi/roads_main_jambi_osm.graphml", "EPSG:32748", True),
    "balikpapan": ("balikpapan/roads_drive_balikpapan_kota_osm.graphml", "EPSG:32750", True),
    # Not truncated: dead ends and islands, so "no path" occurs for real.
    "balikpapan-all": ("balikpapan/roads_drive_balikpapan_kota_osm.graphml", "EPSG:32750", False),
}


class Oracle:
    """networkx on the original MultiDiGraph, with every test point spliced into its street segment.

    Splitting a segment at points adds nodes but never shortcuts, so all points go in at once. A
    segment is a directed edge plus, when it exists, the reverse edge with exactly the reversed
    geometry and the same length (found here independently of the engine).
    """

    def __init__(self, graph: nx.MultiDiGraph, snaps: list[Snap]):
        self.edges = list(graph.edges(keys=True, data=True))
        self.twin = exact_twins(graph, self.edges)
        self.graph = nx.MultiDiGraph()
        for u, v, _, data in self.edges:
            self.graph.add_edge(u, v, time=data["travel_time"], length=data["length"])
        by_segment: dict[int, list[tuple[float, int]]] = {}
        for i, snap in enumerate(snaps):
            e, f = snap.edge_index, snap.fraction
            t = self.twin.get(e)
            if t is not None and t < e:  # count positions along the lower-numbered edge
                e, f = t, 1.0 - f
            by_segment.setdefault(e, []).append((f, i))
        for e, points in by_segment.items():
            self._split(e, sorted(points))

    def _split(self, e: int, points: list[tuple[float, int]]) -> None:
        u, v, key, data = self.edges[e]
        self.graph.remove_edge(u, v, key)
        chain = [(0.0, u), *[(f, ("p", i)) for f, i in points], (1.0, v)]
        for (fa, a), (fb, b) in itertools.pairwise(chain):
            self.graph.add_edge(a, b, time=(fb - fa) * data["travel_time"], length=(fb - fa) * data["length"])
        t = self.twin.get(e)
        if t is not None:
            tu, tv, tkey, tdata = self.edges[t]
            self.graph.remove_edge(tu, tv, tkey)
            for (fa, a), (fb, b) in itertools.pairwise(chain):
                self.graph.add_edge(b, a, time=(fb - fa) * tdata["travel_time"], length=(fb - fa) * tdata["length"])
        for f, i in points:  # a point exactly on a node is that node
            for node in [u] * (f == 0.0) + [v] * (f == 1.0):
                self.graph.add_edge(("p", i), node, time=0.0, length=0.0)
                self.graph.add_edge(node, ("p", i), time=0.0, length=0.0)

    def from_point(self, i: int) -> dict[int, tuple[float, float]]:
        """Point index -> (seconds, metres of that fastest path) from point ``i``."""
        times, paths = nx.single_source_dijkstra(self.graph, ("p", i), weight="time")
        out = {}
        for node, time_s in times.items():
            if isinstance(node, tuple):
                path = paths[node]
                length_m = sum(
                    min(self.graph[a][b].values(), key=lambda d: d["time"])["length"]
                    for a, b in itertools.pairwise(path)
                )
                out[node[1]] = (time_s, length_m)
        return out


def exact_twins(graph: nx.MultiDiGraph, edges: list) -> dict[int, int]:
    def coords(i):
        u, v, _, data = edges[i]
        if "geometry" in data:
            return np.asarray(data["geometry"].coords)
        return np.array([[graph.nodes[n]["x"], graph.nodes[n]["y"]] for n in (u, v)])

    by_ends: dict[tuple, list[int]] = {}
    for i, (u, v, _, _) in enumerate(edges):
        by_ends.setdefault((u, v), []).append(i)
    twins = {}
    for i, (u, v, _, data) in enumerate(edges):
        for j in by_ends.get((v, u), []):
            same_length = abs(edges[j][3]["length"] - data["length"]) < 1e-6
            a, b = coords(i)[::-1], coords(j)
            if j != i and same_length and a.shape == b.shape and np.allclose(a, b, rtol=0, atol=1e-9):
                twins[i] = j
    return twins


def random_points(graph, rng: np.random.Generator, count: int, *, first_edges=()) -> list[tuple[float, float]]:
    """Points near roads: a random edge, a random place on it, up to 80 m aside.

    The first points go on ``first_edges``. The last seven are special: four share an edge with an
    earlier point (2 m aside, so they snap onto the same street segment), three sit exactly on nodes.
    """
    to_lonlat = Transformer.from_crs(graph.metric_crs, "EPSG:4326", always_xy=True)
    edges = [*first_edges, *rng.integers(graph.n_edges, size=count - 7 - len(first_edges)), *[None] * 4]
    out = []
    for k, e in enumerate(edges):
        line = graph.edge_geometry_m[edges[k - 13] if e is None else e]
        p = line.interpolate(rng.random(), normalized=True)
        angle, offset = rng.uniform(0, 2 * np.pi), (2.0 if e is None else rng.uniform(0, 80))
        out.append(to_lonlat.transform(p.x + offset * np.cos(angle), p.y + offset * np.sin(angle)))
    out += [tuple(graph.node_lonlat[n]) for n in rng.integers(graph.n_nodes, size=3)]
    return out


@pytest.fixture(scope="module", params=list(NETWORKS))
def network(request, data_dir):
    relative, crs, strongly = NETWORKS[request.param]
    nx_graph = load_network(data_dir / relative, strongly_connected=strongly)
    engine = CsgraphEngine(road_graph_from_networkx(nx_graph, metric_crs=crs))
    rng = np.random.default_rng(20260112)
    largest = max(nx.strongly_connected_components(nx_graph), key=len)
    islands = [i for i, (u, v) in enumerate(nx_graph.edges()) if u not in largest and v not in largest]
    if not strongly:  # make sure some pairs have no path at all
        assert islands, "expected dead ends outside the largest strongly connected component"
    points = random_points(engine.graph, rng, 30, first_edges=rng.choice(islands, 2) if islands else ())
    snaps = engine.snap(points)
    oracle = Oracle(nx_graph, snaps)
    truth = {i: oracle.from_point(i) for i in range(len(points))}
    return engine, nx_graph, points, snaps, truth


def straight_s(engine, snaps, i: int, j: int) -> float:
    """The off-network straight trip i -> j at access speed, allowed when the points are closer to each
    other than either is to its road (the engine's rule); ``inf`` otherwise."""
    d = math.dist(_metric(engine, (snaps[i].lon, snaps[i].lat)), _metric(engine, (snaps[j].lon, snaps[j].lat)))
    return d / engine.access_speed_mps if d <= min(snaps[i].offset_m, snaps[j].offset_m) else math.inf


def expect(engine, snaps, truth, i: int, j: int, tt: TravelTime | None, *, cutoff_s: float | None = None):
    """Compare the engine's answer for point i -> point j with the oracle."""
    access_s = (snaps[i].offset_m + snaps[j].offset_m) / engine.access_speed_mps
    network_eta_s = truth[i][j][0] + access_s if j in truth[i] else math.inf
    straight = straight_s(engine, snaps, i, j)
    if straight < network_eta_s and (cutoff_s is None or straight <= cutoff_s):
        assert tt is not None, f"{i}->{j}: the straight trip takes {straight} s, engine none"
        assert (tt.eta_s, tt.access_s, tt.network_s, tt.distance_m) == pytest.approx(
            (straight, straight, 0, 0), abs=1e-6
        )
        return
    if j not in truth[i] or (cutoff_s is not None and network_eta_s > cutoff_s):
        assert tt is None, f"{i}->{j}: engine found {tt}, oracle says no path within the cutoff"
        return
    time_s, length_m = truth[i][j]
    assert tt is not None, f"{i}->{j}: oracle found {time_s} s, engine none"
    assert tt.network_s == pytest.approx(time_s, abs=1e-6)
    assert tt.eta_s == pytest.approx(time_s + access_s, abs=1e-6)
    assert tt.distance_m == pytest.approx(length_m, abs=1e-6)


def test_oracle_twins_match_the_graph(network):
    engine, nx_graph, *_ = network
    twins = exact_twins(nx_graph, list(nx_graph.edges(keys=True, data=True)))
    assert {i: int(t) for i, t in enumerate(engine.graph.edge_twin) if t >= 0} == twins


def test_snaps_match_brute_force_distances(network):
    engine, _, points, snaps, _ = network
    for p, snap in zip(points, snaps, strict=True):
        pt = Point(_metric(engine, p))
        distances = shapely.distance(pt, engine.graph.edge_geometry_m)
        assert snap.offset_m == pytest.approx(distances.min(), abs=1e-6)
        assert distances[snap.edge_index] == pytest.approx(distances.min(), abs=1e-6)
        assert 0.0 <= snap.fraction <= 1.0


def _metric(engine, lonlat):
    return _to_metric(engine.graph.metric_crs).transform(*lonlat)


@functools.cache
def _to_metric(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def test_one_to_many_against_the_oracle(network):
    engine, _, points, snaps, truth = network
    hubs, others = range(10), range(10, 30)  # 10 x 20 = 200 pairs each way
    for h in hubs:
        to_hub = engine.travel_times_to([points[o] for o in others], points[h])
        from_hub = engine.travel_times_from(points[h], [points[o] for o in others])
        for o, tt_to, tt_from in zip(others, to_hub, from_hub, strict=True):
            expect(engine, snaps, truth, o, h, tt_to)
            expect(engine, snaps, truth, h, o, tt_from)


def test_cutoff_against_the_oracle(network):
    engine, _, points, snaps, truth = network
    for h in range(5):
        known = [truth[o][h][0] for o in range(30) if h in truth[o]]
        cutoff_s = float(np.median(known))
        times = engine.travel_times_to(points, points[h], cutoff_s=cutoff_s)
        for o, tt in enumerate(times):
            expect(engine, snaps, truth, o, h, tt, cutoff_s=cutoff_s)


def test_matrix_against_the_oracle(network):
    engine, _, points, snaps, truth = network
    for rows, cols in [(range(8), range(8, 30)), (range(8, 30), range(8))]:
        result = engine.matrix([points[i] for i in rows], [snaps[j] for j in cols])
        for i, line in zip(rows, result, strict=True):
            for j, tt in zip(cols, line, strict=True):
                expect(engine, snaps, truth, i, j, tt)


def test_route_against_the_oracle(network):
    engine, _, points, snaps, truth = network
    for i, j in zip(range(30), range(29, -1, -1), strict=True):
        if j not in truth[i]:
            with pytest.raises(NoRouteError):
                engine.route(points[i], points[j])
            continue
        route = engine.route(points[i], points[j])
        time_s, length_m = truth[i][j]
        assert route.travel_time_s == pytest.approx(time_s, abs=1e-6)
        assert route.length_m == pytest.approx(length_m, abs=1e-6)
        assert route.geometry_lonlat.coords[0] == pytest.approx(points[i])
        assert route.geometry_lonlat.coords[-1] == pytest.approx(points[j])
        # The drawn line, measured in UTM: osmnx lengths are great-circle distances on a sphere,
        # which near the equator run up to 0.6 % long north-south and 0.1 % short east-west.
        drawn_m = LineString([_metric(engine, c) for c in route.geometry_lonlat.coords]).length
        access_m = snaps[i].offset_m + snaps[j].offset_m
        assert drawn_m == pytest.approx(length_m + access_m, rel=1e-2, abs=1.0)


def test_concurrent_queries_agree_with_serial_ones(network):
    engine, _, points, *_ = network
    serial = [engine.travel_times_to(points[10:], points[h]) for h in range(10)]
    results: dict[int, list] = {}

    def work(h: int) -> None:
        for _ in range(5):
            results[h] = engine.travel_times_to(points[10:], points[h])

    threads = [threading.Thread(target=work, args=(h,)) for h in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[h] for h in range(10)] == serial
