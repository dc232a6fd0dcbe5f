"""The road graph as compact arrays, and builders from arrays or from an osmnx graph.

Nodes are numbered 0..N-1 and directed edges 0..E-1. Coordinates live twice: in EPSG:4326 for
output and in the region's projected (metric) CRS for every measurement. Pure code: no Django.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

from gis_core.crs import transform_geometries, transformer_to_lonlat, transformer_to_metric

_NAME_SEP = "; "
_HIGHWAY_SEP = ";"


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """A directed road network held in numpy arrays.

    Attributes
    ----------
    node_xy_m : ndarray, shape (N, 2)
        Node positions in ``metric_crs``, metres.
    node_lonlat : ndarray, shape (N, 2)
        Node positions in EPSG:4326.
    node_osm_id : ndarray of int64, shape (N,)
        OSM node id, -1 where unknown.
    edge_source, edge_target : ndarray of int32, shape (E,)
        Node indices at either end of each directed edge.
    edge_travel_time_s : ndarray of float64, shape (E,)
        Time to travel the whole edge, seconds.
    edge_length_m : ndarray of float64, shape (E,)
        Length of the edge, metres.
    edge_geometry_m, edge_geometry_lonlat : ndarray of LineString, shape (E,)
        Edge shape from source to target, in ``metric_crs`` and in EPSG:4326.
    edge_name, edge_highway : tuple of (str or None)
        Street name and OSM ``highway`` class; multiple values joined with ``;``.
    edge_twin : ndarray of int32, shape (E,)
        The opposite-direction edge on the same street segment, -1 for one-way edges.
    metric_crs : str
        Projected CRS of the ``_m`` arrays, e.g. ``"EPSG:32748"``.
    node_db_id, edge_db_id : ndarray of int64 or None
        Primary keys of the rows the graph was loaded from, when it came from the database.
    """

    node_xy_m: np.ndarray
    node_lonlat: np.ndarray
    node_osm_id: np.ndarray
    edge_source: np.ndarray
    edge_target: np.ndarray
    edge_travel_time_s: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry_m: np.ndarray
    edge_geometry_lonlat: np.ndarray
    edge_name: tuple[str | None, ...]
    edge_highway: tuple[str | None, ...]
    edge_twin: np.ndarray
    metric_crs: str
    node_db_id: np.ndarray | None = None
    edge_db_id: np.ndarray | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes N."""
        return len(self.node_xy_m)

    @property
    def n_edges(self) -> int:
        """Number of directed edges E."""
        return len(self.edge_source)


@dataclass(frozen=True, eq=False)
class Adjacency:
    """CSR adjacency keeping, for each ordered node pair, only the fastest parallel edge.

    ``indices[indptr[i]:indptr[i + 1]]`` are the (sorted) neighbours of node ``i``; ``time_s``,
    ``length_m`` and ``edge`` describe the chosen edge of each entry. Self-loops are left out: they
    never shorten a path.
    """

    indptr: np.ndarray
    indices: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray
    edge: np.ndarray


def min_time_adjacency(graph: RoadGraph, *, reverse: bool = False) -> Adjacency:
    """Build the search adjacency of ``graph``, forward or reversed.

    Parameters
    ----------
    graph : RoadGraph
        The network.
    reverse : bool
        If true, entry ``i -> j`` stands for the graph edge ``j -> i`` (for searches towards a
        destination).

    Returns
    -------
    Adjacency
        One entry per ordered node pair, holding the parallel edge with the least travel time.
        A plain ``scipy.sparse.csr_matrix((w, (i, j)))`` would sum parallel edges instead.
    """
    keep = np.flatnonzero(graph.edge_source != graph.edge_target)
    rows, cols = graph.edge_source[keep], graph.edge_target[keep]
    if reverse:
        rows, cols = cols, rows
    time_s = graph.edge_travel_time_s[keep]
    order = np.lexsort((time_s, cols, rows))  # stable: equal times keep the lower edge index
    rows, cols, edge = rows[order], cols[order], keep[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, edge = rows[first], cols[first], edge[first]
    indptr = np.zeros(graph.n_nodes + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=graph.n_nodes), out=indptr[1:])
    return Adjacency(
        indptr=indptr,
        indices=cols.astype(np.int32),
        time_s=graph.edge_travel_time_s[edge].astype(np.float64),
        length_m=graph.edge_length_m[edge].astype(np.float64),
        edge=edge.astype(np.int32),
    )


