"""Console roles: the demo admin (a region admin of every region) works in /admin/ on Siaga's tables; the
other roles cannot."""

from __future__ import annotations

import pytest
from django.test import Client
from factories.gis_core import make_region

from console.services import demo_users_create

pytestmark = pytest.mark.django_db


def _client(username: str, password: str) -> Client:
    client = Client()
    response = client.post("/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content  # through the login page, as a person logs in
    return client


def test_demo_admin_edits_siaga_tables_in_the_admin_but_not_users() -> None:
    make_region()  # the admin role is held in a region: the demo's
    demo_users_create()
    admin = _client("admin", "demo-admin")
    index = admin.get("/admin/")
    assert index.status_code == 200
    for path in ("/admin/incidents/incidenttype/", "/admin/fleet/unit/", "/admin/fleet/agency/add/"):
        assert admin.get(path).status_code == 200, path
    assert admin.get("/admin/auth/user/").status_code == 403  # accounts stay with superusers


def test_dispatcher_and_planner_do_not_open_the_admin() -> None:
    demo_users_create()
    for username, password in (("dispatcher", "demo-dispatcher"), ("planner", "demo-planner")):
        response = _client(username, password).get("/admin/fleet/unit/")
        assert response.status_code == 302, username  # not staff: sent to the admin login
        assert "/admin/login/" in response["Location"]
