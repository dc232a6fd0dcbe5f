"""The unit status state machine: every legal path, refusals with their message, records and phase stamps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from factories.fleet import make_incident, make_unit

from fleet.actors import SYSTEM, Actor
from fleet.models import ActorKind, AuditEntry, UnitStatus
from incidents.errors import IllegalTransitionError
from incidents.models import Assignment, AssignmentStatus, StatusChange
from incidents.services.dispatch import dispatch_assign, dispatch_cancel
from incidents.services.status import NEXT_STATUSES, allowed_next, unit_status_set

pytestmark = pytest.mark.django_db
S = UnitStatus


@pytest.fixture
def dispatcher():
    return get_user_model().objects.create_user("dispatcher1", password="x")


def _step(unit, to, **kw):
    return unit_status_set(unit=unit, to_status=to, actor=kw.pop("actor", Actor(kind=ActorKind.DISPATCHER)), **kw)


def test_transition_table_is_the_documented_one() -> None:
    # The table from the issue, written out by hand.
    expected = {
        "available": {"dispatched", "out_of_service"},
        "dispatched": {"en_route", "out_of_service"},
        "en_route": {"on_scene", "out_of_service"},
        "on_scene": {"transporting", "returning", "out_of_service"},
        "transporting": {"at_hospital", "out_of_service"},
        "at_hospital": {"returning", "out_of_service"},
        "returning": {"available", "out_of_service"},
        "out_of_service": {"available"},
    }
    assert {k: set(v) for k, v in NEXT_STATUSES.items()} == expected
    assert set(NEXT_STATUSES) == set(S.values)


def test_full_cycle_with_transport_stamps_every_phase_and_records_who(dispatcher) -> None:
    unit = make_unit()
    incident = make_incident()
    t0 = timezone.now().replace(microsecond=0)
    assignment = dispatch_assign(incident=incident, unit=unit, actor=Actor.person(dispatcher), at=t0)
    unit.refresh_from_db()
    assert unit.status == S.DISPATCHED
    times = {}
    for minutes, to in enumerate(["en_route", "on_scene", "transporting", "at_hospital", "returning", "available"], 1):
        times[to] = t0 + timedelta(minutes=minutes)
        _step(unit, to, at=times[to], actor=Actor(kind=ActorKind.CREW_DEVICE))
    assignment.refresh_from_db()
    assert assignment.dispatched_at == t0
    assert assignment.en_route_at == times["en_route"]
    assert assignment.on_scene_at == times["on_scene"]
    assert assignment.transporting_at == times["transporting"]
    assert assignment.at_hospital_at == times["at_hospital"]
    assert assignment.cleared_at == times["returning"]
    assert assignment.status == AssignmentStatus.CLEARED
    changes = list(StatusChange.objects.filter(unit=unit).values_list("from_status", "to_status", "actor_kind"))
    assert changes == [
        ("available", "dispatched", "dispatcher"),
        ("dispatched", "en_route", "crew_device"),
        ("en_route", "on_scene", "crew_device"),
        ("on_scene", "transporting", "crew_device"),
        ("transporting", "at_hospital", "crew_device"),
        ("at_hospital", "returning", "crew_device"),
        ("returning", "available", "crew_device"),
    ]
    assert StatusChange.objects.filter(unit=unit).first().actor_user == dispatcher
    # The 7 changes are each audited; the assignment is linked to all but the last (it was cleared).
    assert AuditEntry.objects.filter(action="unit.status_set", object_id=str(unit.pk)).count() == 7
    assert StatusChange.objects.filter(unit=unit, assignment=assignment).count() == 6
    unit.refresh_from_db()
    assert unit.status == S.AVAILABLE
    assert unit.status_changed_at == times["available"]


def test_on_scene_straight_to_returning_clears_the_assignment() -> None:
    unit = make_unit()
    assignment = dispatch_assign(incident=make_incident(), unit=unit)
    for to in ("en_route", "on_scene", "returning"):
        _step(unit, to)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.CLEARED
    assert assignment.transporting_at is None
    # A cleared unit can be dispatched again once available.
    _step(unit, "available")
    dispatch_assign(incident=make_incident(), unit=unit)


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ([], "en_route"),
        ([], "on_scene"),
        ([], "returning"),
        (["dispatch"], "on_scene"),
        (["dispatch"], "returning"),
        (["dispatch"], "available"),
        (["dispatch", "en_route"], "dispatched"),
        (["dispatch", "en_route"], "transporting"),
        (["dispatch", "en_route", "on_scene"], "at_hospital"),
        (["dispatch", "en_route", "on_scene", "returning"], "on_scene"),
    ],
)
def test_illegal_transition_changes_nothing_and_names_from_to_and_allowed(path, to) -> None:
    unit = make_unit()
    if path[:1] == ["dispatch"]:
        dispatch_assign(incident=make_incident(), unit=unit)
        path = path[1:]
    for step in path:
        _step(unit, step)
    unit.refresh_from_db()
    before_status, before_changes = unit.status, StatusChange.objects.count()
    with pytest.raises(IllegalTransitionError) as info:
        _step(unit, to)
    message = str(info.value)
    assert f"from {before_status} to {to}" in message
    assert ", ".join(allowed_next(before_status)) in message
    unit.refresh_from_db()
    assert unit.status == before_status
    assert StatusChange.objects.count() == before_changes


def test_available_to_dispatched_needs_an_assignment() -> None:
    unit = make_unit()
    with pytest.raises(IllegalTransitionError, match="assigning it to a report"):
        _step(unit, "dispatched")
    unit.refresh_from_db()
    assert unit.status == S.AVAILABLE


def test_unknown_status_is_refused_with_the_known_ones() -> None:
    unit = make_unit()
    with pytest.raises(IllegalTransitionError, match="known: available, dispatched"):
        _step(unit, "parked")


def test_dispatched_back_to_available_only_by_cancelling() -> None:
    unit = make_unit()
    assignment = dispatch_assign(incident=make_incident(), unit=unit)
    with pytest.raises(IllegalTransitionError, match="cancel its assignment"):
        _step(unit, "available")
    dispatch_cancel(assignment=assignment, reason="caller says no longer needed")
    unit.refresh_from_db()
    assignment.refresh_from_db()
    assert unit.status == S.AVAILABLE
    assert assignment.status == AssignmentStatus.CANCELLED
    assert assignment.cancelled_at is not None
    last = StatusChange.objects.filter(unit=unit).last()
    assert (last.from_status, last.to_status, last.note) == ("dispatched", "available", "caller says no longer needed")


def test_out_of_service_from_any_state_and_back() -> None:
    for path in ([], ["en_route"], ["en_route", "on_scene", "transporting"]):
        unit = make_unit()
        if path:
            assignment = dispatch_assign(incident=make_incident(), unit=unit)
        for step in path:
            _step(unit, step)
        _step(unit, "out_of_service", actor=SYSTEM, note="engine failure")
        unit.refresh_from_db()
        assert unit.status == S.OUT_OF_SERVICE
        if path:
            assignment.refresh_from_db()
            # Broke down before arrival: cancelled; after arrival: cleared (the response happened).
            expected = AssignmentStatus.CLEARED if "on_scene" in path else AssignmentStatus.CANCELLED
            assert assignment.status == expected
        assert not Assignment.objects.filter(unit=unit, status=AssignmentStatus.ACTIVE).exists()
        with pytest.raises(IllegalTransitionError):
            _step(unit, "out_of_service")
        _step(unit, "available")


def test_stale_instance_is_judged_on_the_database_status() -> None:
    unit = make_unit()
    dispatch_assign(incident=make_incident(), unit=unit)
    stale = type(unit).objects.get(pk=unit.pk)
    _step(unit, "en_route")
    # ``stale`` still says dispatched; the row lock re-reads en_route, so en_route -> en_route is refused.
    with pytest.raises(IllegalTransitionError, match="from en_route to en_route"):
        _step(stale, "en_route")


def test_naive_time_is_refused() -> None:
    unit = make_unit()
    with pytest.raises(ValueError, match="timezone-aware"):
        _step(unit, "out_of_service", at=timezone.now().replace(tzinfo=None))