def find_twins(
    edge_source: np.ndarray,
    edge_target: np.ndarray,
    edge_length_m: np.ndarray,
    edge_geometry_m: np.ndarray,
    *,
    tolerance_m: float = 0.5,
) -> np.ndarray:
    """Pair each directed edge with the opposite-direction edge of the same street segment.

    Edge ``t`` is the twin of ``e = (u -> v)`` when ``t = (v -> u)``, the lengths differ by at most
    ``tolerance_m`` and the discrete Frechet distance between ``e`` and reversed ``t`` is at most
    ``tolerance_m``. Ambiguous candidates (parallel ways) are matched greedily, closest first, so
    the relation stays one-to-one and symmetric.

    Parameters
    ----------
    edge_source, edge_target : ndarray of int, shape (E,)
        Node indices.
    edge_length_m : ndarray of float, shape (E,)
        Edge lengths, metres.
    edge_geometry_m : ndarray of LineString, shape (E,)
        Edge shapes in a metric CRS, oriented source to target.
    tolerance_m : float
        Largest length difference and shape distance still counted as the same segment, metres.

    Returns
    -------
    ndarray of int32, shape (E,)
        Twin edge index, or -1 for one-way edges.
    """
    n_edges = len(edge_source)
    twin = np.full(n_edges, -1, dtype=np.int32)
    if n_edges == 0:
        return twin
    n = int(max(edge_source.max(), edge_target.max())) + 1
    key = edge_source.astype(np.int64) * n + edge_target
    reverse_key = edge_target.astype(np.int64) * n + edge_source
    order = np.argsort(key, kind="stable")
    lo = np.searchsorted(key[order], reverse_key, side="left")
    counts = np.searchsorted(key[order], reverse_key, side="right") - lo
    e = np.repeat(np.arange(n_edges), counts)
    offsets = np.arange(len(e)) - np.repeat(np.cumsum(counts) - counts, counts)
    t = order[np.repeat(lo, counts) + offsets]
    length_diff = np.abs(edge_length_m[e] - edge_length_m[t])
    keep = (e < t) & (length_diff <= tolerance_m)
    e, t, length_diff = e[keep], t[keep], length_diff[keep]
    shape_diff = shapely.frechet_distance(edge_geometry_m[e], shapely.reverse(edge_geometry_m[t]))
    keep = shape_diff <= tolerance_m
    e, t, score = e[keep], t[keep], (shape_diff + length_diff)[keep]
    for i in np.argsort(score, kind="stable"):
        a, b = e[i], t[i]
        if twin[a] < 0 and twin[b] < 0:
            twin[a], twin[b] = b, a
    return twin


