"""Live console updates: compact JSON messages about units and reports, published after commit.

Services call :func:`live_unit_changed` and :func:`live_incident_changed` where they change a unit
or a report. Nothing is sent then: a ``transaction.on_commit`` callback reads the committed state
and sends one message to the region's group, so a console never sees a change that was rolled back
and always sees the final state of a transaction (a dispatch moves the unit, the assignment and the
report; the messages carry all three as committed). ``fleet.consumers.RegionLiveConsumer`` relays
each message unchanged to every console open on the region.

The message is built in the committing thread (one query) and handed to a per-process publisher
thread, which sends messages in the order they were committed; the request does not wait for Redis.
Until a send has succeeded (at a process's first publish, and again after a failure) a publish waits
for its send instead, so an unreachable or misconfigured Redis shows in the log of the request that met it.

A failed publish (Redis down, slow or misconfigured) is logged and dropped: it never fails the GPS
fix or the dispatch that caused it. A console reloads its state through the REST API when its
WebSocket reconnects.

Messages (JSON objects sent to the browser; times ISO 8601 with offset, positions EPSG:4326). Each
carries the object exactly as the REST API shows it (``fleet.representations``), so a console applies
a message as it would a fresh read:

``{"type": "unit", "sent_at", "unit": {...}}``
    ``unit_public``: what ``GET /api/units/`` gives as a feature's ``properties``, with the unit
    placed by ``fleet.selectors.position_of`` (a fix at most ``SIAGA_POSITION_MAX_AGE_S`` old, else
    the home station) and its active assignment.
``{"type": "incident", "sent_at", "incident": {...}}``
    ``incident_public``: what the queue ``GET /api/incidents/`` gives as a feature's ``properties``,
    with all of the report's assignments (oldest first) and its pending location offers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from access import roles
from fleet.models import Incident
from fleet.representations import incident_public, incidents_loaded, unit_public
from fleet.selectors_units import unit_state
from gis_core.api.fields import iso

logger = logging.getLogger(__name__)

# The channel layer's handler name: RegionLiveConsumer.live_relay.
RELAY_TYPE = "live.relay"


def user_may_watch(user: Any) -> bool:
    """Whether ``user`` may open the live console: a console role (``access.roles``) or staff (checks groups:
    one query; call it off the event loop).

    Parameters
    ----------
    user
        A Django user, ``AnonymousUser`` or None. Crew devices have no user and never get here.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_staff or roles.has_role(user)


def live_group(region_id: int) -> str:
    """The channel-layer group of a region's consoles.

    The database name is part of it: region ids are per database, so two Siaga instances (or a test
    run and the demo) sharing one Redis never see each other's units.
    """
    db_name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(connections["default"].settings_dict["NAME"]))[:60]
    return f"live.{db_name}.region.{region_id}"


def live_unit_changed(unit_id: int, *, incident_id: int | None = None) -> None:
    """Publish a unit's state (status, last position, active assignment) after the current commit.

    Parameters
    ----------
    unit_id
        The unit that moved or changed status.
    incident_id
        A report the same change touched (an assignment's phase stamp); published too.
    """
    transaction.on_commit(partial(_publish, _unit_message, unit_id))
    if incident_id is not None:
        live_incident_changed(incident_id)


def live_incident_changed(incident_id: int) -> None:
    """Publish a report's state (status, location, assignments, pending offers) after the current commit.

    Parameters
    ----------
    incident_id
        The report created or changed.
    """
    transaction.on_commit(partial(_publish, _incident_message, incident_id))


def live_send(*, region_id: int, message: dict) -> bool:
    """Send ``message`` to every console on the region now; False (logged) when it could not be sent.

    Waits at most ``SIAGA_LIVE_PUBLISH_TIMEOUT_S`` for Redis. Call it from synchronous code only.
    """
    try:
        layer = get_channel_layer()
        if layer is None:
            return False
        event = {"type": RELAY_TYPE, "message": message}
        future = asyncio.run_coroutine_threadsafe(layer.group_send(live_group(region_id), event), _publisher_loop())
        try:
            future.result(timeout=settings.SIAGA_LIVE_PUBLISH_TIMEOUT_S)
        except BaseException:
            future.cancel()
            raise
    except Exception as exc:
        logger.warning("live update %s not sent to region %s: %r", message.get("type"), region_id, exc)
        return False
    return True


