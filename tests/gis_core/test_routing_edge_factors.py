"""Live closures' pure graph code on a tiny two-bank graph: slowed and closed edges, and what a closure covers."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis_core.crs import transformer_to_lonlat
from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.errors import UnknownEdgeError
from gis_core.routing.graph import road_graph_from_arrays
from gis_core.routing.variants import edges_covered_by, road_graph_with_edge_factors

CRS = "EPSG:32748"
# South bank S0 -- S1 (1 km), a 1 km bridge S1 -- N0, a detour S0 -- N1 -- N0 far east:
#   N1 (3000, 1000)        N0 (1000, 1000)
#       \                    |  bridge
#   S0 (0, 0) ---------- S1 (1000, 0)
ORIGIN = np.array([500_000.0, 9_800_000.0])
XY = np.array([[0, 0], [1000, 0], [1000, 1000], [3000, 1000]], dtype=float) + ORIGIN
PAIRS = [(0, 1), (1, 2), (0, 3), (3, 2)]  # S0-S1, bridge S1-N0, S0-N1, N1-N0
TIME_S = [60.0, 30.0, 400.0, 200.0]  # one way; both directions the same
BRIDGE = [1, 5]  # both directions of S1-N0


def _graph():
    src = [a for a, b in PAIRS] + [b for a, b in PAIRS]
    tgt = [b for a, b in PAIRS] + [a for a, b in PAIRS]
    length_m = [float(np.hypot(*(XY[b] - XY[a]))) for a, b in PAIRS] * 2
    return road_graph_from_arrays(
        edge_source=src,
        edge_target=tgt,
        edge_travel_time_s=TIME_S * 2,
        edge_length_m=length_m,
        metric_crs=CRS,
        node_xy_m=XY,
        edge_db_id=list(range(101, 109)),
        reorder_nodes=False,
    )


def _lonlat(*xy_local):
    xy = np.asarray(xy_local, dtype=float) + ORIGIN
    lon, lat = transformer_to_lonlat(CRS).transform(xy[:, 0], xy[:, 1])
    return [(float(a), float(b)) for a, b in zip(lon, lat, strict=True)]


def _eta_s(engine, a, b) -> float:
    [tt] = engine.travel_times_from(a, [b])
    return float("inf") if tt is None else tt.eta_s


def test_a_slowed_bridge_costs_its_factor_and_the_live_graph_is_untouched() -> None:
    graph = _graph()
    live = CsgraphEngine(graph)
    s0, n0 = _lonlat([0, 0], [1000, 1000])
    slowed = live.with_edge_factors(BRIDGE, [3.0, 3.0])
    # By hand: 60 + 30 = 90 s over the bridge; slowed 60 + 3 * 30 = 150 s, still shorter than the 600 s detour.
    assert _eta_s(live, s0, n0) == pytest.approx(90)
    assert _eta_s(slowed, s0, n0) == pytest.approx(150)
    assert graph.edge_travel_time_s[1] == 30.0  # the live arrays are never written
    # A factor of 10 makes the bridge 300 s: 60 + 300 = 360 s, still under the detour.
    assert _eta_s(live.with_edge_factors(BRIDGE, [10.0, 10.0]), s0, n0) == pytest.approx(360)


def test_an_infinite_factor_closes_and_the_largest_factor_of_an_edge_wins() -> None:
    graph = _graph()
    closed = road_graph_with_edge_factors(graph, [1, 5, 1], [2.0, np.inf, np.inf])
    assert closed.n_edges == 6
    assert 102 not in closed.edge_db_id.tolist()
    assert 106 not in closed.edge_db_id.tolist()
    assert closed.n_nodes == graph.n_nodes  # node numbering kept
    s0, n0 = _lonlat([0, 0], [1000, 1000])
    assert _eta_s(CsgraphEngine(closed), s0, n0) == pytest.approx(600)  # the detour, 400 + 200 s
    mixed = road_graph_with_edge_factors(graph, [0, 0], [2.0, 4.0])
    assert mixed.edge_travel_time_s[0] == pytest.approx(240)  # 60 s x the larger factor 4


@pytest.mark.parametrize(
    ("indices", "factors", "error"),
    [
        ([99], [2.0], UnknownEdgeError),
        ([0], [0.0], ValueError),
        ([0], [np.nan], ValueError),
        ([0, 1], [2.0], ValueError),
    ],
)
def test_bad_factors_are_refused(indices, factors, error) -> None:
    with pytest.raises(error):
        road_graph_with_edge_factors(_graph(), indices, factors)


def test_closing_everything_is_refused() -> None:
    with pytest.raises(ValueError, match="no network"):
        road_graph_with_edge_factors(_graph(), range(8), [np.inf] * 8)


def test_an_area_covers_every_edge_crossing_it() -> None:
    graph = _graph()
    # A flood box around the middle of the bridge (x 900..1100, y 400..600): only the bridge crosses it.
    flood = shapely.Polygon(_lonlat([900, 400], [1100, 400], [1100, 600], [900, 600]))
    assert edges_covered_by(graph, flood, line_tolerance_m=15).tolist() == BRIDGE
    # A box over node S1 covers the three edges at it, both ways: S0-S1 and the bridge.
    around_s1 = shapely.Polygon(_lonlat([950, -50], [1050, -50], [1050, 50], [950, 50]))
    assert edges_covered_by(graph, around_s1, line_tolerance_m=15).tolist() == [0, 1, 4, 5]


def test_a_line_covers_the_streets_along_it_not_the_cross_streets() -> None:
    graph = _graph()
    # Drawn 8 m beside the bridge, along its whole length: the bridge, not S0-S1 or N1-N0, which meet it at its ends.
    along = shapely.LineString(_lonlat([1008, 0], [1008, 1000]))
    assert edges_covered_by(graph, along, line_tolerance_m=15).tolist() == BRIDGE
    # The same line 30 m away is beyond the tolerance: nothing.
    assert edges_covered_by(graph, shapely.LineString(_lonlat([1030, 0], [1030, 1000])), line_tolerance_m=15).size == 0
    # A line along a third of the bridge covers less than half of it: nothing.
    short = shapely.LineString(_lonlat([1000, 0], [1000, 300]))
    assert edges_covered_by(graph, short, line_tolerance_m=5).size == 0


def test_a_point_is_not_a_closure() -> None:
    with pytest.raises(ValueError, match="area or lines"):
        edges_covered_by(_graph(), shapely.Point(_lonlat([0, 0])[0]), line_tolerance_m=5)


def test_a_variant_keeps_twins_paired_and_a_street_closed_one_way_has_none() -> None:
    graph = _graph()
    # Close only S1 -> N0 (edge 1): N0 -> S1 (was edge 5) stays, now one-way.
    variant = road_graph_with_edge_factors(graph, [1], [np.inf])
    kept_db = variant.edge_db_id.tolist()
    assert kept_db == [101, 103, 104, 105, 106, 107, 108]
    back = kept_db.index(106)
    assert variant.edge_twin[back] == -1
    for i, twin in enumerate(variant.edge_twin.tolist()):
        if twin >= 0:  # every remaining pair still points at each other, at their new positions
            assert variant.edge_twin[twin] == i
            assert abs(variant.edge_db_id[twin] - variant.edge_db_id[i]) == 4
    assert not variant.edge_travel_time_s.flags.writeable
