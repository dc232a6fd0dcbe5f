"""The crew status endpoint: a crew device sets its unit's status (``POST /api/ingest/status``).

Stored raw and authenticated like every device request (``fleet.api.device_endpoint``: the device secret
or a paired crew page's session); the state machine is ``incidents.services.status``. With an
``Idempotency-Key`` header a resend is answered as the first was and records no second change.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response

from fleet.actors import Actor
from fleet.api.device_endpoint import (
    DeviceEndpoint,
    basic_pair,
    crew_bearer,
    device_request_authenticate,
    device_request_handled,
    device_request_once,
    device_request_store,
)
from fleet.ingest.fix import loads_json
from fleet.models import InboundMessage, UnitStatus
from fleet.services.inbound import inbound_message_close
from gis_core.client_address import client_address
from incidents.services.status import unit_status_set


class CrewStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=UnitStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    # When the crew made the change (a change queued offline arrives later): at most a day back, never ahead.
    at = serializers.DateTimeField(required=False, default=None)

    def validate_at(self, value):
        if value is None:
            return value
        now = timezone.now()
        if value > now + timedelta(seconds=60) or value < now - timedelta(days=1):
            raise serializers.ValidationError("must be within the last 24 hours, and not in the future")
        return value


class CrewStatusView(DeviceEndpoint):
    """POST ``{"status": "en_route"}`` from a crew device: the unit status set by its crew.

    The state machine is ``incidents.services.status``; an illegal transition is a 409 naming the allowed
    next statuses.
    """

    def post(self, request):
        message = device_request_store(request, "crew_status")
        return device_request_handled(message, lambda: self._work(request, message))

    def _work(self, request, message: InboundMessage) -> Response:
        device = device_request_authenticate(basic_pair(request), identifier=None, bearer=crew_bearer(request))
        payload = loads_json(request.body)
        serializer = CrewStatusSerializer(data=payload if isinstance(payload, dict) else {})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data

        def change_status() -> dict:
            change = unit_status_set(
                unit=device.unit, to_status=data["status"], note=data["note"], at=data["at"],
                actor=Actor.crew(device, remote_addr=client_address(request)),
            )  # fmt: skip
            inbound_message_close(message=message, outcome="accepted", device=device)
            unit = device.unit.call_sign
            return {"unit": unit, "from": change.from_status, "status": change.to_status, "at": change.at}

        return device_request_once(request, device=device, channel="crew_status", message=message, work=change_status)
