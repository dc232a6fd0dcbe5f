"""Serializers: GeoJSON output for boundaries, and validated input for the routing endpoints."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gis_core.api.fields import PointField, PointListField, parse_lonlat
from gis_core.models import Kecamatan, Kelurahan, Region, RoadNetworkVersion
from gis_core.routing.profiles import CAR, PROFILE_NAMES
from gis_core.selectors import region_visible, regions_visible

_POPULATION_FIELDS = ("population", "population_year", "population_source", "population_kind")


class NetworkVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoadNetworkVersion
        fields = ("id", "source", "source_kind", "imported_at", "node_count", "edge_count",
                  "dropped_node_count", "dropped_edge_count")  # fmt: skip


class RegionSerializer(serializers.ModelSerializer):
    network = serializers.SerializerMethodField()

    class Meta:
        model = Region
        fields = ("code", "slug", "name", "metric_srid", "population", "population_year", "population_source",
                  "network")  # fmt: skip

    def get_network(self, region: Region) -> dict | None:
        active = [v for v in region.network_versions.all() if v.is_active]
        return NetworkVersionSerializer(active[0]).data if active else None


class KecamatanSerializer(GeoFeatureModelSerializer):
    class Meta:
        model = Kecamatan
        geo_field = "geom"
        id_field = "code"
        fields = ("code", "name", "area_m2", *_POPULATION_FIELDS)


class KelurahanSerializer(GeoFeatureModelSerializer):
    kecamatan_code = serializers.CharField(source="kecamatan.code", read_only=True)

    class Meta:
        model = Kelurahan
        geo_field = "geom"
        id_field = "code"
        fields = ("code", "name", "kind", "kecamatan_code", "area_m2", *_POPULATION_FIELDS)


class AreaRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class LocateQuerySerializer(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()

    def validate(self, attrs: dict) -> dict:
        parse_lonlat([attrs["lon"], attrs["lat"]], label="point")
        return attrs


class RegionField(serializers.SlugRelatedField):
    """A region by slug or Kemendagri code among those the request's user may see (``regions_visible``).

    An unknown region and another centre's get the same 400, listing only the user's own regions. The
    serializer needs ``context={"request": request}``; without a request no region is visible. A write
    names the capability it needs there (``RegionField(capability="dispatch")``, ``access.roles``): a
    region where the user holds none that grants it is refused as another centre's is.
    """

    def __init__(self, *, capability: str | None = None, **kwargs):
        self.capability = capability
        super().__init__(slug_field="slug", queryset=Region.objects.all(), **kwargs)

    def to_internal_value(self, data: object) -> Region:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        region = region_visible(user, slug_or_code=data, capability=self.capability) if isinstance(data, str) else None
        if region is None:
            known = ", ".join(regions_visible(user, self.capability).values_list("slug", flat=True)) or "none"
            raise serializers.ValidationError(f"unknown region {data!r}; your regions: {known}")
        return region


class OriginsField(PointListField):
    """Origins as points, or objects ``{"id": ..., "point": [lon, lat]}`` whose id is echoed back.

    Returns a list of ``(id or None, (lon, lat))``.
    """

    def to_internal_value(self, data: object) -> list[tuple[str | None, tuple[float, float]]]:
        if not isinstance(data, list):
            return [(None, p) for p in super().to_internal_value(data)]
        ids = [str(item["id"]) if isinstance(item, dict) and item.get("id") is not None else None for item in data]
        points = [item["point"] if isinstance(item, dict) and "point" in item else item for item in data]
        return list(zip(ids, super().to_internal_value(points), strict=True))


def _max_points() -> int:
    return settings.SIAGA_MAX_POINTS


# A profile not among them is a 400 that names the three (a ChoiceField's own message lists none).
PROFILE_ERRORS = {"invalid_choice": f'"{{input}}" is not a vehicle profile; use one of {", ".join(PROFILE_NAMES)}.'}


class RoutingInputSerializer(serializers.Serializer):
    region = RegionField()
    # The vehicle profile (gis_core.routing.profiles): which roads, at what speeds. The car by default.
    profile = serializers.ChoiceField(
        choices=PROFILE_NAMES,
        default=CAR,
        error_messages={
            "invalid_choice": f'"{{input}}" is not a vehicle profile; use one of {", ".join(PROFILE_NAMES)}.'
        },
    )
    # The moment whose hour band of learned speeds to route on (gis_core.routing.hour_band_engines); now by
    # default. ISO 8601; without an offset it is the region's local time.
    at = serializers.CharField(required=False)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if "at" in attrs:
            attrs["at"] = parse_local_datetime(attrs["at"], zone=attrs["region"].time_zone, label="at")
        return attrs


class EtaInputSerializer(RoutingInputSerializer):
    destination = PointField()
    origins = OriginsField(max_length=_max_points())
    cutoff_s = serializers.FloatField(required=False, min_value=0)


class RouteInputSerializer(RoutingInputSerializer):
    origin = PointField()
    destination = PointField()


class IsochroneInputSerializer(RoutingInputSerializer):
    origin = PointField()
    thresholds_s = serializers.ListField(
        child=serializers.FloatField(min_value=1, max_value=4 * 3600), min_length=1, max_length=10
    )


def parse_local_datetime(value: str, *, zone: str, label: str) -> datetime:
    """An ISO 8601 date-time; one without an offset is read in ``zone`` (the region's IANA time zone).

    Raises
    ------
    serializers.ValidationError
        Naming ``label`` and the form expected.
    """
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise serializers.ValidationError(
            {label: f"{value!r} is not an ISO 8601 date-time, e.g. 2026-12-01T17:30:00+07:00"}
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo(zone))


class MatrixInputSerializer(RoutingInputSerializer):
    origins = PointListField(max_length=_max_points())
    destinations = PointListField(max_length=_max_points())
    cutoff_s = serializers.FloatField(required=False, min_value=0)

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        cells = len(attrs["origins"]) * len(attrs["destinations"])
        limit = _max_points() * 20
        if cells > limit:
            raise serializers.ValidationError(
                f"{len(attrs['origins'])} origins x {len(attrs['destinations'])} destinations = {cells} cells; "
                f"at most {limit} per request: split the matrix"
            )
        return attrs


def travel_time_data(tt) -> dict:
    if tt is None:
        return {"reachable": False, "eta_s": None, "network_s": None, "access_s": None, "distance_m": None,
                "access_m": None}  # fmt: skip
    return {"reachable": True, "eta_s": round(tt.eta_s, 3), "network_s": round(tt.network_s, 3),
            "access_s": round(tt.access_s, 3), "distance_m": round(tt.distance_m, 2),
            "access_m": round(tt.access_m, 2)}  # fmt: skip


def reach_data(reach) -> dict:
    """The walk (or hose lay) from where the profile's vehicle stops, apart from the drive."""
    stop = reach.reachable_point
    return {
        "access_on_foot_s": round(reach.on_foot_s, 3),
        "access_on_foot_m": round(reach.on_foot_m, 2),
        "reachable_point": None if stop is None else [round(stop[0], 7), round(stop[1], 7)],
    }


def snap_data(snap) -> dict:
    return {
        "point": [snap.lon, snap.lat],
        "snapped": [round(snap.snapped_lon, 7), round(snap.snapped_lat, 7)],
        "offset_m": round(snap.offset_m, 2),
        "access_s": round(snap.access_s, 3),
    }
