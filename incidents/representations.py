"""The public shape of a unit, a report and an assignment: built here once, for REST and live messages alike.

A console reads a unit from ``GET /api/units/`` (a GeoJSON Feature whose ``properties`` are
:func:`unit_public`) and then from live messages (``{"type": "unit", "unit": unit_public(...)}``);
a report from the queue ``GET /api/incidents/`` (``properties``: :func:`incident_public`) and then
from ``{"type": "incident", "incident": incident_public(...)}``. The same function builds both, so
the same object never shows two ways (a stale unit at its old fix on the map and at its station in
a live message). Times are ISO 8601 in the project's time zone, as DRF writes them everywhere else;
points are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from gis_core.api.fields import iso
from incidents.models import (
    Assignment,
    AssignmentStatus,
    Handoff,
    HandoffStatus,
    Incident,
    LocationOffer,
    OutboundMessage,
    OutboundPurpose,
    OutboundState,
)

if TYPE_CHECKING:  # only a type: incidents.selectors.units imports this module
    from incidents.selectors.units import UnitState

PHASES = ("dispatched_at", "en_route_at", "on_scene_at", "transporting_at", "at_hospital_at", "cleared_at")


def _point(lonlat: tuple[float, float] | None) -> dict | None:
    return None if lonlat is None else {"type": "Point", "coordinates": [lonlat[0], lonlat[1]]}


def feature(*, pk: int, lonlat: tuple[float, float] | None, properties: dict) -> dict:
    """A GeoJSON Feature with the row's id both as the Feature ``id`` (map libraries key on it) and in properties."""
    return {"type": "Feature", "id": pk, "geometry": _point(lonlat), "properties": properties}


# ---------------------------------------------------------------- versions

# ``version`` (a unit's or a report's): its revision, read in the same snapshot as the rest of it. PostgreSQL adds
# one to it in every transaction that changes the object (a trigger; fleet/migrations/0010_unit_revision.py), so
# a higher version was read after that change committed and is at least as new in every field, whichever process
# read it. The consoles apply a live message only when its version is higher than the one shown, a REST read when
# it is not lower (console/static/console/versions.js).


# ---------------------------------------------------------------- units


def unit_public(state: UnitState) -> dict:
    """A unit as every console sees it, drawn where ``fleet.selectors.units.position_of`` places it.

    Returns
    -------
    dict
        ``id, version, call_sign, agency, agency_name, agency_kind, unit_type, capabilities [code], status,
        status_changed_at, is_demo, station {id, code, name} | null``; ``version`` (the unit's revision, see
        "versions" above) grows with every change of the unit's status, last fix or active assignment;
        ``position_source`` (``gps`` | ``home_station`` | ``stale_gps`` | null), ``position_age_s`` and
        ``position_recorded_at`` (of the newest valid fix, also when the station won; null without
        one), ``position_stale`` (that fix older than ``SIAGA_POSITION_MAX_AGE_S``; null without one);
        ``position {lon, lat, source, age_s, recorded_at, accuracy_m, speed_kph, heading_deg}`` or
        null (accuracy, speed and heading only when the point is the fix's);
        ``assignment {id, incident_id, incident_reference, current_eta_s, eta_updated_at}`` or null.
    """
    where = state.position
    age_s = None if where.age_s is None else round(where.age_s, 1)
    fix = state.fix if where.from_fix else None
    position = None
    if where.lonlat is not None:
        position = {
            "lon": where.lonlat[0],
            "lat": where.lonlat[1],
            "source": where.source,
            "age_s": age_s,
            "recorded_at": iso(where.recorded_at),
            "accuracy_m": fix.accuracy_m if fix is not None else None,
            "speed_kph": fix.speed_kph if fix is not None else None,
            "heading_deg": fix.heading_deg if fix is not None else None,
        }
    station, assignment = state.station, state.assignment
    return {
        "id": state.id,
        "version": state.revision,
        "call_sign": state.call_sign,
        "agency": state.agency,
        "agency_name": state.agency_name,
        "agency_kind": state.agency_kind,
        "unit_type": state.unit_type,
        "capabilities": list(state.capabilities),
        "status": state.status,
        "status_changed_at": iso(state.status_changed_at),
        "is_demo": state.is_demo,
        "station": None if station is None else {"id": station.id, "code": station.code, "name": station.name},
        "position_source": where.source,
        "position_age_s": age_s,
        "position_recorded_at": iso(where.recorded_at),
        "position_stale": None if where.age_s is None else where.age_s > settings.SIAGA_POSITION_MAX_AGE_S,
        "position": position,
        "assignment": None
        if assignment is None
        else {
            "id": assignment.id,
            "incident_id": assignment.incident_id,
            "incident_reference": assignment.incident_reference,
            "current_eta_s": assignment.current_eta_s,
            "eta_updated_at": iso(assignment.eta_updated_at),
        },
    }