_loop_lock = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, in a daemon thread, so Redis connections are pooled across publishes.

    (``async_to_sync`` would start a new loop, and so a new Redis connection, for every message.) The
    process id is checked so a forked worker starts its own loop instead of waiting on its parent's.
    """
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid() or _loop[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="siaga-live-publisher", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]


class _Sender:
    """Sends queued messages in the order queued, on the publisher loop, without the caller waiting.

    One per process and channel layer. ``healthy`` is true once a send through this layer has
    succeeded, false again after a failure: until then a publish waits for its send (``live_send``),
    so a misconfigured or unreachable Redis is logged by the request that met it.
    """

    def __init__(self, layer: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.layer, self.loop = layer, loop
        self.healthy = False
        self._pending: deque[tuple[str, dict]] = deque()
        self._draining = False  # touched on the loop only

    def submit(self, group: str, message: dict) -> None:
        if len(self._pending) >= MAX_PENDING:
            dropped = self._pending.popleft()
            logger.warning(
                "live update %s to %s dropped: %d not yet sent", dropped[1].get("type"), dropped[0], MAX_PENDING
            )
        self._pending.append((group, message))
        self.loop.call_soon_threadsafe(self._kick)

    def _kick(self) -> None:
        if not self._draining:
            self._draining = True
            self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._pending:
                group, message = self._pending.popleft()
                event = {"type": RELAY_TYPE, "message": message}
                try:
                    await asyncio.wait_for(self.layer.group_send(group, event), settings.SIAGA_LIVE_PUBLISH_TIMEOUT_S)
                except Exception as exc:
                    self.healthy = False
                    logger.warning("live update %s not sent to %s: %r", message.get("type"), group, exc)
        finally:
            self._draining = False


# Messages queued and not yet sent, per process; beyond this Redis cannot keep up and the oldest go.
MAX_PENDING = 1000
_sender: _Sender | None = None


def _current_sender() -> _Sender | None:
    global _sender
    layer = get_channel_layer()
    if layer is None:
        return None
    loop = _publisher_loop()
    with _loop_lock:
        if _sender is None or _sender.layer is not layer or _sender.loop is not loop:
            _sender = _Sender(layer, loop)
        return _sender


def _publish(build: Callable[[int, datetime], tuple[int, dict] | None], pk: int) -> None:
    # Runs after commit: whatever goes wrong here must not reach the service's caller.
    try:
        built = build(pk, timezone.now())
        sender = _current_sender()
    except Exception:
        logger.exception("live update for %s %s could not be built", build.__name__, pk)
        return
    if built is None or sender is None:
        return
    region_id, message = built
    if sender.healthy:
        sender.submit(live_group(region_id), message)
    elif live_send(region_id=region_id, message=message):
        sender.healthy = True


def _unit_message(unit_id: int, now: datetime) -> tuple[int, dict] | None:
    # One query (every fix that moves a unit runs it), the same read and shape as GET /api/units/.
    state = unit_state(unit_id=unit_id, now=now)
    if state is None:
        return None
    return state.region_id, {"type": "unit", "sent_at": iso(now), "unit": unit_public(state)}


def _incident_message(incident_id: int, now: datetime) -> tuple[int, dict] | None:
    # The same read and shape as a feature of the queue (GET /api/incidents/).
    incident = incidents_loaded(Incident.objects.filter(pk=incident_id)).first()
    if incident is None:
        return None
    body = incident_public(incident, assignments=incident.assignments.all(), pending_offers=incident.pending_offers)
    return incident.region_id, {"type": "incident", "sent_at": iso(now), "incident": body}
