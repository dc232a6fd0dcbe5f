"""A :class:`~gis_core.routing.engine.RoutingEngine` on ``scipy.sparse.csgraph.dijkstra``.

How a query runs
----------------
Both search matrices (forward, and reversed for searches towards a destination) carry one extra
virtual node, index N, whose row holds two reserved slots. A query writes the point's two ways onto
the network into those slots and searches from N; explicit zero weights stay edges in csgraph, so a
point lying exactly on a node still works. A point on directed edge ``e = (u -> v)`` at fraction
``f`` leaves via ``v`` at ``(1 - f) * time[e]`` and, when the twin ``t = (v -> u)`` exists, via ``u``
at ``f * time[t]``; a destination is entered symmetrically, and two points on the same street
segment also get the direct along-edge time. Path lengths come from the predecessor tree by pointer
jumping, so no Python loop walks the graph per query.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.ops import substring

from gis_core.routing.engine import Isochrone, PointLike, Route, Snap, TravelTime
from gis_core.routing.errors import (
    InvalidPointError,
    NoRouteError,
    OutsideNetworkError,
    RoutingError,
    TooManyPointsError,
)
from gis_core.routing.graph import (
    Adjacency,
    RoadGraph,
    min_time_adjacency,
    transform_geometries,
    transformer_to_lonlat,
    transformer_to_metric,
)

logger = logging.getLogger(__name__)

# Whole-array pointer-jumping rounds before the targets climb alone (2**4 = 16 nodes per step):
# about the cheapest mix for city graphs of 20,000 to 100,000 nodes.
_FULL_JUMP_ROUNDS = 4


@dataclass(frozen=True, eq=False)
class _Points:
    """A batch of snapped points as arrays (the hot path never builds :class:`Snap` objects)."""

    lonlat: np.ndarray  # (K, 2)
    edge: np.ndarray  # (K,) edge index
    fraction: np.ndarray  # (K,)
    offset_m: np.ndarray  # (K,)
    inside: np.ndarray  # (K,) bool: offset_m <= max_access_m

    def take(self, index: np.ndarray | slice) -> _Points:
        return _Points(*(a[index] for a in (self.lonlat, self.edge, self.fraction, self.offset_m, self.inside)))


@dataclass(frozen=True, eq=False)
class _Links:
    """The two ways between each point and the network: node, time, length; shape (K, 2) each."""

    node: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray


@dataclass(frozen=True, eq=False)
class _Search:
    """Result of one search from the virtual node N."""

    dist_s: np.ndarray
    pred: np.ndarray
    slots: _Links  # the slots written for this search, shape (1, 2)
    reverse: bool


class CsgraphEngine:
    """Routing on a :class:`RoadGraph` with scipy's Dijkstra and a shapely STRtree for snapping.

    Parameters
    ----------
    graph : RoadGraph
        The network; must have at least one edge.
    access_speed_kph : float
        Speed on the straight off-network leg between a point and its road, km/h.
    max_access_m : float
        Points farther than this from every road are outside the network, metres.
    isochrone_buffer_m : float
        Half-width of the band drawn around reachable road pieces in isochrones, metres.
    max_batch_points : int
        Largest number of points accepted on one side of a batch call.

    Notes
    -----
    Safe to share between threads: the reserved slots and the search run under one lock; snapping
    and assembling results do not need it.
    """

    def __init__(
        self,
        graph: RoadGraph,
        *,
        access_speed_kph: float = 15.0,
        max_access_m: float = 3000.0,
        isochrone_buffer_m: float = 100.0,
        max_batch_points: int = 10_000,
    ):
        if graph.n_edges == 0:
            raise ValueError("the road graph has no edges")
        if not access_speed_kph > 0 or not max_access_m >= 0 or not isochrone_buffer_m > 0:
            raise ValueError("access_speed_kph and isochrone_buffer_m must be > 0, max_access_m >= 0")
        self.graph = graph
        self.access_speed_mps = access_speed_kph / 3.6
        self.max_access_m = max_access_m
        self.isochrone_buffer_m = isochrone_buffer_m
        self.max_batch_points = max_batch_points
        self._n = graph.n_nodes
        self._src = graph.edge_source.astype(np.intp)
        self._tgt = graph.edge_target.astype(np.intp)
        self._time_s = graph.edge_travel_time_s
        self._length_m = graph.edge_length_m
        self._has_twin = graph.edge_twin >= 0
        self._twin = np.where(self._has_twin, graph.edge_twin, np.arange(graph.n_edges)).astype(np.intp)
        self._geom_m = graph.edge_geometry_m
        # One tree entry per street segment: a twin pair shares one geometry.
        self._tree_edge = np.flatnonzero(~self._has_twin | (np.arange(graph.n_edges) < graph.edge_twin))
        self._tree = shapely.STRtree(self._geom_m[self._tree_edge], node_capacity=2)  # faster queries
        self._to_metric = transformer_to_metric(graph.metric_crs)
        self._to_lonlat = transformer_to_lonlat(graph.metric_crs)
        self._fwd = min_time_adjacency(graph)
        self._rev = min_time_adjacency(graph, reverse=True)
        self._fwd_csr = self._with_virtual_row(self._fwd, 2)
        self._rev_csr = self._with_virtual_row(self._rev, 2)
        # In-neighbour tables for path lengths: a forward search's tree edge p -> x is entry x -> p
        # of the reversed adjacency, and the other way round.
        self._fwd_in = _padded(self._rev)
        self._rev_in = _padded(self._fwd)
        self._lock = threading.Lock()

    @property
    def node_lonlat(self) -> np.ndarray:
        """Network node positions, shape (N, 2), EPSG:4326."""
        return self.graph.node_lonlat

    # ----------------------------------------------------------------- snapping

    def snap(self, points: Sequence[PointLike]) -> list[Snap]:
        """Attach points to the nearest road.

        Parameters
        ----------
        points : sequence of (lon, lat) or Snap
            Points in EPSG:4326.

        Returns
        -------
        list of Snap
            One per point, in input order.

        Raises
        ------
        InvalidPointError
            A coordinate is not finite or out of range.
        OutsideNetworkError
            A point is farther than ``max_access_m`` from every road (the first such point).
        """
        batch = self._resolve(points)
        self._raise_if_outside(batch)
        return self._snaps(batch)

    def try_snap(self, points: Sequence[PointLike]) -> list[Snap | RoutingError]:
        """Attach points to the nearest road, putting the error in place of each failed point.

        Parameters
        ----------
        points : sequence of (lon, lat) or Snap
            Points in EPSG:4326.

        Returns
        -------
        list of Snap or RoutingError
            ``InvalidPointError`` for a bad coordinate, ``OutsideNetworkError`` for a point too far
            from every road, a :class:`Snap` otherwise.
        """
        lonlat = _as_lonlat(points)
        valid = _valid_lonlat(lonlat)
        out: list[Snap | RoutingError] = [_invalid(lonlat, i) for i in range(len(lonlat))]
        batch = self._resolve([points[i] for i in np.flatnonzero(valid)])
        snaps = self._snaps(batch)
        for j, i in enumerate(np.flatnonzero(valid).tolist()):
            out[i] = snaps[j] if batch.inside[j] else self._outside_error(batch, j, label=f"point #{i}", index=i)
        return out

    def _resolve(self, points: Sequence[PointLike]) -> _Points:
        if len(points) > self.max_batch_points:
            raise TooManyPointsError(f"{len(points)} points in one call; the limit is {self.max_batch_points}")
        lonlat = _as_lonlat(points)
        bad = np.flatnonzero(~_valid_lonlat(lonlat))
        if len(bad):
            raise _invalid(lonlat, int(bad[0]))
        given = [i for i, p in enumerate(points) if isinstance(p, Snap)]
        fresh = np.setdiff1d(np.arange(len(points)), given) if given else slice(None)
        edge = np.zeros(len(points), dtype=np.intp)
        fraction, offset_m = np.zeros(len(points)), np.zeros(len(points))
        edge[fresh], fraction[fresh], offset_m[fresh] = self._snap_arrays(lonlat[fresh])
        for i in given:  # trust a snap made earlier rather than snapping again
            p = points[i]
            if not 0 <= p.edge_index < self.graph.n_edges:
                raise InvalidPointError(f"point #{i} is a Snap from another graph")
            edge[i], fraction[i], offset_m[i] = p.edge_index, p.fraction, p.offset_m
        return _Points(lonlat, edge, fraction, offset_m, offset_m <= self.max_access_m)

    def _snap_arrays(self, lonlat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not len(lonlat):
            return np.empty(0, dtype=np.intp), np.empty(0), np.empty(0)
        x, y = self._to_metric.transform(lonlat[:, 0], lonlat[:, 1])
        pts = shapely.points(x, y)
        (which, nearest), distance = self._tree.query_nearest(pts, return_distance=True, all_matches=False)
        edge = np.empty(len(pts), dtype=np.intp)
        offset_m = np.empty(len(pts))
        edge[which], offset_m[which] = self._tree_edge[nearest], distance
        fraction = np.nan_to_num(shapely.line_locate_point(self._geom_m[edge], pts, normalized=True))
        return edge, np.clip(fraction, 0.0, 1.0), offset_m

    def _snaps(self, batch: _Points) -> list[Snap]:
        on_edge = shapely.line_interpolate_point(self._geom_m[batch.edge], batch.fraction, normalized=True)
        xy = shapely.get_coordinates(on_edge)
        lon, lat = self._to_lonlat.transform(xy[:, 0], xy[:, 1])
        access_s = batch.offset_m / self.access_speed_mps
        return [
            Snap(float(p[0]), float(p[1]), int(e), float(f), float(o), float(a), float(x), float(y))
            for p, e, f, o, a, x, y in zip(
                batch.lonlat, batch.edge, batch.fraction, batch.offset_m, access_s, lon, lat, strict=True
            )
        ]

    def _outside_error(self, batch: _Points, j: int, *, label: str, index: int | None) -> OutsideNetworkError:
        lon, lat = batch.lonlat[j].tolist()
        offset_m = float(batch.offset_m[j])
        return OutsideNetworkError(
            label=label, index=index, lon=lon, lat=lat, offset_m=offset_m, max_access_m=self.max_access_m
        )

    def _raise_if_outside(self, batch: _Points, *, label: str | None = None) -> None:
        """Raise for the first point too far from any road, named ``label`` or by its position."""
        outside = np.flatnonzero(~batch.inside)
        if len(outside):
            j = int(outside[0])
            raise self._outside_error(batch, j, label=label or f"point #{j}", index=None if label else j)

    def _warn_outside(self, batch: _Points) -> None:
        outside = np.flatnonzero(~batch.inside)
        if len(outside):
            logger.warning(
                "%d points farther than %.0f m from any road are reported unreachable (first: #%d at %s)",
                len(outside),
                self.max_access_m,
                outside[0],
                _describe(batch.lonlat[outside[0]]),
            )

    def _resolve_one(self, point: PointLike, *, label: str) -> _Points:
        batch = self._resolve([point])
        self._raise_if_outside(batch, label=label)
        return batch

    # ----------------------------------------------------------------- links and search

    def _exits(self, p: _Points) -> _Links:
        # Without a twin the way back to u is closed, except for a point lying exactly on u.
        e, f, t, h = p.edge, p.fraction, self._twin[p.edge], self._has_twin[p.edge]
        back_s = np.where(h, f * self._time_s[t], np.where(f == 0.0, 0.0, np.inf))
        return _Links(
            node=np.stack([self._tgt[e], self._src[e]], axis=1),
            time_s=np.stack([(1 - f) * self._time_s[e], back_s], axis=1),
            length_m=np.stack([(1 - f) * self._length_m[e], np.where(h, f * self._length_m[t], 0.0)], axis=1),
        )

    def _entries(self, p: _Points) -> _Links:
        # Without a twin the point is reached from v only when it lies exactly on v.
        e, f, t, h = p.edge, p.fraction, self._twin[p.edge], self._has_twin[p.edge]
        back_s = np.where(h, (1 - f) * self._time_s[t], np.where(f == 1.0, 0.0, np.inf))
        return _Links(
            node=np.stack([self._src[e], self._tgt[e]], axis=1),
            time_s=np.stack([f * self._time_s[e], back_s], axis=1),
            length_m=np.stack([f * self._length_m[e], np.where(h, (1 - f) * self._length_m[t], 0.0)], axis=1),
        )

    def _direct(self, origin: _Points, destination: _Points) -> tuple[np.ndarray, np.ndarray]:
        """Along-edge time and length between points on the same street segment (broadcasting)."""
        e, f = origin.edge, origin.fraction
        t, h = self._twin[e], self._has_twin[e]
        same = destination.edge == e
        on_twin = h & (destination.edge == t) & ~same
        g = np.where(same, destination.fraction, 1.0 - destination.fraction)  # measured along e
        ahead = (same | on_twin) & (g >= f)
        behind = on_twin | (same & h)
        behind &= f >= g
        time_ahead = np.where(ahead, (g - f) * self._time_s[e], np.inf)
        time_behind = np.where(behind, (f - g) * self._time_s[t], np.inf)
        use_twin = time_behind < time_ahead
        time_s = np.where(use_twin, time_behind, time_ahead)
        length_m = np.where(use_twin, (f - g) * self._length_m[t], (g - f) * self._length_m[e])
        return time_s, length_m

    @staticmethod
    def _with_virtual_row(adj: Adjacency, n_slots: int) -> csr_matrix:
        n = len(adj.indptr) - 1
        indptr = np.append(adj.indptr, adj.indptr[-1] + n_slots).astype(np.int32)
        indices = np.append(adj.indices, np.full(n_slots, n)).astype(np.int32)  # idle slot: self-loop
        data = np.append(adj.time_s, np.zeros(n_slots))
        return csr_matrix((data, indices, indptr), shape=(n + 1, n + 1), copy=False)

    def _search(self, slots: _Links, *, reverse: bool, limit_s: float) -> _Search:
        matrix = self._rev_csr if reverse else self._fwd_csr
        node = np.where(np.isfinite(slots.time_s[0]), slots.node[0], self._n)
        weight = np.where(np.isfinite(slots.time_s[0]), slots.time_s[0], 0.0)
        with self._lock:
            matrix.indices[-2:] = node
            matrix.data[-2:] = weight
            dist_s, pred = dijkstra(matrix, indices=self._n, return_predecessors=True, limit=limit_s)
        return _Search(dist_s, pred, slots, reverse)

    def _tree_lengths(self, search: _Search, targets: np.ndarray) -> np.ndarray:
        """Network length from the virtual node to each target node along the search tree, metres."""
        n, pred = self._n, search.pred
        nbr, nbr_len = self._rev_in if search.reverse else self._fwd_in
        reached = pred >= 0
        p = np.where(reached, pred, np.arange(n + 1))
        acc = np.zeros(n + 1)
        # Each node has at most one entry per neighbour, so at most one column matches.
        np.sum((nbr == pred[:n]) * nbr_len, axis=0, out=acc[:n])
        slots = search.slots
        for k in np.argsort(-slots.time_s[0]):  # the faster slot wins when both reach one node
            if np.isfinite(slots.time_s[0, k]) and pred[slots.node[0, k]] == n:
                acc[slots.node[0, k]] = slots.length_m[0, k]
        acc[~reached] = 0.0
        # Pointer jumping: acc[x] is the length from p[x] to x. A few whole-array rounds make p[x]
        # the 16th ancestor; then only the targets climb, 16 steps at a time, to the root.
        for _ in range(_FULL_JUMP_ROUNDS):
            parent = p[targets]
            if np.array_equal(p[parent], parent):
                return acc[targets]
            acc += acc[p]
            p = p[p]
        total, at = acc[targets], p[targets]
        while not np.array_equal(up := p[at], at):
            total += acc[at]  # roots (the virtual node, unreached nodes) carry 0
            at = up
        return total

    # ----------------------------------------------------------------- travel times

    def travel_times_to(
        self, origins: Sequence[PointLike], destination: PointLike, *, cutoff_s: float | None = None
    ) -> list[TravelTime | None]:
        """Fastest travel from each origin to one destination, with one reverse search.

        Parameters
        ----------
        origins : sequence of (lon, lat) or Snap
            Start points, EPSG:4326.
        destination : (lon, lat) or Snap
            End point, EPSG:4326.
        cutoff_s : float, optional
            Largest ``eta_s`` (access legs included) worth reporting, seconds.

        Returns
        -------
        list of TravelTime or None
            In origin order; ``None`` for an origin that cannot reach the destination, is beyond
            ``cutoff_s``, or lies farther than ``max_access_m`` from every road.

        Raises
        ------
        InvalidPointError, OutsideNetworkError, TooManyPointsError
            Bad coordinates anywhere; the destination too far from every road; too many origins.
        """
        batch = self._resolve([*origins, destination])
        target = batch.take(slice(-1, None))
        self._raise_if_outside(target, label="destination")
        many = batch.take(slice(0, -1))
        self._warn_outside(many)
        return self._one_to_many(target, many, reverse=True, cutoff_s=cutoff_s)

    def travel_times_from(
        self, origin: PointLike, destinations: Sequence[PointLike], *, cutoff_s: float | None = None
    ) -> list[TravelTime | None]:
        """Fastest travel from one origin to each destination, with one forward search.

        Parameters and returns mirror :meth:`travel_times_to`, with origin and destinations swapped.
        """
        batch = self._resolve([origin, *destinations])
        source = batch.take(slice(0, 1))
        self._raise_if_outside(source, label="origin")
        many = batch.take(slice(1, None))
        self._warn_outside(many)
        return self._one_to_many(source, many, reverse=False, cutoff_s=cutoff_s)

    def matrix(
        self,
        origins: Sequence[PointLike],
        destinations: Sequence[PointLike],
        *,
        cutoff_s: float | None = None,
    ) -> list[list[TravelTime | None]]:
        """Fastest travel for every origin (rows) and destination (columns).

        Runs one search per point of the smaller side. Points too far from every road give a row
        or column of ``None``.

        Parameters
        ----------
        origins, destinations : sequence of (lon, lat) or Snap
            Points in EPSG:4326.
        cutoff_s : float, optional
            Largest ``eta_s`` worth reporting, seconds.

        Returns
        -------
        list of list of TravelTime or None
            ``result[i][j]`` is from ``origins[i]`` to ``destinations[j]``.
        """
        rows, cols = self._resolve(origins), self._resolve(destinations)
        by_origin = len(origins) <= len(destinations)
        singles, many = (rows, cols) if by_origin else (cols, rows)
        self._warn_outside(rows)
        self._warn_outside(cols)
        lines = [
            self._one_to_many(singles.take(slice(i, i + 1)), many, reverse=not by_origin, cutoff_s=cutoff_s)
            if singles.inside[i]
            else [None] * len(many.edge)
            for i in range(len(singles.edge))
        ]
        if by_origin:
            return lines
        return [[line[i] for line in lines] for i in range(len(origins))]

    def _one_to_many(
        self, single: _Points, many: _Points, *, reverse: bool, cutoff_s: float | None
    ) -> list[TravelTime | None]:
        if cutoff_s is not None and not cutoff_s >= 0:
            raise ValueError(f"cutoff_s must be >= 0, got {cutoff_s}")
        single_access_s = float(single.offset_m[0]) / self.access_speed_mps
        limit_s = np.inf if cutoff_s is None else cutoff_s - single_access_s
        if len(many.edge) == 0:
            return []
        if limit_s < 0:
            return [None] * len(many.edge)
        slots = self._entries(single) if reverse else self._exits(single)
        links = self._exits(many) if reverse else self._entries(many)
        search = self._search(slots, reverse=reverse, limit_s=limit_s)
        via_s = links.time_s + search.dist_s[links.node]
        k = np.argmin(via_s, axis=1)
        rows = np.arange(len(k))
        network_s = via_s[rows, k]
        direct_s, direct_m = self._direct(many, single) if reverse else self._direct(single, many)
        use_direct = direct_s <= network_s
        network_s = np.where(use_direct, direct_s, network_s)
        access_m = many.offset_m + single.offset_m[0]
        access_s = access_m / self.access_speed_mps
        eta_s = network_s + access_s
        ok = many.inside & np.isfinite(eta_s)
        unreachable = np.flatnonzero(many.inside & ~ok)
        if cutoff_s is None and len(unreachable):
            logger.info("no route for %d of %d pairs (points %s)", len(unreachable), len(ok), unreachable[:10])
        if cutoff_s is not None:
            ok &= eta_s <= cutoff_s
        distance_m = direct_m.copy()
        tree = np.flatnonzero(ok & ~use_direct)
        if len(tree):
            distance_m[tree] = links.length_m[tree, k[tree]] + self._tree_lengths(search, links.node[tree, k[tree]])
        return [
            TravelTime(float(eta), float(net), float(acc_s), float(dist), float(acc_m)) if good else None
            for good, eta, net, acc_s, dist, acc_m in zip(
                ok.tolist(), eta_s, network_s, access_s, distance_m, access_m, strict=True
            )
        ]

    # ----------------------------------------------------------------- multi-source times

    def node_times_from_sources(self, sources: Sequence[PointLike], *, cutoff_s: float | None = None) -> np.ndarray:
        """Time from the nearest source to every node, with one multi-source search.

        Parameters
        ----------
        sources : sequence of (lon, lat) or Snap
            Start points (stations), EPSG:4326; each must lie within ``max_access_m`` of a road.
        cutoff_s : float, optional
            Stop the search at this time, seconds.

        Returns
        -------
        ndarray of float64, shape (N,)
            Seconds from the nearest source (its access leg included) to each node, in the order of
            ``node_lonlat``; ``inf`` where no source reaches within ``cutoff_s``.
        """
        if cutoff_s is not None and not cutoff_s >= 0:
            raise ValueError(f"cutoff_s must be >= 0, got {cutoff_s}")
        batch = self._resolve(sources)
        self._raise_if_outside(batch)
        if len(batch.edge) == 0:
            return np.full(self._n, np.inf)
        exits = self._exits(batch)
        time_s = (exits.time_s + (batch.offset_m / self.access_speed_mps)[:, None]).ravel()
        usable = np.isfinite(time_s)
        n_slots = int(usable.sum())
        matrix = self._with_virtual_row(self._fwd, n_slots)
        matrix.indices[-n_slots:] = exits.node.ravel()[usable]
        matrix.data[-n_slots:] = time_s[usable]
        limit_s = np.inf if cutoff_s is None else cutoff_s
        return dijkstra(matrix, indices=self._n, limit=limit_s)[: self._n]

    # ----------------------------------------------------------------- route

    def route(self, origin: PointLike, destination: PointLike, *, with_access_legs: bool = True) -> Route:
        """The fastest path between two points, with its geometry.

        Parameters
        ----------
        origin, destination : (lon, lat) or Snap
            EPSG:4326.
        with_access_legs : bool
            Include the straight legs from each point to its road in ``geometry_lonlat``.

        Returns
        -------
        Route

        Raises
        ------
        NoRouteError
            The destination cannot be reached from the origin.
        InvalidPointError, OutsideNetworkError
            A bad coordinate, or a point too far from every road.
        """
        src = self._resolve_one(origin, label="origin")
        dst = self._resolve_one(destination, label="destination")
        exits, entries = self._exits(src), self._entries(dst)
        search = self._search(exits, reverse=False, limit_s=np.inf)
        via_s = entries.time_s[0] + search.dist_s[entries.node[0]]
        k = int(np.argmin(via_s))
        direct_s, _ = self._direct(src, dst)
        if np.isfinite(direct_s[0]) and direct_s[0] <= via_s[k]:
            pieces = [self._direct_piece(src, dst)]
            network_s = float(direct_s[0])
        elif np.isfinite(via_s[k]):
            pieces = self._tree_pieces(search, src, dst, k)
            network_s = float(via_s[k])
        else:
            raise NoRouteError(f"no road path from {_describe(src.lonlat[0])} to {_describe(dst.lonlat[0])}")
        return self._assemble_route(pieces, src, dst, network_s, with_access_legs=with_access_legs)

    def _direct_piece(self, src: _Points, dst: _Points) -> tuple[int, float, float]:
        e, f = int(src.edge[0]), float(src.fraction[0])
        g = float(dst.fraction[0]) if dst.edge[0] == e else 1.0 - float(dst.fraction[0])
        if g >= f:
            return e, f, g
        return int(self._twin[e]), 1.0 - f, 1.0 - g

    def _tree_pieces(self, search: _Search, src: _Points, dst: _Points, k: int) -> list[tuple[int, float, float]]:
        """Edge pieces ``(edge, from_fraction, to_fraction)`` of the tree path into entry ``k``."""
        nodes = [int(self._entries(dst).node[0, k])]
        while search.pred[nodes[-1]] != self._n:
            nodes.append(int(search.pred[nodes[-1]]))
        nodes.reverse()
        first = self._exits(src)
        slot = min((j for j in range(2) if first.node[0, j] == nodes[0]), key=lambda j: first.time_s[0, j])
        e, f = int(src.edge[0]), float(src.fraction[0])
        pieces = [(e, f, 1.0) if slot == 0 else (int(self._twin[e]), 1.0 - f, 1.0)]
        if slot == 1 and not self._has_twin[e]:  # the point lies on u: nothing to travel
            pieces = []
        adj = self._fwd
        for a, b in itertools.pairwise(nodes):
            at = adj.indptr[a] + int(np.searchsorted(adj.indices[adj.indptr[a] : adj.indptr[a + 1]], b))
            pieces.append((int(adj.edge[at]), 0.0, 1.0))
        e, g = int(dst.edge[0]), float(dst.fraction[0])
        if k == 0 or self._has_twin[e]:  # else the point lies on v: nothing to travel
            pieces.append((e, 0.0, g) if k == 0 else (int(self._twin[e]), 0.0, 1.0 - g))
        return pieces

    def _assemble_route(
        self,
        pieces: list[tuple[int, float, float]],
        src: _Points,
        dst: _Points,
        network_s: float,
        *,
        with_access_legs: bool,
    ) -> Route:
        coords: list[np.ndarray] = []
        names: list[str] = []
        length_m = 0.0
        for e, a, b in pieces:
            if b <= a:  # a zero-length piece sits on the node where the next piece starts
                continue
            length_m += (b - a) * self._length_m[e]
            part = self._geom_m[e] if (a, b) == (0.0, 1.0) else substring(self._geom_m[e], a, b, normalized=True)
            coords.append(shapely.get_coordinates(part))
            name = self.graph.edge_name[e]
            if name is not None and (not names or names[-1] != name):
                names.append(name)
        if not coords:  # origin and destination attach at the same place
            at = shapely.line_interpolate_point(self._geom_m[src.edge[0]], src.fraction[0], normalized=True)
            coords.append(shapely.get_coordinates(at))
        xy = np.concatenate(coords)
        keep = np.ones(len(xy), dtype=bool)
        keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
        lon, lat = self._to_lonlat.transform(xy[keep, 0], xy[keep, 1])
        line = np.column_stack([lon, lat])
        if with_access_legs:  # a point on its road needs no leg
            line = np.concatenate([src.lonlat[src.offset_m > 0], line, dst.lonlat[dst.offset_m > 0]])
        if len(line) < 2:
            line = np.concatenate([line, line])
        access_m = float(src.offset_m[0] + dst.offset_m[0])
        access_s = access_m / self.access_speed_mps
        return Route(
            geometry_lonlat=shapely.LineString(line),
            length_m=float(length_m),
            travel_time_s=network_s,
            access_s=access_s,
            access_m=access_m,
            eta_s=network_s + access_s,
            street_names=tuple(names),
        )

    # ----------------------------------------------------------------- isochrones

    def isochrones(self, origin: PointLike, thresholds_s: Sequence[float]) -> list[Isochrone]:
        """Areas reachable from ``origin`` within each time budget, with one forward search.

        Parameters
        ----------
        origin : (lon, lat) or Snap
            EPSG:4326.
        thresholds_s : sequence of float
            Budgets in seconds, access leg included; each is answered in the order given.

        Returns
        -------
        list of Isochrone
            Road pieces reachable within the budget (whole edges, and the reached part of edges at
            the frontier), buffered by ``isochrone_buffer_m`` in the metric CRS.
        """
        thresholds = np.asarray(thresholds_s, dtype=np.float64).reshape(-1)
        if not (np.isfinite(thresholds) & (thresholds >= 0)).all():
            raise ValueError("thresholds_s must be finite and >= 0")
        src = self._resolve_one(origin, label="origin")
        access_s = float(src.offset_m[0]) / self.access_speed_mps
        limit_s = max(float(thresholds.max(initial=0.0)) - access_s, 0.0)
        search = self._search(self._exits(src), reverse=False, limit_s=limit_s)
        return [self._isochrone(float(t), t - access_s, search.dist_s, src) for t in thresholds]

    def _isochrone(self, threshold_s: float, budget_s: float, dist_s: np.ndarray, src: _Points) -> Isochrone:
        pieces: list[shapely.Geometry] = []
        if budget_s >= 0:
            start = self._dist_along_edges(dist_s[self._src], budget_s)
            e, f = int(src.edge[0]), float(src.fraction[0])
            pieces.append(shapely.line_interpolate_point(self._geom_m[e], f, normalized=True))
            pieces += self._pieces_from(e, f, budget_s)
            if self._has_twin[e]:
                pieces += self._pieces_from(int(self._twin[e]), 1.0 - f, budget_s)
            full = np.flatnonzero(start >= 1.0)
            # A street reached whole in both directions is drawn once.
            full = full[~self._has_twin[full] | (full < self._twin[full]) | (start[self._twin[full]] < 1.0)]
            pieces += list(self._geom_m[full])
            for i in np.flatnonzero((start > 0) & (start < 1.0)):
                pieces.append(substring(self._geom_m[i], 0.0, float(start[i]), normalized=True))
        # Buffering piece by piece and merging (cascaded union) is far faster than buffering
        # one collection of tens of thousands of lines.
        bands = shapely.buffer(np.array(pieces, dtype=object), self.isochrone_buffer_m, quad_segs=4)
        area = shapely.union_all(bands)
        if area.is_empty:
            area = shapely.Polygon()
        lonlat = transform_geometries(area, self._to_lonlat)
        return Isochrone(threshold_s=threshold_s, geometry_lonlat=lonlat, area_m2=float(area.area))

    def _dist_along_edges(self, start_dist_s: np.ndarray, budget_s: float) -> np.ndarray:
        """Fraction of each edge reached from its source node within the budget (>= 1: whole edge)."""
        remaining = budget_s - start_dist_s
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = np.where(self._time_s > 0, remaining / self._time_s, np.inf)
        return np.where(remaining >= 0, reach, 0.0)

    def _pieces_from(self, e: int, f: float, budget_s: float) -> list[shapely.Geometry]:
        time_s = self._time_s[e]
        g = 1.0 if time_s <= 0 else min(1.0, f + budget_s / time_s)
        return [substring(self._geom_m[e], f, g, normalized=True)] if g > f else []


def _padded(adj: Adjacency) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour and length tables of ``adj``, shape (degree, N): column ``i`` lists row ``i``.

    Padded with -1 / 0 up to the largest degree; transposed so a comparison per column is one
    contiguous pass.
    """
    n = len(adj.indptr) - 1
    degree = np.diff(adj.indptr)
    width = max(int(degree.max(initial=0)), 1)
    rows = np.repeat(np.arange(n), degree)
    cols = np.arange(len(adj.indices)) - adj.indptr[rows]
    nbr = np.full((n, width), -1, dtype=np.int32)
    nbr_len = np.zeros((n, width))
    nbr[rows, cols] = adj.indices
    nbr_len[rows, cols] = adj.length_m
    return np.ascontiguousarray(nbr.T), np.ascontiguousarray(nbr_len.T)


def _as_lonlat(points: Sequence[PointLike]) -> np.ndarray:
    if not points:
        return np.empty((0, 2))
    try:
        lonlat = np.array([(p.lon, p.lat) if isinstance(p, Snap) else p for p in points], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidPointError(f"points must be (lon, lat) pairs: {exc}") from exc
    if lonlat.ndim != 2 or lonlat.shape[1] != 2:
        raise InvalidPointError("points must be (lon, lat) pairs")
    return lonlat


def _describe(lonlat: np.ndarray) -> str:
    return "({:.6f}, {:.6f})".format(*lonlat.tolist())


def _invalid(lonlat: np.ndarray, i: int) -> InvalidPointError:
    return InvalidPointError(
        f"point #{i} {_describe(lonlat[i])} is not a (lon, lat) pair within [-180, 180] x [-90, 90]"
    )


def _valid_lonlat(lonlat: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(lonlat).all(axis=1) & (np.abs(lonlat[:, 0]) <= 180) & (np.abs(lonlat[:, 1]) <= 90)
