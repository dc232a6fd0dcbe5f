"""Serializers for the dispatch API: the unit map, stations, assignments, status changes and KPI queries.

Points are EPSG:4326 GeoJSON geometries ([lon, lat]); durations are seconds (``_s``).
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from fleet.models import Capability, Station, UnitStatus
from gis_core.api.fields import PointField
from incidents.selectors.eta_accuracy import GROUP_BY as ETA_GROUP_BY
from incidents.selectors.kpis import GROUP_BY

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
    # A time without an offset (or a date) is read in the current zone, which the view sets to the
    # region's: 2026-03-01 in Ambon is 00:00 WIT.


class EtaAccuracyQuerySerializer(KpiQuerySerializer):
    group_by = serializers.ChoiceField(
        choices=ETA_GROUP_BY,
        default="agency",
        error_messages={"invalid_choice": f'"{{input}}" is not a grouping; use one of {", ".join(ETA_GROUP_BY)}.'},
    )


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


class _FeatureWithIdSerializer(GeoFeatureModelSerializer):
    """A Feature with the row's id both as the Feature ``id`` (map libraries key on it) and in ``properties``."""

    def to_representation(self, instance) -> dict:
        feature = super().to_representation(instance)
        feature["id"] = instance.pk
        return feature


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
