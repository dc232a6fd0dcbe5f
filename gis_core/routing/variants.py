"""What-if and live networks: copies of a :class:`RoadGraph` with roads closed or slowed, and the edges to close.

Pure: the live graph and its engine are never touched (a ``RoadGraph``'s arrays are read-only); a
variant is a new graph built with :func:`road_graph_from_arrays`, node numbering kept, so node times
on the variant line up with node times on the live network. Callers outside the routing package
reach these through the engine (``with_closed_edges``, ``with_edge_factors``, ``edge_indices_for_ids``,
``edges_near``, ``edges_covered_by``). Live closures (``gis_core.routing.live_closures``) use the same
functions as the planners' what-ifs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from gis_core.crs import transform_geometries, transformer_to_metric
from gis_core.routing.errors import UnknownEdgeError
from gis_core.routing.graph import RoadGraph


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
    return _edge_subset(graph, keep, graph.edge_travel_time_s)


def _edge_subset(graph: RoadGraph, keep: np.ndarray, travel_time_s: np.ndarray) -> RoadGraph:
    """``graph`` with only the edges ``keep`` (sorted positions), their times taken from ``travel_time_s``.

    Sliced, not rebuilt: the arrays came from a checked graph, so nothing is validated or transformed
    again (a rebuild through ``road_graph_from_arrays`` costs seconds at 10^5 edges, paid by the first
    request after a live closure starts). An edge whose twin is dropped becomes one-way (twin -1).
    """
    new_position = np.full(graph.n_edges, -1, dtype=np.int64)
    new_position[keep] = np.arange(len(keep))
    old_twin = graph.edge_twin[keep].astype(np.int64)
    twin = np.where(old_twin >= 0, new_position[np.maximum(old_twin, 0)], -1).astype(graph.edge_twin.dtype)
    subset = RoadGraph(
        node_xy_m=graph.node_xy_m,
        node_lonlat=graph.node_lonlat,
        node_osm_id=graph.node_osm_id,
        edge_source=graph.edge_source[keep],
        edge_target=graph.edge_target[keep],
        edge_travel_time_s=travel_time_s[keep],
        edge_length_m=graph.edge_length_m[keep],
        edge_geometry_m=graph.edge_geometry_m[keep],
        edge_geometry_lonlat=graph.edge_geometry_lonlat[keep],
        edge_name=tuple(graph.edge_name[i] for i in keep.tolist()),
        edge_highway=tuple(graph.edge_highway[i] for i in keep.tolist()),
        edge_twin=twin,
        metric_crs=graph.metric_crs,
        node_db_id=graph.node_db_id,
        edge_db_id=None if graph.edge_db_id is None else graph.edge_db_id[keep],
    )
    for value in vars(subset).values():  # read-only like every graph (road_graph_from_arrays)
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return subset


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


def road_graph_with_edge_factors(
    graph: RoadGraph, edge_indices: Sequence[int] | np.ndarray, factors: Sequence[float] | np.ndarray
) -> RoadGraph:
    """A copy of ``graph`` with the travel time of each given edge multiplied by its factor; ``inf`` closes it.

    Parameters
    ----------
    graph : RoadGraph
        The network; left unchanged.
    edge_indices : sequence of int
        Edge positions (0..E-1). An edge named twice takes the largest of its factors.
    factors : sequence of float
        One per edge: ``> 0`` multiplies ``edge_travel_time_s`` (a slow closure: 3 is three times as long);
        ``inf`` removes the edge, as :func:`road_graph_with_closures` does.

    Returns
    -------
    RoadGraph
        Same nodes in the same order; the remaining edges in their original order (``edge_db_id`` carried
        through), lengths and geometry unchanged.

    Raises
    ------
    UnknownEdgeError
        An index is outside 0..E-1.
    ValueError
        A factor is not > 0 (or NaN), the lengths differ, or every edge would be closed.
    """
    at = np.asarray(edge_indices, dtype=np.int64).reshape(-1)
    by = np.asarray(factors, dtype=np.float64).reshape(-1)
    if len(at) != len(by):
        raise ValueError(f"{len(at)} edge indices but {len(by)} factors")
    if not (by > 0).all():
        raise ValueError("every factor must be > 0 (inf closes the edge)")
    bad = at[(at < 0) | (at >= graph.n_edges)]
    if len(bad):
        raise UnknownEdgeError(f"edge index {int(bad[0])} is not in the network (0..{graph.n_edges - 1})")
    factor = np.ones(graph.n_edges)
    np.maximum.at(factor, at, by)
    keep = np.flatnonzero(np.isfinite(factor))
    if not len(keep):
        raise ValueError("closing every edge leaves no network")
    return _edge_subset(graph, keep, graph.edge_travel_time_s * factor)


def edges_covered_by(
    graph: RoadGraph, geometry_lonlat: shapely.Geometry, *, line_tolerance_m: float, min_share: float = 0.5
) -> np.ndarray:
    """Edges a closure's geometry (EPSG:4326) covers, both directions, sorted.

    An area (Polygon, MultiPolygon) covers every edge that crosses or lies in it: a flooded stretch cuts
    the whole segment. A line (LineString, MultiLineString: streets picked or drawn along) covers the edges
    running along it: at least ``min_share`` of the edge's length within ``line_tolerance_m`` metres of
    the line, so a cross street that only touches it at a junction stays open.

    Raises
    ------
    ValueError
        Another geometry type (a point, a collection), or a tolerance or share out of range.
    """
    if not line_tolerance_m >= 0 or not 0 < min_share <= 1:
        raise ValueError("line_tolerance_m must be >= 0 and min_share in (0, 1]")
    kind = shapely.get_type_id(geometry_lonlat)
    shape_m = transform_geometries(geometry_lonlat, transformer_to_metric(graph.metric_crs))
    tree = shapely.STRtree(graph.edge_geometry_m)
    if kind in (3, 6):  # Polygon, MultiPolygon
        return np.unique(tree.query(shape_m, predicate="intersects"))
    if kind not in (1, 5):  # LineString, MultiLineString
        raise ValueError(f"a closure is an area or lines, not a {geometry_lonlat.geom_type}")
    hits = np.unique(tree.query(shape_m, predicate="dwithin", distance=line_tolerance_m))
    if not len(hits):
        return hits
    band = shapely.buffer(shape_m, max(line_tolerance_m, 0.01))
    lines = graph.edge_geometry_m[hits]
    inside_m = shapely.length(shapely.intersection(lines, band))
    length_m = np.maximum(shapely.length(lines), 1e-9)
    return hits[inside_m / length_m >= min_share - 1e-9]
