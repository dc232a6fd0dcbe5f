"""The crew page's WebSocket: one unit's own news, relayed from the region's live messages (``incidents.live``).

``ws/crew/units/<unit_id>/``: the page sends its session token as a WebSocket subprotocol
(``new WebSocket(url, ["siaga-crew", token])``: a header, so no URL and no access log holds it). A
missing, revoked or other unit's token is refused at the handshake (HTTP 403). Once joined, the server
sends ``{"type": "hello", "unit": id}`` and then, of the region's messages, only:

- ``{"type": "unit", "unit": ...}`` for the page's own unit, as ``incidents.live`` sends it;
- ``{"type": "other_unit", "unit": ...}`` for another unit on the same report;
- ``{"type": "incident", "incident": ...}`` for the unit's current report, cut to the crew's view
  (``crew.selectors.crew_incident``).

Everything else (other units' moves, other reports) stays on the server.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from crew.selectors import crew_incident
from fleet.errors import DeviceAuthError
from fleet.services.crew_sessions import SESSION_PREFIX, crew_session_authenticate
from gis_core.credentials import CredentialsInvalidError
from incidents.live import live_group
from incidents.models import Assignment, AssignmentStatus

SUBPROTOCOL = "siaga-crew"


@database_sync_to_async
def _paired(token: str | None, unit_id: int) -> tuple[int, int | None] | None:
    """``(region_id, active incident id)`` when ``token`` is a live session of a device of ``unit_id``."""
    if token is None:
        return None
    try:
        device = crew_session_authenticate(token)
    except (DeviceAuthError, CredentialsInvalidError):
        return None
    if device.unit_id != unit_id:
        return None
    incident_id = (
        Assignment.objects.filter(unit_id=unit_id, status=AssignmentStatus.ACTIVE)
        .values_list("incident_id", flat=True)
        .first()
    )
    return device.unit.agency.region_id, incident_id


class CrewLiveConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    unit_id: int = 0
    incident_id: int | None = None

    async def connect(self) -> None:
        self.unit_id = self.scope["url_route"]["kwargs"]["unit_id"]
        offered = self.scope.get("subprotocols") or []
        token = next((p for p in offered if p.startswith(SESSION_PREFIX)), None)
        paired = await _paired(token, self.unit_id)
        if paired is None:
            await self.close()  # before accept: the handshake is refused (403)
            return
        region_id, self.incident_id = paired
        await self.accept(subprotocol=SUBPROTOCOL)
        self.group = live_group(region_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "hello", "unit": self.unit_id, "sent_at": timezone.now().isoformat()})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "sent_at": timezone.now().isoformat()})

    async def live_relay(self, event: dict) -> None:
        """A region message: passed on when it is about this unit or its report, else dropped."""
        message = event["message"]
        kind = message.get("type")
        if kind == "unit":
            unit = message["unit"]
            assignment = unit.get("assignment")
            if unit["id"] == self.unit_id:
                self.incident_id = assignment["incident_id"] if assignment else None
                await self.send_json(message)
            elif assignment and self.incident_id is not None and assignment["incident_id"] == self.incident_id:
                await self.send_json({"type": "other_unit", "sent_at": message.get("sent_at"), "unit": unit})
        elif kind == "incident" and self.incident_id is not None and message["incident"]["id"] == self.incident_id:
            incident = crew_incident(message["incident"])
            await self.send_json({"type": "incident", "sent_at": message.get("sent_at"), "incident": incident})
