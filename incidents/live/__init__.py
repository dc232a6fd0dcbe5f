"""Live console updates: compact JSON messages about units and reports, published after commit.

Services call :func:`live_unit_changed` and :func:`live_incident_changed` where they change a unit
or a report. Nothing is sent then: a ``transaction.on_commit`` callback reads the committed state
and sends one message to the region's group, so a console never sees a change that was rolled back
and always sees the final state of a transaction (a dispatch moves the unit, the assignment and the
report; the messages carry all three as committed). ``incidents.consumers.RegionLiveConsumer`` relays
each message unchanged to every console open on the region.

The message is built in the committing thread (one query) and handed to a per-process publisher
thread, which sends messages in the order they were committed; the request does not wait for Redis.
Until a send has succeeded (at a process's first publish, and again after a failure) a publish waits
for its send instead, so an unreachable or misconfigured Redis shows in the log of the request that met it.

A failed publish (Redis down, slow or misconfigured) is logged and dropped: it never fails the GPS
fix or the dispatch that caused it. A console reloads its state through the REST API when its
WebSocket reconnects, and keeps what it shows when the read is older (by ``version``) than a message it got.

Messages (JSON objects sent to the browser; times ISO 8601 with offset, positions EPSG:4326). Each
carries the object exactly as the REST API shows it (``incidents.representations``), so a console applies
a message as it would a fresh read:

Every unit and report carries its ``version`` (``incidents.representations``): a console applies a message only
when its version is higher than the one it shows, since two processes' messages may reach it in either order,
and after a reconnect reads the units and the queue again and applies what is not older.

``{"type": "unit", "sent_at", "unit": {...}}``
    ``unit_public``: what ``GET /api/units/`` gives as a feature's ``properties``, with the unit
    placed by ``fleet.selectors.units.position_of`` (a fix at most ``SIAGA_POSITION_MAX_AGE_S`` old, else
    the home station) and its active assignment.
``{"type": "incident", "sent_at", "incident": {...}}``
    ``incident_public``: what the queue ``GET /api/incidents/`` gives as a feature's ``properties``,
    with all of the report's assignments (oldest first) and its pending location offers.

``{"type": "handoff_escalated", "sent_at", "incident_id", "reference", "handoff": {...}}``
    A hand-off not acknowledged within ``SIAGA_HANDOFF_ACK_TIMEOUT_S`` (``handoff_public``); an ``incident``
    message with its ``handoff_escalated`` flag follows.

The package: this module is what services and the consumer call; ``publisher.py`` sends a message to a
region's consoles in commit order and knows no message kinds; ``messages.py`` builds each kind.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F

from access import roles
from incidents.live.messages import incident_message, unit_message
from incidents.live.publisher import live_group, live_send, publish
from incidents.models import Incident

__all__ = ["live_group", "live_incident_changed", "live_send", "live_unit_changed", "user_may_watch"]


def user_may_watch(user: Any) -> bool:
    """Whether ``user`` may open the live console: a console role in a region (``access.roles``; one query:
    call it off the event loop). Which region's is then ``access.selectors.regions_for_user``'s answer.

    Parameters
    ----------
    user
        A Django user, ``AnonymousUser`` or None. Crew devices have no user and never get here.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return roles.has_role(user)


def live_unit_changed(unit_id: int, *, incident_id: int | None = None) -> None:
    """Publish a unit's state (status, last position, active assignment) after the current commit.

    Parameters
    ----------
    unit_id
        The unit that moved or changed status.
    incident_id
        A report the same change touched (an assignment's phase stamp); published too.
    """
    transaction.on_commit(partial(publish, unit_message, unit_id))
    if incident_id is not None:
        live_incident_changed(incident_id)


def live_incident_changed(incident_id: int) -> None:
    """Bump the report's version now and publish its state (status, location, assignments, pending offers,
    hand-offs) after the current commit.

    The version (``Incident.revision``) is bumped by the database on every UPDATE of the report's row; a change
    to its assignments, offers, hand-offs or their messages may not touch that row, so this touches it. Called
    inside the change's transaction (after locking what it changed: the report's row is locked last, as dispatch
    does) the bump is part of the change; called right after a commit it bumps once more, which is harmless: a
    version has only to grow with every change, and the message is read after the bump.

    Parameters
    ----------
    incident_id
        The report created or changed.
    """
    Incident.objects.filter(pk=incident_id).update(revision=F("revision") + 1)
    transaction.on_commit(partial(publish, incident_message, incident_id))
