"""The WhatsApp Cloud API webhook: the subscription handshake (GET) and deliveries (POST).

No session or user authentication and no CSRF check: Meta authenticates a delivery by signing its raw
body (``X-Hub-Signature-256``), which is verified before anything is parsed or stored. A correctly signed
delivery is answered 200 as soon as it is stored and processed, also when its messages could not be
processed yet (a number no region holds): it is kept for a replay, and Meta must not retry it; a wrongly
signed one 403, with nothing stored.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_core.client_address import client_address
from incidents.services.whatsapp import (
    whatsapp_signature_valid,
    whatsapp_subscription_challenge,
    whatsapp_webhook_receive,
)

logger = logging.getLogger(__name__)


def _forbidden(code: str, message: str) -> Response:
    return Response({"error": {"code": code, "message": message}}, status=403)


class WhatsAppWebhook(APIView):
    authentication_classes = ()
    # Open to Meta: a delivery proves itself with X-Hub-Signature-256 over its raw body (the app secret), the
    # subscription check with the verify token; both are checked below before anything is read.
    permission_classes = (AllowAny,)

    @extend_schema(
        parameters=[OpenApiParameter(p, str) for p in ("hub.mode", "hub.verify_token", "hub.challenge")],
        responses={200: str, 403: dict},
    )
    def get(self, request: Request) -> HttpResponse:
        """Answer Meta's subscription check with the challenge when the verify token matches."""
        params = request.query_params
        challenge = whatsapp_subscription_challenge(
            mode=params.get("hub.mode"), token=params.get("hub.verify_token"), challenge=params.get("hub.challenge")
        )
        if challenge is None:
            return _forbidden("verify_token_mismatch", "hub.mode must be subscribe and hub.verify_token must match")
        return HttpResponse(challenge, content_type="text/plain; charset=utf-8")

    @extend_schema(request=dict, responses={200: dict, 403: dict})
    def post(self, request: Request) -> Response:
        """Verify the signature on the raw body, store the delivery, process its messages."""
        body = request.body
        if not whatsapp_signature_valid(
            body=body, signature=request.headers.get("X-Hub-Signature-256"), secret=settings.WHATSAPP_APP_SECRET
        ):
            if not settings.WHATSAPP_APP_SECRET:
                logger.error("WhatsApp delivery refused: WHATSAPP_APP_SECRET is not set")
            return _forbidden(
                "invalid_signature", "X-Hub-Signature-256 does not match the body signed with the app secret"
            )
        result = whatsapp_webhook_receive(body=body, headers=dict(request.headers), remote_addr=client_address(request))
        return Response(
            {
                "delivery": result.inbound.pk,
                "outcome": result.inbound.outcome,
                "messages_new": result.messages_new,
                "messages_duplicate": result.messages_duplicate,
                "messages_unroutable": result.messages_unroutable,
                "statuses": result.statuses,
                "ignored": result.ignored,
                "incidents": result.incidents,
                "errors": result.errors,
            }
        )
