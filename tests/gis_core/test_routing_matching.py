"""The HMM map matcher and the engine's map-matching methods, on small hand-drawn graphs (no database).

The graph sits near Kota Jambi in UTM 48S (as in test_routing_engine.py) with straight edges whose
lengths are round metres, so expected distances are sums of the numbers drawn below.
"""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import LineString

from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.graph import road_graph_from_arrays
from gis_core.routing.matching import MatchSettings, clean_track, great_circle_m, match_track

CRS = "EPSG:32748"
X0, Y0 = 500_000.0, 9_820_000.0
_TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)

#   A ---1000--- B ---1000--- C        A-B, B-C two-way; C -> D one-way (500 m, north);
#                             |        B - E two-way (800 m, south), an alternative at B.
#                             D
NODES = {"A": (0, 0), "B": (1000, 0), "C": (2000, 0), "D": (2000, 500), "E": (1000, -800)}
WAYS = [("A", "B", True), ("B", "C", True), ("C", "D", False), ("B", "E", True)]


def ll(x_m: float, y_m: float) -> tuple[float, float]:
    lon, lat = _TO_LONLAT.transform(X0 + x_m, Y0 + y_m)
    return (lon, lat)


@pytest.fixture(scope="module")
def engine() -> CsgraphEngine:
    index = {name: i for i, name in enumerate(NODES)}
    src, tgt, length, geometry, names = [], [], [], [], []
    for a, b, two_way in WAYS:
        line = LineString([(X0 + x, Y0 + y) for x, y in (NODES[a], NODES[b])])
        for u, v, g in [(a, b, line), (b, a, line.reverse())][: 2 if two_way else 1]:
            src.append(index[u])
            tgt.append(index[v])
            length.append(line.length)
            geometry.append(g)
            names.append(f"{u}{v}")
    graph = road_graph_from_arrays(
        edge_source=src,
        edge_target=tgt,
        edge_travel_time_s=[m / 10.0 for m in length],
        edge_length_m=length,
        metric_crs=CRS,
        node_xy_m=np.array([(X0 + x, Y0 + y) for x, y in NODES.values()]),
        edge_geometry_m=geometry,
        edge_name=names,
        reorder_nodes=False,
    )
    return CsgraphEngine(graph)


def edge(engine: CsgraphEngine, name: str) -> int:
    return engine.graph.edge_name.index(name)


def test_candidates_are_both_directions_nearest_first(engine) -> None:
    found = engine.edge_candidates(np.array([ll(500, 6), ll(1500, -20)]), radius_m=30.0, max_per_point=8)
    first = found.of_point(0)
    assert sorted(engine.graph.edge_name[e] for e in found.edge[first]) == ["AB", "BA"]
    np.testing.assert_allclose(found.offset_m[first], 6.0, atol=0.01)
    # AB runs west to east, BA east to west: the projection is half way along both.
    np.testing.assert_allclose(found.fraction[first], 0.5, atol=1e-6)
    second = found.of_point(1)
    assert sorted(engine.graph.edge_name[e] for e in found.edge[second]) == ["BC", "CB"]
    assert len(engine.edge_candidates(np.array([ll(500, 200)]), radius_m=30.0, max_per_point=8).edge) == 0


def test_network_distances_follow_edge_directions(engine) -> None:
    ab, bc, cd, ba = (edge(engine, n) for n in ("AB", "BC", "CD", "BA"))
    d = engine.network_distances_m(
        np.array([ab, ab, cd]), np.array([0.25, 0.75, 0.2]), np.array([ab, bc, cd, ba]), np.array([0.5, 0.5, 0.6, 0.5]),
        max_m=5000.0,
    )  # fmt: skip
    # From AB at 250 m: 250 m further on AB; 750 + 500 m to the middle of BC; CD is 750 + 1000 + 300;
    # back to BA's middle (500 m west of B) is 750 to B, then 500 along BA.
    np.testing.assert_allclose(d[0], [250.0, 1250.0, 2050.0, 1250.0])
    # From AB at 750 m the middle of AB lies behind: over B, back along BA to A (1000 m), and AB again.
    np.testing.assert_allclose(d[1], [250.0 + 1000.0 + 500.0, 750.0, 1550.0, 750.0])
    # CD is one-way into the dead end D: from it nothing else is reachable, only further along CD.
    assert np.isinf(d[2, :2]).all()
    assert np.isinf(d[2, 3])
    assert d[2, 2] == pytest.approx(200.0)
    # A bound cuts the search.
    bounded = engine.network_distances_m(np.array([ab]), np.array([0.25]), np.array([bc]), np.array([0.5]), max_m=1000)
    assert np.isinf(bounded).all()


def test_network_path_lists_the_edges_with_the_metres_driven(engine) -> None:
    ab, bc, cd = (edge(engine, n) for n in ("AB", "BC", "CD"))
    path = engine.network_path((ab, 0.5), (cd, 0.4))
    assert path is not None
    assert path.edges == (ab, bc, cd)
    np.testing.assert_allclose(path.covered_m, [500.0, 1000.0, 200.0])
    assert path.length_m == pytest.approx(1700.0)
    assert engine.network_path((cd, 0.5), (ab, 0.5)) is None


