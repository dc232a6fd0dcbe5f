"""Attaching points to the nearest road: validation, nearest-edge search and :class:`Snap` values.

Points arrive as ``(lon, lat)`` in EPSG:4326 (or as a :class:`Snap` made earlier by the same
engine) and are measured in the graph's metric CRS. One index entry per street segment: a twin
pair shares one geometry, so a point snaps to the lower-numbered edge of the pair, and the links
(:mod:`gis_core.routing.links`) then offer both directions. A :class:`SegmentGrid` answers points
near the roads; an STRtree answers the rest (off the grid, or far from every road). Pure code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from gis_core.crs import transformer_to_lonlat, transformer_to_metric
from gis_core.routing.engine import PointLike, Snap
from gis_core.routing.errors import InvalidPointError, OutsideNetworkError, RoutingError, TooManyPointsError
from gis_core.routing.graph import RoadGraph
from gis_core.routing.segment_grid import SegmentGrid

logger = logging.getLogger(__name__)

_LONLAT_BOUNDS = np.array([180.0, 90.0])
# A point this close to an end of its edge is on that end's node. The lon/lat -> metric round trip leaves a
# point given exactly on a junction a hair inside the edge (1 - fraction ~ 1e-12); on a one-way edge that
# hair would close the node's other ways in or out (links.py opens them only at fraction 0 or 1).
NODE_TOLERANCE_M = 1e-6


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """A batch of snapped points as arrays (the hot path never builds :class:`Snap` objects).

    Attributes
    ----------
    lonlat : ndarray, shape (K, 2)
        The input points, EPSG:4326.
    edge : ndarray of intp, shape (K,)
        Directed edge each point attaches to.
    fraction : ndarray, shape (K,)
        Position along that edge, 0 at its source node and 1 at its target node.
    offset_m : ndarray, shape (K,)
        Straight-line distance from each point to its edge, metres.
    inside : ndarray of bool, shape (K,)
        ``offset_m <= max_access_m``.
    xy_m : ndarray, shape (K, 2)
        The input points in the graph's metric CRS.
    """

    lonlat: np.ndarray
    edge: np.ndarray
    fraction: np.ndarray
    offset_m: np.ndarray
    inside: np.ndarray
    xy_m: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)

    def take(self, index: np.ndarray | slice) -> SnappedPoints:
        """The points selected by ``index``, as a new batch."""
        return SnappedPoints(
            self.lonlat[index],
            self.edge[index],
            self.fraction[index],
            self.offset_m[index],
            self.inside[index],
            self.xy_m[index],
        )


class EdgeSnapper:
    """Nearest-edge snapping in the graph's metric CRS: a :class:`SegmentGrid`, an STRtree for the rest.

    Parameters
    ----------
    graph : RoadGraph
        The network.
    access_speed_mps : float
        Speed on the straight leg between a point and its road, metres per second.
    max_access_m : float
        Points farther than this from every road are outside the network, metres.
    max_batch_points : int
        Largest number of points accepted in one call.
    """

    def __init__(self, graph: RoadGraph, *, access_speed_mps: float, max_access_m: float, max_batch_points: int):
        self.access_speed_mps = access_speed_mps
        self.max_access_m = max_access_m
        self.max_batch_points = max_batch_points
        self._n_edges = graph.n_edges
        self._geom_m = graph.edge_geometry_m
        self._geom_length_m = shapely.length(self._geom_m)
        has_twin = graph.edge_twin >= 0
        self._tree_edge = np.flatnonzero(~has_twin | (np.arange(graph.n_edges) < graph.edge_twin))
        self._tree = shapely.STRtree(self._geom_m[self._tree_edge], node_capacity=2)  # faster queries
        self._grid = SegmentGrid(self._geom_m[self._tree_edge])
        self._to_metric = transformer_to_metric(graph.metric_crs)
        self._to_lonlat = transformer_to_lonlat(graph.metric_crs)

    def resolve(self, points: Sequence[PointLike]) -> SnappedPoints:
        """Snap a batch, reusing any :class:`Snap` given; raise for bad coordinates or too many points."""
        if len(points) > self.max_batch_points:
            raise TooManyPointsError(f"{len(points)} points in one call; the limit is {self.max_batch_points}")
        lonlat = as_lonlat(points)
        bad = np.flatnonzero(~valid_lonlat(lonlat))
        if len(bad):
            raise invalid_point_error(lonlat, int(bad[0]))
        given = [(i, p) for i, p in enumerate(points) if isinstance(p, Snap)]
        fresh = np.setdiff1d(np.arange(len(points)), [i for i, _ in given]) if given else slice(None)
        edge = np.zeros(len(points), dtype=np.intp)
        fraction, offset_m = np.zeros(len(points)), np.zeros(len(points))
        x, y = self._to_metric.transform(lonlat[:, 0], lonlat[:, 1])
        xy_m = np.column_stack([x, y]).reshape(-1, 2)
        edge[fresh], fraction[fresh], offset_m[fresh] = self._snap_arrays(xy_m[fresh])
        for i, p in given:  # trust a snap made earlier rather than snapping again
            if not 0 <= p.edge_index < self._n_edges:
                raise InvalidPointError(f"point #{i} is a Snap from another graph")
            edge[i], fraction[i], offset_m[i] = p.edge_index, p.fraction, p.offset_m
        return SnappedPoints(lonlat, edge, fraction, offset_m, offset_m <= self.max_access_m, xy_m)

    def resolve_one(self, point: PointLike, *, label: str) -> SnappedPoints:
        """Snap one point; raise :class:`OutsideNetworkError` naming it ``label`` when it is too far."""
        batch = self.resolve([point])
        self.raise_if_outside(batch, label=label)
        return batch

    def _snap_arrays(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not len(xy):
            return np.empty(0, dtype=np.intp), np.empty(0), np.empty(0)
        nearest, fraction, offset_m, settled = self._grid.nearest(xy)
        edge = self._tree_edge[nearest]
        rest = np.flatnonzero(~settled)
        if len(rest):  # off the grid or far from every road: ask the STRtree
            edge[rest], fraction[rest], offset_m[rest] = self._snap_with_tree(xy[rest])
        length_m = self._geom_length_m[edge]
        fraction = np.where((1.0 - fraction) * length_m <= NODE_TOLERANCE_M, 1.0, fraction)
        fraction = np.where(fraction * length_m <= NODE_TOLERANCE_M, 0.0, fraction)
        return edge, fraction, offset_m

    def _snap_with_tree(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pts = shapely.points(xy)
        (which, nearest), distance = self._tree.query_nearest(pts, return_distance=True, all_matches=False)
        edge = np.empty(len(pts), dtype=np.intp)
        offset_m = np.empty(len(pts))
        edge[which], offset_m[which] = self._tree_edge[nearest], distance
        fraction = np.nan_to_num(shapely.line_locate_point(self._geom_m[edge], pts, normalized=True))
        return edge, np.clip(fraction, 0.0, 1.0), offset_m

    def snaps(self, batch: SnappedPoints) -> list[Snap]:
        """The batch as :class:`Snap` values, with the attachment points in EPSG:4326."""
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

    def try_snap(self, points: Sequence[PointLike]) -> list[Snap | RoutingError]:
        """Snap each point, putting the error in place of each point that fails."""
        lonlat = as_lonlat(points)
        valid = valid_lonlat(lonlat)
        out: list[Snap | RoutingError] = [invalid_point_error(lonlat, i) for i in range(len(lonlat))]
        valid_at = np.flatnonzero(valid).tolist()
        batch = self.resolve([points[i] for i in valid_at])
        snaps = self.snaps(batch)
        for j, i in enumerate(valid_at):
            out[i] = snaps[j] if batch.inside[j] else self.outside_error(batch, j, label=f"point #{i}", index=i)
        return out

    def outside_error(self, batch: SnappedPoints, j: int, *, label: str, index: int | None) -> OutsideNetworkError:
        """The error for point ``j`` of ``batch`` lying too far from every road."""
        lon, lat = batch.lonlat[j].tolist()
        offset_m = float(batch.offset_m[j])
        return OutsideNetworkError(
            label=label, index=index, lon=lon, lat=lat, offset_m=offset_m, max_access_m=self.max_access_m
        )

    def raise_if_outside(self, batch: SnappedPoints, *, label: str | None = None) -> None:
        """Raise for the first point too far from any road, named ``label`` or by its position."""
        outside = np.flatnonzero(~batch.inside)
        if len(outside):
            j = int(outside[0])
            raise self.outside_error(batch, j, label=label or f"point #{j}", index=None if label else j)

    def warn_outside(self, batch: SnappedPoints) -> None:
        """Log the points of a batch that will be reported unreachable for lying too far from roads."""
        outside = np.flatnonzero(~batch.inside)
        if len(outside):
            logger.warning(
                "%d points farther than %.0f m from any road are reported unreachable (first: #%d at %s)",
                len(outside),
                self.max_access_m,
                outside[0],
                describe(batch.lonlat[outside[0]]),
            )


def as_lonlat(points: Sequence[PointLike]) -> np.ndarray:
    """Points (or Snaps) as an array of shape (K, 2); raise :class:`InvalidPointError` if not pairs."""
    if not points:
        return np.empty((0, 2))
    try:
        lonlat = np.array([(p.lon, p.lat) if isinstance(p, Snap) else p for p in points], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidPointError(f"points must be (lon, lat) pairs: {exc}") from exc
    if lonlat.ndim != 2 or lonlat.shape[1] != 2:
        raise InvalidPointError("points must be (lon, lat) pairs")
    return lonlat


def valid_lonlat(lonlat: np.ndarray) -> np.ndarray:
    """Which rows are finite and within [-180, 180] x [-90, 90]."""
    # NaN compares False and +-inf exceeds the bounds, so one comparison also rejects non-finite values.
    return (np.abs(lonlat) <= _LONLAT_BOUNDS).all(axis=1)


def invalid_point_error(lonlat: np.ndarray, i: int) -> InvalidPointError:
    """The error for row ``i`` of ``lonlat`` not being a valid (lon, lat) pair."""
    return InvalidPointError(
        f"point #{i} {describe(lonlat[i])} is not a (lon, lat) pair within [-180, 180] x [-90, 90]"
    )


def describe(lonlat: np.ndarray) -> str:
    """A point for a message: ``(lon, lat)`` with six decimals."""
    return "({:.6f}, {:.6f})".format(*lonlat.tolist())
