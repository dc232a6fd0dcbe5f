"""Thin views for hand-offs: a report's legs to agencies without tracked units, and their KPIs.

``GET /api/incidents/<id>/handoffs/``
    ``[handoff]`` oldest first (``incidents.representations.handoff_public``).
``POST /api/incidents/<id>/handoffs/ {agency: code, note?} | {from_incident_type: true}``
    201 and ``[handoff]`` created: one to the agency chosen, or one to each agency of the region whose kind
    the report's type needs and that has no tracked units. 409 ``handoff_refused`` for a closed report, a
    second open leg to the same agency, a report without a type; 400 for an agency not of the report's region.
``POST /api/handoffs/<id>/ {status?: acknowledged | on_scene | closed, agency_reference?, note?}``
    200 and the hand-off; 409 ``handoff_state`` for a move backwards.
``POST /api/handoffs/<id>/agency/`` (the agency's own system; signed)
    ``{status?, reference?, at?}`` with ``X-Siaga-Signature-256: sha256=<hex HMAC-SHA256 of the raw body
    under the agency's secret>``; 200 and ``{id, status, agency_reference}``; 403 for a wrong signature.
``GET /api/kpis/handoffs/?region=&since=&until=``
    Sent -> acknowledged per agency (``incidents.selectors.kpis.handoff_kpis``).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from access import roles
from access.selectors import regions_for_user
from fleet.actors import Actor
from fleet.models import Agency
from gis_core.client_address import client_address
from incidents.api.dispatch_views import kpi_window
from incidents.api.incident_views import DispatcherAPIView, incident_or_404
from incidents.models import Handoff, HandoffStatus
from incidents.representations import handoff_public
from incidents.selectors.kpis import handoff_kpis
from incidents.services.cloud_api import SIGNATURE_HEADER
from incidents.services.handoffs import (
    handoff_agency_update,
    handoff_create,
    handoff_update,
    handoffs_from_incident_type,
)


class HandoffCreateSerializer(serializers.Serializer):
    agency = serializers.SlugField(max_length=32, required=False)
    from_incident_type = serializers.BooleanField(required=False, default=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("agency")) == bool(attrs["from_incident_type"]):
            raise serializers.ValidationError('give either "agency" (a code) or "from_incident_type": true')
        return attrs


class HandoffUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[HandoffStatus.ACKNOWLEDGED, HandoffStatus.ON_SCENE, HandoffStatus.CLOSED], required=False
    )
    agency_reference = serializers.CharField(max_length=64, required=False, allow_blank=True)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class HandoffKpiQuerySerializer(serializers.Serializer):
    region = serializers.CharField(max_length=64, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _legs(incident_id: int) -> list[dict]:
    rows = Handoff.objects.filter(incident_id=incident_id).select_related("agency").prefetch_related("messages")
    return [handoff_public(h, messages=h.messages.all()) for h in rows.order_by("created_at", "pk")]


def _handoff_or_404(request: Request, pk: int) -> Handoff:
    """A hand-off of a region where the user may dispatch; another centre's is the same 404 as a missing one."""
    regions = regions_for_user(request.user, capability=roles.DISPATCH)
    found = Handoff.objects.filter(pk=pk, incident__region__in=regions).first()
    if found is None:
        raise NotFound(f"no hand-off with id {pk}")
    return found


class IncidentHandoffs(DispatcherAPIView):
    """GET the report's hand-offs; POST hand it off to an agency (or to those its type needs)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, pk: int) -> Response:
        return Response(_legs(incident_or_404(request, pk).pk))

    @extend_schema(request=HandoffCreateSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        incident = incident_or_404(request, pk, roles.DISPATCH)
        data = _valid(HandoffCreateSerializer, request.data)
        actor = Actor.of_request(request)
        if data["from_incident_type"]:
            created = handoffs_from_incident_type(incident=incident, actor=actor)
        else:
            agency = Agency.objects.filter(region_id=incident.region_id, code=data["agency"]).first()
            if agency is None:
                raise serializers.ValidationError({"agency": f"no agency {data['agency']} in {incident.region.slug}"})
            created = [handoff_create(incident=incident, agency=agency, actor=actor, note=data["note"])]
        ids = {h.pk for h in created}
        return Response([h for h in _legs(incident.pk) if h["id"] in ids], status=status.HTTP_201_CREATED)


class HandoffUpdate(DispatcherAPIView):
    """POST {status?, agency_reference?, note?}: what the agency told the dispatcher."""

    @extend_schema(request=HandoffUpdateSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        handoff = _handoff_or_404(request, pk)
        data = _valid(HandoffUpdateSerializer, request.data)
        handoff_update(handoff=handoff, actor=Actor.of_request(request), **data)
        return Response(next(h for h in _legs(handoff.incident_id) if h["id"] == handoff.pk))


class HandoffAgencyUpdate(APIView):
    authentication_classes = ()
    # Open to an agency's own system: it proves itself with X-Siaga-Signature-256, the HMAC-SHA256 of the raw
    # body under that agency's secret (Agency.handoff_webhook_secret), checked by the service after the raw
    # request is stored.
    permission_classes = (AllowAny,)

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT})
    def post(self, request: Request, pk: int) -> Response:
        handoff = handoff_agency_update(
            handoff_id=pk,
            body=request.body,
            signature=request.headers.get(SIGNATURE_HEADER),
            remote_addr=client_address(request),
        )
        return Response({"id": handoff.pk, "status": handoff.status, "agency_reference": handoff.agency_reference})


class HandoffKpis(DispatcherAPIView):
    """GET: hand-off times per agency (sent -> acknowledged)."""

    required_scopes = {"GET": "kpis"}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        region, since, until, _ = kpi_window(request, HandoffKpiQuerySerializer)
        return Response(handoff_kpis(region=region, since=since, until=until))
