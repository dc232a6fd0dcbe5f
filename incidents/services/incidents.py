"""Reports (incidents): creation by a call taker or from WhatsApp, location, location offers, closure.

Locations are EPSG:4326 points (lon, lat). A report's location is set by a person (``incident_create``,
``incident_location_set``) or by a person applying a location a caller shared (``location_offer_apply``);
a shared location on its own only ever becomes a ``LocationOffer``. The kecamatan and kelurahan are filled
from the location whenever it changes. Every action is written to the audit log.

A report's address is a person's (typed, a search suggestion picked: kept until a person changes it) or,
while no person gave one, the name of the place at its location (reverse geocoding, ``place_text``: for a
click, a GPS fix or WhatsApp), which follows the location when it moves.
"""

from __future__ import annotations

import math
import re
import zlib
from datetime import datetime

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import IntegerField, Max
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from fleet.actors import SYSTEM, Actor
from fleet.services.audit import audit_record
from gis_core.models import Kecamatan, Kelurahan, Region
from gis_core.selectors import admin_areas_containing
from incidents.errors import (
    InvalidLocationError,
    InvalidReportError,
    NotFoundError,
    OutsideRegionError,
    ReportStateError,
    UnknownIncidentTypeError,
    UnknownOutcomeError,
)
from incidents.live import live_incident_changed
from incidents.models import (
    AddressSource,
    AssignmentStatus,
    Channel,
    Incident,
    IncidentStatus,
    IncidentType,
    LocationOffer,
    LocationSource,
    Outcome,
    Priority,
)
from incidents.selectors.incident_types import (
    default_priority_in_region,
    incident_type_offered,
    incident_types_for_region,
)
from incidents.services.callers import caller_get_or_create, caller_marks, caller_policy_apply, phone_normalise
from incidents.services.places import place_text

# Short prefixes of human references, by Kemendagri code; other regions get one from their slug.
REFERENCE_PREFIXES = {"15.71": "JMB", "81.71": "AMB", "64.71": "BPN"}
# A point this close to a region's kecamatan but inside none of them (on the Batang Hari between the
# bank polygons, or just over the city line) is accepted, with the kecamatan left empty.
REGION_TOLERANCE_M = 2000.0
OPEN_STATUSES = (IncidentStatus.AWAITING_LOCATION, IncidentStatus.OPEN, IncidentStatus.DISPATCHED)
CLOSING_OUTCOMES = tuple(o for o in Outcome.values if o != Outcome.UNKNOWN)
# A report nobody has triaged yet (a WhatsApp text) is handled as high priority until a person says otherwise.
UNTRIAGED_PRIORITY = Priority.HIGH


