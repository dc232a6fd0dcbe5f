"""A small seeded history for the reports tests: reports, dispatches and unit status changes at given times."""

from __future__ import annotations

from datetime import datetime, timedelta

from factories.fleet import make_incident
from fleet.models import ActorKind
from incidents.models import Assignment, AssignmentStatus, StatusChange


def report(region, at: datetime, **fields):
    """A report received ``at`` (aware), with ``fields`` as the model's (channel, priority, outcome, kecamatan...)."""
    return make_incident(region=region, received_at=at, **fields)


def assign(incident, unit, dispatched_s: float, on_scene_s: float | None = None, *, en_route_s=None, cancelled=False):
    """One dispatch of ``unit`` to ``incident``, its phases in seconds after the report was received."""

    def t(s):
        return None if s is None else incident.received_at + timedelta(seconds=s)

    last = max(s for s in (dispatched_s, en_route_s, on_scene_s) if s is not None) + 60
    a = Assignment(
        incident=incident,
        unit=unit,
        status=AssignmentStatus.CANCELLED if cancelled else AssignmentStatus.CLEARED,
        dispatched_at=t(dispatched_s),
        en_route_at=t(en_route_s),
        on_scene_at=t(on_scene_s),
        cancelled_at=t(last) if cancelled else None,
        cleared_at=None if cancelled else t(last),
    )
    a.full_clean()
    a.save()
    return a


def status_change(unit, at: datetime, from_status: str, to_status: str) -> StatusChange:
    change = StatusChange(unit=unit, from_status=from_status, to_status=to_status, at=at, actor_kind=ActorKind.SYSTEM)
    change.full_clean()
    change.save()
    return change
