"""Repeated failed log-ins lock a user name out (django-axes), on the login page and on HTTP Basic alike."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client, override_settings
from factories.access import basic_header

from console.services import demo_users_create

pytestmark = pytest.mark.django_db

LIMIT = 3


@pytest.fixture(autouse=True)
def _demo_region(jambi_region):
    """The demo accounts hold their roles in a region: Kota Jambi's."""


def _basic(username: str, password: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": basic_header(username, password)}


def _fail_login_page(client: Client, username: str, times: int) -> None:
    for _ in range(times):
        response = client.post("/login/", {"username": username, "password": "wrong"})
        assert response.status_code == 200  # the form again, "wrong username or password"


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_the_login_page_locks_a_user_name_out_after_repeated_failures(client: Client) -> None:
    demo_users_create()
    _fail_login_page(client, "dispatcher", LIMIT - 1)
    assert client.post("/login/", {"username": "dispatcher", "password": "demo-dispatcher"}).status_code == 302
    client.logout()
    _fail_login_page(client, "dispatcher", LIMIT - 1)  # a success reset the count
    locked = client.post("/login/", {"username": "dispatcher", "password": "wrong"})
    assert locked.status_code == 429
    # Now even the right password is refused, with a page that says when to try again.
    again = client.post("/login/", {"username": "dispatcher", "password": "demo-dispatcher"})
    assert again.status_code == 429
    assert int(again["Retry-After"]) == 900
    assert "coba lagi dalam 15 menit" in again.content.decode()  # in the console's language
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_a_lockout_is_per_user_name_so_the_rest_of_the_centre_still_logs_in(client: Client) -> None:
    demo_users_create()
    _fail_login_page(client, "dispatcher", LIMIT - 1)
    assert client.post("/login/", {"username": "dispatcher", "password": "wrong"}).status_code == 429
    assert client.post("/login/", {"username": "planner", "password": "demo-planner"}).status_code == 302


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_http_basic_on_the_api_is_locked_out_with_a_json_429(client: Client) -> None:
    demo_users_create()
    assert client.get("/api/incidents/", **_basic("dispatcher", "demo-dispatcher")).status_code == 200
    for _ in range(LIMIT - 1):
        assert client.get("/api/incidents/", **_basic("dispatcher", "wrong")).status_code == 401
    assert client.get("/api/incidents/", **_basic("dispatcher", "wrong")).status_code == 429  # the one that locks
    locked = client.get("/api/incidents/", **_basic("dispatcher", "demo-dispatcher"))
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "login_locked"
    assert int(locked["Retry-After"]) == 900
    assert "15" in locked.json()["error"]["message"]


@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_failures_and_lockouts_are_kept_for_the_admin(client: Client) -> None:
    demo_users_create()
    _fail_login_page(client, "dispatcher", LIMIT - 1)
    client.post("/login/", {"username": "dispatcher", "password": "wrong"})
    attempt = AccessAttempt.objects.get(username="dispatcher")
    assert attempt.failures_since_start == LIMIT
    assert AccessFailureLog.objects.filter(username="dispatcher", locked_out=True).exists()
