"""The routing interface: value types and the :class:`RoutingEngine` protocol.

Callers in ``fleet`` and ``coverage`` import only this module. Implementations (today
:class:`gis_core.routing.csgraph_engine.CsgraphEngine`) live behind it, the way
``django.contrib.gis`` keeps one operations interface with backends behind it.

Conventions
-----------
* A point is ``(lon, lat)`` in EPSG:4326. Anywhere a point is accepted, a :class:`Snap` returned by
  the same engine is accepted too, which saves snapping a unit's position twice.
* Times are seconds (``_s``), distances metres (``_m``), areas square metres (``_m2``).
* The "access" leg is the straight line between a point and the road it snapped to, travelled at
  the engine's access speed; it is reported apart from the network leg.
* Batch calls never abort on one bad pair: an unreachable pair, a pair beyond the cutoff or a batch
  point too far from any road becomes ``None``. A single origin or destination that cannot be
  snapped raises :class:`~gis_core.routing.errors.OutsideNetworkError`.
* An engine drives one vehicle profile (``gis_core.routing.profiles``): every profile's engine of a
  network has the same nodes in the same order. A :class:`Snap` belongs to the engine that made it.
  :meth:`RoutingEngine.reach` says where the vehicle stops for a point on a street it may not drive
  and how far the rest is on foot.
* Edges are the engine's directed edges, named by position (``edge_index``, as in :class:`Snap`);
  ``edge_id`` is the primary key of the ``RoadEdge`` row an edge was loaded from. A what-if variant
  (:meth:`RoutingEngine.with_closed_edges`, :meth:`RoutingEngine.with_edge_factors`) keeps the node
  numbering, so node times line up; its edge positions are its own.
* Map matching (:mod:`gis_core.routing.matching`) asks for candidate edges near fixes, driving
  distances between positions on edges (``(edge_index, fraction)``, lengths not times) and the edges
  driven between two of them; learned speeds come back as an engine whose edge times are scaled
  (:meth:`RoutingEngine.with_travel_time_factors`), numbering kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

import numpy as np
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gis_core.routing.errors import RoutingError


@dataclass(frozen=True, slots=True)
class Snap:
    """A point attached to the road network.

    Attributes
    ----------
    lon, lat : float
        The input point, EPSG:4326.
    edge_index : int
        Directed edge of the engine's graph the point attaches to.
    fraction : float
        Position along that edge's geometry, 0 at its source node and 1 at its target node.
    offset_m : float
        Straight-line distance from the point to the edge, metres (in the metric CRS).
    access_s : float
        ``offset_m`` travelled at the engine's access speed, seconds.
    snapped_lon, snapped_lat : float
        The attachment point on the edge, EPSG:4326.
    """

    lon: float
    lat: float
    edge_index: int
    fraction: float
    offset_m: float
    access_s: float
    snapped_lon: float
    snapped_lat: float


PointLike: TypeAlias = tuple[float, float] | Snap


@dataclass(frozen=True, slots=True)
class TravelTime:
    """Fastest travel between two points.

    Attributes
    ----------
    eta_s : float
        ``network_s + access_s``, seconds.
    network_s : float
        Time on the road network, including the partial first and last edges, seconds.
    access_s : float
        Time on the off-network legs at both ends together, seconds.
    distance_m : float
        Length of the time-optimal network path, metres.
    access_m : float
        Length of the off-network legs at both ends together, metres.
    """

    eta_s: float
    network_s: float
    access_s: float
    distance_m: float
    access_m: float


@dataclass(frozen=True, slots=True)
class Route:
    """The fastest path between two points.

    Attributes
    ----------
    geometry_lonlat : LineString
        Path in EPSG:4326, from the origin to the destination, including the partial first and last
        edges and, unless left out on request, the straight access legs.
    length_m : float
        Network length, metres (access legs excluded).
    travel_time_s : float
        Network time, seconds (access legs excluded).
    access_s, access_m : float
        Off-network legs at both ends together, seconds and metres.
    eta_s : float
        ``travel_time_s + access_s``, seconds.
    street_names : tuple of str
        Names of the streets followed, in order, consecutive repeats merged, unnamed edges dropped.
    """

    geometry_lonlat: LineString
    length_m: float
    travel_time_s: float
    access_s: float
    access_m: float
    eta_s: float
    street_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Isochrone:
    """Area reachable from an origin within a time budget.

    Attributes
    ----------
    threshold_s : float
        The budget, seconds, including the origin's access leg.
    geometry_lonlat : Polygon or MultiPolygon
        Reachable road pieces buffered by the engine's isochrone buffer, EPSG:4326. Empty when the
        access leg alone exceeds the budget.
    area_m2 : float
        Area of the polygon measured in the metric CRS, square metres.
    """

    threshold_s: float
    geometry_lonlat: Polygon | MultiPolygon
    area_m2: float


@dataclass(frozen=True, slots=True)
class Reach:
    """Where a vehicle of the engine's profile drives to for a point, and the rest of the way on foot.

    Attributes
    ----------
    snap : Snap
        The point the vehicle drives to, snapped by the same engine: the point itself when the
        profile may drive its street, else the nearest point it can reach (``reachable_point``).
    on_foot_m, on_foot_s : float
        The walk (or hose lay) from there to the point, metres and seconds; 0 when there is none.
    """

    snap: Snap
    on_foot_m: float = 0.0
    on_foot_s: float = 0.0

    @property
    def reachable_point(self) -> tuple[float, float] | None:
        """The stop (lon, lat) when part of the way is on foot, else None."""
        return (self.snap.lon, self.snap.lat) if self.on_foot_m > 0 else None


@dataclass(frozen=True, eq=False)
class PointAttachment:
    """Many points attached to the network once, so that every later search is a node-time lookup.

    A point on directed edge ``e = (u -> v)`` at fraction ``f`` is entered from ``u`` along ``e`` or,
    when the street is two-way, from ``v`` along the opposite edge, plus its straight access leg: the
    rule the engine applies to a destination.

    Attributes
    ----------
    node : ndarray of intp, shape (D, 2)
        The two nodes a point is entered from.
    cost_s : ndarray, shape (D, 2)
        Seconds from each of those nodes to the point along the edge, access leg included; ``inf``
        where that way is closed (one-way street) or the point is too far from every road.
    offset_m : ndarray, shape (D,)
        Straight-line distance from the point to its road, metres; ``nan`` where not ``inside``.
    inside : ndarray of bool, shape (D,)
        Whether the point is a valid (lon, lat) within the engine's ``max_access_m`` of a road.
    """

    node: np.ndarray
    cost_s: np.ndarray
    offset_m: np.ndarray
    inside: np.ndarray

    def __len__(self) -> int:
        return len(self.inside)

    def point_times_s(self, node_times_s: np.ndarray) -> np.ndarray:
        """Seconds to each point given seconds to every node (shape (N,)); shape (D,), ``inf`` if unreached.

        A source on the very point's street segment is credited only the way through the segment's
        end nodes, not the direct along-edge time (at most one segment longer).
        """
        times_s: np.ndarray = np.min(node_times_s[self.node] + self.cost_s, axis=1)
        return times_s


@dataclass(frozen=True, slots=True)
class EdgeInfo:
    """What a person needs to recognise one directed edge.

    Attributes
    ----------
    edge_index : int
        Position of the edge in the engine's network.
    edge_id : int or None
        Primary key of its ``RoadEdge`` row; ``None`` when the network was not loaded from the database.
    name, highway : str or None
        Street name and OSM ``highway`` class.
    length_m : float
        Length, metres.
    """

    edge_index: int
    edge_id: int | None
    name: str | None
    highway: str | None
    length_m: float


@dataclass(frozen=True, eq=False)
class EdgeCandidates:
    """Edges near each of many points, nearest first per point.

    Attributes
    ----------
    point : ndarray of intp, shape (K,)
        Which input point each candidate belongs to (non-decreasing).
    edge : ndarray of intp, shape (K,)
        Directed edge; both directions of a two-way street are candidates.
    fraction : ndarray, shape (K,)
        Position of the point's projection along the edge, 0 at its source, 1 at its target.
    offset_m : ndarray, shape (K,)
        Distance from the point to the edge, metres.
    """

    point: np.ndarray
    edge: np.ndarray
    fraction: np.ndarray
    offset_m: np.ndarray

    def of_point(self, i: int) -> slice:
        """The candidates of point ``i`` as a slice of the arrays."""
        lo, hi = np.searchsorted(self.point, [i, i + 1])
        return slice(int(lo), int(hi))


@dataclass(frozen=True, slots=True)
class NetworkPath:
    """The edges driven between two positions, with the length driven on each.

    Attributes
    ----------
    edges : tuple of int
        Directed edges in driving order, the first and last possibly partly.
    covered_m : tuple of float
        Metres driven on each of ``edges``.
    """

    edges: tuple[int, ...]
    covered_m: tuple[float, ...]

    @property
    def length_m(self) -> float:
        """Total length driven, metres."""
        return float(sum(self.covered_m))


@runtime_checkable
class RoutingEngine(Protocol):
    """Snap points, one-to-many travel times, route geometry and isochrones on one road network.

    Also what network analysis (``coverage``) needs without seeing the implementation: points attached
    once for many multi-source searches, edges found by id or by place and described, what-if
    variants with edges closed, and points spread along the roads.
    """

    @property
    def node_lonlat(self) -> np.ndarray:
        """Network node positions, shape (N, 2), EPSG:4326, in the order of ``node_times_from_sources``."""
        ...

    @property
    def edge_count(self) -> int:
        """Number of directed edges, E: edge positions (``edge_index``) run 0..E-1."""
        ...

    def snap(self, points: Sequence[PointLike]) -> list[Snap]:
        """Attach points to the network; raise ``OutsideNetworkError`` for the first one too far."""
        ...

    def try_snap(self, points: Sequence[PointLike]) -> list[Snap | RoutingError]:
        """Attach points to the network, returning the error in place of each point that fails."""
        ...

    def reach(self, point: PointLike) -> Reach:
        """Where this engine's vehicle drives to for ``point``, and the walk from there (vehicle profiles).

        Raise ``OutsideNetworkError`` when the point is too far from every road the vehicle may drive.
        """
        ...

    def travel_times_to(
        self, origins: Sequence[PointLike], destination: PointLike, *, cutoff_s: float | None = None
    ) -> list[TravelTime | None]:
        """Fastest travel from each origin to one destination; ``None`` if unreachable or over cutoff."""
        ...

    def travel_times_from(
        self, origin: PointLike, destinations: Sequence[PointLike], *, cutoff_s: float | None = None
    ) -> list[TravelTime | None]:
        """Fastest travel from one origin to each destination; ``None`` if unreachable or over cutoff."""
        ...

    def matrix(
        self,
        origins: Sequence[PointLike],
        destinations: Sequence[PointLike],
        *,
        cutoff_s: float | None = None,
    ) -> list[list[TravelTime | None]]:
        """Fastest travel for every origin (rows) and destination (columns)."""
        ...

    def route(self, origin: PointLike, destination: PointLike, *, with_access_legs: bool = True) -> Route:
        """The fastest path with its geometry; raise ``NoRouteError`` when there is none."""
        ...

    def isochrones(self, origin: PointLike, thresholds_s: Sequence[float]) -> list[Isochrone]:
        """Reachable area for each threshold, in the order given."""
        ...

    def node_times_from_sources(self, sources: Sequence[PointLike], *, cutoff_s: float | None = None) -> np.ndarray:
        """Time from the nearest source to every node, shape (N,), ``inf`` where not reached."""
        ...

    def attach_points(self, points_lonlat: np.ndarray) -> PointAttachment:
        """Attach many points (EPSG:4326, shape (D, 2)) once; bad or far points stay unreachable, never raise."""
        ...

    def edge_indices_for_ids(self, edge_ids: Sequence[int]) -> np.ndarray:
        """Edge positions of ``RoadEdge`` primary keys; raise ``UnknownEdgeError`` naming the first unknown."""
        ...

    def edges_near(self, geometry_lonlat: BaseGeometry, *, tolerance_m: float) -> np.ndarray:
        """Edges (both directions) within ``tolerance_m`` metres of a point or line in EPSG:4326, sorted."""
        ...

    def edges_covered_by(self, geometry_lonlat: BaseGeometry, *, line_tolerance_m: float) -> np.ndarray:
        """Edges (both directions) an area (EPSG:4326) crosses, or a line runs along (at least half of the
        edge within ``line_tolerance_m`` metres), sorted: what a road closure closes."""
        ...

    def edges_info(self, edge_indices: Sequence[int] | np.ndarray) -> list[EdgeInfo]:
        """Id, street name, highway class and length of each edge, in the order given."""
        ...

    def with_closed_edges(self, edge_indices: Sequence[int] | np.ndarray) -> RoutingEngine:
        """A new engine, same settings and node numbering, without the given edges; ``self`` is unchanged.

        Raise ``UnknownEdgeError`` for an index outside the network, ``ValueError`` if none would be left.
        """
        ...

    def with_edge_factors(
        self, edge_indices: Sequence[int] | np.ndarray, factors: Sequence[float] | np.ndarray
    ) -> RoutingEngine:
        """A new engine, same settings and node numbering, with each edge's travel time multiplied by its
        factor (``inf``: the edge is closed); ``self`` is unchanged. Live closures are served this way.

        Raise ``UnknownEdgeError`` for an index outside the network, ``ValueError`` for a factor not > 0 or
        if no edge would be left.
        """
        ...

    def points_along_roads_lonlat(self, count: int) -> np.ndarray:
        """About ``count`` points (EPSG:4326, shape (<= count, 2)) spaced evenly along every directed edge.

        The spacing is the total edge length over ``count`` (at least 1 m); each edge gets the whole
        spacings that fit on it, centred, so short edges may get none.
        """
        ...

    # ----------------------------------------------------------------- map matching and learned speeds

    def edge_candidates(self, points_lonlat: np.ndarray, *, radius_m: float, max_per_point: int) -> EdgeCandidates:
        """Directed edges within ``radius_m`` metres of each point (EPSG:4326, shape (P, 2)), nearest first.

        Both directions of a two-way street are candidates; at most ``max_per_point`` per point.
        """
        ...

    def network_distances_m(
        self,
        source_edge: np.ndarray,
        source_fraction: np.ndarray,
        target_edge: np.ndarray,
        target_fraction: np.ndarray,
        *,
        max_m: float,
    ) -> np.ndarray:
        """Shortest driving distance (metres, shape (S, T)) between edge positions; ``inf`` beyond ``max_m``."""
        ...

    def network_path(
        self, source: tuple[int, float], target: tuple[int, float], *, max_m: float = float("inf")
    ) -> NetworkPath | None:
        """The shortest drive between two ``(edge_index, fraction)`` positions, or None beyond ``max_m``."""
        ...

    def with_travel_time_factors(self, factors: np.ndarray) -> RoutingEngine:
        """A new engine, same settings and numbering, whose edge ``i`` takes ``factors[i]`` times as long.

        Raise ``ValueError`` unless ``factors`` has one finite positive value per edge.
        """
        ...
