"""The fleet admin: the incident-type table is editable there and what the recommendation reads; every
edit is audited; a unit's status and the audit log cannot be changed there."""

from __future__ import annotations

import re

import pytest
from factories.fleet import make_agency, make_capability, make_device, make_incident, make_incident_type, make_unit

from fleet.errors import DeviceAuthError
from fleet.models import AgencyKind, AuditEntry, Device, UnitStatus
from fleet.services.audit import audit_record
from fleet.services.devices import device_authenticate
from incidents.models import IncidentTypeNeed
from incidents.selectors.recommend import Need, incident_needs

pytestmark = pytest.mark.django_db

ADMIN_TABLES = (
    "fleet/capability", "fleet/unittype", "incidents/incidenttype", "fleet/agency", "fleet/station", "fleet/unit",
    "fleet/device", "fleet/auditentry", "fleet/inboundmessage",
)  # fmt: skip


def _need_form(prefix: str, i: int, need: IncidentTypeNeed | None, **values) -> dict:
    """One row of the needs inline as the admin page posts it."""
    row = {"id": need.pk if need else "", "incident_type": need.incident_type_id if need else "", **values}
    return {f"{prefix}-{i}-{key}": value for key, value in row.items()}


def test_every_fleet_table_opens_in_the_admin(admin_client) -> None:
    unit = make_unit()
    make_device(unit=unit)
    audit_record(action="test.entry")
    for name in ADMIN_TABLES:
        response = admin_client.get(f"/admin/{name}/")
        assert response.status_code == 200, (name, response.status_code)
    # A device's form has no secret field: the secret is generated on save and shown once (tested below).
    form = admin_client.get("/admin/fleet/device/add/").content.decode()
    assert 'name="identifier"' in form
    assert "token_hash" not in form


def test_incident_type_needs_edited_in_the_admin_are_what_the_recommendation_reads(admin_client) -> None:
    itype = make_incident_type(code="fire_house", category="fire", default_priority=1,
                               needs=[("fire", "fire_engine", 1)])  # fmt: skip
    make_capability(code="bls")
    incident = make_incident(incident_type=itype)
    [engine_need] = itype.needs.all()
    prefix = "needs"
    data = {
        "code": "fire_house", "name": "House fire", "category": "fire", "default_priority": "1",
        f"{prefix}-TOTAL_FORMS": "2", f"{prefix}-INITIAL_FORMS": "1",
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
        **_need_form(prefix, 0, engine_need, agency_kind="fire", capability=engine_need.capability_id, count="2"),
        **_need_form(prefix, 1, None, agency_kind="ems", capability=make_capability(code="bls").pk, count="1"),
    }  # fmt: skip
    response = admin_client.post(f"/admin/incidents/incidenttype/{itype.pk}/change/", data, REMOTE_ADDR="10.2.3.4")
    assert response.status_code == 302, response.content.decode()[:2000]

    # The recommendation reads the edited table: two engines now, and an ambulance.
    assert incident_needs(incident=incident) == [
        Need(AgencyKind.FIRE, "fire_engine", 2, False),
        Need(AgencyKind.EMS, "bls", 1, False),
    ]
    entry = AuditEntry.objects.get(action="admin.incidenttype.change")
    assert (entry.actor_kind, entry.actor_label, entry.remote_addr) == ("dispatcher", "admin", "10.2.3.4")
    assert (entry.object_id, entry.data["changed"]) == (str(itype.pk), {"name": "House fire"})
    assert entry.data["needs"] == [
        {"agency_kind": "fire", "capability": "fire_engine", "count": 2, "optional": False},
        {"agency_kind": "ems", "capability": "bls", "count": 1, "optional": False},
    ]