def unit_feature(state: UnitState) -> dict:
    """:func:`unit_public` as a GeoJSON Feature at the unit's position (geometry null when it has none)."""
    return feature(pk=state.id, lonlat=state.position.lonlat, properties=unit_public(state))


# ---------------------------------------------------------------- assignments


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds from ``start`` to ``end`` (0.1 s), None unless both happened."""
    return round((end - start).total_seconds(), 1) if start is not None and end is not None else None


def assignment_times_s(a: Assignment) -> dict:
    """Seconds between an assignment's phases; None where a phase has not happened (yet)."""
    received = a.incident.received_at
    return {
        "dispatch_s": seconds_between(received, a.dispatched_at),  # report received -> unit dispatched
        "turnout_s": seconds_between(a.dispatched_at, a.en_route_at),  # dispatched -> rolling
        "travel_s": seconds_between(a.en_route_at, a.on_scene_at),
        "response_s": seconds_between(received, a.on_scene_at),  # report received -> on scene
        "on_scene_s": seconds_between(a.on_scene_at, a.transporting_at or a.cleared_at),
        "transport_s": seconds_between(a.transporting_at, a.at_hospital_at),
        "total_s": seconds_between(a.dispatched_at, a.cleared_at or a.cancelled_at),
    }


def notification_public(messages: Iterable[OutboundMessage]) -> dict | None:
    """The newest of the messages about one assignment or hand-off, as the console shows it; None without one.

    ``{state (queued | sent | delivered | read | failed), delivered (accepted by the receiver: sent or
    later), retrying (queued after a failed attempt), attempts, error, sent_at, delivered_at, read_at}``.
    The console says "pesan ke kru belum terkirim" while ``delivered`` is false and an attempt has failed.
    """
    newest = max(messages, key=lambda m: (m.created_at, m.pk), default=None)
    if newest is None:
        return None
    sent = newest.state in (OutboundState.SENT, OutboundState.DELIVERED, OutboundState.READ)
    return {
        "state": newest.state,
        "delivered": sent,
        "retrying": newest.state == OutboundState.QUEUED and newest.attempts > 0,
        "attempts": newest.attempts,
        "error": newest.last_error,
        "sent_at": iso(newest.sent_at),
        "delivered_at": iso(newest.delivered_at),
        "read_at": iso(newest.read_at),
    }


def _dispatch_messages(a: Assignment) -> list[OutboundMessage]:
    # Prefetched as ``crew_messages`` by incidents_loaded; read here otherwise (one query).
    found = getattr(a, "crew_messages", None)
    if found is None:
        found = list(a.notifications.filter(purpose=OutboundPurpose.DISPATCH))
    return found


