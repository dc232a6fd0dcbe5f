"""What a paired crew page shows: its unit, the moves it may make, and its current job.

The crew's view of a report is the public one (``incidents.representations.incident_public``) cut to what
a crew needs on the way (no caller flags, no location offers), so a live report message
(``crew.consumers``) is cut the same way by :func:`crew_incident` and the page applies both alike.
"""

from __future__ import annotations

import logging
from typing import TypedDict

from django.utils import timezone
from shapely.geometry import mapping

from fleet.models import Device, UnitStatus, UnitType
from gazetteer.selectors import place_at
from gis_core.errors import DomainError
from gis_core.models import Facility, FacilityKind
from gis_core.routing.hour_band_engines import engine_for_now
from gis_core.routing.profiles import CAR
from incidents.models import Incident
from incidents.representations import incident_public, incidents_loaded, unit_public
from incidents.selectors.units import unit_states
from incidents.services.status import NEXT_STATUSES

logger = logging.getLogger("crew")

# What a crew may set from its page: every move of the state machine but ``dispatched``, which only an
# assignment makes (incidents.services.status).
CREW_TRANSITIONS: dict[str, list[str]] = {
    status: sorted(s for s in nxt if s != UnitStatus.DISPATCHED) for status, nxt in NEXT_STATUSES.items()
}
# The crew's words for each status and priority (Bahasa Indonesia: the page speaks to crews in the field).
CREW_STATUS_LABELS = {
    UnitStatus.AVAILABLE: "Siaga", UnitStatus.DISPATCHED: "Ditugaskan", UnitStatus.EN_ROUTE: "Berangkat",
    UnitStatus.ON_SCENE: "Tiba di lokasi", UnitStatus.TRANSPORTING: "Membawa pasien",
    UnitStatus.AT_HOSPITAL: "Tiba di RS", UnitStatus.RETURNING: "Kembali", UnitStatus.OUT_OF_SERVICE: "Tidak bertugas",
}  # fmt: skip
PRIORITY_LABELS = {1: "Kritis", 2: "Tinggi", 3: "Sedang", 4: "Rendah"}
# Where the GPS is sent from: every status but out of service (off duty).
ON_DUTY_STATUSES = sorted(s for s in UnitStatus.values if s != UnitStatus.OUT_OF_SERVICE)

_INCIDENT_FIELDS = (
    "id", "version", "reference", "status", "priority", "incident_type", "incident_type_name", "description",
    "address_text", "location", "kecamatan", "kelurahan", "caller_name", "caller_phone", "received_at", "closed_at",
)  # fmt: skip
_ASSIGNMENT_FIELDS = ("id", "unit_id", "call_sign", "agency", "agency_name", "status", "current_eta_s", "dispatched_at")


class CrewRoute(TypedDict):
    geometry: dict  # GeoJSON LineString, EPSG:4326; to where the unit's vehicle stops
    eta_s: float  # the walk from there included
    length_m: float
    street_names: list[str]
    access_on_foot_s: float  # the walk (or hose lay) from reachable_point, 0 when the vehicle drives there
    access_on_foot_m: float  # its length
    reachable_point: list[float] | None  # where the vehicle stops, [lon, lat]; None when it drives to the report


class CrewState(TypedDict):
    device: str
    unit: dict
    transitions: dict[str, list[str]]
    on_duty_statuses: list[str]
    incident: dict | None
    landmark: str | None
    route: CrewRoute | None
    others: list[dict]
    hospitals: list[dict]


def crew_incident(incident: dict) -> dict:
    """A report as :func:`incidents.representations.incident_public` gives it, cut to the crew's view."""
    cut = {name: incident.get(name) for name in _INCIDENT_FIELDS}
    cut["assignments"] = [{name: a.get(name) for name in _ASSIGNMENT_FIELDS} for a in incident.get("assignments", ())]
    return cut


def crew_state(*, device: Device) -> CrewState:
    """The crew page's whole state for ``device``'s unit: one read on pairing, on a new job, on reconnect.

    Returns
    -------
    CrewState
        ``unit`` (``unit_public``), ``transitions`` (status -> the statuses the crew may set from it),
        ``incident`` (:func:`crew_incident` of the unit's active assignment's report, or None), the
        nearest ``landmark`` to the report (name and distance, or None), ``route`` from where the unit is
        to the report over the road network (None when it cannot be routed), ``others``: the other
        units on the report (``unit_public``), and the region's ``hospitals`` ``{id, name}`` while on a job.
    """
    now = timezone.now()
    (state,) = unit_states(now=now, unit_ids=[device.unit_id])
    unit = unit_public(state)
    result = CrewState(
        device=device.identifier, unit=unit, transitions=CREW_TRANSITIONS, on_duty_statuses=ON_DUTY_STATUSES,
        incident=None, landmark=None, route=None, others=[], hospitals=[],
    )  # fmt: skip
    if state.assignment is None:
        return result
    incident = incidents_loaded(Incident.objects.filter(pk=state.assignment.incident_id)).first()
    if incident is None:
        return result
    body = incident_public(incident, assignments=incident.assignments.all(), pending_offers=[])
    result["incident"] = crew_incident(body)
    if incident.incident_type is not None:
        result["incident"]["incident_type_name_id"] = incident.incident_type.name_in("id")
    # Where a patient may be taken (the status "transporting" names one).
    hospitals = Facility.objects.filter(region_id=incident.region_id, kind=FacilityKind.HOSPITAL).order_by("name")
    result["hospitals"] = [{"id": h.pk, "name": h.name} for h in hospitals.only("pk", "name")]
    other_ids = [a["unit_id"] for a in body["assignments"] if a["status"] == "active" and a["unit_id"] != state.id]
    result["others"] = [unit_public(s) for s in unit_states(now=now, unit_ids=other_ids)] if other_ids else []
    if incident.geom is not None:
        result["landmark"] = _landmark(incident)
        if state.position.lonlat is not None:
            types = UnitType.objects.filter(units__pk=device.unit_id)
            profile = types.values_list("routing_profile", flat=True).first()
            result["route"] = _route(incident, state.position.lonlat, profile=profile or CAR)
    return result


def _landmark(incident: Incident) -> str | None:
    try:
        landmark = place_at(region=incident.region, lon=incident.geom.x, lat=incident.geom.y).landmark
    except DomainError:
        return None
    return None if landmark is None else f"{round(landmark.distance_m)} m dari {landmark.name}"


def _route(incident: Incident, origin: tuple[float, float], *, profile: str) -> CrewRoute | None:
    """The route on the unit's vehicle profile to where its vehicle stops, and the walk from there; timed on
    the hour band of now, as the dispatch ETA is (``hour_band_engines.engine_for_now``)."""
    try:
        engine = engine_for_now(incident.region, profile)
        reach = engine.reach((incident.geom.x, incident.geom.y))
        route = engine.route(origin, reach.snap)
    except DomainError as exc:  # no network, no route, outside it: the page shows the point alone
        logger.info("no route for the crew to %s: %s", incident.reference, exc)
        return None
    stop = reach.reachable_point
    return CrewRoute(
        geometry=mapping(route.geometry_lonlat), eta_s=round(route.eta_s + reach.on_foot_s, 1),
        length_m=round(route.length_m, 1), street_names=list(route.street_names),
        access_on_foot_s=round(reach.on_foot_s, 1), access_on_foot_m=round(reach.on_foot_m, 1),
        reachable_point=None if stop is None else list(stop),
    )  # fmt: skip
