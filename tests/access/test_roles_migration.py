"""access 0003: each user's old global groups become the role of each of their memberships; the groups go."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from factories.gis_core import make_region
from factories.migrations import migrate, migrate_to_latest

from access.models import Membership


def _member(username: str, groups: tuple[str, ...], regions) -> None:
    user = User.objects.create_user(username=username, password="x")
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    with connection.cursor() as cursor:
        for i, region in enumerate(regions):
            cursor.execute(
                "INSERT INTO access_membership (user_id, region_id, is_home, created_at) VALUES (%s, %s, %s, now())",
                [user.pk, region.pk, i == 0],
            )


@pytest.mark.django_db(transaction=True)
def test_groups_become_the_role_in_every_membership_and_are_deleted() -> None:
    jambi = make_region()
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    migrate([("access", "0002_api_tokens")])
    try:
        _member("desk", ("dispatcher",), [jambi, ambon])
        _member("plan", ("planner",), [jambi])
        _member("both", ("dispatcher", "planner"), [ambon])
        _member("boss", ("admin", "dispatcher"), [jambi])
        _member("nobody", (), [jambi])
        _member("loose", ("dispatcher",), [])  # a group, no membership: nothing to carry it
    finally:
        migrate_to_latest()
    roles = sorted(Membership.objects.values_list("user__username", "region__slug", "role"))
    assert roles == [
        ("boss", "kota-jambi", "region_admin"),
        ("both", "kota-ambon", "supervisor"),
        ("desk", "kota-ambon", "dispatcher"),
        ("desk", "kota-jambi", "dispatcher"),
        ("nobody", "kota-jambi", ""),
        ("plan", "kota-jambi", "planner"),
    ]
    assert not Group.objects.filter(name__in=["dispatcher", "planner", "admin"]).exists()


@pytest.mark.django_db(transaction=True)
def test_reversed_the_groups_come_back_from_the_roles() -> None:
    jambi = make_region()
    migrate([("access", "0002_api_tokens")])
    try:
        _member("both", ("dispatcher", "planner"), [jambi])
        _member("boss", ("admin",), [jambi])
        migrate([("access", "0003_membership_roles_agencies")])
        migrate([("access", "0002_api_tokens")])
        held = sorted(User.objects.filter(groups__isnull=False).values_list("username", "groups__name"))
        assert held == [("boss", "admin"), ("both", "dispatcher"), ("both", "planner")]
        assert Group.objects.get(name="admin").permissions.filter(content_type__app_label="fleet").exists()
    finally:
        migrate_to_latest()