def assignment_public(a: Assignment) -> dict:
    """One unit on a report (``incident``, ``unit__agency`` and ``capability`` should be loaded).

    Returns
    -------
    dict
        ``id, incident, reference, unit (call sign), unit_id, call_sign, agency, agency_name,
        capability, status``, the phase times (``dispatched_at`` ... ``cleared_at``, ``cancelled_at``),
        ``eta_s_at_dispatch, current_eta_s, eta_updated_at``, what the ETA at dispatch was computed on
        (``eta_basis``: ``network_version``, ``profile``, ``road_class``, ``hour_band``; null each where
        unknown), ``times_s`` (see
        :func:`assignment_times_s`) and ``notification``: the crew's WhatsApp message
        (:func:`notification_public`; null when the unit has no crew number).
    """
    return {
        "id": a.pk,
        "incident": a.incident_id,
        "reference": a.incident.reference,
        "unit": a.unit.call_sign,
        "unit_id": a.unit_id,
        "call_sign": a.unit.call_sign,
        "agency": a.unit.agency.code,
        "agency_name": a.unit.agency.name,
        "capability": a.capability.code if a.capability is not None else None,
        "status": a.status,
        **{phase: iso(getattr(a, phase)) for phase in PHASES},
        "cancelled_at": iso(a.cancelled_at),
        "eta_s_at_dispatch": a.eta_s_at_dispatch,
        "current_eta_s": a.current_eta_s,
        "eta_updated_at": iso(a.eta_updated_at),
        "eta_basis": {
            "network_version": a.eta_network_version_id,
            "profile": a.eta_profile or None,
            "road_class": a.eta_road_class or None,
            "hour_band": a.eta_hour_band or None,
        },
        "times_s": assignment_times_s(a),
        "notification": notification_public(_dispatch_messages(a)),
    }


# ---------------------------------------------------------------- hand-offs


def handoff_escalated(h: Handoff) -> bool:
    """Escalated and still not acknowledged."""
    return h.escalated_at is not None and h.status in (HandoffStatus.PENDING, HandoffStatus.SENT)


def handoff_public(h: Handoff, *, messages: Iterable[OutboundMessage]) -> dict:
    """One hand-off of a report (``agency`` loaded; ``messages``: its outbound messages).

    Returns
    -------
    dict
        ``id, incident, agency (code), agency_name, agency_kind, channel (whatsapp | webhook | manual),
        source (dispatcher | incident_type), status (pending | sent | acknowledged | on_scene | closed),
        agency_reference, note, created_at, sent_at, acknowledged_at, on_scene_at, closed_at, escalated_at,
        escalated`` (not acknowledged in time, and still not), ``ack_s`` (sent to acknowledged, seconds) and
        ``delivery`` (:func:`notification_public`, null for a manual hand-off).
    """
    return {
        "id": h.pk,
        "incident": h.incident_id,
        "agency": h.agency.code,
        "agency_name": h.agency.name,
        "agency_kind": h.agency.kind,
        "channel": h.channel,
        "source": h.source,
        "status": h.status,
        "agency_reference": h.agency_reference,
        "note": h.note,
        **{f: iso(getattr(h, f)) for f in HANDOFF_TIMES},
        "escalated": handoff_escalated(h),
        "ack_s": seconds_between(h.sent_at, h.acknowledged_at),
        "delivery": notification_public(messages),
    }


HANDOFF_TIMES = ("created_at", "sent_at", "acknowledged_at", "on_scene_at", "closed_at", "escalated_at")


# ---------------------------------------------------------------- reports


def area_public(area: Any) -> dict | None:
    """A kecamatan or kelurahan as ``{code, name}`` (the code is its Kemendagri identity), or None."""
    return None if area is None else {"code": area.code, "name": area.name}


def _offer(offer: LocationOffer) -> dict:
    return {
        "id": offer.pk,
        "location": [offer.geom.x, offer.geom.y],
        "label": offer.label,
        "source": offer.source,
        "received_at": iso(offer.received_at),
    }


def incidents_loaded(queryset: QuerySet[Incident]) -> QuerySet[Incident]:
    """``queryset`` with what :func:`incident_public` reads joined or prefetched: six queries in all.

    The pending offers come as ``pending_offers`` (newest first); pass them, ``assignments.all()`` and
    ``handoffs.all()``.
    """
    pending = LocationOffer.objects.filter(applied_at__isnull=True).order_by("-received_at", "-pk")
    assignments = Assignment.objects.select_related("unit__agency", "capability").order_by("dispatched_at", "pk")
    return queryset.select_related("region", "incident_type", "kecamatan", "kelurahan").prefetch_related(
        Prefetch("location_offers", queryset=pending, to_attr="pending_offers"),
        Prefetch("assignments", queryset=assignments.prefetch_related(crew_messages_prefetch())),
        handoffs_prefetch(),
    )


def crew_messages_prefetch() -> Prefetch:
    """An assignment's dispatch messages as ``crew_messages`` (prefetch it on assignments)."""
    crew = OutboundMessage.objects.filter(purpose=OutboundPurpose.DISPATCH)
    return Prefetch("notifications", queryset=crew, to_attr="crew_messages")


