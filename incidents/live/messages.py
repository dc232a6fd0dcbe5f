"""The live messages, each built from one read and in the shape the REST API gives the same object.

Each builder takes an object's id and the time, and returns ``(region_id, message)``, or None when the
object is gone.
"""

from __future__ import annotations

from datetime import datetime

from gis_core.api.fields import iso
from gis_core.models import RoadClosure
from gis_core.selectors import road_closure_public
from incidents.models import Handoff, Incident
from incidents.representations import handoff_public, incident_public, incidents_loaded, unit_public
from incidents.selectors.units import unit_state


def unit_message(unit_id: int, now: datetime) -> tuple[int, dict] | None:
    # One query (every fix that moves a unit runs it), the same read and shape as GET /api/units/.
    state = unit_state(unit_id=unit_id, now=now)
    if state is None:
        return None
    return state.region_id, {"type": "unit", "sent_at": iso(now), "unit": unit_public(state)}


def incident_message(incident_id: int, now: datetime) -> tuple[int, dict] | None:
    # The same read and shape as a feature of the queue (GET /api/incidents/).
    incident = incidents_loaded(Incident.objects.filter(pk=incident_id)).first()
    if incident is None:
        return None
    body = incident_public(
        incident,
        assignments=incident.assignments.all(),
        pending_offers=incident.pending_offers,
        handoffs=incident.handoffs.all(),
    )
    return incident.region_id, {"type": "incident", "sent_at": iso(now), "incident": body}


def handoff_escalated_message(handoff_id: int, now: datetime) -> tuple[int, dict] | None:
    # A hand-off not acknowledged in time: the consoles alert; the report itself follows as an incident message.
    handoff = Handoff.objects.select_related("incident", "agency").filter(pk=handoff_id).first()
    if handoff is None:
        return None
    body = {
        "type": "handoff_escalated",
        "sent_at": iso(now),
        "incident_id": handoff.incident_id,
        "reference": handoff.incident.reference,
        "handoff": handoff_public(handoff, messages=handoff.messages.all()),
    }
    return handoff.incident.region_id, body


def closure_message(closure_id: int, now: datetime) -> tuple[int, dict] | None:
    # A road closure created, started, lifted or ended: the consoles draw or drop it (its ``state`` says
    # which) and ask for their ETAs again; the same shape as GET /api/regions/<slug>/closures/.
    closure = RoadClosure.objects.select_related("region", "created_by", "lifted_by").filter(pk=closure_id).first()
    if closure is None:
        return None
    return closure.region_id, {"type": "closure", "sent_at": iso(now), "closure": road_closure_public(closure, now=now)}
