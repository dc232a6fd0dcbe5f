"""Thin views for reports and callers: parse input, call one service or selector, serialise.

Every endpoint here is for dispatchers and call takers: an authenticated user (HTTP Basic or a session).
Errors come out in the one JSON shape of ``gis_core.api.errors``. A user sees and changes only the work of
the regions they are a member of: another centre's report, region or caller is the same 404 as an unknown
one, answered before anything changes.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.pagination import GeoJsonPagination

from access import roles
from access.authentication import ApiTokenAuthentication
from access.selectors import home_region_for_user
from fleet.actors import Actor
from fleet.api.device_endpoint import idempotency_key
from fleet.api.permissions import CanDispatch
from gis_core.api.authentication import BasicAuthentication
from gis_core.api.views import region_or_404
from gis_core.models import Region
from incidents.api import incident_serializers as s
from incidents.models import CallerFlag, Incident
from incidents.selectors.incidents import (
    caller_history,
    incident_detail,
    incident_for_user,
    incidents_queue,
    statuses_parse,
)
from incidents.services import callers, incidents
from incidents.services.request_keys import request_once


class DispatcherAPIView(APIView):
    """A dispatcher's or call taker's endpoint: HTTP Basic or a session, and the dispatcher role."""

    # Basic first so an anonymous request gets a 401 with WWW-Authenticate rather than a bare 403. API tokens
    # get only the views that name ``required_scopes`` (access.permissions).
    authentication_classes = (BasicAuthentication, SessionAuthentication, ApiTokenAuthentication)
    permission_classes = (CanDispatch,)


class QueuePagination(GeoJsonPagination):
    page_size = 100
    max_page_size = 500


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def incident_or_404(request: Request, pk: int, capability: str | None = None) -> Incident:
    """The report ``pk`` of one of the user's regions (one where they may do ``capability``, an
    ``access.roles`` capability, for a write); another centre's is the same 404 as a missing one."""
    incident = incident_for_user(request.user, pk=pk, capability=capability)
    if incident is None:
        raise NotFound(f"no report with id {pk}")
    return incident


CALLER_REGION = OpenApiParameter(
    "region", str, description="the centre whose record of the number it is (slug or code); default: your home region"
)


def caller_region(request: Request, capability: str | None = None) -> Region:
    """The centre whose caller record is asked for: ``?region=`` (or a body's ``region``), else the user's
    home region. Callers are per region; another centre's (or, for a write naming ``capability``, one where
    the user may not do it) is the same 404 as an unknown region."""
    given = request.query_params.get("region") or (
        request.data.get("region") if isinstance(request.data, dict) else None
    )
    if given:
        return region_or_404(str(given), user=request.user, capability=capability)
    region = home_region_for_user(request.user)
    if region is None:
        raise NotFound("you are a member of no region: name one with ?region=")
    if capability is not None and not roles.may(request.user, capability, region):
        raise NotFound(f"you may not do this in your home region {region.slug}: name a region with ?region=")
    return region


def _caller_read(request: Request, *, phone: str, via: str, obj) -> None:
    """Audit a read of caller data by a person or a machine client (its API token)."""
    # A person's login or a machine client's token alike: whoever was shown the number is on record.
    callers.caller_read_record(phone=phone, actor=Actor.of_request(request), via=via, obj=obj)


def _detail_response(request: Request, pk: int, *, status_code: int = status.HTTP_200_OK) -> Response:
    incident = incident_detail(user=request.user, pk=pk)
    if incident is None:
        raise NotFound(f"no report with id {pk}")
    phone = incident.caller_phone
    history = caller_history(region=incident.region, phone=phone, limit=11) if phone else None
    if phone:  # the answer shows the caller's number and record
        _caller_read(request, phone=phone, via="incident_detail", obj=incident)
    data = s.IncidentDetailSerializer(incident, context={"caller_history": history}).data
    return Response(data, status=status_code)


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, description="comma-separated statuses, or all (default: not closed)"),
        OpenApiParameter("region", str, description="region slug or Kemendagri code"),
    ]
)
class IncidentListCreate(generics.GenericAPIView, DispatcherAPIView):
    """GET: the queue as a GeoJSON FeatureCollection, most urgent first. POST: a new report."""

    pagination_class = QueuePagination
    serializer_class = s.IncidentQueueSerializer
    required_scopes = {"GET": "read-incidents"}

    def get_queryset(self):
        params = self.request.query_params
        try:
            statuses = statuses_parse(params.get("status"))
        except ValueError as exc:
            raise serializers.ValidationError({"status": str(exc)}) from None
        region = region_or_404(params["region"], user=self.request.user) if params.get("region") else None
        return incidents_queue(user=self.request.user, region=region, statuses=statuses)

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=s.IncidentCreateSerializer, responses={201: s.IncidentDetailSerializer})
    def post(self, request: Request) -> Response:
        """A report; with an ``Idempotency-Key`` header a resend answers the first report and creates none."""
        data = _valid(s.IncidentCreateSerializer, request)
        pk, resent = request_once(
            user=request.user, endpoint="incident_create", key=idempotency_key(request),
            create=lambda: incidents.incident_create(**data, actor=Actor.of_request(request)).pk,
        )  # fmt: skip
        response = _detail_response(request, pk, status_code=status.HTTP_201_CREATED)
        if resent:
            response["Idempotent-Replayed"] = "true"
        return response


