"""The live messages, each built from one read and in the shape the REST API gives the same object.

Each builder takes an object's id and the time, and returns ``(region_id, message)``, or None when the
object is gone.
"""

from __future__ import annotations

from datetime import datetime

from gis_core.api.fields import iso
from incidents.models import Incident
from incidents.representations import incident_public, incidents_loaded, unit_public
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
    body = incident_public(incident, assignments=incident.assignments.all(), pending_offers=incident.pending_offers)
    return incident.region_id, {"type": "incident", "sent_at": iso(now), "incident": body}
