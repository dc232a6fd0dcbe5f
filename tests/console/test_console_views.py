"""Console pages and layers: login redirects, role checks, the roads layer, the default language."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from console.strings import ERROR_STRINGS
from tests.domain_errors import domain_error_classes

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/dispatch/", "/plan/"])
def test_anonymous_is_sent_to_login(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"


@pytest.mark.parametrize(
    ("role_names", "url", "status"),
    [
        (("dispatcher",), "/dispatch/", 200),
        (("dispatcher",), "/plan/", 403),
        (("planner",), "/plan/", 200),
        (("planner",), "/dispatch/", 403),
        (("admin",), "/dispatch/", 200),
        (("admin",), "/plan/", 200),
        ((), "/dispatch/", 403),
        ((), "/plan/", 403),
        ((), "/", 403),
    ],
)
def test_pages_need_their_role(role_client, jambi_region, role_names, url, status) -> None:
    assert role_client(*role_names).get(url).status_code == status


@pytest.mark.parametrize(("role_names", "target"), [(("dispatcher",), "/dispatch/"), (("planner",), "/plan/")])
def test_home_sends_each_role_to_its_page(role_client, jambi_region, role_names, target) -> None:
    response = role_client(*role_names).get("/")
    assert (response.status_code, response["Location"]) == (302, target)


def test_login_with_a_password_then_logout(client, user_factory) -> None:
    user_factory("ani", "dispatcher")
    response = client.post("/login/", {"username": "ani", "password": "pw-ani", "next": "/dispatch/"})
    assert (response.status_code, response["Location"]) == (302, "/dispatch/")
    assert client.post("/logout/").status_code == 302
    assert client.get("/dispatch/").status_code == 302


def test_wrong_password_stays_on_the_login_page(client, user_factory) -> None:
    user_factory("ani", "dispatcher")
    response = client.post("/login/", {"username": "ani", "password": "nope"})
    assert response.status_code == 200
    assert "Nama pengguna atau kata sandi salah" in response.content.decode()


def test_api_docs_stay_reachable(client) -> None:
    assert client.get("/api/docs/").status_code == 200


def test_dispatcher_page_carries_the_map_config(role_client, jambi_region) -> None:
    response = role_client("dispatcher").get("/dispatch/")
    config = response.context["config"]
    assert config["region"]["slug"] == "kota-jambi"
    assert config["urls"]["ws"] == "/ws/regions/kota-jambi/"
    assert config["urls"]["units"] == "/api/units/?region=kota-jambi"
    # The new-report form's place search and the name of the place under its pin: the region's, from here.
    assert config["urls"]["search"] == "/api/regions/kota-jambi/search/"
    assert config["urls"]["reverse"] == "/api/regions/kota-jambi/reverse/"
    body = response.content.decode()
    assert "/static/leaflet/leaflet.js" in body
    assert "unpkg" not in body  # everything the page loads is served by us
    assert "cdn" not in body.lower()


def test_every_api_error_code_has_a_summary_in_the_page_language(role_client, jambi_region) -> None:
    config = role_client("dispatcher").get("/dispatch/").context["config"]
    assert config["errors"]["illegal_transition"] == "Perubahan status ini tidak diizinkan"
    device_or_webhook = {"bad_payload", "unknown_device", "device_inactive", "wrong_unit", "device_auth_failed",
                         "invalid_payload", "routing_error"}  # fmt: skip
    command_only = {"import_invalid", "incident_types_file"}  # raised by management commands, never to the console
    codes = {cls.code for cls in domain_error_classes()} - device_or_webhook - command_only
    assert codes <= set(config["errors"])
    with translation.override("en"):
        english = {code: str(text) for code, text in ERROR_STRINGS.items()}
    assert not [code for code, text in config["errors"].items() if text == english[code]]  # all in Indonesian


def test_region_by_code_and_junk_region_is_a_404(role_client, jambi_region) -> None:
    client = role_client("dispatcher")
    assert client.get("/dispatch/?region=15.71").context["config"]["region"]["slug"] == "kota-jambi"
    for junk in ("atlantis", "%00", "%5B%5D"):  # unknown or unusable: a 404 (never a 500, never another region)
        assert client.get(f"/dispatch/?region={junk}").status_code == 404, junk


def test_page_without_any_region_says_how_to_load_one(client) -> None:
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", password="x"))  # roles need a region; root has all
    response = client.get("/dispatch/")
    assert response.status_code == 200
    assert response.context["config"]["region"] is None
    assert "load_demo" in response.context["config"]["strings"]["no_region"]


def test_indonesian_by_default_even_for_an_english_browser(role_client, jambi_region) -> None:
    client = role_client("dispatcher")
    body = client.get("/dispatch/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Laporan masuk" in body  # "Incoming reports"
    client.post(reverse("set_language"), {"language": "en", "next": "/dispatch/"})
    assert "Incoming reports" in client.get("/dispatch/").content.decode()


def test_create_demo_users_prints_passwords_and_is_idempotent(client, capsys, jambi_region) -> None:
    call_command("create_demo_users")
    call_command("create_demo_users")
    out = capsys.readouterr().out
    assert "'demo-dispatcher'" in out
    assert "DEMO" in out
    from django.contrib.auth.models import User

    own = ["jambi.admin", "jambi.dispatcher", "jambi.planner", "jambi.supervisor"]  # Kota Jambi's own accounts
    assert sorted(User.objects.values_list("username", flat=True)) == sorted(["admin", "dispatcher", "planner", *own])
    assert client.post("/login/", {"username": "planner", "password": "demo-planner"}).status_code == 302
    assert client.get("/plan/").status_code == 200
    assert client.get("/dispatch/").status_code == 403


# ---------------------------------------------------------------- roads layer


def test_roads_layer_draws_each_street_once(role_client, tiny_network, django_assert_max_num_queries) -> None:
    region, (ab, ba, bc) = tiny_network
    client = role_client("planner")
    with django_assert_max_num_queries(6):  # session, user, groups, region, edges (+ slack for one)
        response = client.get(reverse("console:roads", kwargs={"slug": region.slug}))
    assert response.status_code == 200
    features = response.json()["features"]
    # A-B is two directed edges drawn as one street; B->C is one-way: 2 features (by hand).
    assert sorted(sorted(f["properties"]["edge_ids"]) for f in features) == [sorted([ab.pk, ba.pk]), [bc.pk]]
    assert features[0]["geometry"]["type"] == "LineString"


def test_roads_layer_refuses_anonymous_and_roleless_users(client, role_client, tiny_network) -> None:
    url = reverse("console:roads", kwargs={"slug": "kota-jambi"})
    assert client.get(url).status_code == 401
    assert role_client().get(url).status_code == 403


def test_roads_layer_names_the_known_regions_for_an_unknown_one(role_client, tiny_network) -> None:
    response = role_client("dispatcher").get(reverse("console:roads", kwargs={"slug": "atlantis"}))
    assert response.status_code == 404
    assert "kota-jambi" in response.json()["error"]["message"]


# ---------------------------------------------------------------- unit status and closing in the page config


def test_status_buttons_follow_the_fleet_state_machine(role_client, jambi_region) -> None:
    config = role_client("dispatcher").get("/dispatch/").context["config"]
    nxt = config["unit_next_statuses"]
    # By hand from incidents/services/status.py, in the order of a unit's day; "dispatched" only by assigning.
    assert nxt["available"] == ["out_of_service"]
    assert nxt["dispatched"] == ["en_route", "out_of_service"]
    assert nxt["on_scene"] == ["transporting", "returning", "out_of_service"]
    assert nxt["returning"] == ["available", "out_of_service"]
    assert nxt["out_of_service"] == ["available"]
    assert config["cancellable_statuses"] == ["dispatched", "en_route"]  # these go back only by cancelling
    assert set(nxt) == {"available", "dispatched", "en_route", "on_scene", "transporting", "at_hospital",
                        "returning", "out_of_service"}  # fmt: skip


def test_closing_outcomes_are_the_ones_the_service_accepts(role_client, jambi_region) -> None:
    config = role_client("dispatcher").get("/dispatch/").context["config"]
    assert config["closing_outcomes"] == ["genuine", "false_alarm", "prank", "silent"]
    strings = config["strings"]
    assert all(f"outcome_{o}" in strings for o in config["closing_outcomes"])  # each has a label
    assert strings["transporting"] == "mengantar pasien"  # Indonesian by default


# ---------------------------------------------------------------- refusals are pages in the console's style


@pytest.mark.parametrize("debug", [False, True])
def test_a_planner_opening_dispatch_gets_the_console_403_page(role_client, jambi_region, settings, debug) -> None:
    settings.DEBUG = debug  # the 403 page is the same with debug on (Django only swaps the 404 page)
    response = role_client("planner").get("/dispatch/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "/static/console/console.css" in body  # the console's look, not Django's bare "403 Forbidden"
    assert 'id="refusal"' in body
    assert "Halaman ini bukan untuk peran Anda" in body  # in the console's language
    assert 'href="/plan/"' in body  # and where this user may go instead
    assert "403 Forbidden" not in body


def test_a_user_without_a_role_is_told_to_ask_for_one(role_client, settings) -> None:
    settings.DEBUG = False
    body = role_client().get("/").content.decode()
    assert "belum punya peran konsol" in body
    assert 'href="/dispatch/"' not in body


def test_an_unknown_address_gets_the_console_404_page_in_english_on_request(
    role_client, settings, jambi_region
) -> None:
    settings.DEBUG = False
    client = role_client("dispatcher")
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "/static/console/console.css" in body
    assert "Halaman tidak ditemukan" in body
    assert 'href="/dispatch/"' in body  # the header's link to the dispatcher's page
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Page not found" in client.get("/no-such-page/").content.decode()


def test_an_unknown_api_address_is_the_api_json_error(client, settings) -> None:
    settings.DEBUG = False
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_every_api_address_the_scripts_use_comes_from_the_page_config_and_resolves() -> None:
    """console/selectors.py url_templates: each path, its placeholders filled, is a URL of the API."""
    import re
    from pathlib import Path

    from django.urls import resolve

    from console.selectors import url_templates

    templates = url_templates()
    for name, template in templates.items():
        path = re.sub(r"\{\w+\}", "7", template)
        assert resolve(path).url_name, name
    scripts = Path(__file__).resolve().parents[2] / "console" / "static" / "console"
    for script in scripts.glob("*.js"):
        source = script.read_text()
        assert not re.search(r"[\"'`]/api/", source), f"{script.name} writes an API path of its own"
        for used in re.findall(r"\burl\(\"(\w+)\"", source):
            assert used in templates, f"{script.name} asks for URL {used!r}, which the page config lacks"