def incident_create(
    *,
    region: Region,
    channel: str,
    caller_phone: str = "",
    caller_name: str = "",
    incident_type: IncidentType | str | None = None,
    priority: int | None = None,
    description: str = "",
    location: tuple[float, float] | None = None,
    location_accuracy_m: float | None = None,
    location_source: str = LocationSource.DISPATCHER,
    address_text: str = "",
    received_at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Incident:
    """Create a report; a report from a flagged or blocked number is created and marked, never refused.

    Parameters
    ----------
    region
        The region (city) whose centre took the report.
    channel
        ``phone``, ``whatsapp`` or ``other``.
    caller_phone
        As typed; normalised to E.164 by ``phone_normalise`` (empty: number unknown or withheld).
    incident_type
        An ``IncidentType`` or its code; None only for reports nobody has triaged yet (WhatsApp).
    priority
        1 (critical) to 4 (low); by default the type's ``default_priority``, or 2 (high) without a type.
    location
        ``(lon, lat)`` in EPSG:4326 degrees; None while only ``address_text`` is known (the report then
        awaits its location).
    location_accuracy_m
        Radius of the location's uncertainty, metres.
    location_source
        Who produced the location: ``dispatcher`` (typed or picked on the map) or ``caller_gps``.
    received_at
        When the centre received the report (now by default).

    Returns
    -------
    Incident
        Saved, with its reference (``JMB-2026-000123``), kecamatan, kelurahan and caller marks.
    """
    if channel not in Channel.values:
        raise InvalidReportError(f"channel {channel!r} is unknown; use one of {', '.join(Channel.values)}")
    phone = phone_normalise(caller_phone) if (caller_phone or "").strip() else ""
    itype = _incident_type(incident_type, region)
    priority = _priority(priority, itype, region)
    geom, accuracy_m = _point(location, location_accuracy_m)
    kecamatan, kelurahan = _areas(region, geom)
    address = address_text.strip()
    address_source: str = AddressSource.PERSON
    if not address:
        address = place_text(region, geom, location_source)
        address_source = AddressSource.REVERSE if address else ""
    received_at = received_at or timezone.now()
    with transaction.atomic():
        marks: list[str] = []
        if phone:
            caller = caller_get_or_create(region=region, phone=phone)
            caller_policy_apply(caller=caller, at=received_at)
            marks = caller_marks(caller=caller, at=received_at)
        incident = Incident(
            region=region,
            reference=_next_reference(region, received_at),
            channel=channel,
            caller_phone=phone,
            caller_name=caller_name.strip(),
            incident_type=itype,
            priority=priority,
            description=description.strip(),
            address_text=address,
            address_source=address_source,
            geom=geom,
            location_accuracy_m=accuracy_m,
            location_source=location_source if geom is not None else "",
            kecamatan=kecamatan,
            kelurahan=kelurahan,
            status=IncidentStatus.OPEN if geom is not None else IncidentStatus.AWAITING_LOCATION,
            caller_flags=marks,
            received_at=received_at,
            created_by=actor.person_user,
        )
        incident.full_clean()
        incident.save()
        audit_record(
            action="incident.create",
            actor=actor,
            obj=incident,
            data={
                "reference": incident.reference,
                "channel": channel,
                "phone": phone,
                "type": itype.code if itype else None,
                "priority": priority,
                "location": _lonlat(geom),
                "address_source": address_source,
                "caller_flags": marks,
            },
        )
    live_incident_changed(incident.pk)
    return incident


def incident_location_set(
    *,
    incident: Incident,
    location: tuple[float, float],
    location_accuracy_m: float | None = None,
    source: str = LocationSource.DISPATCHER,
    address_text: str | None = None,
    actor: Actor = SYSTEM,
    _audit_action: str = "incident.location_set",
    _audit_data: dict | None = None,
) -> Incident:
    """Set or move a report's location and refill its kecamatan and kelurahan.

    A report awaiting its location becomes ``open``. Only people call this (directly, or by applying an
    offer); a location a caller shares never reaches it on its own.

    Parameters
    ----------
    location
        ``(lon, lat)`` in EPSG:4326 degrees.
    location_accuracy_m
        Uncertainty radius, metres (None: unknown).
    source
        ``dispatcher``, ``caller_gps``, ``whatsapp`` (an applied offer) or ``geocoded``.
    address_text
        Replaces the address when given (a person's). When not given, an address no person gave (none, or
        a reverse-geocoded one) becomes the place at the new location (``incidents.services.places``).
    """
    if source not in LocationSource.values:
        raise InvalidReportError(
            f"location source {source!r} is unknown; use one of {', '.join(LocationSource.values)}"
        )
    geom, accuracy_m = _point(location, location_accuracy_m)
    kecamatan, kelurahan = _areas(incident.region, geom)
    place = place_text(incident.region, geom, source) if address_text is None else ""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        before = {
            "location": _lonlat(incident.geom),
            "source": incident.location_source,
            "kecamatan": incident.kecamatan_id,
            "status": incident.status,
            "address": incident.address_text,
        }
        incident.geom, incident.location_accuracy_m, incident.location_source = geom, accuracy_m, source
        incident.kecamatan, incident.kelurahan = kecamatan, kelurahan
        if address_text is not None:
            incident.address_text = address_text.strip()
            incident.address_source = AddressSource.PERSON if incident.address_text else ""
        elif incident.address_source == AddressSource.REVERSE or not incident.address_text:
            incident.address_text, incident.address_source = place, AddressSource.REVERSE if place else ""
        if incident.status == IncidentStatus.AWAITING_LOCATION:
            incident.status = IncidentStatus.OPEN
        incident.full_clean()
        incident.save()
        after = {
            "location": _lonlat(geom),
            "source": source,
            "kecamatan": incident.kecamatan_id,
            "status": incident.status,
            "address": incident.address_text,
        }
        audit_record(
            action=_audit_action,
            actor=actor,
            obj=incident,
            data={"before": before, "after": after, **(_audit_data or {})},
        )
    live_incident_changed(incident.pk)
    return incident


def location_offer_create(
    *,
    incident: Incident,
    location: tuple[float, float],
    label: str = "",
    received_at: datetime,
    source: str = LocationSource.WHATSAPP,
) -> LocationOffer:
    """Offer a location a caller shared to the dispatcher; the report's own location is not touched.

    The offer is stored even when it lies outside the region (the dispatcher sees it and decides);
    applying such an offer is refused like any location outside the region.
    """
    geom, _ = _point(location, None)
    if geom is None:
        raise InvalidLocationError("a location offer needs a location (lon, lat)")
    with transaction.atomic():
        offer = LocationOffer(incident=incident, geom=geom, source=source, label=label.strip(), received_at=received_at)
        offer.full_clean()
        offer.save()
        audit_record(
            action="incident.location_offer",
            actor=Actor.citizen(),
            obj=offer,
            data={"incident": incident.reference, "location": _lonlat(geom), "label": offer.label},
        )
        live_incident_changed(incident.pk)
    return offer


def location_offer_apply(*, incident: Incident, offer_id: int, actor: Actor = SYSTEM) -> Incident:
    """Apply a location offer to its report in one action: the report's location becomes the offer's.

    Raises
    ------
    NotFoundError
        No offer with this id belongs to this report.
    ReportStateError
        The offer was already applied.
    """
    with transaction.atomic():
        offer = LocationOffer.objects.select_for_update().filter(pk=offer_id, incident=incident).first()
        if offer is None:
            raise NotFoundError(f"report {incident.reference} has no location offer {offer_id}")
        if offer.applied_at is not None:
            raise ReportStateError(f"location offer {offer_id} was already applied at {offer.applied_at.isoformat()}")
        incident = incident_location_set(
            incident=incident,
            location=(offer.geom.x, offer.geom.y),
            location_accuracy_m=None,
            source=offer.source,
            actor=actor,
            _audit_action="incident.location_offer_apply",
            _audit_data={"offer": offer.pk, "label": offer.label},
        )
        offer.applied_at = timezone.now()
        offer.applied_by = actor.person_user
        offer.full_clean()
        offer.save()
    return incident


def incident_classify(
    *,
    incident: Incident,
    incident_type: IncidentType | str | None = None,
    priority: int | None = None,
    description: str | None = None,
    caller_name: str | None = None,
    address_text: str | None = None,
    actor: Actor = SYSTEM,
) -> Incident:
    """Set what the call taker learns about a report: its type, priority, description, caller name, address.

    Triage of a WhatsApp report (it arrives with none of these), or a correction. Only the fields given
    (not None) change; an empty text clears it. A new type without a priority brings the type's default
    priority; an explicit priority wins; a change of other fields leaves the priority alone.

    Raises
    ------
    InvalidReportError
        Nothing to change, a priority out of range, or a text too long.
    UnknownIncidentTypeError
        ``incident_type`` is not in the taxonomy.
    """
    texts = {"description": description, "caller_name": caller_name, "address_text": address_text}
    texts = {name: value.strip() for name, value in texts.items() if value is not None}
    if incident_type is None and priority is None and not texts:
        raise InvalidReportError("give at least one of incident_type, priority, description, caller_name, address_text")
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).select_related("incident_type").get(pk=incident.pk)
        before = _triage_fields(incident)
        if incident_type is not None:
            incident.incident_type = _incident_type(incident_type, incident.region)
        if incident_type is not None or priority is not None:
            incident.priority = _priority(priority, incident.incident_type, incident.region)
        for name, value in texts.items():
            setattr(incident, name, value)
        if "address_text" in texts:
            incident.address_source = AddressSource.PERSON if texts["address_text"] else ""
        try:
            incident.full_clean()
        except ValidationError as exc:
            raise InvalidReportError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from None
        incident.save()
        after = _triage_fields(incident)
        changed = [name for name in after if after[name] != before[name]]
        audit_record(
            action="incident.classify",
            actor=actor,
            obj=incident,
            data={
                "before": {name: before[name] for name in changed},
                "after": {name: after[name] for name in changed},
            },
        )
    live_incident_changed(incident.pk)
    return incident


