"""What-if closures on a tiny two-bank graph: closing the bridge provably loses the north bank."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from coverage.matrix import attach_points, times_from_sources
from coverage.solvers import coverage_mask
from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.graph import road_graph_from_arrays, transformer_to_lonlat
from gis_core.routing.variants import (
    UnknownEdgeError,
    edge_indices_for_db_ids,
    edges_near,
    engine_with_closures,
    road_graph_with_closures,
)

CRS = "EPSG:32748"
# South bank S0 -- S1 (1 km), a 500 m bridge S1 -- N0, a 3 km detour S0 -- N1 -- N0 far east:
#   N1 (3000, 1000)        N0 (1000, 1000)
#       \                    |  bridge
#   S0 (0, 0) ---------- S1 (1000, 0)
XY = np.array([[0, 0], [1000, 0], [1000, 1000], [3000, 1000]], dtype=float) + np.array([500_000, 9_800_000])
PAIRS = [(0, 1), (1, 2), (0, 3), (3, 2)]  # S0-S1, bridge S1-N0, S0-N1, N1-N0
TIME_S = [60.0, 30.0, 400.0, 200.0]  # one way; both directions the same


def _graph():
    src = [a for a, b in PAIRS] + [b for a, b in PAIRS]
    tgt = [b for a, b in PAIRS] + [a for a, b in PAIRS]
    return road_graph_from_arrays(
        edge_source=src,
        edge_target=tgt,
        edge_travel_time_s=TIME_S * 2,
        edge_length_m=[1000.0] * 8,
        metric_crs=CRS,
        node_xy_m=XY,
        edge_db_id=list(range(101, 109)),
        reorder_nodes=False,
    )


def _lonlat(xy):
    lon, lat = transformer_to_lonlat(CRS).transform(*np.asarray(xy, dtype=float).T)
    return np.column_stack([lon, lat])


def test_closing_the_bridge_reduces_coverage_and_leaves_the_live_graph_alone() -> None:
    graph = _graph()
    live = CsgraphEngine(graph)
    station = tuple(_lonlat([XY[0]])[0])  # on S0
    demand = _lonlat([XY[1], XY[2]])  # S1 and N0 (people on both banks), on nodes: no access leg
    bridge = edges_near(graph, shapely.Point(_lonlat([[501_000, 9_800_500]])[0]), tolerance_m=5)
    assert sorted(bridge.tolist()) == [1, 5]  # both directions of the bridge
    closed = engine_with_closures(live, bridge)
    _, before = times_from_sources(live, [station], attach_points(live, demand))
    _, after = times_from_sources(closed, [station], attach_points(closed, demand))
    # By hand: S1 60 s either way; N0 60 + 30 = 90 s over the bridge, 400 + 200 = 600 s by the detour.
    assert before == pytest.approx([60, 90])
    assert after == pytest.approx([60, 600])
    people = np.array([1000.0, 500.0])
    assert people[coverage_mask(before, 120)].sum() == 1500
    assert people[coverage_mask(after, 120)].sum() == 1000
    assert live.graph.n_edges == 8  # the live network still has its bridge
    assert times_from_sources(live, [station], attach_points(live, demand))[1] == pytest.approx([60, 90])


def test_closure_keeps_node_order_and_edge_ids() -> None:
    graph = _graph()
    variant = road_graph_with_closures(graph, edge_indices_for_db_ids(graph, [102, 106]))
    assert variant.n_edges == 6
    assert np.array_equal(variant.node_xy_m, graph.node_xy_m)
    assert not {102, 106} & set(variant.edge_db_id.tolist())


def test_bad_closures() -> None:
    graph = _graph()
    with pytest.raises(UnknownEdgeError, match="edge id 999"):
        edge_indices_for_db_ids(graph, [101, 999])
    with pytest.raises(UnknownEdgeError, match="edge index 8"):
        road_graph_with_closures(graph, [8])
    with pytest.raises(ValueError, match="no network"):
        road_graph_with_closures(graph, range(8))
