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

Messages (JSON objects sent to the browser; times ISO 8601 with offset, positions EPSG:4326):

``{"type": "unit", "sent_at", "unit": {...}}``
    ``id, call_sign, agency, agency_kind, unit_type, status, status_changed_at``,
    ``position``: ``{lon, lat, source, age_s, recorded_at, accuracy_m, speed_kph, heading_deg}`` or
    null (``source``: gps, stale_gps, home_station; ``age_s``/``recorded_at`` of the newest valid fix,
    null without one; see ``fleet.selectors.unit_position``),
    ``assignment``: the active one, ``{id, incident_id, incident_reference, current_eta_s,
    eta_updated_at}`` or null.
``{"type": "incident", "sent_at", "incident": {...}}``
    ``id, reference, status, priority, channel, incident_type, outcome, caller_flags, received_at,
    closed_at, address_text``,
    ``location``: ``{lon, lat, accuracy_m, source}`` or null, ``kecamatan``/``kelurahan``:
    ``{id, code, name}`` or null,
    ``assignments``: ``[{id, unit_id, call_sign, capability, status, dispatched_at, en_route_at,
    on_scene_at, transporting_at, at_hospital_at, cleared_at, cancelled_at, eta_s_at_dispatch,
    current_eta_s}]`` (all of the report's, oldest first),
    ``location_offers``: the pending ones, ``[{id, lon, lat, label, source, received_at}]``.
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
from django.db import connection, connections, transaction
from django.utils import timezone

from fleet.models import (
    Agency,
    Assignment,
    AssignmentStatus,
    Incident,
    LocationOffer,
    PositionFix,
    Station,
    Unit,
    UnitType,
)
from fleet.selectors import position_of

logger = logging.getLogger(__name__)

# Users in these groups (and superusers and staff) may watch a region's live updates.
CONSOLE_ROLES = ("dispatcher", "planner", "admin")
# The channel layer's handler name: RegionLiveConsumer.live_relay.
RELAY_TYPE = "live.relay"
_PHASES = ("dispatched_at", "en_route_at", "on_scene_at", "transporting_at", "at_hospital_at", "cleared_at")


def user_may_watch(user: Any) -> bool:
    """Whether ``user`` may open the live console (checks groups: one query; call it off the event loop).

    Parameters
    ----------
    user
        A Django user, ``AnonymousUser`` or None. Crew devices have no user and never get here.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return user.groups.filter(name__in=CONSOLE_ROLES).exists()


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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _unit_message(unit_id: int, now: datetime) -> tuple[int, dict] | None:
    # One hand-written query (every fix that moves a unit runs it): the ORM's select_related chains for
    # the same row cost several times more CPU to build than PostgreSQL needs to answer them.
    with connection.cursor() as cursor:
        cursor.execute(_UNIT_SQL, {"unit": unit_id, "active": AssignmentStatus.ACTIVE.value})
        row = cursor.fetchone()
    if row is None:
        return None
    (
        pk, call_sign, status, status_changed_at, region_id, agency_code, agency_kind, unit_type_code,
        station_lon, station_lat, fix_lon, fix_lat, recorded_at, accuracy_m, speed_kph, heading_deg,
        assignment_id, incident_id, incident_reference, current_eta_s, eta_updated_at,
    ) = row  # fmt: skip
    has_fix = fix_lon is not None
    where = position_of(
        fix_lonlat=(fix_lon, fix_lat) if has_fix else None,
        fix_recorded_at=recorded_at if has_fix else None,
        station_lonlat=(station_lon, station_lat) if station_lon is not None else None,
        now=now,
    )
    position = None
    if where.lonlat is not None:
        fixed = has_fix and where.age_s is not None
        position = {
            "lon": where.lonlat[0],
            "lat": where.lonlat[1],
            "source": where.source,
            "age_s": round(where.age_s, 1) if where.age_s is not None else None,
            "recorded_at": _iso(recorded_at) if fixed else None,
            "accuracy_m": accuracy_m if fixed else None,
            "speed_kph": speed_kph if fixed else None,
            "heading_deg": heading_deg if fixed else None,
        }
    return region_id, {
        "type": "unit",
        "sent_at": now.isoformat(),
        "unit": {
            "id": pk,
            "call_sign": call_sign,
            "agency": agency_code,
            "agency_kind": agency_kind,
            "unit_type": unit_type_code,
            "status": status,
            "status_changed_at": _iso(status_changed_at),
            "position": position,
            "assignment": None
            if assignment_id is None
            else {
                "id": assignment_id,
                "incident_id": incident_id,
                "incident_reference": incident_reference,
                "current_eta_s": current_eta_s,
                "eta_updated_at": _iso(eta_updated_at),
            },
        },
    }


# The unit, its agency and type, its home station's and valid last fix's coordinates, and its active
# assignment (the newest dispatched, as Assignment's ordering has it) with the report's reference.
_UNIT_SQL = f"""
    SELECT u.id, u.call_sign, u.status, u.status_changed_at, a.region_id, a.code, a.kind, t.code,
        ST_X(s.geom), ST_Y(s.geom),
        ST_X(f.geom), ST_Y(f.geom), f.recorded_at, f.accuracy_m, f.speed_kph, f.heading_deg,
        asg.id, asg.incident_id, i.reference, asg.current_eta_s, asg.eta_updated_at
    FROM {Unit._meta.db_table} u
    JOIN {Agency._meta.db_table} a ON a.id = u.agency_id
    JOIN {UnitType._meta.db_table} t ON t.id = u.unit_type_id
    LEFT JOIN {Station._meta.db_table} s ON s.id = u.home_station_id
    LEFT JOIN {PositionFix._meta.db_table} f ON f.id = u.last_fix_id AND f.is_valid AND f.geom IS NOT NULL
    LEFT JOIN LATERAL (
        SELECT x.id, x.incident_id, x.current_eta_s, x.eta_updated_at FROM {Assignment._meta.db_table} x
        WHERE x.unit_id = u.id AND x.status = %(active)s ORDER BY x.dispatched_at DESC, x.id DESC LIMIT 1
    ) asg ON true
    LEFT JOIN {Incident._meta.db_table} i ON i.id = asg.incident_id
    WHERE u.id = %(unit)s
"""


def _incident_message(incident_id: int, now: datetime) -> tuple[int, dict] | None:
    incident = Incident.objects.select_related("incident_type", "kecamatan", "kelurahan").filter(pk=incident_id).first()
    if incident is None:
        return None
    assignments = Assignment.objects.filter(incident_id=incident_id).select_related("unit", "capability")
    offers = LocationOffer.objects.filter(incident_id=incident_id, applied_at__isnull=True)
    geom = incident.geom
    return incident.region_id, {
        "type": "incident",
        "sent_at": now.isoformat(),
        "incident": {
            "id": incident.pk,
            "reference": incident.reference,
            "status": incident.status,
            "priority": incident.priority,
            "channel": incident.channel,
            "incident_type": incident.incident_type.code if incident.incident_type else None,
            "outcome": incident.outcome,
            "caller_flags": list(incident.caller_flags),
            "received_at": _iso(incident.received_at),
            "closed_at": _iso(incident.closed_at),
            "address_text": incident.address_text,
            "location": None
            if geom is None
            else {
                "lon": geom.x,
                "lat": geom.y,
                "accuracy_m": incident.location_accuracy_m,
                "source": incident.location_source,
            },
            "kecamatan": _area(incident.kecamatan),
            "kelurahan": _area(incident.kelurahan),
            "assignments": [_assignment(a) for a in sorted(assignments, key=lambda a: (a.dispatched_at, a.pk))],
            "location_offers": [
                {
                    "id": o.pk,
                    "lon": o.geom.x,
                    "lat": o.geom.y,
                    "label": o.label,
                    "source": o.source,
                    "received_at": _iso(o.received_at),
                }
                for o in offers
            ],
        },
    }


def _area(area: Any) -> dict | None:
    return None if area is None else {"id": area.pk, "code": area.code, "name": area.name}


def _assignment(a: Assignment) -> dict:
    return {
        "id": a.pk,
        "unit_id": a.unit_id,
        "call_sign": a.unit.call_sign,
        "capability": a.capability.code if a.capability else None,
        "status": a.status,
        **{phase: _iso(getattr(a, phase)) for phase in _PHASES},
        "cancelled_at": _iso(a.cancelled_at),
        "eta_s_at_dispatch": a.eta_s_at_dispatch,
        "current_eta_s": a.current_eta_s,
    }