def _triage_fields(incident: Incident) -> dict:
    return {
        "type": incident.incident_type.code if incident.incident_type else None,
        "priority": incident.priority,
        "description": incident.description,
        "caller_name": incident.caller_name,
        "address_text": incident.address_text,
    }


def incident_close(*, incident: Incident, outcome: str, note: str = "", actor: Actor = SYSTEM) -> Incident:
    """Close a report with its outcome; a prank outcome feeds the caller's prank policy.

    Parameters
    ----------
    outcome
        ``genuine``, ``false_alarm``, ``prank`` or ``silent``.
    note
        Kept in the audit log.

    Raises
    ------
    UnknownOutcomeError
        ``outcome`` is not one of the above.
    ReportStateError
        The report is already closed or cancelled, or units are still assigned to it.
    """
    if outcome not in CLOSING_OUTCOMES:
        raise UnknownOutcomeError(
            f"outcome {outcome!r} is unknown; close a report as one of {', '.join(CLOSING_OUTCOMES)}"
        )
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED):
            raise ReportStateError(f"report {incident.reference} is already {incident.status}")
        active = list(
            incident.assignments.filter(status=AssignmentStatus.ACTIVE).values_list("unit__call_sign", flat=True)
        )
        if active:
            raise ReportStateError(
                f"report {incident.reference} still has active units ({', '.join(sorted(active))}); "
                "clear or cancel their assignments first"
            )
        before = {"status": incident.status, "outcome": incident.outcome}
        incident.status, incident.outcome, incident.closed_at = IncidentStatus.CLOSED, outcome, timezone.now()
        incident.full_clean()
        incident.save()
        audit_record(
            action="incident.close",
            actor=actor,
            obj=incident,
            data={"before": before, "outcome": outcome, "note": note.strip()},
        )
        if outcome == Outcome.PRANK and incident.caller_phone:
            caller_policy_apply(caller=caller_get_or_create(region=incident.region, phone=incident.caller_phone))
    live_incident_changed(incident.pk)
    return incident