class IncidentDetail(DispatcherAPIView):
    """GET: one report in full. PATCH: its type, priority, description, caller name or address (triage)."""

    required_scopes = {"GET": "read-incidents"}
    scoped_objects = {"pk": Incident}

    @extend_schema(responses={200: s.IncidentDetailSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return _detail_response(request, pk)

    @extend_schema(request=s.IncidentClassifySerializer, responses={200: s.IncidentDetailSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        data = _valid(s.IncidentClassifySerializer, request)
        incidents.incident_classify(
            incident=incident_or_404(request, pk, roles.DISPATCH),
            **data,
            actor=Actor.of_request(request),
        )
        return _detail_response(request, pk)


class IncidentLocation(DispatcherAPIView):
    """PATCH: set or move the report's location (the kecamatan follows)."""

    @extend_schema(request=s.IncidentLocationSerializer, responses={200: s.IncidentDetailSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        data = _valid(s.IncidentLocationSerializer, request)
        incidents.incident_location_set(
            incident=incident_or_404(request, pk, roles.DISPATCH),
            location=data["location"],
            location_accuracy_m=data["location_accuracy_m"],
            source=data["location_source"],
            address_text=data["address_text"],
            actor=Actor.of_request(request),
        )
        return _detail_response(request, pk)


class LocationOfferApply(DispatcherAPIView):
    """POST: make a location the caller shared the report's location."""

    @extend_schema(request=None, responses={200: s.IncidentDetailSerializer})
    def post(self, request: Request, pk: int, offer_id: int) -> Response:
        incidents.location_offer_apply(
            incident=incident_or_404(request, pk, roles.DISPATCH),
            offer_id=offer_id,
            actor=Actor.of_request(request),
        )
        return _detail_response(request, pk)


class IncidentClose(DispatcherAPIView):
    """POST {outcome, note}: close the report (genuine, false_alarm, prank, silent)."""

    @extend_schema(request=s.IncidentCloseSerializer, responses={200: s.IncidentDetailSerializer})
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(s.IncidentCloseSerializer, request)
        incidents.incident_close(
            incident=incident_or_404(request, pk, roles.DISPATCH),
            outcome=data["outcome"],
            note=data["note"],
            actor=Actor.of_request(request),
        )
        return _detail_response(request, pk)


class CallerDetail(DispatcherAPIView):
    """GET: a number's reports, outcomes and flags (any form: 0812..., 62812..., +62812...)."""

    @extend_schema(parameters=[CALLER_REGION])
    def get(self, request: Request, phone: str) -> Response:
        region, number = caller_region(request), callers.phone_normalise(phone)
        history = caller_history(region=region, phone=number)
        if history.caller is None and not history.report_count:
            raise NotFound(f"no report or flag for {number} yet")
        _caller_read(request, phone=number, via="caller_detail", obj=history.caller)
        return Response(s.caller_history_data(history))


class CallerFlagCreate(DispatcherAPIView):
    """POST {kind: flag|block, reason, duration_s}: flag or block a number (a block lasts 24 h by default)."""

    @extend_schema(request=s.CallerFlagCreateSerializer, responses={201: s.CallerFlagSerializer})
    def post(self, request: Request, phone: str) -> Response:
        region, phone = caller_region(request, roles.DISPATCH), callers.phone_normalise(phone)
        data = _valid(s.CallerFlagCreateSerializer, request)
        action = callers.caller_block if data["kind"] == callers.BLOCK else callers.caller_flag
        kwargs = {"duration_s": data["duration_s"]} if "duration_s" in data else {}
        flag = action(region=region, phone=phone, reason=data["reason"], actor=Actor.of_request(request), **kwargs)
        return Response(s.CallerFlagSerializer(flag).data, status=status.HTTP_201_CREATED)


class CallerFlagLift(DispatcherAPIView):
    """POST {reason}: lift a flag or block; it stays on record."""

    @extend_schema(request=s.CallerFlagLiftSerializer, responses={200: s.CallerFlagSerializer})
    def post(self, request: Request, phone: str, flag_id: int) -> Response:
        region, number = caller_region(request, roles.DISPATCH), callers.phone_normalise(phone)
        data = _valid(s.CallerFlagLiftSerializer, request)
        flag = (
            CallerFlag.objects.select_related("caller")
            .filter(pk=flag_id, caller__phone=number, caller__region=region)
            .first()
        )
        if flag is None:
            raise NotFound(f"{number} has no flag {flag_id}")
        flag = callers.caller_flag_lift(flag=flag, reason=data["reason"], actor=Actor.of_request(request))
        return Response(s.CallerFlagSerializer(flag).data)
