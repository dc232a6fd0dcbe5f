"""The crew status endpoint: a crew device sets its unit's status (``POST /api/ingest/status``).

Stored raw and authenticated like every device request (``fleet.api.device_endpoint``); the state
machine is ``incidents.services.status``.
"""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.response import Response

from fleet.actors import Actor
from fleet.api.device_endpoint import (
    DeviceEndpoint,
    basic_pair,
    device_request_authenticate,
    device_request_handled,
    device_request_store,
)
from fleet.ingest.fix import loads_json
from fleet.models import InboundMessage, UnitStatus
from fleet.services.inbound import inbound_message_close
from incidents.services.status import unit_status_set


class CrewStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=UnitStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class CrewStatusView(DeviceEndpoint):
    """POST ``{"status": "en_route"}`` from a crew device: the unit status set by its crew.

    The state machine is ``incidents.services.status``; an illegal transition is a 409 naming the allowed
    next statuses.
    """

    def post(self, request):
        message = device_request_store(request, "crew_status")
        return device_request_handled(message, lambda: self._work(request, message))

    def _work(self, request, message: InboundMessage) -> Response:
        device = device_request_authenticate(basic_pair(request), identifier=None)
        payload = loads_json(request.body)
        serializer = CrewStatusSerializer(data=payload if isinstance(payload, dict) else {})
        serializer.is_valid(raise_exception=True)
        change = unit_status_set(
            unit=device.unit,
            to_status=serializer.validated_data["status"],
            actor=Actor.crew(device, remote_addr=request.META.get("REMOTE_ADDR")),
            note=serializer.validated_data["note"],
        )
        inbound_message_close(message=message, outcome="accepted", device=device)
        return Response(
            {"unit": device.unit.call_sign, "from": change.from_status, "status": change.to_status, "at": change.at}
        )
