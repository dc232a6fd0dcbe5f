"""Validated input of the coverage endpoints; every bad value is a 400 naming the field and the fix."""

from __future__ import annotations

import shapely
from rest_framework import serializers
from shapely.geometry import mapping, shape

from access import roles
from coverage.context import BAND_NAMES, DEFAULT_CELL_M
from coverage.selectors import SourceSpec
from coverage.siting import DEFAULT_CANDIDATES
from gis_core.api.fields import PointListField, parse_lonlat
from gis_core.api.serializers import RegionField
from gis_core.routing.profiles import PROFILE_NAMES

MAX_S = 4 * 3600


class SourcesSerializer(serializers.Serializer):
    """Where units leave from: stations of agencies, units of types, extra points."""

    agencies = serializers.ListField(child=serializers.SlugField(max_length=32), required=False, default=list)
    unit_types = serializers.ListField(child=serializers.SlugField(max_length=32), required=False, default=list)
    units = serializers.BooleanField(
        required=False, default=False, help_text="every unit of the agencies (at its GPS fix or home station)"
    )
    stations = serializers.BooleanField(required=False, default=True)
    available_only = serializers.BooleanField(required=False, default=False)
    points = PointListField(required=False, max_length=200)

    def to_spec(self, data: dict) -> SourceSpec:
        return SourceSpec(
            agencies=tuple(data["agencies"]),
            unit_types=tuple(data["unit_types"]),
            units=data.get("units", False),
            stations=data["stations"],
            available_only=data["available_only"],
            points=tuple(data.get("points") or ()),
        )


def _spec(data: dict | None, *, required: bool) -> SourceSpec:
    data = data or {"agencies": [], "unit_types": [], "units": False, "stations": True, "available_only": False}
    spec = SourcesSerializer().to_spec(data)
    if required and not (spec.agencies or spec.unit_types or spec.points):
        raise serializers.ValidationError({"sources": "name agencies, unit_types or points to search from"})
    return spec


class _Base(serializers.Serializer):
    region = RegionField(capability=roles.PLAN)  # computing coverage or siting: where the user may plan
    cell_m = serializers.FloatField(required=False, default=DEFAULT_CELL_M, min_value=50, max_value=2000)
    label = serializers.CharField(required=False, default="", max_length=128, allow_blank=True)
    # Routed on: the vehicle profile (default: the one most of the named units have, a tie to the bigger
    # vehicle, car without units) and the hour band of learned speeds (default: none, the all-day weights).
    profile = serializers.ChoiceField(
        choices=PROFILE_NAMES,
        required=False,
        error_messages={
            "invalid_choice": f'"{{input}}" is not a vehicle profile; use one of {", ".join(PROFILE_NAMES)}.'
        },
    )
    hour_band = serializers.ChoiceField(
        choices=BAND_NAMES,
        required=False,
        error_messages={"invalid_choice": f'"{{input}}" is not an hour band; use one of {", ".join(BAND_NAMES)}.'},
    )


class CoverageInputSerializer(_Base):
    sources = SourcesSerializer()
    thresholds_s = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_S), required=False, min_length=1, max_length=10
    )
    target_s = serializers.IntegerField(required=False, min_value=1, max_value=MAX_S)

    def validate(self, attrs: dict) -> dict:
        attrs["spec"] = _spec(attrs.pop("sources"), required=True)
        return attrs


class SitingInputSerializer(_Base):
    model = serializers.ChoiceField(choices=["mclp", "lscp"])
    existing = SourcesSerializer(required=False)
    k = serializers.IntegerField(required=False, min_value=1, max_value=50)
    required_share = serializers.FloatField(required=False, min_value=0.01, max_value=1.0)
    threshold_s = serializers.IntegerField(required=False, min_value=1, max_value=MAX_S)
    candidates = PointListField(required=False, max_length=5000)
    n_candidates = serializers.IntegerField(required=False, default=DEFAULT_CANDIDATES, min_value=1, max_value=5000)
    time_limit_s = serializers.FloatField(required=False, min_value=1, max_value=600)

    def validate(self, attrs: dict) -> dict:
        if attrs["model"] == "mclp" and "k" not in attrs:
            raise serializers.ValidationError({"k": "mclp needs k, the number of new sites to open (1 to 50)"})
        if attrs["model"] == "lscp" and "required_share" not in attrs:
            raise serializers.ValidationError({"required_share": "lscp needs the share to cover, e.g. 0.9"})
        attrs["spec"] = _spec(attrs.pop("existing", None), required=False)
        return attrs


class LiveInputSerializer(_Base):
    agencies = serializers.ListField(child=serializers.SlugField(max_length=32), min_length=1)
    unit_types = serializers.ListField(child=serializers.SlugField(max_length=32), required=False, default=list)
    threshold_s = serializers.IntegerField(required=False, min_value=1, max_value=MAX_S)
    max_moves = serializers.IntegerField(required=False, default=1, min_value=0, max_value=10)


class GeometryField(serializers.Field):
    """A GeoJSON Point, LineString or MultiLineString in EPSG:4326, or ``[lon, lat]``."""

    def to_internal_value(self, data: object) -> shapely.Geometry:
        if isinstance(data, list):
            return shapely.Point(parse_lonlat(data, label=self.field_name))
        if not isinstance(data, dict) or data.get("type") not in {"Point", "LineString", "MultiLineString"}:
            raise serializers.ValidationError("expected a GeoJSON Point, LineString or MultiLineString, or [lon, lat]")
        try:
            geometry = shape(data)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
            raise serializers.ValidationError(f"not a valid GeoJSON {data.get('type')}: {exc}") from None
        coords = shapely.get_coordinates(geometry)
        if not len(coords):
            raise serializers.ValidationError("the geometry has no coordinates")
        for lon, lat in coords:
            parse_lonlat([lon, lat], label=self.field_name)
        return geometry

    def to_representation(self, value: shapely.Geometry) -> dict:
        return mapping(value)


class WhatIfInputSerializer(CoverageInputSerializer):
    close_edge_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=500
    )
    close_near = GeometryField(required=False)
    close_tolerance_m = serializers.FloatField(required=False, default=25.0, min_value=0, max_value=500)
    add_stations = PointListField(required=False, max_length=50)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if not (attrs["close_edge_ids"] or attrs.get("close_near") or attrs.get("add_stations")):
            raise serializers.ValidationError("nothing to compare: give close_edge_ids, close_near or add_stations")
        return attrs