def handoffs_prefetch() -> Prefetch:
    """A report's hand-offs with their agency and messages, oldest first (prefetch it on reports)."""
    handoffs = Handoff.objects.select_related("agency").prefetch_related("messages").order_by("created_at", "pk")
    return Prefetch("handoffs", queryset=handoffs)


def incident_public(
    incident: Incident,
    *,
    assignments: Iterable[Assignment],
    pending_offers: Iterable[LocationOffer],
    handoffs: Iterable[Handoff] | None = None,
) -> dict:
    """A report as the queue, the live messages and (with more beside it) the report's detail show it.

    Parameters
    ----------
    incident
        With ``region``, ``incident_type``, ``kecamatan`` and ``kelurahan`` loaded.
    assignments
        All of its assignments (each as :func:`assignment_public` needs it), in any order.
    pending_offers
        Its location offers not yet applied.
    handoffs
        Its hand-offs (``agency`` loaded, ``messages`` prefetched); read here when not given (two queries).

    Returns
    -------
    dict
        ``id, version`` (the report's revision, see "versions" above: it grows with every change of the report, its
        assignments, location offers and hand-offs), ``reference, region (slug), status, outcome, priority, channel,
        incident_type (code), incident_type_name, description, address_text, address_source (person, reverse or empty),
        location (GeoJSON Point | null), location_accuracy_m, location_source, kecamatan {code, name} | null,
        kelurahan, caller_phone, caller_name, caller_flags, received_at, closed_at, pending_offers [{id,
        location [lon, lat], label, source, received_at}] (newest first), active_units (how many assignments
        are active), assignments`` (oldest first, :func:`assignment_public`), ``handoffs`` (oldest first,
        :func:`handoff_public`) and ``handoff_escalated`` (one of them escalated and not yet acknowledged).
    """
    rows = sorted(assignments, key=lambda a: (a.dispatched_at, a.pk))
    if handoffs is None:
        handoffs = incident.handoffs.select_related("agency").prefetch_related("messages")
    legs = sorted(handoffs, key=lambda h: (h.created_at, h.pk))
    offers = sorted(pending_offers, key=lambda o: (o.received_at, o.pk), reverse=True)
    geom, itype = incident.geom, incident.incident_type
    return {
        "id": incident.pk,
        "version": incident.revision,
        "reference": incident.reference,
        "region": incident.region.slug,
        "status": incident.status,
        "outcome": incident.outcome,
        "priority": incident.priority,
        "channel": incident.channel,
        "incident_type": itype.code if itype is not None else None,
        "incident_type_name": itype.name if itype is not None else None,
        "description": incident.description,
        "address_text": incident.address_text,
        "address_source": incident.address_source,
        "location": None if geom is None else _point((geom.x, geom.y)),
        "location_accuracy_m": incident.location_accuracy_m,
        "location_source": incident.location_source,
        "kecamatan": area_public(incident.kecamatan),
        "kelurahan": area_public(incident.kelurahan),
        "caller_phone": incident.caller_phone,
        "caller_name": incident.caller_name,
        "caller_flags": list(incident.caller_flags),
        "received_at": iso(incident.received_at),
        "closed_at": iso(incident.closed_at),
        "pending_offers": [_offer(o) for o in offers],
        "active_units": sum(1 for a in rows if a.status == AssignmentStatus.ACTIVE),
        "assignments": [assignment_public(a) for a in rows],
        "handoffs": [handoff_public(h, messages=h.messages.all()) for h in legs],
        "handoff_escalated": any(handoff_escalated(h) for h in legs),
    }


def incident_feature(
    incident: Incident,
    *,
    assignments: Iterable[Assignment],
    pending_offers: Iterable[LocationOffer],
    handoffs: Iterable[Handoff] | None = None,
) -> dict:
    """:func:`incident_public` as a GeoJSON Feature at the report's location (null while it awaits one)."""
    geom = incident.geom
    properties = incident_public(incident, assignments=assignments, pending_offers=pending_offers, handoffs=handoffs)
    return feature(pk=incident.pk, lonlat=None if geom is None else (geom.x, geom.y), properties=properties)