def test_agency_targets_edit_is_audited(admin_client) -> None:
    agency = make_agency(code="damkar", kind=AgencyKind.FIRE, response_target_s=900)
    data = {"region": agency.region_id, "code": "damkar", "name": agency.name, "kind": "fire",
            "response_target_s": "600",
            # The per-priority targets inline: one new row, priority 1 (critical) at 420 s.
            "priority_targets-TOTAL_FORMS": "1", "priority_targets-INITIAL_FORMS": "0",
            "priority_targets-0-priority": "1", "priority_targets-0-target_s": "420"}  # fmt: skip
    response = admin_client.post(f"/admin/fleet/agency/{agency.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    agency.refresh_from_db()
    assert agency.response_target_s == 600
    assert list(agency.priority_targets.values_list("priority", "target_s")) == [(1, 420)]
    entry = AuditEntry.objects.get(action="admin.agency.change")
    assert entry.data["changed"] == {"response_target_s": "600"}
    assert entry.data["target_by_priority_s"] == {"1": 420}


def test_unit_status_is_read_only_in_the_admin(admin_client) -> None:
    unit = make_unit(call_sign="AMB-1")
    data = {"agency": unit.agency_id, "call_sign": "AMB-01", "unit_type": unit.unit_type_id, "home_station": "",
            "status": UnitStatus.ON_SCENE}  # fmt: skip
    response = admin_client.post(f"/admin/fleet/unit/{unit.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    unit.refresh_from_db()
    # The call sign is configuration; the status only moves through the state machine.
    assert (unit.call_sign, unit.status) == ("AMB-01", UnitStatus.AVAILABLE)
    assert not unit.status_changes.exists()
    assert AuditEntry.objects.get(action="admin.unit.change").data["changed"] == {"call_sign": "AMB-01"}


def test_the_audit_log_can_be_read_but_not_changed_in_the_admin(admin_client) -> None:
    entry = audit_record(action="dispatch.assign", data={"unit": "AMB-1"})
    url = f"/admin/fleet/auditentry/{entry.pk}/"
    assert admin_client.get(f"{url}change/").status_code == 200  # a view-only page
    assert admin_client.post(f"{url}change/", {"action": "nothing.happened"}).status_code == 403
    assert admin_client.post(f"{url}delete/", {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action == "dispatch.assign"


def _secret_in(response) -> str:
    """The secret the admin showed once, from the page's messages."""
    shown = [str(m) for m in response.context["messages"] if "shown this once" in str(m)]
    assert len(shown) == 1, [str(m) for m in response.context["messages"]]
    return re.search(r"set it in the app now\): (\S+)\. ", shown[0]).group(1)


def test_adding_a_device_shows_its_secret_once_and_it_authenticates(admin_client) -> None:
    unit = make_unit(call_sign="AMB-7")
    data = {"identifier": "psc-amb-7", "unit": unit.pk, "is_active": "on"}
    response = admin_client.post("/admin/fleet/device/add/", data, follow=True)
    assert response.status_code == 200
    secret = _secret_in(response)
    device = device_authenticate(identifier="psc-amb-7", secret=secret)
    assert device.unit_id == unit.pk
    assert secret not in Device.objects.get(pk=device.pk).token_hash  # only the hash is stored
    assert AuditEntry.objects.filter(action="device.create", object_id=str(device.pk)).count() == 1
    again = admin_client.get(f"/admin/fleet/device/{device.pk}/change/")
    assert secret.encode() not in again.content  # never shown again


def test_new_secret_action_replaces_the_old_one(admin_client) -> None:
    device = make_device(identifier="dmk-1", secret="old-secret")
    other = make_device(identifier="dmk-2")
    both = admin_client.post(
        "/admin/fleet/device/", {"action": "new_secret", "_selected_action": [device.pk, other.pk]}, follow=True
    )
    assert "Select exactly one device" in both.content.decode()
    assert device_authenticate(identifier="dmk-1", secret="old-secret").pk == device.pk  # nothing changed
    response = admin_client.post(
        "/admin/fleet/device/", {"action": "new_secret", "_selected_action": [device.pk]}, follow=True
    )
    secret = _secret_in(response)
    assert device_authenticate(identifier="dmk-1", secret=secret).pk == device.pk
    with pytest.raises(DeviceAuthError, match="wrong secret"):
        device_authenticate(identifier="dmk-1", secret="old-secret")
