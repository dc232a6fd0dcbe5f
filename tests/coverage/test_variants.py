"""What-if closures on a tiny two-bank graph: closing the bridge provably loses the north bank."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from coverage.matrix import times_from_sources
from coverage.solvers import coverage_mask
from gis_core.crs import transformer_to_lonlat
from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.engine import EdgeInfo, RoutingEngine
from gis_core.routing.errors import UnknownEdgeError
from gis_core.routing.graph import road_graph_from_arrays
from gis_core.routing.variants import edge_indices_for_db_ids, road_graph_with_closures

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
    bridge = live.edges_near(shapely.Point(_lonlat([[501_000, 9_800_500]])[0]), tolerance_m=5)
    assert sorted(bridge.tolist()) == [1, 5]  # both directions of the bridge
    closed = live.with_closed_edges(bridge)
    _, before = times_from_sources(live, [station], live.attach_points(demand))
    _, after = times_from_sources(closed, [station], closed.attach_points(demand))
    # By hand: S1 60 s either way; N0 60 + 30 = 90 s over the bridge, 400 + 200 = 600 s by the detour.
    assert before == pytest.approx([60, 90])
    assert after == pytest.approx([60, 600])
    people = np.array([1000.0, 500.0])
    assert people[coverage_mask(before, 120)].sum() == 1500
    assert people[coverage_mask(after, 120)].sum() == 1000
    assert live.graph.n_edges == 8  # the live network still has its bridge
    assert times_from_sources(live, [station], live.attach_points(demand))[1] == pytest.approx([60, 90])


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
    engine = CsgraphEngine(graph)
    with pytest.raises(UnknownEdgeError, match="edge id 999"):
        engine.edge_indices_for_ids([101, 999])
    with pytest.raises(UnknownEdgeError, match="edge index 8"):
        engine.with_closed_edges([8])


_INTERFACE = {name for name in dir(RoutingEngine) if not name.startswith("_")}


class _InterfaceOnly:
    """An engine offering only the :class:`RoutingEngine` interface: any other attribute (``graph``) is refused."""

    def __init__(self, inner: CsgraphEngine):
        self._inner = inner

    def __getattr__(self, name: str):
        if name not in _INTERFACE:
            raise AttributeError(f"{name} is not part of the routing interface")
        if name == "with_closed_edges":
            return lambda edge_indices: _InterfaceOnly(self._inner.with_closed_edges(edge_indices))
        return getattr(self._inner, name)


def test_coverage_needs_only_the_routing_interface() -> None:
    engine = _InterfaceOnly(CsgraphEngine(_graph()))
    assert isinstance(engine, RoutingEngine)
    assert not hasattr(engine, "graph")
    station = tuple(_lonlat([XY[0]])[0])
    demand = _lonlat([XY[1], XY[2]])
    bridge = engine.edge_indices_for_ids([102, 106])  # S1 -> N0 and N0 -> S1
    assert engine.edges_info(bridge) == [
        EdgeInfo(edge_index=1, edge_id=102, name=None, highway=None, length_m=1000.0),
        EdgeInfo(edge_index=5, edge_id=106, name=None, highway=None, length_m=1000.0),
    ]
    closed = engine.with_closed_edges(bridge)
    assert times_from_sources(engine, [station], engine.attach_points(demand))[1] == pytest.approx([60, 90])
    assert times_from_sources(closed, [station], closed.attach_points(demand))[1] == pytest.approx([60, 600])


def test_attach_points_leaves_bad_and_far_points_unreachable() -> None:
    engine = CsgraphEngine(_graph(), max_access_m=100)
    points = np.vstack([_lonlat([[500_500, 9_800_010], [500_500, 9_805_000]]), [[np.nan, 0.0], [200.0, 0.0]]])
    attachment = engine.attach_points(points)
    assert attachment.inside.tolist() == [True, False, False, False]
    assert attachment.offset_m[0] == pytest.approx(10, abs=0.01)
    assert np.isnan(attachment.offset_m[1:]).all()
    assert np.isinf(attachment.cost_s[1:]).all()
    # Halfway along S0 -> S1 (60 s each way), 10 m off the road at 15 km/h (2.4 s).
    assert attachment.cost_s[0] == pytest.approx([32.4, 32.4], abs=0.01)
    assert sorted(attachment.node[0].tolist()) == [0, 1]


def test_points_along_roads_are_evenly_spaced_on_every_edge() -> None:
    engine = CsgraphEngine(_graph())
    # Eight directed edges; their straight geometries measure 2 * (1000 + 1000 + 3162.3 + 2000) m.
    points = engine.points_along_roads_lonlat(8)
    spacing_m = 2 * (1000 + 1000 + np.hypot(3000, 1000) + 2000) / 8
    assert len(points) == 2 * (int(1000 // spacing_m) * 2 + int(np.hypot(3000, 1000) // spacing_m) + 1)
    on_road = engine.attach_points(points)
    assert on_road.offset_m == pytest.approx(0, abs=1e-6)