def road_graph_from_arrays(
    *,
    edge_source: Sequence[int] | np.ndarray,
    edge_target: Sequence[int] | np.ndarray,
    edge_travel_time_s: Sequence[float] | np.ndarray,
    edge_length_m: Sequence[float] | np.ndarray,
    metric_crs: str,
    node_lonlat: np.ndarray | None = None,
    node_xy_m: np.ndarray | None = None,
    edge_geometry_lonlat: Sequence[shapely.LineString] | np.ndarray | None = None,
    edge_geometry_m: Sequence[shapely.LineString] | np.ndarray | None = None,
    edge_name: Sequence[str | None] | None = None,
    edge_highway: Sequence[str | None] | None = None,
    node_osm_id: Sequence[int] | np.ndarray | None = None,
    node_db_id: Sequence[int] | np.ndarray | None = None,
    edge_db_id: Sequence[int] | np.ndarray | None = None,
    reorder_nodes: bool = True,
    twin_tolerance_m: float = 0.5,
    endpoint_tolerance_m: float = 1.0,
) -> RoadGraph:
    """Build a :class:`RoadGraph` from plain arrays.

    Parameters
    ----------
    edge_source, edge_target : sequence of int, shape (E,)
        Node indices (positions in the node arrays as given) of each directed edge.
    edge_travel_time_s, edge_length_m : sequence of float, shape (E,)
        Finite, non-negative travel time (seconds) and length (metres) of each edge.
    metric_crs : str
        A projected CRS with metre units covering the region, e.g. ``"EPSG:32748"``.
    node_lonlat, node_xy_m : ndarray, shape (N, 2), optional
        Node positions in EPSG:4326 or in ``metric_crs``; give exactly one.
    edge_geometry_lonlat, edge_geometry_m : sequence of LineString, optional
        Edge shapes oriented source to target, in EPSG:4326 or ``metric_crs``; at most one. Straight
        lines between the end nodes when both are missing.
    edge_name, edge_highway : sequence of str or None, optional
        Street names and highway classes.
    node_osm_id, node_db_id, edge_db_id : sequence of int, optional
        Identifiers carried through unchanged (node ones follow the node reordering).
    reorder_nodes : bool
        Renumber nodes along a Morton (Z-order) curve of their metric position, so that nodes near
        each other on the ground sit near each other in memory.
    twin_tolerance_m : float
        Tolerance of :func:`find_twins`, metres.
    endpoint_tolerance_m : float
        Largest allowed gap between an edge geometry's ends and its nodes, metres.

    Returns
    -------
    RoadGraph
        Edges keep the input order; nodes are renumbered when ``reorder_nodes`` is true.

    Raises
    ------
    ValueError
        When arrays disagree in length, a value is out of range, the CRS is not projected, or an
        edge geometry does not run from its source node to its target node.
    """
    if not CRS.from_user_input(metric_crs).is_projected:
        raise ValueError(f"metric_crs {metric_crs!r} is not a projected CRS; distances need metres")
    xy_m, lonlat = _node_positions(node_lonlat, node_xy_m, metric_crs)
    n = len(xy_m)
    src = _int_array(edge_source, "edge_source")
    tgt = _int_array(edge_target, "edge_target")
    n_edges = len(src)
    time_s = _float_array(edge_travel_time_s, "edge_travel_time_s", n_edges)
    length_m = _float_array(edge_length_m, "edge_length_m", n_edges)
    if len(tgt) != n_edges:
        raise ValueError("edge_source and edge_target differ in length")
    if n_edges and (min(src.min(), tgt.min()) < 0 or max(src.max(), tgt.max()) >= n):
        raise ValueError(f"edge_source/edge_target must be node indices in [0, {n})")
    geom_m, geom_lonlat = _edge_geometries(edge_geometry_lonlat, edge_geometry_m, xy_m, src, tgt, metric_crs)
    _check_endpoints(geom_m, xy_m[src], xy_m[tgt], endpoint_tolerance_m)
    osm_id = _optional_ids(node_osm_id, n, "node_osm_id")
    osm_id = np.full(n, -1, dtype=np.int64) if osm_id is None else osm_id
    node_db = _optional_ids(node_db_id, n, "node_db_id")
    if reorder_nodes and n:
        order = morton_order(xy_m)
        new_of_old = np.empty(n, dtype=np.int64)
        new_of_old[order] = np.arange(n)
        xy_m, lonlat, osm_id = xy_m[order], lonlat[order], osm_id[order]
        node_db = None if node_db is None else node_db[order]
        src, tgt = new_of_old[src], new_of_old[tgt]
    twin = find_twins(src, tgt, length_m, geom_m, tolerance_m=twin_tolerance_m)
    graph = RoadGraph(
        node_xy_m=xy_m,
        node_lonlat=lonlat,
        node_osm_id=osm_id,
        edge_source=src.astype(np.int32),
        edge_target=tgt.astype(np.int32),
        edge_travel_time_s=time_s,
        edge_length_m=length_m,
        edge_geometry_m=geom_m,
        edge_geometry_lonlat=geom_lonlat,
        edge_name=_labels(edge_name, n_edges, "edge_name"),
        edge_highway=_labels(edge_highway, n_edges, "edge_highway"),
        edge_twin=twin,
        metric_crs=metric_crs,
        node_db_id=node_db,
        edge_db_id=_optional_ids(edge_db_id, n_edges, "edge_db_id"),
    )
    for value in vars(graph).values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return graph


