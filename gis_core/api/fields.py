"""Fields shared by the API: points as [lon, lat] or GeoJSON parsed with messages a person can act on, and
times written one way (``iso``) wherever a representation is built."""

from __future__ import annotations

import math
from datetime import datetime

from django.contrib.gis.geos import Polygon
from rest_framework import serializers
from rest_framework.exceptions import ParseError
from rest_framework.fields import DateTimeField
from rest_framework_gis.filters import InBBoxFilter

_DATETIME = DateTimeField()


def iso(value: datetime | None) -> str | None:
    """A time as the REST API writes it (ISO 8601, the project's time zone), or None."""
    return _DATETIME.to_representation(value) if value is not None else None


def parse_lonlat(value: object, *, label: str = "point") -> tuple[float, float]:
    """A point from ``[lon, lat]`` or a GeoJSON Point; raise ``ValidationError`` saying what is wrong."""
    coords = value
    if isinstance(value, dict):
        if value.get("type") != "Point" or "coordinates" not in value:
            raise serializers.ValidationError(
                f"{label}: expected [lon, lat] or a GeoJSON Point "
                f'{{"type": "Point", "coordinates": [lon, lat]}}, got an object with type {value.get("type")!r}'
            )
        coords = value["coordinates"]
    if not isinstance(coords, (list, tuple)) or len(coords) != 2:
        raise serializers.ValidationError(f"{label}: expected [lon, lat] (two numbers), got {coords!r}")
    try:
        lon, lat = (float(c) for c in coords)
    except (TypeError, ValueError):
        raise serializers.ValidationError(f"{label}: lon and lat must be numbers, got {coords!r}") from None
    if isinstance(coords[0], bool) or isinstance(coords[1], bool) or not (math.isfinite(lon) and math.isfinite(lat)):
        raise serializers.ValidationError(f"{label}: lon and lat must be finite numbers, got {coords!r}")
    check_lonlat(lon, lat, label=label)
    return lon, lat


def check_lonlat(lon: float, lat: float, *, label: str = "point") -> None:
    """Raise ``ValidationError`` for coordinates out of range, with a hint when they look swapped."""
    if -180 <= lon <= 180 and -90 <= lat <= 90:
        if lon == 0 and lat == 0:
            raise serializers.ValidationError(f"{label}: (0, 0) is not a real position (a GPS fix never had one)")
        return
    hint = ""
    if -180 <= lat <= 180 and -90 <= lon <= 90:
        hint = f"; points are [lon, lat]: did you mean [{lat}, {lon}]?"
    raise serializers.ValidationError(
        f"{label}: ({lon}, {lat}) is out of range: lon must be in [-180, 180] and lat in [-90, 90]{hint}"
    )


class PointField(serializers.Field):
    """``[lon, lat]`` or a GeoJSON Point in EPSG:4326."""

    default_error_messages = {"invalid": "expected [lon, lat] or a GeoJSON Point"}

    def to_internal_value(self, data: object) -> tuple[float, float]:
        return parse_lonlat(data, label=self.field_name or "point")

    def to_representation(self, value: tuple[float, float]) -> list[float]:
        return [value[0], value[1]]


class PointListField(serializers.ListField):
    """A list of points, each ``[lon, lat]`` or a GeoJSON Point; a MultiPoint is accepted too."""

    def to_internal_value(self, data: object) -> list[tuple[float, float]]:
        if isinstance(data, dict) and data.get("type") == "MultiPoint":
            data = data.get("coordinates")
        if not isinstance(data, list):
            raise serializers.ValidationError("expected a list of [lon, lat] points")
        if not data:
            raise serializers.ValidationError("at least one point is required")
        max_length = self.max_length
        if max_length is not None and len(data) > max_length:
            raise serializers.ValidationError(
                f"{len(data)} points given; at most {max_length} are accepted per request"
            )
        name = self.field_name or "points"
        return [parse_lonlat(item, label=f"{name}[{i}]") for i, item in enumerate(data)]

    def to_representation(self, value):
        return [[lon, lat] for lon, lat in value]


class CheckedInBBoxFilter(InBBoxFilter):
    """``in_bbox=min_lon,min_lat,max_lon,max_lat``, refused with a clear 400 when malformed."""

    def get_filter_bbox(self, request):
        raw = request.query_params.get(self.bbox_param)
        if not raw:
            return None
        parts = raw.split(",")
        try:
            min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
        except ValueError:
            raise ParseError(f"in_bbox must be four numbers min_lon,min_lat,max_lon,max_lat; got {raw!r}") from None
        for lon, lat in ((min_lon, min_lat), (max_lon, max_lat)):
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ParseError(f"in_bbox corner ({lon}, {lat}) is out of range; the order is min_lon,min_lat,...")
        if min_lon >= max_lon or min_lat >= max_lat:
            raise ParseError(f"in_bbox {raw!r}: min_lon must be below max_lon and min_lat below max_lat")
        bbox = Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))
        bbox.srid = 4326
        return bbox
