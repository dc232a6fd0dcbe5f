"""The console's region: it opens on the user's own, switches among the user's regions, and 404s the others."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from factories.gis_core import make_region

pytestmark = pytest.mark.django_db


@pytest.fixture
def ambon(jambi_region):
    """Kota Ambon next to Kota Jambi; its slug sorts first (kota-ambon < kota-jambi)."""
    return make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)


def _switcher_slugs(body: str) -> list[str]:
    switcher = re.search(r'<form[^>]*class="region-switch".*?</form>', body, re.S)
    assert switcher is not None, "no region switcher in the page header"
    return re.findall(r'<option value="([^"]+)"', switcher.group(0))


@pytest.mark.parametrize("url", ["/dispatch/", "/plan/"])
def test_the_console_opens_on_the_users_own_region_not_the_first_alphabetically(
    role_client, jambi_region, ambon, url
) -> None:
    client = role_client("admin", regions=[jambi_region])
    config = client.get(url).context["config"]
    assert config["region"]["slug"] == "kota-jambi"
    assert config["urls"]["ws"] == "/ws/regions/kota-jambi/"


def test_the_home_region_wins_over_the_other_memberships(role_client, jambi_region, ambon) -> None:
    client = role_client("dispatcher", regions=[ambon, jambi_region])  # the first granted is home
    assert client.get("/dispatch/").context["config"]["region"]["slug"] == "kota-ambon"


def test_the_header_switches_between_the_users_regions(role_client, jambi_region, ambon) -> None:
    client = role_client("dispatcher", regions=[jambi_region, ambon])
    response = client.get("/dispatch/")
    assert [r["slug"] for r in response.context["config"]["regions"]] == ["kota-jambi", "kota-ambon"]
    assert _switcher_slugs(response.content.decode()) == ["kota-jambi", "kota-ambon"]
    switched = client.get("/dispatch/?region=kota-ambon")
    assert switched.status_code == 200
    assert switched.context["config"]["region"]["slug"] == "kota-ambon"
    assert switched.context["config"]["urls"]["units"] == "/api/units/?region=kota-ambon"
    assert 'value="kota-ambon" selected' in switched.content.decode()


def test_the_switcher_lists_only_the_regions_the_user_may_see(role_client, jambi_region, ambon) -> None:
    response = role_client("dispatcher", regions=[jambi_region]).get("/dispatch/")
    assert [r["slug"] for r in response.context["config"]["regions"]] == ["kota-jambi"]
    assert "Kota Ambon" not in response.content.decode()


@pytest.mark.parametrize("asked", ["kota-ambon", "81.71", "atlantis", "%00", "%5B%5D", "x" * 10_000])
def test_a_region_the_user_may_not_see_is_a_404(role_client, jambi_region, ambon, asked) -> None:
    # Another centre's region and one that does not exist answer alike: the page never confirms it exists.
    client = role_client("dispatcher", regions=[jambi_region])
    assert client.get(f"/dispatch/?region={asked}").status_code == 404, asked


def test_a_planner_asking_for_another_region_is_a_404_too(role_client, jambi_region, ambon) -> None:
    client = role_client("planner", regions=[ambon])
    assert client.get("/plan/?region=kota-jambi").status_code == 404
    assert client.get("/plan/?region=kota-ambon").status_code == 200


def test_a_superuser_sees_and_switches_to_every_region(client, jambi_region, ambon) -> None:
    root = User.objects.create_superuser("root", password="pw-root")
    client.force_login(root)
    response = client.get("/dispatch/?region=kota-ambon")
    assert response.context["config"]["region"]["slug"] == "kota-ambon"
    assert [r["slug"] for r in response.context["config"]["regions"]] == ["kota-jambi", "kota-ambon"]


def test_a_user_of_no_region_gets_a_page_that_says_so(role_client, jambi_region) -> None:
    # Roles are held in a region: a user who is a member of none holds none, and is told so.
    response = role_client("dispatcher", regions=[]).get("/dispatch/")
    assert response.status_code == 403
    assert response.context["config"]["may"] == []
    assert "peran" in response.content.decode()  # "no console role yet": Indonesian by default


def test_the_roads_layer_of_another_region_is_a_404(role_client, tiny_network, ambon) -> None:
    region, _ = tiny_network
    client = role_client("planner", regions=[ambon])
    assert client.get(reverse("console:roads", kwargs={"slug": region.slug})).status_code == 404
    assert client.get(reverse("console:roads", kwargs={"slug": "kota-ambon"})).status_code == 200
