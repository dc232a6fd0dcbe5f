"""What-if networks: copies of a :class:`RoadGraph` with roads closed, and the edges to close.

Pure: the live graph and its engine are never touched (a ``RoadGraph``'s arrays are read-only); a
variant is a new graph built with :func:`road_graph_from_arrays`, node numbering kept, so node times
on the variant line up with node times on the live network. Callers outside the routing package
reach these through the engine (``with_closed_edges``, ``edge_indices_for_ids``, ``edges_near``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from gis_core.crs import transform_geometries, transformer_to_metric
from gis_core.routing.errors import UnknownEdgeError
from gis_core.routing.graph import RoadGraph, road_graph_from_arrays


def road_graph_with_closures(graph: RoadGraph, edge_indices: Sequence[int] | np.ndarray) -> RoadGraph:
    """A copy of ``graph`` without the given directed edges.

    Parameters
    ----------
    graph : RoadGraph
        The live network; left unchanged.
    edge_indices : sequence of int
        Edge positions (0..E-1) to remove. Close both directions of a two-way street by naming both
        edges (:func:`edges_near` returns both).

    Returns
    -------
    RoadGraph
        Same nodes in the same order (``node_db_id`` kept); the remaining edges in their original
        order, with ``edge_db_id`` carried through; twins recomputed.

    Raises
    ------
    UnknownEdgeError
        An index is outside 0..E-1.
    ValueError
        Every edge would be closed.
    """
    closed = np.unique(np.asarray(edge_indices, dtype=np.int64).reshape(-1))
    bad = closed[(closed < 0) | (closed >= graph.n_edges)]
    if len(bad):
        raise UnknownEdgeError(f"edge index {int(bad[0])} is not in the network (0..{graph.n_edges - 1})")
    keep = np.setdiff1d(np.arange(graph.n_edges), closed)
    if not len(keep):
        raise ValueError("closing every edge leaves no network")
    return road_graph_from_arrays(
        edge_source=graph.edge_source[keep].astype(np.int64),
        edge_target=graph.edge_target[keep].astype(np.int64),
        edge_travel_time_s=graph.edge_travel_time_s[keep],
        edge_length_m=graph.edge_length_m[keep],
        metric_crs=graph.metric_crs,
        node_xy_m=graph.node_xy_m,
        edge_geometry_m=graph.edge_geometry_m[keep],
        edge_name=[graph.edge_name[i] for i in keep],
        edge_highway=[graph.edge_highway[i] for i in keep],
        node_osm_id=graph.node_osm_id,
        node_db_id=graph.node_db_id,
        edge_db_id=None if graph.edge_db_id is None else graph.edge_db_id[keep],
        reorder_nodes=False,
    )


def edge_indices_for_db_ids(graph: RoadGraph, db_ids: Sequence[int]) -> np.ndarray:
    """Edge positions of ``RoadEdge`` primary keys; raise :class:`UnknownEdgeError` naming the first unknown."""
    if graph.edge_db_id is None:
        raise UnknownEdgeError("this network was not loaded from the database: it has no edge ids")
    order = np.argsort(graph.edge_db_id)
    wanted = np.asarray(list(db_ids), dtype=np.int64)
    at = np.searchsorted(graph.edge_db_id, wanted, sorter=order)
    at = np.minimum(at, len(order) - 1)
    found = graph.edge_db_id[order[at]] == wanted
    if not found.all():
        raise UnknownEdgeError(f"edge id {int(wanted[~found][0])} is not in the active road network")
    return order[at]


def edges_near(graph: RoadGraph, geometry_lonlat: shapely.Geometry, *, tolerance_m: float) -> np.ndarray:
    """Edges within ``tolerance_m`` of a point or line (EPSG:4326), both directions, sorted.

    A point picks the street segments passing by it (a bridge: a point on the bridge deck); a line
    picks every segment it runs along or crosses within the tolerance.
    """
    if not tolerance_m >= 0:
        raise ValueError(f"tolerance_m must be >= 0, got {tolerance_m}")
    shape_m = transform_geometries(geometry_lonlat, transformer_to_metric(graph.metric_crs))
    tree = shapely.STRtree(graph.edge_geometry_m)
    hits = tree.query(shape_m, predicate="dwithin", distance=tolerance_m)
    return np.unique(hits)
