"""Serializers for the dispatch API: the unit map, stations, assignments, status changes and KPI queries.

Points are EPSG:4326 GeoJSON geometries ([lon, lat]); durations are seconds (``_s``).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from rest_framework import serializers
from rest_framework_gis.fields import GeometrySerializerMethodField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from fleet.models import Capability, Station, Unit, UnitStatus
from fleet.selectors_kpis import GROUP_BY
from gis_core.api.fields import PointField

# ---------------------------------------------------------------- input


class AssignmentCreateSerializer(serializers.Serializer):
    unit_id = serializers.IntegerField(min_value=1)
    capability = serializers.SlugField(max_length=32, required=False, allow_blank=False)

    def validate_capability(self, value: str) -> str:
        if not Capability.objects.filter(code=value).exists():
            known = ", ".join(Capability.objects.values_list("code", flat=True)) or "none loaded"
            raise serializers.ValidationError(f"unknown capability {value!r}; known: {known}")
        return value


class AssignmentCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class UnitStatusSetSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=UnitStatus.values,
        error_messages={"invalid_choice": f'"{{input}}" is not a unit status; known: {", ".join(UnitStatus.values)}.'},
    )
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class KpiQuerySerializer(serializers.Serializer):
    region = serializers.CharField(max_length=64, required=False)  # required: checked with an actionable message
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    group_by = serializers.ChoiceField(
        choices=GROUP_BY,
        default="agency",
        error_messages={"invalid_choice": f'"{{input}}" is not a grouping; use one of {", ".join(GROUP_BY)}.'},
    )

    def validate(self, attrs: dict) -> dict:
        for name in ("since", "until"):
            value = attrs.get(name)
            if value is not None and value.utcoffset() is None:
                raise serializers.ValidationError({name: "give a time zone, e.g. 2026-03-01T00:00:00+07:00"})
        return attrs


class RecommendationQuerySerializer(serializers.Serializer):
    routes = serializers.BooleanField(required=False, default=False)
    capabilities = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500)

    route_units = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_capabilities(self, value: str) -> list[str]:
        return [code.strip() for code in value.split(",") if code.strip()]

    def validate_route_units(self, value: str) -> list[int]:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        bad = [part for part in ids if not part.isdigit()]
        if bad:
            raise serializers.ValidationError(f"expected comma-separated unit ids, e.g. 12,15; got {', '.join(bad)}")
        return [int(part) for part in ids]


class UnitsEtaInputSerializer(serializers.Serializer):
    region = serializers.CharField(max_length=64, help_text="region slug or Kemendagri code, e.g. kota-jambi")
    destination = PointField(help_text="[lon, lat] or a GeoJSON Point, EPSG:4326")
    units = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=500
    )
    agencies = serializers.ListField(child=serializers.SlugField(max_length=32), required=False, default=list)
    capabilities = serializers.ListField(child=serializers.SlugField(max_length=32), required=False, default=list)
    available_only = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500)


# ---------------------------------------------------------------- output


def _position(unit: Unit, now: datetime) -> tuple[object, str | None, float | None]:
    """The map position: the newest valid fix, else the home station; with its source and age."""
    fix = unit.last_fix if unit.last_fix_id is not None else None
    if fix is not None and fix.is_valid and fix.geom is not None:
        age_s = None if fix.recorded_at is None else round(max(0.0, (now - fix.recorded_at).total_seconds()), 1)
        return fix.geom, "gps", age_s
    if unit.home_station is not None:
        return unit.home_station.geom, "station", None
    return None, None, None


class _FeatureWithIdSerializer(GeoFeatureModelSerializer):
    """A Feature with the row's id both as the Feature ``id`` (map libraries key on it) and in ``properties``."""

    def to_representation(self, instance) -> dict:
        feature = super().to_representation(instance)
        feature["id"] = instance.pk
        return feature


class UnitFeatureSerializer(_FeatureWithIdSerializer):
    """One unit as a GeoJSON Feature at its last valid fix (or home station); needs ``context["now"]``."""

    position = GeometrySerializerMethodField()
    agency = serializers.CharField(source="agency.code")
    agency_name = serializers.CharField(source="agency.name")
    agency_kind = serializers.CharField(source="agency.kind")
    unit_type = serializers.CharField(source="unit_type.code")
    capabilities = serializers.SerializerMethodField()
    position_age_s = serializers.SerializerMethodField()
    position_source = serializers.SerializerMethodField()
    position_stale = serializers.SerializerMethodField()
    station = serializers.SerializerMethodField()

    class Meta:
        model = Unit
        geo_field = "position"
        id_field = False
        fields = (
            "id", "call_sign", "agency", "agency_name", "agency_kind", "unit_type", "capabilities", "status",
            "status_changed_at", "position_age_s", "position_source", "position_stale", "station", "is_demo",
        )  # fmt: skip

    def _pos(self, unit: Unit):
        cache = self.context.setdefault("_positions", {})
        if unit.pk not in cache:
            cache[unit.pk] = _position(unit, self.context["now"])
        return cache[unit.pk]

    def get_position(self, unit: Unit):
        return self._pos(unit)[0]

    def get_capabilities(self, unit: Unit) -> list[str]:
        return sorted(c.code for c in unit.unit_type.capabilities.all())

    def get_position_age_s(self, unit: Unit) -> float | None:
        return self._pos(unit)[2]

    def get_position_source(self, unit: Unit) -> str | None:
        return self._pos(unit)[1]

    def get_position_stale(self, unit: Unit) -> bool | None:
        age_s = self._pos(unit)[2]
        return None if age_s is None else age_s > settings.SIAGA_POSITION_MAX_AGE_S

    def get_station(self, unit: Unit) -> dict | None:
        st = unit.home_station
        return None if st is None else {"id": st.pk, "code": st.code, "name": st.name}


class StationFeatureSerializer(_FeatureWithIdSerializer):
    agency = serializers.CharField(source="agency.code")
    agency_name = serializers.CharField(source="agency.name")
    agency_kind = serializers.CharField(source="agency.kind")
    units = serializers.IntegerField(source="unit_count")

    class Meta:
        model = Station
        geo_field = "geom"
        id_field = False
        fields = ("id", "code", "name", "kind", "agency", "agency_name", "agency_kind", "facility", "units", "is_demo")
