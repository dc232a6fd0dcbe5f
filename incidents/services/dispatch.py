"""Dispatch: assign a unit to a report, cancel an assignment, and keep its ETA following the unit.

A unit is never assigned to two reports. ``dispatch_assign`` locks the unit row and checks that it is
available under the lock, so of two dispatchers clicking at once the second waits and then sees the
first's assignment; the partial unique index ``one_active_assignment_per_unit`` is the last line of
defence behind that lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from fleet.actors import SYSTEM, Actor
from fleet.models import Capability, Unit, UnitStatus
from fleet.selectors.units import unit_position
from fleet.services.audit import audit_record
from gis_core.routing.errors import RoutingError
from gis_core.routing.hour_band_engines import engine_for_now
from gis_core.routing.registry import active_version_id
from gis_core.selectors import speed_band_used
from incidents.errors import AssignmentNotActiveError, DispatchError, DispatchRefusedError, UnitUnavailableError  # noqa: F401 (raised here, caught by callers)
from incidents.models import Assignment, AssignmentStatus, Incident, IncidentStatus
from incidents.services.notifications import dispatch_notification_enqueue, report_parameters
from incidents.services.status import unit_status_set

logger = logging.getLogger(__name__)

# A report in these states takes no new units.
_FINISHED = (IncidentStatus.CLOSED, IncidentStatus.CANCELLED)


def dispatch_assign(
    *,
    incident: Incident,
    unit: Unit,
    actor: Actor = SYSTEM,
    capability: Capability | str | None = None,
    at: datetime | None = None,
) -> Assignment:
    """Send ``unit`` to ``incident``.

    One transaction: the unit row is locked (``SELECT ... FOR UPDATE``) and must be available, the
    :class:`Assignment` is created with the road ETA at dispatch, the unit goes ``dispatched``
    through :func:`~incidents.services.status.unit_status_set`, an open report becomes ``dispatched``,
    the action is audited, and the crew's WhatsApp message is queued
    (:func:`~incidents.services.notifications.dispatch_notification_enqueue`; sent after commit). The
    ETA is computed before the lock so the lock is held for
    milliseconds; a routing failure leaves the ETA empty and never blocks a dispatch.

    Parameters
    ----------
    incident, unit
        The report and the unit; both of the same region.
    actor
        Who dispatched (a dispatcher, or the system), from where.
    capability
        The need this unit fills (a :class:`Capability` or its code); the unit's type must have it.
    at
        Dispatch time (timezone-aware); now by default.

    Returns
    -------
    Assignment
        The new active assignment.

    Raises
    ------
    UnitUnavailableError
        The unit is not available, including when another dispatcher got it first.
    DispatchRefusedError
        The report is closed or cancelled, the unit belongs to another region, or lacks ``capability``.
    """
    at = at or timezone.now()
    unit = Unit.objects.select_related("agency", "home_station", "last_fix", "unit_type").get(pk=unit.pk)
    cap = _capability(unit, capability)
    if unit.agency.region_id != incident.region_id:
        raise DispatchRefusedError(f"unit {unit.call_sign} belongs to another region than report {incident.reference}")
    eta = _eta(unit, incident, now=at, at_dispatch=True)
    # The crew message's type, address and landmark, read before the lock (a gazetteer lookup).
    crew_parameters = report_parameters(incident) if unit.crew_whatsapp.strip() else None
    with transaction.atomic():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        report = Incident.objects.select_for_update().get(pk=incident.pk)
        if report.status in _FINISHED:
            raise DispatchRefusedError(f"report {report.reference} is {report.status}; reopen it before dispatching")
        if locked.status != UnitStatus.AVAILABLE:
            raise _unavailable(locked)
        assignment = Assignment(
            incident=report,
            unit=locked,
            capability=cap,
            dispatched_at=at,
            dispatched_by=actor.person_user,
            eta_s_at_dispatch=eta.eta_s,
            eta_network_version_id=eta.network_version_id,
            eta_profile=eta.profile,
            eta_road_class=eta.road_class,
            eta_hour_band=eta.hour_band,
            current_eta_s=eta.eta_s,
            eta_updated_at=at if eta.eta_s is not None else None,
        )
        # Constraints are left to the database: the partial unique index is checked atomically there.
        assignment.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():  # a savepoint, so the transaction stays usable after a violation
                assignment.save()
        except IntegrityError as exc:
            # Only reachable when the status says available but an active assignment exists.
            raise _unavailable(locked, status="already assigned") from exc
        unit_status_set(unit=locked, to_status=UnitStatus.DISPATCHED, actor=actor, at=at)
        if report.status in (IncidentStatus.OPEN, IncidentStatus.AWAITING_LOCATION):
            report.status = IncidentStatus.DISPATCHED
            report.save(update_fields=["status"])
        audit_record(
            action="dispatch.assign",
            actor=actor,
            obj=assignment,
            data={
                "incident": report.reference,
                "unit": locked.call_sign,
                "capability": cap.code if cap else None,
                "eta_s_at_dispatch": eta.eta_s,
            },
        )
        # Queued with the dispatch and sent after commit by the outbound worker: never blocks or fails it.
        dispatch_notification_enqueue(assignment=assignment, parameters=crew_parameters)
    incident.status = report.status
    return assignment


def dispatch_cancel(*, assignment: Assignment, actor: Actor = SYSTEM, reason: str = "") -> Assignment:
    """Cancel an active assignment before arrival; the unit becomes available again.

    Parameters
    ----------
    assignment
        An active assignment whose unit is dispatched or en route.
    actor
        Who cancelled it, and from where.
    reason
        Why; kept in the status change and the audit log.

    Returns
    -------
    Assignment
        The assignment, now ``cancelled``.

    Raises
    ------
    AssignmentNotActiveError
        It was already cleared or cancelled.
    incidents.services.status.IllegalTransitionError
        The unit is already on scene (or later): it is sent home by setting it returning.
    """
    with transaction.atomic():
        Unit.objects.select_for_update().filter(pk=assignment.unit_id).first()
        current = Assignment.objects.select_related("unit", "incident").get(pk=assignment.pk)
        if current.status != AssignmentStatus.ACTIVE:
            raise AssignmentNotActiveError(
                f"assignment {current.pk} of unit {current.unit.call_sign} to {current.incident.reference} "
                f"is already {current.status}"
            )
        unit_status_set(unit=current.unit, to_status=UnitStatus.AVAILABLE, actor=actor, note=reason, cancelling=True)
        current.refresh_from_db()
        report = Incident.objects.select_for_update().get(pk=current.incident_id)
        still_active = Assignment.objects.filter(incident=report, status=AssignmentStatus.ACTIVE).exists()
        if report.status == IncidentStatus.DISPATCHED and not still_active:
            report.status = IncidentStatus.OPEN
            report.save(update_fields=["status"])
        audit_record(
            action="dispatch.cancel",
            actor=actor,
            obj=current,
            data={"incident": report.reference, "unit": current.unit.call_sign, "reason": reason},
        )
    return current


def assignment_eta_refresh(*, unit: Unit, now: datetime | None = None) -> Assignment | None:
    """Recompute the road ETA of the unit's active assignment from its last valid fix.

    Called by the GPS ingest after a new last fix. Costs one query when the unit has no active
    assignment (or has arrived); otherwise one engine call and, in one transaction, a bump of the unit's
    version and one UPDATE of the two ETA fields only, so it never overwrites a phase timestamp written
    concurrently.

    Parameters
    ----------
    unit
        The unit whose ``last_fix`` just changed.
    now
        Time stamped in ``eta_updated_at``; now by default.

    Returns
    -------
    Assignment or None
        The assignment with ``current_eta_s`` (seconds, None when unroutable) and ``eta_updated_at``
        updated; None when the unit has no active assignment.
    """
    assignment = (
        Assignment.objects.filter(unit_id=unit.pk, status=AssignmentStatus.ACTIVE)
        .select_related("incident__region", "unit__last_fix", "unit__unit_type")
        .first()
    )
    if assignment is None or assignment.on_scene_at is not None or assignment.incident.geom is None:
        return assignment
    now = now or timezone.now()
    eta_s = _eta(assignment.unit, assignment.incident, now=now, at_dispatch=False).eta_s
    with transaction.atomic():
        # The unit's version counts its assignment's ETA (unit_public shows it): bumped in the same transaction,
        # the unit's row locked first as the status machine locks it, then the assignment's.
        Unit.objects.filter(pk=unit.pk).update(revision=F("revision") + 1)
        Assignment.objects.filter(pk=assignment.pk).update(current_eta_s=eta_s, eta_updated_at=now)
    assignment.current_eta_s, assignment.eta_updated_at = eta_s, now
    return assignment


@dataclass(frozen=True)
class EtaBasis:
    """A road ETA and what it was computed on: the network version, the vehicle profile, the road class
    of the destination's attachment, the hour band of learned speeds or ``all`` (what ``eta_accuracy``
    groups errors by; ``gis_core.selectors.speed_band_used``)."""

    eta_s: float | None = None
    network_version_id: int | None = None
    profile: str = ""
    road_class: str = ""
    hour_band: str = ""


def _eta(unit: Unit, incident: Incident, *, now: datetime, at_dispatch: bool) -> EtaBasis:
    """Road ETA from where the unit is taken to be; an empty basis (logged) when not computable.

    At dispatch the unit may be at its home station (no valid fix) and the basis is filled in; a refresh
    after a fix (on every fix, so kept to one search) routes from the fix only and fills in the ETA only.
    """
    if incident.geom is None:
        return EtaBasis()
    if at_dispatch:
        origin = unit_position(unit, now=now).lonlat
    else:
        fix = unit.last_fix
        origin = (fix.geom.x, fix.geom.y) if fix is not None and fix.is_valid and fix.geom is not None else None
    if origin is None:
        return EtaBasis()
    profile = unit.unit_type.routing_profile
    try:
        engine = engine_for_now(incident.region, profile, at=now)
        # Where the unit's vehicle stops for the report; the walk (or hose lay) from there is part of its ETA.
        reach = engine.reach((incident.geom.x, incident.geom.y))
        tt = engine.travel_times_to([origin], reach.snap)[0]
        eta_s = None if tt is None else round(tt.eta_s + reach.on_foot_s, 1)
        if not at_dispatch:
            return EtaBasis(eta_s=eta_s)
        [edge] = engine.edges_info([reach.snap.edge_index])
    except RoutingError as exc:
        logger.warning("no ETA for unit %s to %s: %s", unit.call_sign, incident.reference, exc)
        return EtaBasis()
    version_id = active_version_id(incident.region)
    return EtaBasis(
        eta_s=eta_s,
        network_version_id=version_id,
        profile=profile,
        road_class=edge.highway or "",
        hour_band=speed_band_used(region=incident.region, version_id=version_id, at=now),
    )


def _capability(unit: Unit, capability: Capability | str | None) -> Capability | None:
    if capability is None:
        return None
    code = capability.code if isinstance(capability, Capability) else capability
    found = unit.unit_type.capabilities.filter(code=code).first()
    if found is None:
        have = ", ".join(unit.unit_type.capabilities.values_list("code", flat=True)) or "none"
        raise DispatchRefusedError(
            f"unit {unit.call_sign} ({unit.unit_type.code}) has no capability {code}; it has: {have}"
        )
    return found


def _unavailable(unit: Unit, *, status: str | None = None) -> UnitUnavailableError:
    busy = Assignment.objects.filter(unit=unit, status=AssignmentStatus.ACTIVE).select_related("incident").first()
    where = f" for {busy.incident.reference}" if busy is not None else ""
    return UnitUnavailableError(f"unit {unit.call_sign} is {status or unit.status}{where}; pick another")
