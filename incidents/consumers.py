"""The live console's WebSocket: authenticate, join the region's group, relay what ``incidents.live`` publishes."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from access.selectors import regions_for_user
from fleet.models import Agency
from fleet.selectors.units import agency_ids_for_user
from incidents.live import live_group, user_may_watch

# Close codes a console can act on (sent after the handshake; 4000-4999 are the application's own).
CLOSE_FORBIDDEN = 4403
CLOSE_UNKNOWN_REGION = 4404


@database_sync_to_async
def _watchable_region(user: Any, slug: str) -> tuple[bool, int | None, frozenset[str] | None]:
    return watch_scope(user, slug)


def watch_scope(user: Any, slug: str) -> tuple[bool, int | None, frozenset[str] | None]:
    """Whether ``user`` may open a live console, the id of the region ``slug`` among the user's own (None:
    unknown, or another centre's, which looks the same: a region is not confirmed to outsiders), and the
    codes of the agencies whose unit messages the user gets there (None: every agency's)."""
    if not user_may_watch(user):
        return False, None, None
    region_id = regions_for_user(user).filter(slug=slug).values_list("pk", flat=True).first()
    if region_id is None:
        return True, None, None
    agency_ids = agency_ids_for_user(user, region_ids=[region_id])
    if agency_ids is None:
        return True, region_id, None
    return True, region_id, frozenset(Agency.objects.filter(pk__in=agency_ids).values_list("code", flat=True))


class RegionLiveConsumer(AsyncJsonWebsocketConsumer):
    """``ws/regions/<slug>/``: unit and report updates of one region, for signed-in console users.

    Anonymous users, crew devices (they have no session) and users without a console role are
    refused at the handshake (HTTP 403). An unknown region, or one the user is not a member of
    (``access``), is accepted and closed at once with code 4404 so the console can say why. Once
    joined, the server sends ``{"type": "hello", "region": slug}`` and then every message of
    ``incidents.live`` as it is (a member limited to agencies gets only those agencies' unit messages);
    a client's ``{"type": "ping"}`` gets a ``pong``.
    """

    group: str | None = None
    agency_codes: frozenset[str] | None = None  # a member limited to agencies gets only their units' messages

    async def connect(self) -> None:
        slug = self.scope["url_route"]["kwargs"]["slug"]
        allowed, region_id, self.agency_codes = await _watchable_region(self.scope.get("user"), slug)
        if not allowed:
            await self.close()
            return
        await self.accept()
        if region_id is None:
            await self.close(code=CLOSE_UNKNOWN_REGION)
            return
        self.group = live_group(region_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "hello", "region": slug, "sent_at": timezone.now().isoformat()})

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "sent_at": timezone.now().isoformat()})

    async def live_relay(self, event: dict) -> None:
        """A ``incidents.live`` message for this region: passed on unchanged, except that a member limited to
        agencies is not sent other agencies' unit messages (reports, with all their assignments, go to all)."""
        message = event["message"]
        unit = (message.get("unit") or {}) if message.get("type") == "unit" else None
        if self.agency_codes is not None and unit is not None and unit.get("agency") not in self.agency_codes:
            return
        await self.send_json(message)