def road_graph_from_networkx(
    graph: Any, *, metric_crs: str, reorder_nodes: bool = True, twin_tolerance_m: float = 0.5
) -> RoadGraph:
    """Build a :class:`RoadGraph` from an osmnx-style ``networkx.MultiDiGraph``.

    Parameters
    ----------
    graph : networkx.MultiDiGraph
        Unprojected graph: nodes carry ``x`` (lon) and ``y`` (lat); edges carry ``travel_time_s`` or
        ``travel_time`` (seconds), ``length_m`` or ``length`` (metres), and optionally ``geometry``
        (LineString in EPSG:4326, or its WKT), ``name`` and ``highway`` (str or list of str).
    metric_crs : str
        Projected CRS for measurements, e.g. ``"EPSG:32748"`` for Kota Jambi.
    reorder_nodes, twin_tolerance_m
        As in :func:`road_graph_from_arrays`.

    Returns
    -------
    RoadGraph
        Edge ``i`` is the ``i``-th edge of ``graph.edges(keys=True)``; ``node_osm_id`` holds the
        networkx node keys (-1 where a key is not an integer).

    Raises
    ------
    ValueError
        When the graph is projected, or an edge lacks a travel time or a length.
    """
    crs = graph.graph.get("crs")
    if crs is not None and not CRS.from_user_input(crs).equals(CRS.from_epsg(4326)):
        raise ValueError(f"graph is in {crs}; pass the unprojected (EPSG:4326) graph")
    keys = list(graph.nodes)
    index = {key: i for i, key in enumerate(keys)}
    lonlat = np.array([(graph.nodes[k]["x"], graph.nodes[k]["y"]) for k in keys], dtype=np.float64)
    edges = list(graph.edges(keys=True, data=True))
    src = np.array([index[u] for u, _, _, _ in edges], dtype=np.int64)
    tgt = np.array([index[v] for _, v, _, _ in edges], dtype=np.int64)
    time_s = [_edge_number(d, ("travel_time_s", "travel_time"), (u, v, k)) for u, v, k, d in edges]
    length_m = [_edge_number(d, ("length_m", "length"), (u, v, k)) for u, v, k, d in edges]
    geometry = np.array([_edge_geometry(d.get("geometry")) for *_, d in edges], dtype=object)
    straight = np.flatnonzero(shapely.is_missing(geometry))
    if len(straight):
        geometry[straight] = shapely.linestrings(np.stack([lonlat[src[straight]], lonlat[tgt[straight]]], 1))
    return road_graph_from_arrays(
        edge_source=src,
        edge_target=tgt,
        edge_travel_time_s=time_s,
        edge_length_m=length_m,
        metric_crs=metric_crs,
        node_lonlat=lonlat,
        edge_geometry_lonlat=geometry,
        edge_name=[_join(d.get("name"), _NAME_SEP) for *_, d in edges],
        edge_highway=[_join(d.get("highway"), _HIGHWAY_SEP) for *_, d in edges],
        node_osm_id=[int(k) if isinstance(k, int | np.integer) else -1 for k in keys],
        reorder_nodes=reorder_nodes,
        twin_tolerance_m=twin_tolerance_m,
    )


def road_graph_with_times(graph: RoadGraph, edge_travel_time_s: np.ndarray) -> RoadGraph:
    """The same graph (arrays shared, read-only) with other edge travel times, seconds, shape (E,).

    Raises
    ------
    ValueError
        The times are not one finite, non-negative value per edge.
    """
    time_s = np.array(edge_travel_time_s, dtype=np.float64)
    if time_s.shape != (graph.n_edges,) or not (np.isfinite(time_s) & (time_s >= 0)).all():
        raise ValueError(f"edge_travel_time_s must be {graph.n_edges} finite values >= 0")
    time_s.setflags(write=False)
    return replace(graph, edge_travel_time_s=time_s)


def morton_order(xy: np.ndarray) -> np.ndarray:
    """Order of points (shape (K, 2)) along a Z-order curve: near points end up near in the order."""
    span = np.ptp(xy, axis=0)
    scaled = (xy - xy.min(axis=0)) / np.where(span > 0, span, 1.0) * 65535.0
    q = scaled.astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    return np.argsort(spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1)), kind="stable")