def _incident_type(value: IncidentType | str | None, region: Region) -> IncidentType | None:
    """The type named ``value`` among those ``region`` offers (``incidents.selectors.incident_types``)."""
    if value is None or isinstance(value, IncidentType):
        return value
    itype = IncidentType.objects.filter(code=value).first()
    if itype is None or not incident_type_offered(incident_type=itype, region=region):
        offered = [t.code for t in incident_types_for_region(region=region)]
        known = ", ".join(offered) or "none loaded (run load_incident_types)"
        raise UnknownIncidentTypeError(f"incident type {value!r} is unknown; known types: {known}")
    return itype


def _priority(priority: int | None, itype: IncidentType | None, region: Region) -> int:
    if priority is None:
        if itype is None:
            return UNTRIAGED_PRIORITY
        return default_priority_in_region(incident_type=itype, region=region)  # the region's table
    if isinstance(priority, bool) or priority not in Priority.values:
        raise InvalidReportError(f"priority {priority!r} is out of range; use 1 (critical) to 4 (low)")
    return int(priority)


def _point(location: tuple[float, float] | None, accuracy_m: float | None) -> tuple[Point | None, float | None]:
    if accuracy_m is not None and not (
        isinstance(accuracy_m, (int, float)) and math.isfinite(accuracy_m) and accuracy_m >= 0
    ):
        raise InvalidReportError(f"location_accuracy_m must be a number of metres >= 0, got {accuracy_m!r}")
    if location is None:
        return None, None
    try:
        lon, lat = (float(c) for c in location)
    except (TypeError, ValueError):
        raise InvalidLocationError(f"location must be (lon, lat) numbers, got {location!r}") from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InvalidLocationError(f"location ({lon}, {lat}) is not finite")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        hint = (
            f"; points are [lon, lat]: did you mean [{lat}, {lon}]?" if -90 <= lon <= 90 and -180 <= lat <= 180 else ""
        )
        raise InvalidLocationError(
            f"location ({lon}, {lat}) is out of range: lon in [-180, 180], lat in [-90, 90]{hint}"
        )
    if lon == 0 and lat == 0:
        raise InvalidLocationError("location (0, 0) is not a real position (a phone without a fix sends it)")
    return Point(lon, lat, srid=4326), accuracy_m


