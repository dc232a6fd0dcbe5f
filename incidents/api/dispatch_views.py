"""Thin views for dispatch: the unit map, stations, recommendations, assignments, unit status, KPIs.

Every endpoint is for dispatchers (an authenticated user: HTTP Basic or a session). Errors come out
in the one shape of ``gis_core.api.errors``: ``{"error": {"code", "message"}}``; bad input is a 400,
an unknown id a 404, a unit that cannot be sent or moved a 409. A user sees and changes only the regions
they are a member of: a ``region`` of another centre is the same 404 as an unknown one, and so is a
report, unit or assignment of another centre (before anything changes); lists without ``region`` hold
the user's regions only. Points are ``[lon, lat]`` (EPSG:4326),
durations seconds, distances metres.

Response shapes
---------------
``GET /api/units/?region=<slug|code>``
    GeoJSON FeatureCollection, one Feature per unit. ``geometry``: where the unit is taken to be
    (``fleet.selectors.units.position_of``, the rule recommendation ranks from): the newest valid GPS fix
    when at most SIAGA_POSITION_MAX_AGE_S old, else the home station, else that old fix, else null.
    ``properties`` (``incidents.representations.unit_public``, the same dict a live unit message carries):
    ``id, call_sign, agency, agency_name, agency_kind, unit_type, capabilities [code], status,
    status_changed_at, is_demo, station {id, code, name} | null, position_source ("gps" |
    "home_station" | "stale_gps" | null), position_age_s and position_recorded_at (of the newest valid
    fix, whichever won; null without one), position_stale (that fix older than
    SIAGA_POSITION_MAX_AGE_S; null without one), position {lon, lat, source, age_s, recorded_at,
    accuracy_m, speed_kph, heading_deg} | null, assignment {id, incident_id, incident_reference,
    current_eta_s, eta_updated_at} | null``. Without ``region``: the units of every region of the user.
``GET /api/stations/?region=<slug|code>``
    GeoJSON FeatureCollection; ``properties``: ``id, code, name, kind, agency, agency_name,
    agency_kind, facility (id | null), units (how many are based there), is_demo``.
``GET /api/incidents/<id>/recommendations/?routes=1&capabilities=als,fire_engine&limit=5&route_units=12,15``
    ``{incident, reference, destination [lon, lat], position_max_age_s, max_eta_s, needs: [{agency_kind,
    capability, count, optional, suggestions: [{unit, call_sign, agency, agency_name, agency_kind,
    unit_type, capability, eta_s, distance_m, access_s, access_m, position_age_s, position_recorded_at,
    position_source ("gps" | "home_station" | "stale_gps" | null, as on the map), ranked_from ("gps" |
    "home_station" | null),
    origin [lon, lat], straight_line_m, reason (why eta_s is null) and reason_code (no_position,
    not_routable, no_road_path, profile_cannot_reach, beyond_max_eta), route (GeoJSON LineString | null;
    present with routes=1 for the best 3 of each need, and for the units named in route_units wherever
    they rank)}]}]}``. Suggestions are sorted by ``eta_s``, then those beyond ``max_eta_s``
    (``SIAGA_RECOMMEND_MAX_ETA_S``, where the search stopped) nearest in a straight line first.
    Without ``capabilities`` the needs come from the report's incident type; a report without a
    type and without ``capabilities`` is a 409 ``incident_type_missing``. 409 when the report has
    no location yet.
``POST /api/units/eta/ {region, destination [lon, lat], units?, agencies?, capabilities?, available_only?, limit?}``
    Road ETAs of the region's units (any status unless ``available_only``) to a point, each placed as
    for a recommendation; ``units`` [id], ``agencies`` and ``capabilities`` [code] narrow them.
    ``{region, destination, position_max_age_s, results: [{unit, call_sign, agency, agency_name,
    agency_kind, unit_type, status, capabilities, eta_s, distance_m, access_s, access_m,
    position_age_s, position_source, ranked_from, origin, straight_line_m, reason, reason_code}]}``,
    unbounded, sorted by ``eta_s`` (null
    last). 400 for unit ids not in the region, unknown codes, a bad or off-network destination.
``GET /api/incidents/<id>/assignments/``
    ``[assignment]``, newest first. An assignment: ``id, incident, reference, unit, unit_id,
    agency, agency_name, capability, status, dispatched_at, en_route_at, on_scene_at,
    transporting_at, at_hospital_at, cleared_at, cancelled_at, eta_s_at_dispatch, current_eta_s,
    eta_updated_at, times_s {dispatch_s, turnout_s, travel_s, response_s, on_scene_s, transport_s,
    total_s}``.
``POST /api/incidents/<id>/assignments/ {unit_id, capability?}``
    201 and the assignment; 409 ``unit_unavailable`` when the unit is busy (or was just taken by
    another dispatcher), 409 ``dispatch_refused`` for a closed report, a unit of another region or
    a capability the unit lacks; 404 for an unknown report or unit, or one of another centre.
``POST /api/assignments/<id>/cancel/ {reason?}``
    200 and the assignment (now ``cancelled``; the unit is available again); 409 when it is no
    longer active or the unit already arrived.
``POST /api/units/<id>/status/ {status, note?}``
    200: the unit as on the map (a Feature's ``properties``, see ``GET /api/units/``) and
    ``allowed_next [status]``; 409
    ``illegal_transition`` whose message lists the allowed next statuses.
``GET /api/kpis/response/?region=&since=&until=&group_by=agency|priority|kecamatan|day|month``
    ``{region, group_by, since, until, percentile_method, groups: [{key, label, target_s,
    target_by_priority_s (agency groups only: {priority: seconds}), reports, responded,
    response_s {n, mean, p90}, share_within_target, judged_against_target, received_to_dispatched_s,
    dispatched_to_en_route_s, en_route_to_on_scene_s}]}``; ``since`` defaults to 30 days before
    ``until``, ``until`` to now (ISO 8601; a date, or a time without an offset, is the region's local
    time: ``since=2026-03-01`` in Ambon is 00:00 WIT). ``group_by=day|month`` groups by the region's
    local calendar day or month (keys ``2026-03-01``, ``2026-03``); ``time_zone`` names that zone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from access import roles
from access.selectors import regions_for_user
from fleet.actors import Actor
from fleet.api.device_endpoint import idempotency_key
from fleet.api.permissions import CanSeeFleet
from fleet.models import Unit
from fleet.selectors.units import agency_ids_for_user, stations_for_map, unit_for_user
from gis_core.api.views import region_or_404
from gis_core.models import Region
from incidents.api import dispatch_serializers as s
from incidents.api.incident_serializers import AssignmentSerializer
from incidents.api.incident_views import DispatcherAPIView, incident_or_404
from incidents.models import Assignment
from incidents.representations import assignment_public, unit_feature, unit_public
from incidents.selectors.incidents import assignment_for_user
from incidents.selectors.kpis import response_kpis
from incidents.selectors.recommend import recommendation_public, units_eta, units_recommend
from incidents.selectors.units import unit_state, unit_states
from incidents.services.dispatch import dispatch_assign, dispatch_cancel
from incidents.services.request_keys import request_once
from incidents.services.status import allowed_next, unit_status_set

KPI_DEFAULT_WINDOW = timedelta(days=30)
REGION_PARAM = OpenApiParameter("region", str, description="region slug or Kemendagri code (e.g. kota-jambi, 15.71)")


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _region(request: Request, value: str | None, *, required: bool = False) -> Region | None:
    """The region ``value`` names among the user's; unknown and another centre's are the same 404."""
    if not value:
        if required:
            raise serializers.ValidationError({"region": "required: a region slug or code, e.g. kota-jambi"})
        return None
    return region_or_404(value, user=request.user)


def kpi_window(request: Request, serializer_class) -> tuple[Region, datetime, datetime, dict]:
    """A KPI view's query: its region (required, one of the user's), ``since`` and ``until`` (the last
    ``KPI_DEFAULT_WINDOW`` by default; a date, or a time without an offset, in the region's local time) and
    the rest of the validated query."""
    # An unescaped "+" of a zone offset arrives as a space in a query string.
    params = {k: v.replace(" ", "+") if k in ("since", "until") else v for k, v in request.query_params.items()}
    region = _region(request, _valid(serializer_class, params).get("region"), required=True)
    assert region is not None  # required=True
    with timezone.override(region.zone):
        query = _valid(serializer_class, params)
    until = query.get("until") or timezone.now()
    since = query.get("since") or until - KPI_DEFAULT_WINDOW
    if since >= until:
        raise serializers.ValidationError({"since": f"must be before until ({until.isoformat()})"})
    return region, since, until, query


def _unit_or_404(request: Request, pk: int) -> Unit:
    """A unit the user may act on (dispatch, status): of a region where they may dispatch and of an agency
    they are not limited away from; any other is the same 404 as a missing one."""
    unit = unit_for_user(request.user, pk=pk, capability=roles.DISPATCH)
    if unit is None:
        raise NotFound(f"no unit with id {pk}")
    return unit


def _assignment_data(pk: int) -> dict:
    assignment = Assignment.objects.select_related("incident", "unit__agency", "capability").get(pk=pk)
    return assignment_public(assignment)


@extend_schema(parameters=[REGION_PARAM], responses={200: OpenApiTypes.OBJECT})
class UnitList(DispatcherAPIView):
    """GET: units as a GeoJSON FeatureCollection where they are taken to be (as live messages place them)."""

    permission_classes = (CanSeeFleet,)  # the planner's map shows them too
    required_scopes = {"GET": "read-units"}

    def get(self, request: Request) -> Response:
        region = _region(request, request.query_params.get("region"))
        if region is not None:
            region_ids = [region.pk]
        else:
            region_ids = list(regions_for_user(request.user).values_list("pk", flat=True))
        agency_ids = agency_ids_for_user(request.user, region_ids=region_ids)
        states = unit_states(now=timezone.now(), region_ids=region_ids, agency_ids=agency_ids)
        return Response({"type": "FeatureCollection", "features": [unit_feature(state) for state in states]})


@extend_schema(parameters=[REGION_PARAM], responses={200: s.StationFeatureSerializer(many=True)})
class StationList(DispatcherAPIView):
    """GET: stations and posts as a GeoJSON FeatureCollection."""

    permission_classes = (CanSeeFleet,)  # the planner's map shows them too
    required_scopes = {"GET": "read-units"}

    def get(self, request: Request) -> Response:
        region = _region(request, request.query_params.get("region"))
        stations = stations_for_map(user=request.user, region=region)
        return Response(s.StationFeatureSerializer(stations, many=True).data)


@extend_schema(parameters=[s.RecommendationQuerySerializer], responses={200: OpenApiTypes.OBJECT})
class IncidentRecommendations(DispatcherAPIView):
    """GET: for each need of the report, the available units ranked by road ETA."""

    throttle_scope = "recommendations"

    def get(self, request: Request, pk: int) -> Response:
        query = _valid(s.RecommendationQuerySerializer, request.query_params)
        incident = incident_or_404(request, pk)
        result = units_recommend(
            incident=incident,
            agency_ids=agency_ids_for_user(request.user, region_ids=[incident.region_id]),
            include_route=query["routes"],
            capabilities=query["capabilities"] or None,
            limit=query.get("limit"),
            route_units=query["route_units"],
        )
        return Response(recommendation_public(result))


class UnitsEta(DispatcherAPIView):
    """POST: road ETAs of a region's units to a point, nearest first (for other systems and dispatchers)."""

    required_scopes = {"POST": "eta"}
    throttle_scope = "routing"

    @extend_schema(request=s.UnitsEtaInputSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = _valid(s.UnitsEtaInputSerializer, request.data)
        region = _region(request, data["region"], required=True)
        result = units_eta(
            region=region,
            agency_ids=agency_ids_for_user(request.user, region_ids=[region.pk]),
            destination=data["destination"],
            unit_ids=data["units"],
            agencies=data["agencies"],
            capabilities=data["capabilities"],
            available_only=data["available_only"],
            limit=data.get("limit"),
        )
        return Response(result)


class IncidentAssignments(DispatcherAPIView):
    """GET: the report's assignments. POST {unit_id, capability?}: send a unit."""

    @extend_schema(responses={200: AssignmentSerializer(many=True)})
    def get(self, request: Request, pk: int) -> Response:
        incident = incident_or_404(request, pk)
        rows = incident.assignments.select_related("incident", "unit__agency", "capability")
        return Response([assignment_public(a) for a in rows])

    @extend_schema(request=s.AssignmentCreateSerializer, responses={201: AssignmentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.AssignmentCreateSerializer, request.data)
        incident = incident_or_404(request, pk, capability=roles.DISPATCH)
        unit = _unit_or_404(request, data["unit_id"])
        assignment_id, resent = request_once(  # an Idempotency-Key resend answers the first assignment
            user=request.user, endpoint="dispatch_assign", key=idempotency_key(request),
            create=lambda: dispatch_assign(
                incident=incident, unit=unit, capability=data.get("capability"), actor=Actor.of_request(request)
            ).pk,
        )  # fmt: skip
        response = Response(_assignment_data(assignment_id), status=status.HTTP_201_CREATED)
        if resent:
            response["Idempotent-Replayed"] = "true"
        return response


class AssignmentCancel(DispatcherAPIView):
    """POST {reason?}: cancel an assignment before arrival; the unit becomes available."""

    @extend_schema(request=s.AssignmentCancelSerializer, responses={200: AssignmentSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.AssignmentCancelSerializer, request.data)
        assignment = assignment_for_user(request.user, pk=pk, capability=roles.DISPATCH)
        if assignment is None:
            raise NotFound(f"no assignment with id {pk}")
        dispatch_cancel(assignment=assignment, actor=Actor.of_request(request), reason=data["reason"])
        return Response(_assignment_data(pk))


class UnitStatusSet(DispatcherAPIView):
    """POST {status, note?}: a dispatcher moves a unit along its state machine."""

    @extend_schema(request=s.UnitStatusSetSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.UnitStatusSetSerializer, request.data)
        unit = _unit_or_404(request, pk)
        unit_status_set(
            unit=unit,
            to_status=data["status"],
            actor=Actor.of_request(request),
            note=data["note"],
        )
        state = unit_state(unit_id=unit.pk, now=timezone.now())
        return Response({**unit_public(state), "allowed_next": allowed_next(unit.status)})


@extend_schema(parameters=[s.KpiQuerySerializer], responses={200: OpenApiTypes.OBJECT})
class ResponseKpis(DispatcherAPIView):
    """GET: response-time KPIs (mean, p90, share within target) per agency, priority or kecamatan."""

    required_scopes = {"GET": "kpis"}

    def get(self, request: Request) -> Response:
        region, since, until, query = kpi_window(request, s.KpiQuerySerializer)
        return Response(response_kpis(region=region, since=since, until=until, group_by=query["group_by"]))
