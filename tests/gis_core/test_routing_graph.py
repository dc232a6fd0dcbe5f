"""RoadGraph builders, twin detection and the search adjacency. Pure: no database."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString

from gis_core.routing.graph import (
    find_twins,
    min_time_adjacency,
    road_graph_from_arrays,
    road_graph_from_networkx,
)

CRS = "EPSG:32748"
X0, Y0 = 500_000.0, 9_820_000.0
_TO_LONLAT = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)


def lonlat(x_m: float, y_m: float) -> tuple[float, float]:
    return _TO_LONLAT.transform(X0 + x_m, Y0 + y_m)


def line_m(*points: tuple[float, float]) -> LineString:
    return LineString([(X0 + x, Y0 + y) for x, y in points])


def test_twins_pair_two_way_segments_only():
    # Nodes 0 (0, 0), 1 (100, 0), 2 (100, 100).
    # Edges 0/1: 0<->1 straight, a two-way street.        -> twins
    # Edges 2/3: 0<->1 bent through (50, 40), two-way too  -> twins, not paired with 0/1
    # Edge 4:    1->2 one-way                              -> -1
    # Edges 5/6: 2->0 and 0->2 on carriageways 20 m apart  -> -1 (not the same segment)
    geometry = [
        line_m((0, 0), (100, 0)),
        line_m((100, 0), (0, 0)),
        line_m((100, 0), (50, 40), (0, 0)),
        line_m((0, 0), (50, 40), (100, 0)),
        line_m((100, 0), (100, 100)),
        line_m((100, 100), (0, 0)),
        line_m((0, 0), (10, 30), (100, 100)),
    ]
    source = np.array([0, 1, 1, 0, 1, 2, 0])
    target = np.array([1, 0, 0, 1, 2, 0, 2])
    length_m = shapely.length(np.array(geometry, dtype=object))
    twin = find_twins(source, target, length_m, np.array(geometry, dtype=object))
    assert twin.tolist() == [1, 0, 3, 2, -1, -1, -1]


def test_twin_tolerance_is_half_a_metre():
    a = line_m((0, 0), (100, 0))
    b = line_m((100, 0.4), (0, 0.4))  # 0.4 m off: the same segment digitised twice
    c = line_m((100, 0.6), (0, 0.6))
    for other, expected in [(b, [1, 0]), (c, [-1, -1])]:
        twin = find_twins(np.array([0, 1]), np.array([1, 0]), np.array([100.0, 100.0]), np.array([a, other]))
        assert twin.tolist() == expected


def small_graph(**kw):
    """Nodes 0 (0, 0), 1 (1000, 0), 2 (2000, 0); 0->1 twice (80 s bent, 200 s straight), 1<->2."""
    return road_graph_from_arrays(
        edge_source=[0, 0, 1, 2, 2],
        edge_target=[1, 1, 2, 1, 2],
        edge_travel_time_s=[200.0, 80.0, 100.0, 100.0, 30.0],
        edge_length_m=[1000.0, 1166.19, 1000.0, 1000.0, 300.0],
        metric_crs=CRS,
        node_xy_m=np.array([(X0, Y0), (X0 + 1000, Y0), (X0 + 2000, Y0)]),
        edge_geometry_m=[
            line_m((0, 0), (1000, 0)),
            line_m((0, 0), (500, 300), (1000, 0)),
            line_m((1000, 0), (2000, 0)),
            line_m((2000, 0), (1000, 0)),
            line_m((2000, 0), (2000, 100), (2100, 100), (2000, 0)),  # a loop at node 2
        ],
        edge_name=["Jalan Lurus", "Jalan Lengkung", "Jalan Tiga", "Jalan Tiga", ""],
        **kw,
    )


def test_adjacency_keeps_the_fastest_parallel_edge_and_drops_loops():
    graph = small_graph(reorder_nodes=False)
    forward = min_time_adjacency(graph)
    # Row 0 has one entry to node 1: the bent edge 1 (80 s, 1166.19 m), not 200 + 80 s.
    assert forward.indptr.tolist() == [0, 1, 2, 3]
    assert forward.indices.tolist() == [1, 2, 1]
    assert forward.time_s.tolist() == [80.0, 100.0, 100.0]
    assert forward.length_m.tolist() == [1166.19, 1000.0, 1000.0]
    assert forward.edge.tolist() == [1, 2, 3]
    reverse = min_time_adjacency(graph, reverse=True)
    # Reversed: row 1 holds the edges into node 1 (from 0 and from 2), row 2 the edge from 1.
    assert reverse.indptr.tolist() == [0, 0, 2, 3]
    assert reverse.indices.tolist() == [0, 2, 1]
    assert reverse.edge.tolist() == [1, 3, 2]


def test_builder_fills_both_crs_and_cleans_labels():
    graph = small_graph(reorder_nodes=False)
    assert graph.n_nodes == 3
    assert graph.n_edges == 5
    assert graph.node_lonlat[1] == pytest.approx(lonlat(1000, 0))
    start = graph.edge_geometry_lonlat[1].coords[0]
    assert start == pytest.approx(lonlat(0, 0))
    assert graph.edge_name[4] is None  # empty string means no name
    assert graph.edge_twin.tolist() == [-1, -1, 3, 2, -1]
    assert graph.node_osm_id.tolist() == [-1, -1, -1]
    with pytest.raises(ValueError, match="read-only"):
        graph.edge_travel_time_s[0] = 1.0


def test_reordering_renumbers_nodes_but_keeps_edges_and_ids():
    rng = np.random.default_rng(7)
    xy = np.column_stack([X0 + rng.uniform(0, 5000, 60), Y0 + rng.uniform(0, 5000, 60)])
    source = rng.integers(0, 60, 200)
    target = (source + rng.integers(1, 60, 200)) % 60
    common = {
        "edge_source": source,
        "edge_target": target,
        "edge_travel_time_s": rng.uniform(1, 100, 200),
        "edge_length_m": np.hypot(*(xy[source] - xy[target]).T),
        "metric_crs": CRS,
        "node_xy_m": xy,
        "node_osm_id": np.arange(60) + 1000,
        "node_db_id": np.arange(60) + 5,
    }
    plain = road_graph_from_arrays(**common, reorder_nodes=False)
    packed = road_graph_from_arrays(**common)
    assert sorted(packed.node_osm_id.tolist()) == plain.node_osm_id.tolist()
    assert not np.array_equal(packed.node_osm_id, plain.node_osm_id)
    # Every edge still joins the same two (OSM-identified) places, in input order.
    assert np.array_equal(packed.node_osm_id[packed.edge_source], plain.node_osm_id[plain.edge_source])
    assert np.array_equal(packed.node_osm_id[packed.edge_target], plain.node_osm_id[plain.edge_target])
    assert np.array_equal(packed.node_db_id - packed.node_osm_id, np.full(60, 5 - 1000))
    assert np.allclose(packed.node_xy_m[packed.edge_source], xy[source])
    # Z-order: consecutive nodes are on average much closer than random pairs.
    step_m = np.hypot(*np.diff(packed.node_xy_m, axis=0).T).mean()
    assert step_m < 0.5 * np.hypot(*np.diff(plain.node_xy_m, axis=0).T).mean()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metric_crs": "EPSG:4326"}, "not a projected CRS"),
        ({"edge_travel_time_s": [200.0, -1.0, 100.0, 100.0, 30.0]}, "non-negative"),
        ({"edge_target": [1, 1, 2, 1, 3]}, "node indices"),
        ({"edge_length_m": [1.0, 2.0]}, "2 values for 5 edges"),
        ({"node_lonlat": np.zeros((3, 2))}, "exactly one of node_lonlat and node_xy_m"),  # both given
    ],
)
def test_builder_rejects_bad_arrays(change, message):
    kwargs = {
        "edge_source": [0, 0, 1, 2, 2],
        "edge_target": [1, 1, 2, 1, 2],
        "edge_travel_time_s": [200.0, 80.0, 100.0, 100.0, 30.0],
        "edge_length_m": [1000.0, 1166.19, 1000.0, 1000.0, 300.0],
        "metric_crs": CRS,
        "node_xy_m": np.array([(X0, Y0), (X0 + 1000, Y0), (X0 + 2000, Y0)]),
    }
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        road_graph_from_arrays(**kwargs)


def test_builder_rejects_geometry_drawn_backwards():
    with pytest.raises(ValueError, match="reversed"):
        road_graph_from_arrays(
            edge_source=[0],
            edge_target=[1],
            edge_travel_time_s=[10.0],
            edge_length_m=[100.0],
            metric_crs=CRS,
            node_xy_m=np.array([(X0, Y0), (X0 + 100, Y0)]),
            edge_geometry_m=[line_m((100, 0), (0, 0))],
        )


def osmnx_style_graph() -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, (x, y) in {11: (0, 0), 12: (400, 0), 13: (400, 300)}.items():
        lon, lat = lonlat(x, y)
        graph.add_node(node, x=lon, y=lat)
    bent = LineString([lonlat(400, 0), lonlat(420, 150), lonlat(400, 300)])
    graph.add_edge(11, 12, length=400.0, travel_time=40.0, name=["Jalan A", "Jalan B"], highway="primary")
    graph.add_edge(12, 11, length=400.0, travel_time=40.0, name="Jalan A", highway=["primary", "secondary"])
    graph.add_edge(12, 13, length_m=301.0, travel_time_s=30.0, geometry=bent, osmid=5)
    graph.add_edge(13, 12, length_m=301.0, travel_time_s=30.0, geometry=bent.reverse().wkt)
    return graph


def test_from_networkx_reads_osmnx_attributes():
    graph = road_graph_from_networkx(osmnx_style_graph(), metric_crs=CRS)
    ends = list(zip(graph.node_osm_id[graph.edge_source], graph.node_osm_id[graph.edge_target], strict=True))
    assert ends == [(11, 12), (12, 11), (12, 13), (13, 12)]  # the order of G.edges(keys=True)
    assert graph.edge_travel_time_s.tolist() == [40.0, 40.0, 30.0, 30.0]
    assert graph.edge_length_m.tolist() == [400.0, 400.0, 301.0, 301.0]
    assert graph.edge_name == ("Jalan A; Jalan B", "Jalan A", None, None)
    assert graph.edge_highway == ("primary", "primary;secondary", None, None)
    assert graph.edge_twin.tolist() == [1, 0, 3, 2]
    assert len(graph.edge_geometry_m[2].coords) == 3  # the bent shape survives (WKT too)
    assert len(graph.edge_geometry_m[3].coords) == 3


def test_from_networkx_refuses_missing_times_and_projected_graphs():
    graph = osmnx_style_graph()
    del graph[11][12][0]["travel_time"]
    with pytest.raises(ValueError, match=r"edge \(11, 12, 0\) has neither 'travel_time_s' nor 'travel_time'"):
        road_graph_from_networkx(graph, metric_crs=CRS)
    projected = osmnx_style_graph()
    projected.graph["crs"] = CRS
    with pytest.raises(ValueError, match="unprojected"):
        road_graph_from_networkx(projected, metric_crs=CRS)


def test_real_network_keeps_every_edge_as_given(data_dir: Path):
    path = data_dir / "jambi" / "roads_main_jambi_osm.graphml"
    if not path.is_file():
        pytest.fail(f"missing road network {path}")
    nx_graph = ox.load_graphml(path)
    for _, _, data in nx_graph.edges(data=True):
        data["travel_time"] = data["length"] / 10.0
    graph = road_graph_from_networkx(nx_graph, metric_crs=CRS)
    edges = list(nx_graph.edges(keys=True, data=True))
    assert graph.n_nodes == nx_graph.number_of_nodes()
    assert graph.n_edges == len(edges)
    assert graph.node_osm_id[graph.edge_source].tolist() == [u for u, _, _, _ in edges]
    assert graph.node_osm_id[graph.edge_target].tolist() == [v for _, v, _, _ in edges]
    assert graph.edge_length_m.tolist() == [d["length"] for *_, d in edges]
    assert all(g.equals(d["geometry"]) for g, (*_, d) in zip(graph.edge_geometry_lonlat, edges, strict=True))
    # Twins are symmetric; the rest are one-way or separate carriageways.
    paired = np.flatnonzero(graph.edge_twin >= 0)
    assert np.array_equal(graph.edge_twin[graph.edge_twin[paired]], paired)
    # 573 edges are flagged two-way in the file; 15 of them have their reverse edge on a separate
    # carriageway 5 to 110 m away (a discrete Frechet distance measured one by one), not a twin.
    assert len(paired) == 573 - 15