def _areas(region: Region, geom: Point | None) -> tuple[Kecamatan | None, Kelurahan | None]:
    """The kecamatan and kelurahan of a point, or ``OutsideRegionError`` when it is not near the region.

    A region without boundary data accepts every point (with no kecamatan): a missing import must not stop
    a 112 centre from taking reports.
    """
    if geom is None:
        return None, None
    kecamatan, kelurahan = admin_areas_containing(region=region, lon=geom.x, lat=geom.y)
    if kecamatan is not None or not Kecamatan.objects.filter(region=region).exists():
        return kecamatan, kelurahan
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(ST_Distance(ST_Transform(geom, %s), ST_Transform(ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s)))"
            " FROM gis_core_kecamatan WHERE region_id = %s",
            [region.metric_srid, geom.x, geom.y, region.metric_srid, region.pk],
        )
        distance_m = cursor.fetchone()[0]
    if distance_m <= REGION_TOLERANCE_M:
        return None, kelurahan
    raise OutsideRegionError(
        f"location ({geom.x:.6f}, {geom.y:.6f}) is {distance_m / 1000:.1f} km outside {region.name}; check the "
        "coordinates (they are [lon, lat]) or give the address as text instead"
    )


def _next_reference(region: Region, at: datetime) -> str:
    """``<PREFIX>-<year>-<number>``, numbered per region and local year; serialised by an advisory lock."""
    prefix = REFERENCE_PREFIXES.get(region.code) or _prefix_from_slug(region.slug)
    stem = f"{prefix}-{timezone.localtime(at, region.zone).year}-"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"siaga.incident_reference:{stem}".encode())])
    last = (
        Incident.objects.filter(reference__regex=rf"^{re.escape(stem)}[0-9]+$")
        .annotate(number=Cast(Substr("reference", len(stem) + 1), IntegerField()))
        .aggregate(last=Max("number"))["last"]
    )
    return f"{stem}{(last or 0) + 1:06d}"


def _prefix_from_slug(slug: str) -> str:
    """``kota-jambi`` -> ``JMB``: the first letter of the last word and the consonants after it."""
    word = slug.rsplit("-", 1)[-1].upper() or "INC"
    letters = word[0] + "".join(c for c in word[1:] if c.isalpha() and c not in "AEIOU")
    return (letters + word)[:3]


def _lonlat(geom: Point | None) -> list[float] | None:
    return [geom.x, geom.y] if geom is not None else None
