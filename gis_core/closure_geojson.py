"""A road closure's geometry from GeoJSON as a dispatcher draws or uploads it: checked, one kind, EPSG:4326.

Pure (no Django): takes the parsed JSON (a geometry, a Feature or a FeatureCollection) and returns a
shapely ``MultiPolygon`` (an area: a flood, a landslide) or ``MultiLineString`` (streets), or raises
:class:`ClosureGeometryError` saying what to change. Coordinates are (lon, lat) in EPSG:4326 (RFC 7946);
a legacy ``crs`` member naming anything else is refused rather than guessed.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from shapely.geometry import MultiLineString, MultiPolygon, shape

from gis_core.errors import ClosureGeometryError

AREA_TYPES = ("Polygon", "MultiPolygon")
LINE_TYPES = ("LineString", "MultiLineString")
_DEPTH = {"Polygon": 3, "MultiPolygon": 4, "LineString": 2, "MultiLineString": 3}
LONLAT_CRS_NAMES = frozenset(
    {"EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:OGC::CRS84", "urn:ogc:def:crs:EPSG::4326", "CRS84"}
)
MAX_FEATURES = 500


def closure_geometry(data: Any, *, max_vertices: int) -> MultiPolygon | MultiLineString:
    """The closure geometry of a GeoJSON object (EPSG:4326).

    Parameters
    ----------
    data
        Parsed JSON: a Polygon, MultiPolygon, LineString or MultiLineString geometry, a Feature holding one,
        or a FeatureCollection of them (all areas or all lines).
    max_vertices
        Most coordinates accepted in all.

    Returns
    -------
    MultiPolygon or MultiLineString
        An area made valid (a drawn outline that crosses itself is split into its parts), or lines.

    Raises
    ------
    ClosureGeometryError
        Not GeoJSON, another CRS, a point or a collection, coordinates out of range, too many vertices,
        areas and lines mixed, an empty or degenerate shape.
    """
    geometries = [_geometry_of(item) for item in _items(data)]
    kinds = {g["type"] in AREA_TYPES for g in geometries}
    if len(kinds) > 1:
        raise ClosureGeometryError("a closure is areas or lines, not both: upload them as two closures")
    vertices = sum(_count_positions(g["coordinates"], _DEPTH[g["type"]], g["type"]) for g in geometries)
    if vertices > max_vertices:
        raise ClosureGeometryError(
            f"the closure has {vertices:,} vertices (at most {max_vertices:,}): simplify it before uploading"
        )
    try:
        shapes = [shape(g) for g in geometries]
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException) as exc:
        raise ClosureGeometryError(f"the geometry cannot be read: {exc}") from exc
    return _as_area(shapes) if kinds == {True} else _as_lines(shapes)


def _items(data: Any) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ClosureGeometryError(
            'not GeoJSON: expected an object with a "type" (Feature, FeatureCollection, Polygon)'
        )
    _check_crs(data.get("crs"))
    if data["type"] == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise ClosureGeometryError('a FeatureCollection needs a non-empty "features" list')
        if len(features) > MAX_FEATURES:
            raise ClosureGeometryError(f"{len(features)} features (at most {MAX_FEATURES}): merge them first")
        for feature in features:
            if isinstance(feature, dict):
                _check_crs(feature.get("crs"))
        return features
    return [data]


def _check_crs(crs: Any) -> None:
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if name not in LONLAT_CRS_NAMES:
        raise ClosureGeometryError(
            f"the file's CRS is {name or crs!r}: reproject it to EPSG:4326 (longitude, latitude) before uploading"
        )


def _geometry_of(item: Any) -> dict:
    if not isinstance(item, dict):
        raise ClosureGeometryError("every feature must be a GeoJSON object")
    geometry = item.get("geometry") if item.get("type") == "Feature" else item
    if not isinstance(geometry, dict):
        raise ClosureGeometryError("a Feature without a geometry: draw or pick the area or streets")
    kind = geometry.get("type")
    if kind not in _DEPTH:
        raise ClosureGeometryError(
            f"a {kind!r} cannot close roads: give an area (Polygon, MultiPolygon) "
            "or streets (LineString, MultiLineString)"
        )
    if "coordinates" not in geometry:
        raise ClosureGeometryError(f'the {kind} has no "coordinates"')
    return geometry


def _count_positions(value: Any, depth: int, kind: str) -> int:
    """Positions in a coordinates array of ``depth`` levels, each checked as (lon, lat) in range."""
    if not isinstance(value, list) or not value:
        raise ClosureGeometryError(f"the {kind}'s coordinates are not a non-empty list nested {depth} deep")
    if depth == 1:
        if not 2 <= len(value) <= 3 or not all(_is_number(v) for v in value):
            raise ClosureGeometryError(f"a position of the {kind} is not [longitude, latitude]: {value!r:.60}")
        lon, lat = float(value[0]), float(value[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ClosureGeometryError(
                f"position [{lon}, {lat}] is not a longitude and latitude (EPSG:4326): reproject the file"
            )
        return 1
    return sum(_count_positions(v, depth - 1, kind) for v in value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _as_area(shapes: list[Any]) -> MultiPolygon:
    area = shapely.make_valid(shapely.union_all(shapes))
    polygons = [g for g in getattr(area, "geoms", [area]) if g.geom_type in AREA_TYPES]
    parts = [p for g in polygons for p in getattr(g, "geoms", [g]) if not p.is_empty and p.area > 0]
    if not parts:
        raise ClosureGeometryError("the area is empty: an outline needs at least three distinct corners")
    return MultiPolygon(parts)


def _as_lines(shapes: list[Any]) -> MultiLineString:
    parts = [p for g in shapes for p in getattr(g, "geoms", [g]) if not p.is_empty and p.length > 0]
    if not parts:
        raise ClosureGeometryError("the line is empty: a street line needs two distinct points")
    return MultiLineString(parts)
