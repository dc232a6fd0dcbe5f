"""Region membership: who may see which region, the home region, granting, and the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from factories.gis_core import make_region

from access.models import Membership
from access.selectors import home_region_for_user, region_for_user, regions_for_user
from access.services import membership_grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_regions(jambi_region):
    return jambi_region, make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)


def _user(username: str, **extra) -> User:
    user = User(username=username, **extra)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


def test_a_member_sees_only_the_regions_of_their_memberships(two_regions) -> None:
    jambi, _ambon = two_regions
    ani = _user("ani")
    membership_grant(user=ani, region=jambi, role="dispatcher")
    assert list(regions_for_user(ani)) == [jambi]
    assert region_for_user(ani, slug_or_code="kota-jambi") == jambi
    assert region_for_user(ani, slug_or_code="15.71") == jambi
    assert region_for_user(ani, slug_or_code="kota-ambon") is None  # exists, but not hers: same as unknown
    assert region_for_user(ani, slug_or_code="atlantis") is None
    assert region_for_user(ani, slug_or_code="kota\x00jambi") is None


def test_no_membership_sees_nothing_and_a_superuser_sees_all(two_regions) -> None:
    jambi, ambon = two_regions
    assert list(regions_for_user(_user("budi"))) == []
    assert home_region_for_user(_user("citra")) is None
    assert list(regions_for_user(AnonymousUser())) == []
    assert home_region_for_user(AnonymousUser()) is None
    root = _user("root", is_superuser=True)
    assert list(regions_for_user(root)) == [jambi, ambon]  # by code: 15.71, 81.71
    assert region_for_user(root, slug_or_code="kota-ambon") == ambon


def test_a_membership_without_a_role_grants_nothing(two_regions) -> None:
    jambi, _ = two_regions
    eka = _user("eka")
    membership_grant(user=eka, region=jambi)
    assert (list(regions_for_user(eka)), home_region_for_user(eka)) == ([], None)


def test_an_inactive_user_sees_nothing(two_regions) -> None:
    jambi, _ = two_regions
    dedi = _user("dedi")
    membership_grant(user=dedi, region=jambi, role="dispatcher")
    dedi.is_active = False
    assert list(regions_for_user(dedi)) == []


def test_the_first_membership_is_home_and_home_can_move(two_regions) -> None:
    jambi, ambon = two_regions
    ani = _user("ani")
    membership_grant(user=ani, region=ambon, role="planner")
    membership_grant(user=ani, region=jambi, role="planner")
    assert home_region_for_user(ani) == ambon  # the first one granted, though Jambi sorts first
    membership_grant(user=ani, region=jambi, home=True)
    assert home_region_for_user(ani) == jambi
    assert list(Membership.objects.filter(user=ani, is_home=True).values_list("region__slug", flat=True)) == [
        "kota-jambi"
    ]


def test_granting_twice_changes_nothing(two_regions) -> None:
    jambi, _ = two_regions
    ani = _user("ani")
    first = membership_grant(user=ani, region=jambi)
    again = membership_grant(user=ani, region=jambi)
    assert (first.pk, Membership.objects.count(), again.is_home) == (again.pk, 1, True)


def test_the_database_refuses_two_homes_or_a_duplicate(two_regions) -> None:
    jambi, ambon = two_regions
    ani = _user("ani")
    Membership.objects.create(user=ani, region=jambi, is_home=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=ani, region=ambon, is_home=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=ani, region=jambi)


def test_a_superuser_without_membership_opens_on_a_region_with_boundaries(two_regions, data_dir) -> None:
    from gis_core.importers.boundaries import import_boundaries

    _jambi, ambon = two_regions
    import_boundaries(region=ambon, path=data_dir / "ambon" / "kecamatan_ambon.geojson", level="kecamatan")
    assert home_region_for_user(_user("root", is_superuser=True)) == ambon


def test_the_admin_lists_memberships_with_a_region_filter(admin_client, two_regions) -> None:
    jambi, ambon = two_regions
    membership_grant(user=_user("ani"), region=jambi)
    membership_grant(user=_user("budi"), region=ambon)
    response = admin_client.get("/admin/access/membership/", {"region__id__exact": ambon.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert "budi" in body
    assert "ani in" not in body
    assert admin_client.get("/admin/access/membership/add/").status_code == 200
