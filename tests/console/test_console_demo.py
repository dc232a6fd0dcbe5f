"""The demo's users belong to the demo's regions: the console opens on Kota Jambi and can switch to Ambon."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

from access.models import Membership
from access.selectors import home_region_for_user

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = ["admin", "dispatcher", "planner"]


def _quiet(*args: str) -> None:
    with open(os.devnull, "w") as devnull:
        call_command(*args, stdout=devnull)


def _members(slug: str) -> list[str]:
    return sorted(Membership.objects.filter(region__slug=slug).values_list("user__username", flat=True))


def test_demo_users_join_the_loaded_regions_and_keep_jambi_as_home(client, data_dir) -> None:
    _quiet("load_demo")
    _quiet("create_demo_users")
    assert _members("kota-jambi") == DEMO_USERNAMES
    _quiet("load_demo", "kota-ambon")  # a second city after the demo: its users join it too
    assert _members("kota-ambon") == DEMO_USERNAMES
    from django.contrib.auth.models import User

    assert {home_region_for_user(u).slug for u in User.objects.filter(username__in=DEMO_USERNAMES)} == {"kota-jambi"}
    assert client.post("/login/", {"username": "dispatcher", "password": "demo-dispatcher"}).status_code == 302
    config = client.get("/dispatch/").context["config"]
    assert config["region"]["slug"] == "kota-jambi"  # not Ambon, the first by slug
    assert [r["slug"] for r in config["regions"]] == ["kota-jambi", "kota-ambon"]
    assert client.get("/dispatch/?region=kota-ambon").context["config"]["region"]["slug"] == "kota-ambon"


def test_demo_users_created_after_both_regions_are_home_in_jambi(data_dir) -> None:
    _quiet("load_demo", "kota-ambon")
    _quiet("load_demo")
    _quiet("create_demo_users")
    _quiet("create_demo_users")  # again: nothing doubles
    assert (_members("kota-jambi"), _members("kota-ambon")) == (DEMO_USERNAMES, DEMO_USERNAMES)
    assert set(Membership.objects.filter(is_home=True).values_list("region__slug", flat=True)) == {"kota-jambi"}
    assert Membership.objects.count() == 6
