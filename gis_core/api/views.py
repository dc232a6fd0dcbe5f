"""Thin HTTP views: parse input, call one selector or the routing engine, serialise."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.pagination import GeoJsonPagination
from shapely.geometry import mapping

from gis_core import selectors
from gis_core.api import serializers as s
from gis_core.api.fields import CheckedInBBoxFilter
from gis_core.models import Kecamatan, Kelurahan, Region, RoadNetworkVersion
from gis_core.routing.engine import RoutingEngine
from gis_core.routing.hour_band_engines import engine_for_now
from gis_core.routing.registry import active_version_id


class BoundaryPagination(GeoJsonPagination):
    page_size = 100
    max_page_size = 500


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """The regions (cities) the user may see, with their active road network; another centre's is a 404."""

    serializer_class = s.RegionSerializer
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.regions_visible(self.request.user).prefetch_related(
            Prefetch("network_versions", queryset=RoadNetworkVersion.objects.filter(is_active=True))
        )


class _RegionAreaList(generics.ListAPIView):
    pagination_class = BoundaryPagination
    filter_backends = (CheckedInBBoxFilter,)
    bbox_filter_field = "geom"
    bbox_filter_include_overlapping = True

    def region(self) -> Region:
        return region_or_404(self.kwargs["slug"], user=self.request.user)


@extend_schema(parameters=[OpenApiParameter("in_bbox", str, description="min_lon,min_lat,max_lon,max_lat")])
class KecamatanList(_RegionAreaList):
    """Kecamatan of a region as a GeoJSON FeatureCollection (EPSG:4326)."""

    serializer_class = s.KecamatanSerializer

    def get_queryset(self):
        return Kecamatan.objects.filter(region=self.region()).order_by("code")


@extend_schema(
    parameters=[
        OpenApiParameter("in_bbox", str, description="min_lon,min_lat,max_lon,max_lat"),
        OpenApiParameter("kecamatan", str, description="only the kelurahan of this kecamatan code"),
    ]
)
class KelurahanList(_RegionAreaList):
    """Kelurahan (and desa) of a region as a GeoJSON FeatureCollection (EPSG:4326)."""

    serializer_class = s.KelurahanSerializer

    def get_queryset(self):
        queryset = Kelurahan.objects.filter(kecamatan__region=self.region()).select_related("kecamatan")
        kecamatan = self.request.query_params.get("kecamatan")
        if kecamatan:
            queryset = queryset.filter(kecamatan__code=kecamatan)
        return queryset.order_by("code")


class LocateView(APIView):
    """Which kecamatan and kelurahan of the region contain a point."""

    @extend_schema(parameters=[s.LocateQuerySerializer], responses={200: dict})
    def get(self, request: Request, slug: str) -> Response:
        region = region_or_404(slug, user=request.user)
        query = s.LocateQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        lon, lat = query.validated_data["lon"], query.validated_data["lat"]
        kecamatan, kelurahan = selectors.admin_areas_containing(region=region, lon=lon, lat=lat)
        if kecamatan is None:
            raise serializers.ValidationError(
                f"point ({lon}, {lat}) is outside {region.name}: no kecamatan contains it"
            )
        return Response(
            {
                "point": [lon, lat],
                "kecamatan": s.AreaRefSerializer(kecamatan).data,
                "kelurahan": s.AreaRefSerializer(kelurahan).data if kelurahan else None,
            }
        )


class ClosuresQuerySerializer(serializers.Serializer):
    recent_h = serializers.IntegerField(min_value=0, max_value=24 * 31, required=False, default=0)


@extend_schema(parameters=[OpenApiParameter("recent_h", int, description="also those ended in the last hours")])
class RegionClosures(APIView):
    """The region's road closures in force or scheduled (and those ended in ``recent_h`` hours), newest first.

    A GeoJSON FeatureCollection (``road_closure_public``), for every console role of the region (the default
    permission); another centre's region is a 404. Writes are the dispatcher's (``incidents.api.closure_views``).
    """

    def get(self, request: Request, slug: str) -> Response:
        region = region_or_404(slug, user=request.user)
        query = ClosuresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        now = timezone.now()
        rows = selectors.road_closures_of_region(
            region=region, now=now, recent_s=query.validated_data["recent_h"] * 3600
        )
        return Response(
            {
                "type": "FeatureCollection",
                "region": region.slug,
                "features": [selectors.road_closure_public(c, now=now) for c in rows],
            }
        )


