"""Geometry of answers: a route's line and street names, and an isochrone's polygon.

Work happens in the graph's metric CRS; output is transformed to EPSG:4326 once at the end. A trip
is a list of edge pieces ``(edge, from_fraction, to_fraction)``. Pure code: no Django.
"""

from __future__ import annotations

import itertools

import numpy as np
import shapely
from pyproj import Transformer
from shapely.ops import substring

from gis_core.crs import transform_geometries
from gis_core.routing.engine import Isochrone, Route
from gis_core.routing.graph import RoadGraph
from gis_core.routing.links import EdgeLinks
from gis_core.routing.search import NetworkSearch, Search
from gis_core.routing.snapping import SnappedPoints

Piece = tuple[int, float, float]


def tree_pieces(
    search: Search, network: NetworkSearch, links: EdgeLinks, src: SnappedPoints, dst: SnappedPoints, k: int
) -> list[Piece]:
    """Edge pieces of the forward tree path from ``src`` into entry ``k`` of ``dst``."""
    nodes = network.tree_path(search, int(links.entries(dst).node[0, k]))
    first = links.exits(src)
    slot = min((j for j in range(2) if first.node[0, j] == nodes[0]), key=lambda j: first.time_s[0, j])
    e, f = int(src.edge[0]), float(src.fraction[0])
    pieces = [(e, f, 1.0) if slot == 0 else (int(links.twin[e]), 1.0 - f, 1.0)]
    if slot == 1 and not links.has_twin[e]:  # the point lies on u: nothing to travel
        pieces = []
    pieces += [(network.forward_edge(a, b), 0.0, 1.0) for a, b in itertools.pairwise(nodes)]
    e, g = int(dst.edge[0]), float(dst.fraction[0])
    if k == 0 or links.has_twin[e]:  # else the point lies on v: nothing to travel
        pieces.append((e, 0.0, g) if k == 0 else (int(links.twin[e]), 0.0, 1.0 - g))
    return pieces


def straight_route(src: SnappedPoints, dst: SnappedPoints, *, straight_m: float, access_speed_mps: float) -> Route:
    """A trip that stays off the network: the straight line between the points (see ``links.straight_leg_m``)."""
    line = np.concatenate([src.lonlat[:1], dst.lonlat[:1]])
    access_s = straight_m / access_speed_mps
    return Route(
        geometry_lonlat=shapely.LineString(line),
        length_m=0.0,
        travel_time_s=0.0,
        access_s=access_s,
        access_m=straight_m,
        eta_s=access_s,
        street_names=(),
    )


def route_from_pieces(
    graph: RoadGraph,
    to_lonlat: Transformer,
    pieces: list[Piece],
    src: SnappedPoints,
    dst: SnappedPoints,
    *,
    network_s: float,
    access_speed_mps: float,
    with_access_legs: bool,
) -> Route:
    """Draw the pieces as one line in EPSG:4326 and total the trip into a :class:`Route`."""
    geom_m = graph.edge_geometry_m
    coords: list[np.ndarray] = []
    names: list[str] = []
    length_m = 0.0
    for e, a, b in pieces:
        if b <= a:  # a zero-length piece sits on the node where the next piece starts
            continue
        length_m += (b - a) * graph.edge_length_m[e]
        part = geom_m[e] if (a, b) == (0.0, 1.0) else substring(geom_m[e], a, b, normalized=True)
        coords.append(shapely.get_coordinates(part))
        name = graph.edge_name[e]
        if name is not None and (not names or names[-1] != name):
            names.append(name)
    if not coords:  # origin and destination attach at the same place
        at = shapely.line_interpolate_point(geom_m[src.edge[0]], src.fraction[0], normalized=True)
        coords.append(shapely.get_coordinates(at))
    xy = np.concatenate(coords)
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
    lon, lat = to_lonlat.transform(xy[keep, 0], xy[keep, 1])
    line = np.column_stack([lon, lat])
    if with_access_legs:  # a point on its road needs no leg
        line = np.concatenate([src.lonlat[src.offset_m > 0], line, dst.lonlat[dst.offset_m > 0]])
    if len(line) < 2:
        line = np.concatenate([line, line])
    access_m = float(src.offset_m[0] + dst.offset_m[0])
    access_s = access_m / access_speed_mps
    return Route(
        geometry_lonlat=shapely.LineString(line),
        length_m=float(length_m),
        travel_time_s=network_s,
        access_s=access_s,
        access_m=access_m,
        eta_s=network_s + access_s,
        street_names=tuple(names),
    )


def isochrone_of(
    graph: RoadGraph,
    links: EdgeLinks,
    to_lonlat: Transformer,
    src: SnappedPoints,
    dist_s: np.ndarray,
    *,
    threshold_s: float,
    budget_s: float,
    buffer_m: float,
) -> Isochrone:
    """Road pieces reachable within ``budget_s`` network seconds of ``src``, buffered by ``buffer_m`` metres."""
    geom_m = graph.edge_geometry_m
    pieces: list[shapely.Geometry] = []
    if budget_s >= 0:
        start = _reach_along_edges(links.time_s, dist_s[links.src], budget_s)
        e, f = int(src.edge[0]), float(src.fraction[0])
        pieces.append(shapely.line_interpolate_point(geom_m[e], f, normalized=True))
        pieces += _pieces_from(geom_m[e], float(links.time_s[e]), f, budget_s)
        if links.has_twin[e]:
            t = int(links.twin[e])
            pieces += _pieces_from(geom_m[t], float(links.time_s[t]), 1.0 - f, budget_s)
        full = np.flatnonzero(start >= 1.0)
        # A street reached whole in both directions is drawn once.
        full = full[~links.has_twin[full] | (full < links.twin[full]) | (start[links.twin[full]] < 1.0)]
        pieces += list(geom_m[full])
        for i in np.flatnonzero((start > 0) & (start < 1.0)):
            pieces.append(substring(geom_m[i], 0.0, float(start[i]), normalized=True))
    # Buffering piece by piece and merging (cascaded union) is far faster than buffering
    # one collection of tens of thousands of lines.
    bands = shapely.buffer(np.array(pieces, dtype=object), buffer_m, quad_segs=4)
    area = shapely.union_all(bands)
    if area.is_empty:
        area = shapely.Polygon()
    lonlat = transform_geometries(area, to_lonlat)
    return Isochrone(threshold_s=threshold_s, geometry_lonlat=lonlat, area_m2=float(area.area))


def _reach_along_edges(time_s: np.ndarray, start_dist_s: np.ndarray, budget_s: float) -> np.ndarray:
    """Fraction of each edge reached from its source node within the budget (>= 1: whole edge)."""
    remaining = budget_s - start_dist_s
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(time_s > 0, remaining / time_s, np.inf)
    return np.where(remaining >= 0, reach, 0.0)


def _pieces_from(line: shapely.LineString, time_s: float, f: float, budget_s: float) -> list[shapely.Geometry]:
    g = 1.0 if time_s <= 0 else min(1.0, f + budget_s / time_s)
    return [substring(line, f, g, normalized=True)] if g > f else []
