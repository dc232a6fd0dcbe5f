"""Unit status: the one enforced state machine, and the only place a unit's status changes.

::

    available -> dispatched -> en_route -> on_scene -> returning -> available
                                           on_scene -> transporting -> at_hospital -> returning
    any other state -> out_of_service -> available
    dispatched / en_route -> available        only by cancelling the dispatch (``dispatch_cancel``)

A unit becomes ``dispatched`` only by being assigned to a report (``dispatch_assign``), so the
assignment exists before the status says so. Each transition stores a :class:`StatusChange` and an
audit entry, and stamps the phase time on the unit's active :class:`Assignment`; leaving for
``returning`` clears the assignment, cancelling or going out of service before arrival cancels it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from fleet.actors import Actor
from fleet.models import Unit, UnitStatus
from fleet.services.audit import audit_record
from incidents.errors import IllegalTransitionError, StatusError  # noqa: F401
from incidents.live import live_unit_changed
from incidents.models import Assignment, AssignmentStatus, StatusChange

S = UnitStatus

# The regular transitions; ``out_of_service`` is reachable from every other state (added below).
_REGULAR: dict[str, frozenset[str]] = {
    S.AVAILABLE: frozenset({S.DISPATCHED}),
    S.DISPATCHED: frozenset({S.EN_ROUTE}),
    S.EN_ROUTE: frozenset({S.ON_SCENE}),
    S.ON_SCENE: frozenset({S.TRANSPORTING, S.RETURNING}),
    S.TRANSPORTING: frozenset({S.AT_HOSPITAL}),
    S.AT_HOSPITAL: frozenset({S.RETURNING}),
    S.RETURNING: frozenset({S.AVAILABLE}),
    S.OUT_OF_SERVICE: frozenset({S.AVAILABLE}),
}
NEXT_STATUSES: dict[str, frozenset[str]] = {
    status: (nxt if status == S.OUT_OF_SERVICE else nxt | {S.OUT_OF_SERVICE}) for status, nxt in _REGULAR.items()
}
# Cancelling a dispatch returns the unit from these states to available.
CANCELLABLE_STATUSES = frozenset({S.DISPATCHED, S.EN_ROUTE})

# The Assignment field stamped when the unit enters each status.
PHASE_FIELD: dict[str, str] = {
    S.EN_ROUTE: "en_route_at",
    S.ON_SCENE: "on_scene_at",
    S.TRANSPORTING: "transporting_at",
    S.AT_HOSPITAL: "at_hospital_at",
}


def allowed_next(status: str) -> list[str]:
    """The statuses reachable from ``status`` by :func:`unit_status_set`, sorted."""
    return sorted(NEXT_STATUSES.get(status, frozenset()))


def unit_status_set(
    *,
    unit: Unit,
    to_status: str,
    actor: Actor,
    note: str = "",
    at: datetime | None = None,
    cancelling: bool = False,
) -> StatusChange:
    """Move a unit to ``to_status``, enforcing the state machine.

    The unit row is locked (``SELECT ... FOR UPDATE``) and its status read again under the lock, so
    two concurrent changes are serialised and the second is judged against the first's result.

    Parameters
    ----------
    unit
        The unit; its ``status`` and ``status_changed_at`` are updated in place too.
    to_status
        A :class:`~fleet.models.UnitStatus` value.
    actor
        Who made the change (a dispatcher, a crew's device, the system) and from where.
    note
        Free text kept with the change.
    at
        When it happened (timezone-aware); now by default. Never earlier than the unit's previous change
        (a phone's clock that is behind is moved up to it).
    cancelling
        Set only by ``dispatch_cancel``: allows dispatched/en_route -> available and cancels the
        active assignment.

    Returns
    -------
    StatusChange
        The stored transition.

    Raises
    ------
    IllegalTransitionError
        ``to_status`` is unknown or not reachable from the current status; nothing is changed.
    """
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("at must be timezone-aware")
    with transaction.atomic():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        from_status = locked.status
        if locked.status_changed_at is not None and at < locked.status_changed_at:
            # A phone's clock behind ours (a change queued offline): never before the change it follows.
            at = locked.status_changed_at
        assignment = (
            Assignment.objects.select_for_update()
            .filter(unit=locked, status=AssignmentStatus.ACTIVE)
            .select_related("incident")
            .first()
        )
        _check(locked, from_status, to_status, cancelling=cancelling, assignment=assignment)
        if assignment is not None:
            _stamp(assignment, to_status, at, cancelling=cancelling)
        locked.status = to_status
        locked.status_changed_at = at
        locked.full_clean()
        locked.save(update_fields=["status", "status_changed_at"])
        change = StatusChange(
            unit=locked,
            from_status=from_status,
            to_status=to_status,
            at=at,
            actor_kind=actor.kind,
            actor_user=actor.person_user,
            actor_device=actor.device,
            assignment=assignment,
            note=note,
        )
        change.full_clean()
        change.save()
        audit_record(
            action="unit.status_set",
            actor=actor,
            obj=locked,
            data={
                "call_sign": locked.call_sign,
                "from": from_status,
                "to": to_status,
                "at": at.isoformat(),
                "assignment": assignment.pk if assignment is not None else None,
                "incident": assignment.incident.reference if assignment is not None else None,
                "cancelling": cancelling,
                "note": note,
            },
        )
        # In the transaction: the report's version is bumped with the assignment's phase stamp (incidents.live).
        live_unit_changed(unit.pk, incident_id=assignment.incident_id if assignment is not None else None)
    unit.status, unit.status_changed_at = to_status, at
    return change


def _check(unit: Unit, from_status: str, to_status: str, *, cancelling: bool, assignment: Assignment | None) -> None:
    allowed = allowed_next(from_status)
    if cancelling:
        if from_status in CANCELLABLE_STATUSES and to_status == S.AVAILABLE:
            return
        raise IllegalTransitionError(
            call_sign=unit.call_sign,
            from_status=from_status,
            to_status=to_status,
            allowed=allowed,
            hint="A dispatch can be cancelled only while the unit is dispatched or en_route; "
            "after arrival set it returning.",
        )
    if to_status not in S.values:
        raise IllegalTransitionError(
            call_sign=unit.call_sign,
            from_status=from_status,
            to_status=to_status,
            allowed=allowed,
            hint=f"Unknown status; known: {', '.join(S.values)}.",
        )
    if to_status not in NEXT_STATUSES[from_status]:
        hint = ""
        if from_status in CANCELLABLE_STATUSES and to_status == S.AVAILABLE:
            hint = "To return a unit before arrival, cancel its assignment (POST /api/assignments/{id}/cancel/)."
        raise IllegalTransitionError(
            call_sign=unit.call_sign, from_status=from_status, to_status=to_status, allowed=allowed, hint=hint
        )
    if to_status == S.DISPATCHED and assignment is None:
        raise IllegalTransitionError(
            call_sign=unit.call_sign,
            from_status=from_status,
            to_status=to_status,
            allowed=allowed,
            hint="A unit is dispatched by assigning it to a report (POST /api/incidents/{id}/assignments/).",
        )


def _stamp(assignment: Assignment, to_status: str, at: datetime, *, cancelling: bool) -> None:
    """Record the phase time; close the assignment when the unit leaves it."""
    fields: list[str] = []
    phase = PHASE_FIELD.get(to_status)
    if phase is not None and getattr(assignment, phase) is None:
        setattr(assignment, phase, at)
        fields.append(phase)
    if to_status == S.RETURNING or (to_status == S.OUT_OF_SERVICE and assignment.on_scene_at is not None):
        assignment.status, assignment.cleared_at = AssignmentStatus.CLEARED, at
        fields += ["status", "cleared_at"]
    elif cancelling or to_status in (S.OUT_OF_SERVICE, S.AVAILABLE):
        # Never arrived: the dispatch is cancelled (a breakdown on the way counts here too).
        assignment.status, assignment.cancelled_at = AssignmentStatus.CANCELLED, at
        fields += ["status", "cancelled_at"]
    if fields:
        assignment.full_clean()
        assignment.save(update_fields=fields)
