"""Roles per region: a user dispatches only where their membership's role allows it, reads where they hold any.

Ani dispatches in Jambi and plans in Ambon: she reads both centres' work, sends Jambi's units, and every
write on Ambon's objects is the 404 an unknown object gets, changing nothing; Ambon's coverage is hers to
compute, Jambi's not. A region admin administers only their region (tokens, /admin/).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_agency, make_fix, make_incident, make_station, make_unit
from factories.gis_core import make_region
from rest_framework.test import APIClient

from access import roles
from access.selectors import regions_administered_by, regions_for_user
from access.services import membership_grant
from fleet.models import Unit
from incidents.models import Assignment, CallerFlag, Incident

pytestmark = pytest.mark.django_db

JAMBI_CENTRE = (103.6131, -1.6101)
AMBON_CENTRE = (128.1814, -3.6954)


@pytest.fixture
def centres():
    out = {}
    for code, slug, name, srid, centre in (
        ("15.71", "kota-jambi", "Kota Jambi", 32748, JAMBI_CENTRE),
        ("81.71", "kota-ambon", "Kota Ambon", 32752, AMBON_CENTRE),
    ):
        region = make_region(code=code, slug=slug, name=name, metric_srid=srid)
        agency = make_agency(region=region, code="psc119", kind="ems")
        station = make_station(agency=agency, code="posko", geom=centre)
        unit = make_unit(agency=agency, call_sign=f"{slug}-1", capabilities=["als"], home_station=station)
        make_fix(unit=unit, geom=centre, recorded_at=timezone.now())
        incident = make_incident(region=region, geom=centre, caller_phone="+6281200000001")
        out[slug] = {"region": region, "unit": unit, "incident": incident}
    return out


@pytest.fixture
def ani(centres) -> User:
    """Dispatcher in Jambi, planner in Ambon."""
    user = make_user("ani", "dispatcher", regions=[centres["kota-jambi"]["region"]])
    membership_grant(user=user, region=centres["kota-ambon"]["region"], role=roles.PLANNER)
    return user


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_checks_answer_per_region(centres, ani) -> None:
    jambi, ambon = centres["kota-jambi"]["region"], centres["kota-ambon"]["region"]
    assert (roles.can_dispatch(ani, jambi), roles.can_dispatch(ani, ambon)) == (True, False)
    assert (roles.can_plan(ani, jambi), roles.can_plan(ani, ambon.pk)) == (False, True)
    assert roles.can_dispatch(ani)
    assert roles.can_plan(ani)
    assert roles.has_role(ani, ambon)
    assert list(regions_for_user(ani)) == [jambi, ambon]
    assert list(regions_for_user(ani, capability=roles.DISPATCH)) == [jambi]
    assert list(regions_for_user(ani, capability=roles.PLAN)) == [ambon]
    assert list(regions_for_user(ani, capability=roles.ADMINISTER)) == []
    assert roles.roles_of(ani, ambon) == {roles.PLANNER}
    assert roles.capabilities_of(ani, jambi) == {roles.READ, roles.DISPATCH}
    with pytest.raises(ValueError, match="unknown capability"):
        regions_for_user(ani, capability="fly")


def test_each_role_grants_what_its_table_says(centres) -> None:
    jambi = centres["kota-jambi"]["region"]
    expected = {
        "dispatcher": {"read", "dispatch"},
        "planner": {"read", "plan"},
        "supervisor": {"read", "dispatch", "plan"},
        "region_admin": {"read", "dispatch", "plan", "administer"},
    }
    for role, capabilities in expected.items():
        user = make_user(f"u-{role}", role, regions=[jambi])
        assert roles.capabilities_of(user, jambi) == capabilities, role
    root = User.objects.create_superuser("root", password="x")
    assert roles.capabilities_of(root, jambi) == set(roles.CAPABILITIES)


def test_writes_in_a_region_where_the_user_only_plans_are_404s_and_change_nothing(centres, ani) -> None:
    api = _client(ani)
    ambon = centres["kota-ambon"]
    incident, unit = ambon["incident"], ambon["unit"]
    before = (incident.status, incident.priority, incident.geom.coords)
    assert api.get(f"/api/incidents/{incident.pk}/").status_code == 200  # reading is any role's
    attempts = [
        ("post", f"/api/incidents/{incident.pk}/assignments/", {"unit_id": unit.pk}),
        ("post", f"/api/units/{unit.pk}/status/", {"status": "out_of_service"}),
        ("post", f"/api/incidents/{incident.pk}/close/", {"outcome": "false_alarm", "note": "x"}),
        ("patch", f"/api/incidents/{incident.pk}/", {"priority": 1}),
        ("patch", f"/api/incidents/{incident.pk}/location/", {"location": list(AMBON_CENTRE)}),
        ("post", "/api/callers/+6281200000001/flags/?region=kota-ambon", {"kind": "flag", "reason": "prank"}),
    ]
    for method, path, body in attempts:
        response = getattr(api, method)(path, body, format="json")
        assert response.status_code == 404, (path, response.content)
    incident.refresh_from_db()
    assert (incident.status, incident.priority, incident.geom.coords) == before
    assert Unit.objects.get(pk=unit.pk).status == "available"
    assert not Assignment.objects.exists()
    assert not CallerFlag.objects.exists()
    created = api.post(
        "/api/incidents/",
        {"region": "kota-ambon", "channel": "phone", "incident_type": "medical", "location": list(AMBON_CENTRE)},
        format="json",
    )
    assert created.status_code == 400, created.content
    assert "unknown region" in created.json()["error"]["message"], created.content
    assert Incident.objects.filter(region=ambon["region"]).count() == 1


def test_the_same_user_dispatches_in_the_region_where_they_dispatch(centres, ani) -> None:
    jambi = centres["kota-jambi"]
    response = _client(ani).post(
        f"/api/incidents/{jambi['incident'].pk}/assignments/", {"unit_id": jambi["unit"].pk}, format="json"
    )
    assert response.status_code == 201, response.content


def test_coverage_is_computed_only_where_the_user_plans(centres, ani) -> None:
    body = {"sources": {"agencies": ["psc119"]}, "cell_m": 500}
    refused = _client(ani).post("/api/coverage/surface/", {**body, "region": "kota-jambi"}, format="json")
    assert refused.status_code == 400, refused.content
    assert "unknown region" in refused.json()["error"]["message"], refused.content


def test_a_region_admin_administers_only_their_region(centres) -> None:
    jambi, ambon = centres["kota-jambi"]["region"], centres["kota-ambon"]["region"]
    user = make_user("rina", "admin", regions=[jambi], staff=True)
    membership_grant(user=user, region=ambon, role=roles.DISPATCHER)
    assert list(regions_administered_by(user)) == [jambi]
    assert user.has_perm("fleet.change_unit")
    assert user.has_module_perms("incidents")
    assert not user.has_perm("auth.change_user")
    client = Client()
    client.force_login(user)
    listing = client.get("/admin/fleet/unit/").content.decode()
    assert f"/{centres['kota-jambi']['unit'].pk}/change/" in listing
    assert f"/{centres['kota-ambon']['unit'].pk}/change/" not in listing  # a dispatcher there, not its admin
    assert client.get(f"/admin/fleet/unit/{centres['kota-ambon']['unit'].pk}/change/").status_code == 302


def test_staff_without_the_region_admin_role_get_no_admin_permissions(centres) -> None:
    user = make_user("sari", "supervisor", regions=[centres["kota-jambi"]["region"]], staff=True)
    assert not user.has_perm("fleet.change_unit")
    assert not user.has_module_perms("fleet")