class EtaView(APIView):
    """Travel times from many origins to one destination, sorted by ``eta_s`` (unreachable last)."""

    required_scopes = {"POST": "eta"}  # machine clients too (access.permissions)
    throttle_scope = "routing"

    @extend_schema(request=s.EtaInputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = _valid(s.EtaInputSerializer, request)
        engine, basis = _routing_engine(data)
        # Where the profile's vehicle stops for the destination: the destination itself unless it cannot
        # drive the street there (then the walk is added to each eta_s and shown apart).
        reach = engine.reach(data["destination"])
        destination = reach.snap
        origin_ids, origin_points = zip(*data["origins"], strict=True)
        snapped = engine.try_snap(list(origin_points))
        usable = [i for i, snap in enumerate(snapped) if not isinstance(snap, Exception)]
        cutoff_s = data.get("cutoff_s")
        cutoff_s = None if cutoff_s is None else cutoff_s - reach.on_foot_s
        times = (
            engine.travel_times_to([snapped[i] for i in usable], destination, cutoff_s=cutoff_s)
            if cutoff_s is None or cutoff_s >= 0
            else [None] * len(usable)
        )
        by_index = dict(zip(usable, times, strict=True))
        results = []
        for i, snap in enumerate(snapped):
            row = {"index": i, "id": origin_ids[i], **s.travel_time_data(by_index.get(i))}
            if row["eta_s"] is not None and reach.on_foot_s:
                row["eta_s"] = round(row["eta_s"] + reach.on_foot_s, 3)
            if isinstance(snap, Exception):
                row["error"] = str(snap)
            results.append(row)
        results.sort(key=lambda r: (r["eta_s"] is None, r["eta_s"] or 0.0, r["index"]))
        return Response(
            {
                "region": data["region"].slug,
                "profile": data["profile"],
                "basis": basis,
                "destination": s.snap_data(destination),
                **s.reach_data(reach),
                "results": results,
            }
        )


class RouteView(APIView):
    """The fastest route between two points as a GeoJSON Feature."""

    throttle_scope = "routing"

    @extend_schema(request=s.RouteInputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = _valid(s.RouteInputSerializer, request)
        engine, basis = _routing_engine(data)
        reach = engine.reach(data["destination"])
        route = engine.route(data["origin"], reach.snap)
        return Response(
            {
                "type": "Feature",
                "geometry": mapping(route.geometry_lonlat),
                "properties": {
                    "length_m": round(route.length_m, 2),
                    "travel_time_s": round(route.travel_time_s, 3),
                    "access_s": round(route.access_s, 3),
                    "access_m": round(route.access_m, 2),
                    "eta_s": round(route.eta_s + reach.on_foot_s, 3),
                    "street_names": list(route.street_names),
                    "profile": data["profile"],
                    **s.reach_data(reach),
                },
                "basis": basis,
            }
        )


class IsochroneView(APIView):
    """Areas reachable from a point within each threshold, as a GeoJSON FeatureCollection."""

    throttle_scope = "routing"

    @extend_schema(request=s.IsochroneInputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = _valid(s.IsochroneInputSerializer, request)
        engine, basis = _routing_engine(data)
        isochrones = engine.isochrones(data["origin"], data["thresholds_s"])
        features = [
            {
                "type": "Feature",
                "geometry": mapping(iso.geometry_lonlat),
                "properties": {"threshold_s": iso.threshold_s, "area_m2": round(iso.area_m2, 1)},
            }
            for iso in isochrones
        ]
        return Response({"type": "FeatureCollection", "features": features, "basis": basis})


class MatrixView(APIView):
    """Travel times for every origin (rows) and destination (columns); ``null`` where unreachable."""

    throttle_scope = "routing"

    @extend_schema(request=s.MatrixInputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = _valid(s.MatrixInputSerializer, request)
        engine, basis = _routing_engine(data)
        rows = engine.matrix(data["origins"], data["destinations"], cutoff_s=data.get("cutoff_s"))
        return Response(
            {
                "eta_s": [[None if tt is None else round(tt.eta_s, 3) for tt in row] for row in rows],
                "distance_m": [[None if tt is None else round(tt.distance_m, 2) for tt in row] for row in rows],
                "basis": basis,
            }
        )


def _routing_engine(data: dict) -> tuple[RoutingEngine, dict]:
    """The engine of the request's profile for the hour band of its ``at`` (default now), and what it is:
    ``basis`` = profile, the moment, the hour band whose learned speeds it runs on (``all``: the network's
    all-day weights; ``gis_core.selectors.speed_band_used``) and the network version id."""
    region, profile = data["region"], data["profile"]
    at = data.get("at") or timezone.now()
    engine = engine_for_now(region, profile, at=at)
    version_id = active_version_id(region)
    band = selectors.speed_band_used(region=region, version_id=version_id, at=at)
    return engine, {"profile": profile, "at": at.isoformat(), "hour_band": band, "network_version": version_id}


def region_or_404(slug: str, *, user, capability: str | None = None) -> Region:
    """The region ``slug`` (or Kemendagri code) if ``user`` may see it (and do ``capability`` there, an
    ``access.roles`` capability); else a 404 that lists the user's own.

    An unknown region and another centre's answer the same, so the answer never confirms that it exists.
    """
    region = selectors.region_visible(user, slug_or_code=slug, capability=capability)
    if region is None:
        known = ", ".join(selectors.regions_visible(user, capability).values_list("slug", flat=True)) or "none"
        raise NotFound(f"unknown region {slug!r}; your regions: {known}")
    return region


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
