"""The demo's users belong to the demo's regions: the console opens on Kota Jambi and can switch to Ambon; each
region's own accounts (jambi.dispatcher, ambon.dispatcher) see their region alone."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from access.models import Membership
from access.selectors import home_region_for_user
from fleet.models import Unit

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = ["admin", "dispatcher", "planner"]
OWN = ["admin", "dispatcher", "planner", "supervisor"]  # each region's own, before its fleet (psc119) is loaded
JAMBI_OWN, AMBON_OWN = [f"jambi.{name}" for name in OWN], [f"ambon.{name}" for name in OWN]


def _quiet(*args: str) -> None:
    with open(os.devnull, "w") as devnull:
        call_command(*args, stdout=devnull)


def _members(slug: str) -> list[str]:
    return sorted(Membership.objects.filter(region__slug=slug).values_list("user__username", flat=True))


def _login(username: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": f"demo-{username}"})
    assert response.status_code == 302, f"{username} could not log in with demo-{username}"
    return client


def test_demo_users_join_the_loaded_regions_and_keep_jambi_as_home(client, data_dir) -> None:
    _quiet("load_demo")
    _quiet("create_demo_users")
    assert _members("kota-jambi") == sorted(DEMO_USERNAMES + JAMBI_OWN)
    _quiet("load_demo", "kota-ambon")  # a second city after the demo: its users join it, its own accounts are made
    assert _members("kota-ambon") == sorted(DEMO_USERNAMES + AMBON_OWN)
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
    assert _members("kota-jambi") == sorted(DEMO_USERNAMES + JAMBI_OWN)
    assert _members("kota-ambon") == sorted(DEMO_USERNAMES + AMBON_OWN)
    homes = dict(Membership.objects.filter(is_home=True).values_list("user__username", "region__slug"))
    assert homes == {
        **dict.fromkeys(DEMO_USERNAMES + JAMBI_OWN, "kota-jambi"),
        **dict.fromkeys(AMBON_OWN, "kota-ambon"),
    }
    assert Membership.objects.count() == 3 * 2 + 4 + 4  # the shared accounts in both, each city's own in one
    roles = dict(Membership.objects.filter(region__slug="kota-ambon").values_list("user__username", "role"))
    assert roles == {"admin": "region_admin", "dispatcher": "dispatcher", "planner": "planner",
                     "ambon.admin": "region_admin", "ambon.dispatcher": "dispatcher", "ambon.planner": "planner",
                     "ambon.supervisor": "supervisor"}  # fmt: skip


def test_a_region_without_the_demo_accounts_gets_no_accounts_of_its_own(data_dir) -> None:
    _quiet("load_demo", "kota-ambon")  # not a demo server yet: nobody is made
    assert not User.objects.exists()


@pytest.fixture
def both_regions(data_dir):
    """What scripts/demo.sh loads, run as that script runs it (its manage.py lines, not setup or serving)."""
    script = (Path(settings.BASE_DIR) / "scripts" / "demo.sh").read_text()
    steps = [shlex.split(line)[2:] for line in script.splitlines() if line.startswith(".venv/bin/python manage.py ")]
    assert ["load_demo", "kota-ambon"] in steps, steps
    assert steps[-1] == ["create_demo_users"], steps  # last: every region is loaded by then
    for step in steps:
        _quiet(*step)


def test_the_demo_script_loads_both_cities_each_with_its_own_dispatcher(both_regions) -> None:
    jambi = _login("jambi.dispatcher")
    config = jambi.get("/dispatch/").context["config"]
    assert (config["region"]["slug"], [r["slug"] for r in config["regions"]]) == ("kota-jambi", ["kota-jambi"])
    assert config["region"]["time_zone"]["abbreviation"] == "WIB"
    assert jambi.get("/dispatch/?region=kota-ambon").status_code == 404  # another centre's: as if it did not exist
    ambon = _login("ambon.dispatcher")
    config = ambon.get("/dispatch/").context["config"]
    assert (config["region"]["slug"], [r["slug"] for r in config["regions"]]) == ("kota-ambon", ["kota-ambon"])
    assert config["region"]["time_zone"] == {"name": "Asia/Jayapura", "abbreviation": "WIT", "utc_offset": "+09:00"}
    assert ambon.get("/dispatch/?region=kota-jambi").status_code == 404
    assert _login("ambon.planner").get("/plan/").context["config"]["region"]["slug"] == "kota-ambon"
    # Each region's PSC 119 desk (made once the fleets are loaded) sees and sends PSC 119's units only.
    desk = _login("jambi.psc119")
    units = desk.get(desk.get("/dispatch/").context["config"]["urls"]["units"]).json()["features"]
    assert units
    assert {f["properties"]["agency"] for f in units} == {"psc119"}
    assert _login("ambon.psc119").get("/dispatch/").context["config"]["agencies"][0]["code"] == "psc119"
    supervisor = _login("jambi.supervisor")
    assert (supervisor.get("/dispatch/").status_code, supervisor.get("/plan/").status_code) == (200, 200)
    # Both fleets are loaded, each in its region.
    assert Unit.objects.filter(agency__region__slug="kota-ambon").count() == 4
    assert Unit.objects.filter(agency__region__slug="kota-jambi").count() > 4


def test_ambons_console_works_without_roads_and_routing_says_so(both_regions) -> None:
    ambon = _login("ambon.dispatcher")
    config = ambon.get("/dispatch/").context["config"]
    urls = config["urls"]
    # The map: Ambon's 5 kecamatan and 50 desa/negeri/kelurahan (data/ambon), no roads, its 4 demo units.
    assert len(ambon.get(urls["kecamatan"]).json()["features"]) == 5
    assert len(ambon.get(urls["kelurahan"]).json()["features"]) == 50
    assert ambon.get(urls["roads"]).json()["features"] == []
    assert len(ambon.get(urls["units"]).json()["features"]) == 4
    # A report by clicking the map in Sirimau, as the console sends it.
    report = {"region": "kota-ambon", "channel": "phone", "location": [128.185, -3.695], "incident_type": "fire_house"}
    created = ambon.post(urls["incidents"], report, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["kecamatan"]["name"] == "Sirimau"
    assert created.json()["reference"].startswith("AMB-")
    queue = ambon.get(f"{urls['incidents']}?region=kota-ambon").json()["features"]
    assert [f["id"] for f in queue] == [created.json()["id"]]
    # Recommendations need roads: the clear 409 the console shows in its language, not a 500 or an empty list.
    answer = ambon.get(f"/api/incidents/{created.json()['id']}/recommendations/?routes=1")
    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "no_network"
    assert "Kota Ambon has no road network yet; import one with: manage.py import_roads kota-ambon" in error["message"]
    assert "no_network" in config["errors"]