def test_clean_track_sorts_drops_repeats_and_cuts_at_gaps_and_stops() -> None:
    settings = MatchSettings(sigma_m=5.0, max_gap_s=60.0, stop_radius_m=30.0, max_stop_s=60.0)
    # Moving east 100 m every 10 s from t=0 to 100 s, parked from t=100 to 200 s (fixes within 3 m),
    # moving again, then silent for 120 s, then two more fixes.
    t = list(range(0, 101, 10)) + list(range(105, 200, 5)) + [210, 220, 230] + [350, 360]
    x = [10.0 * s for s in range(0, 101, 10)] + [1000 + (i % 3) for i in range(19)] + [1100, 1200, 1300, 1500, 1600]
    lonlat = np.array([ll(v, 0) for v in x])
    times = np.array(t, dtype=float)
    shuffled = np.random.default_rng(3).permutation(len(t))
    repeated = np.concatenate([shuffled, shuffled[:4]])
    pieces, duplicates, stationary, breaks = clean_track(times[repeated], lonlat[repeated], settings=settings)
    assert duplicates == 4
    got = [times[repeated][p].tolist() for p in pieces]
    # The first piece ends where the stop began (t=100); the next starts at its last fix (t=195), the
    # moment of leaving; the gap of 120 s after t=230 starts a third piece.
    assert got[0] == [float(s) for s in range(0, 101, 10)]
    assert got[1] == [195.0, 210.0, 220.0, 230.0]
    assert got[2] == [350.0, 360.0]
    assert breaks == 2
    assert stationary == 0


def test_clean_track_thins_fixes_closer_than_two_sigma() -> None:
    settings = MatchSettings(sigma_m=10.0)
    x = [0.0, 5.0, 30.0, 40.0, 70.0]  # 5 m and 10 m steps are under 2 sigma = 20 m of the last kept fix
    pieces, _, stationary, _ = clean_track(np.arange(5.0), np.array([ll(v, 0) for v in x]), settings=settings)
    assert [p.tolist() for p in pieces] == [[0, 2, 4]]
    assert stationary == 2


def test_match_track_puts_a_noisy_drive_on_its_roads_through_a_turn(engine) -> None:
    rng = np.random.default_rng(7)
    # A to C along the road at 10 m/s, then north up the one-way CD; fixes every 10 s, 8 m noise.
    route = [(x, 0.0) for x in np.arange(0, 2000, 100.0)] + [(2000.0, y) for y in np.arange(0, 500, 100.0)]
    xy = np.array(route) + rng.normal(0.0, 8.0, size=(len(route), 2))
    t_s = 1_700_000_000 + 10.0 * np.arange(len(route))
    lonlat = np.array([ll(*p) for p in xy])
    order = rng.permutation(len(t_s))  # delivered in any order
    match = match_track(engine, t_s[order], lonlat[order], settings=MatchSettings(sigma_m=8.0))
    assert len(match.runs) == 1
    assert match.breaks == 0
    run = match.runs[0]
    # Every fix away from a node on the edge it was driven on, in the driving direction (never BA or the
    # side street BE). At a node the edges meeting there are the same place: A is the end of BA too.
    names = [engine.graph.edge_name[f.edge] for f in run.fixes if 0.02 < f.fraction < 0.98]
    assert len(names) >= len(route) - 4
    assert set(names) <= {"AB", "BC", "CD"}
    assert names == sorted(names, key=["AB", "BC", "CD"].index)
    assert [f.t_s for f in run.fixes] == sorted(f.t_s for f in run.fixes)
    driven_m = sum(leg.length_m for leg in run.legs)
    straight_m = float(great_circle_m(np.array(ll(0, 0)), np.array(ll(2000, 400)))[0])
    assert 2300 <= driven_m <= 2500  # about 2000 + 400 m, give or take the noise at both ends
    assert straight_m < driven_m


def test_match_track_breaks_where_no_drive_is_possible(engine) -> None:
    # Up the one-way CD to near D, then suddenly back at A: from CD nothing is reachable.
    points = [(2000, 100), (2000, 200), (2000, 300), (0, 0), (100, 0), (200, 0)]
    match = match_track(
        engine, 10.0 * np.arange(6), np.array([ll(*p) for p in points]), settings=MatchSettings(sigma_m=5.0)
    )
    assert [len(r.fixes) for r in match.runs] == [3, 3]
    assert match.breaks == 1


def test_match_track_drops_fixes_far_from_every_road(engine) -> None:
    points = [(0, 0), (100, 0), (200, 0), (300, 400), (400, 0), (500, 0)]
    match = match_track(engine, 10.0 * np.arange(6), np.array([ll(*p) for p in points]))
    assert match.off_road == 1
    assert [len(r.fixes) for r in match.runs] == [3, 2]


def test_settings_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="sigma_m"):
        MatchSettings(sigma_m=0)
    with pytest.raises(ValueError, match="max_candidates"):
        MatchSettings(max_candidates=0)


def test_with_travel_time_factors_scales_each_edge_and_keeps_the_original(engine) -> None:
    ab, bc = edge(engine, "AB"), edge(engine, "BC")
    factors = np.ones(engine.graph.n_edges)
    factors[bc] = 2.0
    slower = engine.with_travel_time_factors(factors)
    # A to C: AB 100 s, BC 100 s at 10 m/s; with BC twice as slow 100 + 200 s. The original is unchanged.
    assert engine.travel_times_from(ll(0, 0), [ll(2000, 0)])[0].network_s == pytest.approx(200.0)
    assert slower.travel_times_from(ll(0, 0), [ll(2000, 0)])[0].network_s == pytest.approx(300.0)
    assert slower.graph.edge_travel_time_s[ab] == engine.graph.edge_travel_time_s[ab]
    assert slower.snap([ll(500, 5)])[0].edge_index in {ab, edge(engine, "BA")}
    for bad in (np.ones(3), np.zeros(engine.graph.n_edges), np.full(engine.graph.n_edges, np.nan)):
        with pytest.raises(ValueError, match="finite values > 0"):
            engine.with_travel_time_factors(bad)