def _node_positions(
    node_lonlat: np.ndarray | None, node_xy_m: np.ndarray | None, metric_crs: str
) -> tuple[np.ndarray, np.ndarray]:
    if (node_lonlat is None) == (node_xy_m is None):
        raise ValueError("give exactly one of node_lonlat and node_xy_m")
    given = np.array(node_lonlat if node_xy_m is None else node_xy_m, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(given).all():
        raise ValueError("node coordinates must be finite")
    forward = transformer_to_metric(metric_crs) if node_xy_m is None else transformer_to_lonlat(metric_crs)
    other = np.column_stack(forward.transform(given[:, 0], given[:, 1]))
    return (other, given) if node_xy_m is None else (given, other)


def _edge_geometries(
    lonlat: Any, metric: Any, xy_m: np.ndarray, src: np.ndarray, tgt: np.ndarray, metric_crs: str
) -> tuple[np.ndarray, np.ndarray]:
    if lonlat is not None and metric is not None:
        raise ValueError("give at most one of edge_geometry_lonlat and edge_geometry_m")
    if lonlat is None and metric is None:
        metric = shapely.linestrings(np.stack([xy_m[src], xy_m[tgt]], axis=1)) if len(src) else []
    given = np.asarray(metric if lonlat is None else lonlat, dtype=object).reshape(-1)
    if len(given) != len(src):
        raise ValueError(f"{len(given)} edge geometries for {len(src)} edges")
    if len(given) and not (shapely.get_type_id(given) == shapely.GeometryType.LINESTRING).all():
        raise ValueError("every edge geometry must be a non-missing LineString")
    if lonlat is None:
        return given, transform_geometries(given, transformer_to_lonlat(metric_crs))
    return transform_geometries(given, transformer_to_metric(metric_crs)), given


def _check_endpoints(geom_m: np.ndarray, start: np.ndarray, end: np.ndarray, tolerance_m: float) -> None:
    if not len(geom_m):
        return
    first = shapely.get_coordinates(shapely.get_point(geom_m, 0))
    last = shapely.get_coordinates(shapely.get_point(geom_m, -1))
    gap = np.maximum(np.hypot(*(first - start).T), np.hypot(*(last - end).T))
    bad = np.flatnonzero(gap > tolerance_m)
    if len(bad):
        raise ValueError(
            f"{len(bad)} edge geometries do not run from source to target node (first: edge {bad[0]}, "
            f"{gap[bad[0]]:.1f} m off); is the geometry reversed?"
        )


def _int_array(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-d integer array")
    return array.astype(np.int64)


def _float_array(values: Any, name: str, size: int) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if len(array) != size:
        raise ValueError(f"{name} has {len(array)} values for {size} edges")
    if not (np.isfinite(array) & (array >= 0)).all():
        raise ValueError(f"{name} must be finite and non-negative")
    return array


def _optional_ids(values: Any, size: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.int64).reshape(-1)
    if len(array) != size:
        raise ValueError(f"{name} has {len(array)} values, expected {size}")
    return array


def _labels(values: Sequence[str | None] | None, size: int, name: str) -> tuple[str | None, ...]:
    if values is None:
        return (None,) * size
    labels = tuple(str(v) if v not in (None, "") else None for v in values)
    if len(labels) != size:
        raise ValueError(f"{name} has {len(labels)} values, expected {size}")
    return labels


def _edge_number(data: dict[str, Any], names: tuple[str, str], edge: tuple[Any, Any, Any]) -> float:
    for name in names:
        if data.get(name) is not None:
            return float(data[name])
    raise ValueError(f"edge {edge} has neither {names[0]!r} nor {names[1]!r}")


def _edge_geometry(value: Any) -> Any:
    return shapely.from_wkt(value) if isinstance(value, str) else value


def _join(value: Any, sep: str) -> str | None:
    if isinstance(value, list | tuple):
        parts = [str(v) for v in dict.fromkeys(value) if v not in (None, "")]
        return sep.join(parts) or None
    return None if value in (None, "") else str(value)
