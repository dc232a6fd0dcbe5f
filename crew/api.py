"""The crew page's JSON endpoints: a dispatcher makes a pairing link; the page pairs and reads its state.

Status changes and GPS fixes go to the device endpoints every tracker uses (``/api/ingest/status/``,
``/api/ingest/batch/``) with the page's session token and an ``Idempotency-Key``.
"""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from crew.permissions import CrewSessionAuthentication, IsPairedCrew
from crew.selectors import crew_state
from crew.services import crew_pairing_link
from fleet.actors import Actor
from fleet.api.device_endpoint import device_request_handled, device_request_store
from fleet.api.permissions import CanDispatch
from fleet.selectors.units import unit_for_user
from fleet.services.crew_sessions import crew_pairing_redeem
from fleet.services.inbound import inbound_message_close
from gis_core.api.authentication import BasicAuthentication
from gis_core.client_address import client_address


class PairingCreateSerializer(serializers.Serializer):
    unit = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    device = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False, default=None)


class PairingCreateView(APIView):
    """POST ``{"unit": id, "device"?: id}``: a one-time pairing link and its QR code (SVG) for the crew page.

    201 ``{pairing, device, unit, call_sign, url, expires_at, qr_svg}``. Another centre's unit is a 404.
    """

    authentication_classes = (SessionAuthentication, BasicAuthentication)
    permission_classes = (CanDispatch,)  # dispatchers and region admins pair their own units' phones

    def post(self, request):
        serializer = PairingCreateSerializer(data=request.data if isinstance(request.data, dict) else {})
        serializer.is_valid(raise_exception=True)
        unit = unit_for_user(request.user, pk=serializer.validated_data["unit"])
        if unit is None:
            raise NotFound(f"no unit with id {serializer.validated_data['unit']}")
        link = crew_pairing_link(
            unit=unit, device_id=serializer.validated_data["device"], actor=Actor.of_request(request),
            page_url=request.build_absolute_uri(reverse("crew:page")),
        )  # fmt: skip
        return Response(
            {
                "pairing": link.pairing_id,
                "device": link.device,
                "unit": link.unit_id,
                "call_sign": link.call_sign,
                "url": link.url,
                "expires_at": link.expires_at,
                "qr_svg": link.qr_svg,
            },
            status=201,
        )


class PairSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)


class PairView(APIView):
    """POST ``{"token": ...}`` from the crew page: the pairing token, once, for a session token.

    Stored raw first like every crew request (the token masked). 200 ``{session_token, device, unit}``;
    a used, expired or unknown token is a 400 ``pairing_invalid``.
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)  # the crew's phone: it proves itself with the one-time pairing token
    throttle_scope = "crew_pair"
    renderer_classes = (JSONRenderer,)

    def post(self, request):
        message = device_request_store(request, "crew_pair")
        return device_request_handled(message, lambda: self._work(request, message))

    def _work(self, request, message) -> Response:
        serializer = PairSerializer(data=request.data if isinstance(request.data, dict) else {})
        serializer.is_valid(raise_exception=True)
        session, token = crew_pairing_redeem(
            token=serializer.validated_data["token"], remote_addr=client_address(request)
        )
        inbound_message_close(message=message, outcome="accepted", device=session.device)
        unit = session.device.unit
        return Response({"session_token": token, "device": session.device.identifier,
                         "unit": {"id": unit.pk, "call_sign": unit.call_sign}})  # fmt: skip


class CrewStateView(APIView):
    """GET the paired unit's state, its job, the route there and the other units on it (``crew.selectors``)."""

    authentication_classes = (CrewSessionAuthentication,)
    permission_classes = (IsPairedCrew,)  # the crew page's session token; nobody else's
    renderer_classes = (JSONRenderer,)

    def get(self, request):
        return Response(crew_state(device=request.auth))
