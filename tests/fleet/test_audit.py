"""The audit log: who, what, when and from where; append-only in PostgreSQL itself (migration 0002)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from factories.fleet import make_device, make_unit

from fleet.actors import Actor
from fleet.models import AuditEntry
from fleet.services.audit import audit_record

pytestmark = pytest.mark.django_db


def test_an_entry_records_who_what_when_and_from_where() -> None:
    user = get_user_model().objects.create_user("dispatcher7", password="x")
    unit = make_unit(call_sign="AMB-7")
    before = timezone.now()
    entry = audit_record(action="unit.status_set", actor=Actor.person(user, remote_addr="10.9.8.7"),
                         obj=unit, data={"to": "out_of_service"})  # fmt: skip
    entry.refresh_from_db()
    assert (entry.actor_kind, entry.actor_user_id, entry.actor_label) == ("dispatcher", user.pk, "dispatcher7")
    assert (entry.action, entry.object_type, entry.object_id) == ("unit.status_set", "unit", str(unit.pk))
    assert entry.remote_addr == "10.9.8.7"
    assert before <= entry.at <= timezone.now()
    assert entry.data == {"to": "out_of_service"}
    # A crew device is named by its identifier; the label outlives the device row.
    device = make_device(unit=unit, identifier="amb-7-phone")
    by_device = audit_record(action="unit.status_set", actor=Actor.crew(device))
    device.delete()
    by_device.refresh_from_db()
    assert (by_device.actor_kind, by_device.actor_label) == ("crew_device", "amb-7-phone")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE fleet_auditentry SET action = 'nothing.happened' WHERE id = %s",
        "DELETE FROM fleet_auditentry WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_delete_an_entry(statement: str) -> None:
    entry = audit_record(action="dispatch.assign", data={"unit": "AMB-1"})
    with (
        pytest.raises(DatabaseError, match="fleet_auditentry is append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.action == "dispatch.assign"


def test_the_orm_cannot_rewrite_history_either() -> None:
    entry = audit_record(action="caller.flag", data={"reason": "prank"})
    entry.data = {"reason": "edited"}
    with pytest.raises(DatabaseError, match="append-only: UPDATE refused"), transaction.atomic():
        entry.save()
    with pytest.raises(DatabaseError, match="append-only: DELETE refused"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).data == {"reason": "prank"}
    # Appending still works.
    audit_record(action="caller.flag_lift")
    assert AuditEntry.objects.count() == 2
