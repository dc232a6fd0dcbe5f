"""Thin views for live road closures: a dispatcher (or BPBD user) closes or slows roads and lifts them.

``POST /api/closures/ {region, reason, geometry | geojson | edge_ids, mode?, slow_factor?, starts_at?, ends_at?}``
    201 and the closure (a GeoJSON Feature, ``gis_core.selectors.road_closure_public``) with ``edge_count`` and
    ``streets`` it covers now. ``geometry``: a Polygon drawn (source ``drawn``) or a LineString along streets
    (``streets``); ``geojson``: an uploaded file's content, a geometry, Feature or FeatureCollection of areas
    or of lines (``uploaded``); ``edge_ids``: ``RoadEdge`` ids of the active network (``streets``). 400 with a
    reason for anything else (``closure_geometry_invalid``, ``closure_covers_no_road``, ``closure_invalid``).
``POST /api/closures/<id>/lift/ {reason?}``
    200 and the closure lifted; 409 ``closure_not_active`` if it was lifted or has ended.

Who: the dispatch capability in the closure's region (dispatcher, supervisor, region admin: a BPBD officer
gets a supervisor membership, or a dispatcher one limited to BPBD's agency); another region's closure is a
404, another region in the body a 400. Reading them is ``GET /api/regions/<slug>/closures/`` (any role).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from access import roles
from fleet.actors import Actor
from gis_core.api.serializers import RegionField
from gis_core.closure_geojson import AREA_TYPES, closure_geometry
from gis_core.models import ClosureMode, ClosureSource
from gis_core.selectors import road_closure_for_user, road_closure_public
from incidents.api.incident_views import DispatcherAPIView
from incidents.services.closures import road_closure_create, road_closure_lift


class ClosureCreateSerializer(serializers.Serializer):
    region = RegionField(capability=roles.DISPATCH)
    reason = serializers.CharField(max_length=500)
    mode = serializers.ChoiceField(choices=ClosureMode.values, default=ClosureMode.CLOSED)
    slow_factor = serializers.FloatField(required=False, allow_null=True, default=None)
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    geometry = serializers.JSONField(required=False)
    geojson = serializers.JSONField(required=False)
    edge_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**62), required=False, max_length=5000
    )

    def validate(self, attrs: dict) -> dict:
        given = [name for name in ("geometry", "geojson", "edge_ids") if attrs.get(name) not in (None, [], {})]
        if len(given) != 1:
            raise serializers.ValidationError(
                'give exactly one of "geometry" (drawn), "geojson" (a file\'s content) or "edge_ids" (streets picked)'
            )
        return attrs


class ClosureLiftSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ClosureCreate(DispatcherAPIView):
    """Close or slow a region's roads from now (or ``starts_at``) until lifted (or ``ends_at``)."""

    @extend_schema(request=ClosureCreateSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request) -> Response:
        data = _valid(ClosureCreateSerializer, request)
        max_vertices = _max_vertices()
        if data.get("edge_ids"):
            geometry, source = None, ClosureSource.STREETS
        elif data.get("geojson") is not None:
            geometry, source = closure_geometry(data["geojson"], max_vertices=max_vertices), ClosureSource.UPLOADED
        else:
            geometry = closure_geometry(data["geometry"], max_vertices=max_vertices)
            source = ClosureSource.DRAWN if geometry.geom_type in AREA_TYPES else ClosureSource.STREETS
        created = road_closure_create(
            region=data["region"],
            reason=data["reason"],
            source=source,
            geometry=geometry,
            edge_ids=data.get("edge_ids") or (),
            mode=data["mode"],
            slow_factor=data["slow_factor"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            actor=Actor.of_request(request),
        )
        body = road_closure_public(created.closure, now=timezone.now())
        body["properties"] |= {"edge_count": created.edge_count, "streets": list(created.streets)}
        return Response(body, status=status.HTTP_201_CREATED)


class ClosureLift(DispatcherAPIView):
    """Lift a closure by hand: routing stops applying it at the next request in every process."""

    @extend_schema(request=ClosureLiftSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        closure = road_closure_for_user(request.user, pk=pk, capability=roles.DISPATCH)
        if closure is None:
            raise NotFound(f"no road closure {pk} in your regions")
        data = _valid(ClosureLiftSerializer, request)
        lifted = road_closure_lift(closure=closure, actor=Actor.of_request(request), reason=data["reason"])
        return Response(road_closure_public(lifted, now=timezone.now()))


def _max_vertices() -> int:
    return settings.SIAGA_CLOSURE_MAX_VERTICES
