"""A region admin manages the memberships and sees the jobs of their own region in /admin/, and nothing more:
another region's row is a 404, choices hold only their region's rows, no role above their own, no superuser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from factories.access import make_user
from factories.fleet import make_agency
from factories.gis_core import make_region

from access.models import Membership
from jobs.models import Job

pytestmark = pytest.mark.django_db
URL = "/admin/access/membership/"


@pytest.fixture
def centres():
    jambi = make_region()
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    admin = make_user("jambi.admin", "admin", regions=[jambi], staff=True)
    desk = make_user("jambi.desk", "dispatcher", regions=[jambi])
    other = make_user("ambon.desk", "dispatcher", regions=[ambon])
    agencies = {r.slug: make_agency(region=r, code=f"psc-{r.slug}", kind="ems") for r in (jambi, ambon)}
    jobs = {r.slug: Job.objects.create(kind="coverage.surface", region=r) for r in (jambi, ambon)}
    client = Client()
    client.force_login(admin)
    return {"jambi": jambi, "ambon": ambon, "admin": admin, "desk": desk, "other": other, "agencies": agencies,
            "jobs": jobs, "client": client}  # fmt: skip


def _membership(user) -> Membership:
    return Membership.objects.get(user=user)


def test_the_list_and_pages_hold_only_their_regions_memberships(centres) -> None:
    client = centres["client"]
    listing = client.get(URL)
    assert listing.status_code == 200
    mine, theirs = _membership(centres["desk"]), _membership(centres["other"])
    assert f"/{mine.pk}/change/" in listing.content.decode()
    assert f"/{theirs.pk}/change/" not in listing.content.decode()
    assert client.get(f"{URL}{mine.pk}/change/").status_code == 200
    assert client.get(f"{URL}{theirs.pk}/change/").status_code == 404
    assert client.get(f"{URL}999999/change/").status_code == 404  # the same as one that never was
    assert client.post(f"{URL}{theirs.pk}/delete/", {"post": "yes"}).status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_choices_hold_only_their_region_and_no_superuser(centres) -> None:
    User.objects.create_superuser("root", password="pw-root-long")
    new = User.objects.create_user("new.desk", password="pw-new-desk")
    form = centres["client"].get(f"{URL}add/").content.decode()
    assert "Kota Jambi" in form
    assert "Kota Ambon" not in form
    assert "psc-kota-jambi" in form
    assert "psc-kota-ambon" not in form
    assert f'value="{centres["desk"].pk}"' in form
    assert f'value="{new.pk}"' in form
    assert "ambon.desk" not in form
    assert ">root<" not in form


def _post(centres, *, user, region, role, agencies=()):
    data = {"user": user.pk, "region": region.pk, "role": role, "agencies": [a.pk for a in agencies]}
    return centres["client"].post(f"{URL}add/", data)


def test_a_region_admin_grants_a_role_in_their_region(centres) -> None:
    new = User.objects.create_user("new.planner", password="pw-new-planner")
    response = _post(
        centres, user=new, region=centres["jambi"], role="planner", agencies=[centres["agencies"]["kota-jambi"]]
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=new).role == "planner"


def test_not_in_another_region_nor_another_regions_agency(centres) -> None:
    new = User.objects.create_user("new.spy", password="pw-new-spy")
    assert _post(centres, user=new, region=centres["ambon"], role="dispatcher").status_code == 200  # form error
    wrong = _post(
        centres, user=new, region=centres["jambi"], role="dispatcher", agencies=[centres["agencies"]["kota-ambon"]]
    )
    assert wrong.status_code == 200
    assert not Membership.objects.filter(user=new).exists()


def test_not_a_role_above_their_own(centres) -> None:
    # Regions they do not administer are not even a choice (above); the form's own rule holds besides, for a
    # granter who holds less there (a supervisor of Jambi who administers Ambon).
    from access.admin import MembershipForm

    ambon_admin = make_user("ambon.admin", "admin", regions=[centres["ambon"]], staff=True)
    Membership.objects.create(user=ambon_admin, region=centres["jambi"], role="supervisor")
    new = User.objects.create_user("new.boss", password="pw-new-boss")
    client = Client()
    client.force_login(ambon_admin)
    refused = client.post(f"{URL}add/", {"user": new.pk, "region": centres["jambi"].pk, "role": "supervisor"})
    assert "region" in refused.context["adminform"].form.errors
    for role, valid in [("region_admin", False), ("supervisor", True), ("planner", True)]:
        form = MembershipForm({"user": new.pk, "region": centres["jambi"].pk, "role": role})
        form.granter = ambon_admin
        assert form.is_valid() is valid, role
        if not valid:
            assert "above your own role there" in form.errors["role"][0]
    assert not Membership.objects.filter(user=new).exists()


def test_a_superusers_membership_is_not_theirs(centres) -> None:
    root = User.objects.create_superuser("root", password="pw-root-long")
    held = Membership.objects.create(user=root, region=centres["jambi"], role="region_admin")
    assert centres["client"].get(f"{URL}{held.pk}/change/").status_code == 404
    assert _post(centres, user=root, region=centres["jambi"], role="dispatcher").status_code == 200
    assert not User.objects.get(pk=centres["desk"].pk).is_superuser


def test_a_dispatcher_with_staff_status_manages_no_membership(centres) -> None:
    staff_desk = make_user("staff.desk", "dispatcher", regions=[centres["jambi"]], staff=True)
    client = Client()
    client.force_login(staff_desk)
    assert client.get(URL).status_code == 403
    assert client.get("/admin/jobs/job/").status_code == 403


def test_a_region_admin_sees_the_jobs_of_their_region_only(centres) -> None:
    client, jobs = centres["client"], centres["jobs"]
    Job.objects.create(kind="fleet.history_maintain")  # no region: a superuser's
    listing = client.get("/admin/jobs/job/")
    assert listing.status_code == 200
    assert f"/{jobs['kota-jambi'].pk}/change/" in listing.content.decode()
    assert f"/{jobs['kota-ambon'].pk}/change/" not in listing.content.decode()
    assert client.get(f"/admin/jobs/job/{jobs['kota-jambi'].pk}/change/").status_code == 200
    assert client.get(f"/admin/jobs/job/{jobs['kota-ambon'].pk}/change/").status_code == 404
    assert client.post(f"/admin/jobs/job/{jobs['kota-jambi'].pk}/delete/", {"post": "yes"}).status_code == 403
