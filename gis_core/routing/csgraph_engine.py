"""A :class:`~gis_core.routing.engine.RoutingEngine` on ``scipy.sparse.csgraph.dijkstra``.

The engine wires four pure parts together: :mod:`~gis_core.routing.snapping` attaches points to
the nearest edge, :mod:`~gis_core.routing.links` turns a snapped point into its partial edges,
:mod:`~gis_core.routing.search` runs one Dijkstra from the point (through a virtual node) and
measures path lengths on the tree, and :mod:`~gis_core.routing.shapes` draws routes and
isochrones. This module turns their arrays into the interface's answers.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gis_core.crs import transformer_to_lonlat, transformer_to_metric
from gis_core.routing.bounded import LocalSearch
from gis_core.routing.distances import NetworkDistances
from gis_core.routing.engine import (
    EdgeCandidates,
    EdgeInfo,
    Isochrone,
    NetworkPath,
    PointAttachment,
    PointLike,
    Reach,
    Route,
    Snap,
    TravelTime,
)
from gis_core.routing.errors import NoRouteError, RoutingError
from gis_core.routing.graph import RoadGraph, road_graph_with_times
from gis_core.routing.links import EdgeLinks, Links, straight_leg_m
from gis_core.routing.profiles import OnFootAccess
from gis_core.routing.search import NetworkSearch, Search
from gis_core.routing.shapes import isochrone_of, route_from_pieces, straight_route, tree_pieces
from gis_core.routing.snapping import EdgeSnapper, SnappedPoints, describe, valid_lonlat
from gis_core.routing.variants import (
    edge_indices_for_db_ids,
    edges_covered_by,
    edges_near,
    road_graph_with_closures,
    road_graph_with_edge_factors,
)

logger = logging.getLogger(__name__)

# The smallest first limit of a search without cutoff that stops once every point is settled, seconds.
_FIRST_LIMIT_S = 60.0


class CsgraphEngine:
    """Routing on a :class:`RoadGraph` with scipy's Dijkstra; snapping through a segment grid and an STRtree.

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
    on_foot : OnFootAccess, optional
        For a vehicle profile that may not drive every street of the whole network (``graph`` is its
        part of it): how :meth:`reach` finds the stop and the walk for a caller on a forbidden street.
    bounded_search : bool
        Answer one-to-many times with searches on only the part of the graph they can reach
        (:mod:`~gis_core.routing.bounded`); off, every search covers the whole graph (the plain
        search, kept for comparison in tests and benchmarks). Both give the same answers.

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
        on_foot: OnFootAccess | None = None,
        bounded_search: bool = True,
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
        self.bounded_search = bounded_search
        self._snapper = EdgeSnapper(
            graph, access_speed_mps=self.access_speed_mps, max_access_m=max_access_m, max_batch_points=max_batch_points
        )
        self._links = EdgeLinks(graph)
        self._network = NetworkSearch(graph)
        self._to_lonlat = transformer_to_lonlat(graph.metric_crs)
        self.on_foot = on_foot
        self._walk_snapper = (
            None
            if on_foot is None
            else EdgeSnapper(
                on_foot.graph,
                access_speed_mps=self.access_speed_mps,
                max_access_m=max_access_m,
                max_batch_points=max_batch_points,
            )
        )
        self._to_metric = transformer_to_metric(graph.metric_crs)
        self._distances: NetworkDistances | None = None  # built on the first map-matching call

    @property
    def node_lonlat(self) -> np.ndarray:
        """Network node positions, shape (N, 2), EPSG:4326."""
        return self.graph.node_lonlat

    @property
    def edge_count(self) -> int:
        """Number of directed edges."""
        return self.graph.n_edges

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
        batch = self._snapper.resolve(points)
        self._snapper.raise_if_outside(batch)
        return self._snapper.snaps(batch)

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
        return self._snapper.try_snap(points)

    def reach(self, point: PointLike) -> Reach:
        """Where this engine's vehicle drives to for ``point``, and the walk from there.

        The point snapped to the whole network: on a street this profile may drive (or with no
        ``on_foot`` access), the vehicle drives to the point itself. Else to the nearest point it can
        reach, whichever is the shorter walk: along the streets to a junction of a road it may drive,
        or straight to the nearest such road.

        Raises
        ------
        InvalidPointError, OutsideNetworkError
            A bad coordinate; a point farther than ``max_access_m`` from every road it may drive.
        """
        [snap] = self.snap([point])
        if self.on_foot is None or self._walk_snapper is None:
            return Reach(snap)
        walk = self._walk_snapper.resolve([point])
        stop = self.on_foot.stop_for(
            edge=int(walk.edge[0]),
            fraction=float(walk.fraction[0]),
            offset_m=float(walk.offset_m[0]),
            straight_stop_lonlat=(snap.snapped_lon, snap.snapped_lat),
            straight_m=snap.offset_m,
        )
        if stop is None:
            return Reach(snap)
        [stop_snap] = self.snap([stop.lonlat])
        return Reach(stop_snap, on_foot_m=stop.on_foot_m, on_foot_s=stop.on_foot_m / self.on_foot.speed_mps)

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
        batch = self._snapper.resolve([*origins, destination])
        target = batch.take(slice(-1, None))
        self._snapper.raise_if_outside(target, label="destination")
        many = batch.take(slice(0, -1))
        self._snapper.warn_outside(many)
        return self._one_to_many(target, many, reverse=True, cutoff_s=cutoff_s)

    def travel_times_from(
        self, origin: PointLike, destinations: Sequence[PointLike], *, cutoff_s: float | None = None
    ) -> list[TravelTime | None]:
        """Fastest travel from one origin to each destination, with one forward search.

        Parameters and returns mirror :meth:`travel_times_to`, with origin and destinations swapped.
        """
        batch = self._snapper.resolve([origin, *destinations])
        source = batch.take(slice(0, 1))
        self._snapper.raise_if_outside(source, label="origin")
        many = batch.take(slice(1, None))
        self._snapper.warn_outside(many)
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
        rows, cols = self._snapper.resolve(origins), self._snapper.resolve(destinations)
        by_origin = len(origins) <= len(destinations)
        singles, many = (rows, cols) if by_origin else (cols, rows)
        self._snapper.warn_outside(rows)
        self._snapper.warn_outside(cols)
        lines: list[list[TravelTime | None]] = [
            self._one_to_many(singles.take(slice(i, i + 1)), many, reverse=not by_origin, cutoff_s=cutoff_s)
            if singles.inside[i]
            else [None] * len(many.edge)
            for i in range(len(singles.edge))
        ]
        if by_origin:
            return lines
        return [[line[i] for line in lines] for i in range(len(origins))]

    def _one_to_many(
        self, single: SnappedPoints, many: SnappedPoints, *, reverse: bool, cutoff_s: float | None
    ) -> list[TravelTime | None]:
        if cutoff_s is not None and not cutoff_s >= 0:
            raise ValueError(f"cutoff_s must be >= 0, got {cutoff_s}")
        single_access_s = float(single.offset_m[0]) / self.access_speed_mps
        limit_s = np.inf if cutoff_s is None else cutoff_s - single_access_s
        if len(many.edge) == 0:
            return []
        if limit_s < 0:
            return [None] * len(many.edge)
        slots = self._links.entries(single) if reverse else self._links.exits(single)
        links = self._links.exits(many) if reverse else self._links.entries(many)
        direct_s, direct_m = self._links.direct(many, single) if reverse else self._links.direct(single, many)
        search, via_s = self._network_times(slots, links, many, direct_s, reverse=reverse, limit_s=limit_s)
        k = np.argmin(via_s, axis=1)
        rows = np.arange(len(k))
        network_s = via_s[rows, k]
        use_direct = direct_s <= network_s
        network_s = np.where(use_direct, direct_s, network_s)
        access_m = many.offset_m + single.offset_m[0]
        access_s = access_m / self.access_speed_mps
        eta_s = network_s + access_s
        straight_m = straight_leg_m(many, single)
        straight_s = straight_m / self.access_speed_mps
        go_straight = straight_s < eta_s
        if go_straight.any():
            eta_s, access_s = np.where(go_straight, straight_s, eta_s), np.where(go_straight, straight_s, access_s)
            access_m, network_s = np.where(go_straight, straight_m, access_m), np.where(go_straight, 0.0, network_s)
        ok = many.inside & np.isfinite(eta_s)
        unreachable = np.flatnonzero(many.inside & ~ok)
        if cutoff_s is None and len(unreachable):
            logger.info("no route for %d of %d pairs (points %s)", len(unreachable), len(ok), unreachable[:10])
        if cutoff_s is not None:
            ok &= eta_s <= cutoff_s
        distance_m = np.where(go_straight, 0.0, direct_m)
        tree = np.flatnonzero(ok & ~use_direct & ~go_straight)
        if len(tree):
            targets = links.node[tree, k[tree]]
            distance_m[tree] = links.length_m[tree, k[tree]] + self._network.lengths_to(search, targets)
        columns = (eta_s.tolist(), network_s.tolist(), access_s.tolist(), distance_m.tolist(), access_m.tolist())
        return [TravelTime(*row) if good else None for good, *row in zip(ok.tolist(), *columns, strict=True)]

    def _network_times(
        self,
        slots: Links,
        links: Links,
        many: SnappedPoints,
        direct_s: np.ndarray,
        *,
        reverse: bool,
        limit_s: float,
    ) -> tuple[Search | LocalSearch, np.ndarray]:
        """The search from the single point and each many-point's time through each of its links.

        With a finite ``limit_s`` (a cutoff) one bounded search answers exactly. Without one, the
        search stops once every point is settled: it starts at twice the straight-line lower bound
        to the farthest point and widens (x2) until each point's best time is within the limit
        searched, or the search covers the whole graph. A time within the limit is exact (every
        node within it is), so the answer equals one unlimited search on the whole graph.
        """
        network = self._network
        search: Search | LocalSearch
        if not self.bounded_search:
            search = network.search(slots, reverse=reverse, limit_s=limit_s)
            return search, links.time_s + search.dist_at(links.node)
        if np.isfinite(limit_s):
            search = network.bounded_search(slots, reverse=reverse, limit_s=limit_s)
            return search, links.time_s + search.dist_at(links.node)
        xy = self.graph.node_xy_m
        starts = slots.node[0][np.isfinite(slots.time_s[0])]
        ends = links.node[many.inside].ravel()
        if len(starts) == 0 or len(ends) == 0 or not np.isfinite(network.max_speed_mps):
            search = network.search(slots, reverse=reverse, limit_s=np.inf)
            return search, links.time_s + search.dist_at(links.node)
        gap_m = np.sqrt(((xy[ends][:, None, :] - xy[starts][None, :, :]) ** 2).sum(axis=2)).min(axis=1)
        bound_s = max(2.0 * float(gap_m.max()) / network.max_speed_mps, _FIRST_LIMIT_S)
        while True:
            search = network.bounded_search(slots, reverse=reverse, limit_s=bound_s, whole_limit_s=np.inf)
            via_s = links.time_s + search.dist_at(links.node)
            if isinstance(search, Search):
                return search, via_s
            best_s = np.minimum(via_s.min(axis=1), direct_s)
            if (best_s[many.inside] <= bound_s).all():
                return search, via_s
            bound_s *= 2.0

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
        batch = self._snapper.resolve(sources)
        self._snapper.raise_if_outside(batch)
        if len(batch.edge) == 0:
            return np.full(self.graph.n_nodes, np.inf)
        exits = self._links.exits(batch)
        time_s = (exits.time_s + (batch.offset_m / self.access_speed_mps)[:, None]).ravel()
        limit_s = np.inf if cutoff_s is None else cutoff_s
        return self._network.node_times(exits.node.ravel(), time_s, limit_s=limit_s)

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
        src = self._snapper.resolve_one(origin, label="origin")
        dst = self._snapper.resolve_one(destination, label="destination")
        entries = self._links.entries(dst)
        search = self._network.search(self._links.exits(src), reverse=False, limit_s=np.inf)
        via_s = entries.time_s[0] + search.dist_s[entries.node[0]]
        k = int(np.argmin(via_s))
        direct_s, _ = self._links.direct(src, dst)
        straight_m = float(straight_leg_m(src, dst)[0])
        network_eta_s = (
            min(float(direct_s[0]), float(via_s[k])) + (src.offset_m[0] + dst.offset_m[0]) / self.access_speed_mps
        )
        if straight_m / self.access_speed_mps < network_eta_s:
            return straight_route(src, dst, straight_m=straight_m, access_speed_mps=self.access_speed_mps)
        if np.isfinite(direct_s[0]) and direct_s[0] <= via_s[k]:
            pieces = [self._links.direct_piece(src, dst)]
            network_s = float(direct_s[0])
        elif np.isfinite(via_s[k]):
            pieces = tree_pieces(search, self._network, self._links, src, dst, k)
            network_s = float(via_s[k])
        else:
            raise NoRouteError(f"no road path from {describe(src.lonlat[0])} to {describe(dst.lonlat[0])}")
        return route_from_pieces(
            self.graph,
            self._to_lonlat,
            pieces,
            src,
            dst,
            network_s=network_s,
            access_speed_mps=self.access_speed_mps,
            with_access_legs=with_access_legs,
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
        src = self._snapper.resolve_one(origin, label="origin")
        access_s = float(src.offset_m[0]) / self.access_speed_mps
        limit_s = max(float(thresholds.max(initial=0.0)) - access_s, 0.0)
        search = self._network.search(self._links.exits(src), reverse=False, limit_s=limit_s)
        return [
            isochrone_of(
                self.graph,
                self._links,
                self._to_lonlat,
                src,
                search.dist_s,
                threshold_s=float(t),
                budget_s=float(t) - access_s,
                buffer_m=self.isochrone_buffer_m,
            )
            for t in thresholds
        ]

    # ----------------------------------------------------------------- network analysis

    def attach_points(self, points_lonlat: np.ndarray) -> PointAttachment:
        """Attach many points once, for repeated node-time lookups (coverage's demand points).

        Parameters
        ----------
        points_lonlat : ndarray, shape (D, 2)
            Points in EPSG:4326; any number (snapped ``max_batch_points`` at a time).

        Returns
        -------
        PointAttachment
            Entry nodes and costs per point (see :meth:`EdgeLinks.entries`), access leg included. A
            point that is not a valid (lon, lat) or lies farther than ``max_access_m`` from every road
            is not ``inside`` and costs ``inf`` both ways; nothing is raised.
        """
        lonlat = np.asarray(points_lonlat, dtype=np.float64).reshape(-1, 2)
        n = len(lonlat)
        edge, f = np.zeros(n, dtype=np.intp), np.zeros(n)
        offset_m, inside = np.full(n, np.nan), np.zeros(n, dtype=bool)
        valid_at = np.flatnonzero(valid_lonlat(lonlat))
        for start in range(0, len(valid_at), self.max_batch_points):
            at = valid_at[start : start + self.max_batch_points]
            batch = self._snapper.resolve([tuple(p) for p in lonlat[at].tolist()])
            near = at[batch.inside]
            edge[near], f[near] = batch.edge[batch.inside], batch.fraction[batch.inside]
            offset_m[near], inside[near] = batch.offset_m[batch.inside], True
        snapped = SnappedPoints(lonlat, edge, f, offset_m, inside, np.zeros((n, 2)))
        entries = self._links.entries(snapped)
        cost_s = entries.time_s + (offset_m / self.access_speed_mps)[:, None]
        cost_s[~inside] = np.inf
        return PointAttachment(node=entries.node.astype(np.intp), cost_s=cost_s, offset_m=offset_m, inside=inside)

    def edge_indices_for_ids(self, edge_ids: Sequence[int]) -> np.ndarray:
        """Edge positions of ``RoadEdge`` primary keys, in the order given.

        Raises
        ------
        UnknownEdgeError
            An id is not in this network (the first one is named), or the network has no ids.
        """
        return edge_indices_for_db_ids(self.graph, edge_ids)

    def edges_near(self, geometry_lonlat: BaseGeometry, *, tolerance_m: float) -> np.ndarray:
        """Edges within ``tolerance_m`` metres of a point or line (EPSG:4326), both directions, sorted."""
        return edges_near(self.graph, geometry_lonlat, tolerance_m=tolerance_m)

    def edges_covered_by(self, geometry_lonlat: BaseGeometry, *, line_tolerance_m: float) -> np.ndarray:
        """Edges (both directions) an area crosses, or a line runs along within ``line_tolerance_m`` metres."""
        return edges_covered_by(self.graph, geometry_lonlat, line_tolerance_m=line_tolerance_m)

    def edges_info(self, edge_indices: Sequence[int] | np.ndarray) -> list[EdgeInfo]:
        """Id, street name, highway class and length (metres) of each edge, in the order given."""
        graph = self.graph
        return [
            EdgeInfo(
                edge_index=int(i),
                edge_id=None if graph.edge_db_id is None else int(graph.edge_db_id[i]),
                name=graph.edge_name[i],
                highway=graph.edge_highway[i],
                length_m=float(graph.edge_length_m[i]),
            )
            for i in edge_indices
        ]

    def with_closed_edges(self, edge_indices: Sequence[int] | np.ndarray) -> CsgraphEngine:
        """A fresh engine, with the same settings, on this graph minus the given edges (node numbering kept).

        Raises
        ------
        UnknownEdgeError
            An index is outside the network.
        ValueError
            Every edge would be closed.
        """
        return self._on(road_graph_with_closures(self.graph, edge_indices))

    def with_edge_factors(
        self, edge_indices: Sequence[int] | np.ndarray, factors: Sequence[float] | np.ndarray
    ) -> CsgraphEngine:
        """A fresh engine, with the same settings, on this graph with edges slowed by their factor (``inf``: closed).

        Raises
        ------
        UnknownEdgeError
            An index is outside the network.
        ValueError
            A factor is not > 0, or every edge would be closed.
        """
        return self._on(road_graph_with_edge_factors(self.graph, edge_indices, factors))

    def _on(self, graph: RoadGraph) -> CsgraphEngine:
        return CsgraphEngine(
            graph,
            access_speed_kph=self.access_speed_mps * 3.6,
            max_access_m=self.max_access_m,
            isochrone_buffer_m=self.isochrone_buffer_m,
            max_batch_points=self.max_batch_points,
            on_foot=self.on_foot,
            bounded_search=self.bounded_search,
        )

    def points_along_roads_lonlat(self, count: int) -> np.ndarray:
        """About ``count`` points spaced evenly along every directed edge, EPSG:4326, shape (<= count, 2).

        The spacing is the total length of the edge geometries over ``count`` (at least 1 m); each edge
        gets the whole spacings that fit on it, each point at the middle of its spacing.
        """
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        lines = self.graph.edge_geometry_m
        lengths = shapely.length(lines)
        spacing_m = max(float(lengths.sum()) / count, 1.0)
        counts = np.floor(lengths / spacing_m).astype(np.int64)
        edge = np.repeat(np.arange(len(lines)), counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        xy = shapely.get_coordinates(shapely.line_interpolate_point(lines[edge], (within + 0.5) * spacing_m))
        lon, lat = self._to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat]).reshape(-1, 2)

    # ----------------------------------------------------------------- map matching and learned speeds

    def _network_distances(self) -> NetworkDistances:
        if self._distances is None:
            self._distances = NetworkDistances(self.graph)
        return self._distances

    def edge_candidates(self, points_lonlat: np.ndarray, *, radius_m: float, max_per_point: int) -> EdgeCandidates:
        """Directed edges within ``radius_m`` metres of each point (EPSG:4326, shape (P, 2)), nearest first.

        Parameters
        ----------
        points_lonlat : ndarray, shape (P, 2)
            Points in EPSG:4326; they must be valid (lon, lat) pairs.
        radius_m : float
            Search radius in the metric CRS, metres.
        max_per_point : int
            Most candidates kept per point (both directions of a street count as two).

        Returns
        -------
        EdgeCandidates
            Grouped by point, nearest first; a point with no edge within ``radius_m`` has none.
        """
        lonlat = np.asarray(points_lonlat, dtype=np.float64).reshape(-1, 2)
        if not valid_lonlat(lonlat).all():
            raise ValueError("points_lonlat must be finite (lon, lat) pairs")
        x, y = self._to_metric.transform(lonlat[:, 0], lonlat[:, 1])
        xy_m = np.column_stack([x, y]).reshape(-1, 2)
        return self._network_distances().candidates(xy_m, radius_m=radius_m, max_per_point=max_per_point)

    def network_distances_m(
        self,
        source_edge: np.ndarray,
        source_fraction: np.ndarray,
        target_edge: np.ndarray,
        target_fraction: np.ndarray,
        *,
        max_m: float,
    ) -> np.ndarray:
        """Shortest driving distance between edge positions, metres, shape (S, T); ``inf`` beyond ``max_m``.

        Edge directions are followed: a position is left forward along its edge.
        """
        return self._network_distances().between(
            source_edge, source_fraction, target_edge, target_fraction, max_m=max_m
        )

    def network_path(
        self, source: tuple[int, float], target: tuple[int, float], *, max_m: float = float("inf")
    ) -> NetworkPath | None:
        """The shortest drive between two ``(edge_index, fraction)`` positions, or None beyond ``max_m`` metres."""
        return self._network_distances().path(source, target, max_m=max_m)

    def with_travel_time_factors(self, factors: np.ndarray) -> CsgraphEngine:
        """A new engine, same settings and numbering, whose edge ``i`` takes ``factors[i]`` times as long.

        Snapping and the length searches are shared with ``self`` (they do not depend on times); the
        time searches are built anew.

        Raises
        ------
        ValueError
            ``factors`` is not one finite positive value per edge.
        """
        graph = road_graph_with_times(self.graph, self.graph.edge_travel_time_s * _edge_factors(factors, self.graph))
        variant = copy.copy(self)
        variant.graph = graph
        variant._links = EdgeLinks(graph)
        variant._network = NetworkSearch(graph)
        return variant


def _edge_factors(factors: np.ndarray, graph: RoadGraph) -> np.ndarray:
    values = np.asarray(factors, dtype=np.float64)
    if values.shape != (graph.n_edges,) or not (np.isfinite(values) & (values > 0)).all():
        raise ValueError(f"factors must be {graph.n_edges} finite values > 0, one per edge")
    return values
