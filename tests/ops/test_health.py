"""Liveness and readiness probes: open to anonymous callers, a JSON of each check, and nothing sensitive."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client

from gis_core.models import Region
from gis_core.routing.registry import clear_engines
from ops import health

SECRET_TEXT = "password authentication failed for user centre-admin at db.internal"


def test_live_answers_without_the_database() -> None:
    # No django_db mark: any query would raise "Database access not allowed".
    response = Client().get("/health/live")
    assert (response.status_code, response.json()) == (200, {"status": "live"})
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_ready_loads_the_road_network_of_each_region_that_has_one(jambi_network) -> None:
    from factories.gis_core import make_region

    make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)  # no roads: not counted
    clear_engines()
    response = Client().get("/health/ready")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "redis", "routing"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["routing"]["regions_loaded"] == 1


@pytest.mark.django_db
def test_ready_is_503_when_redis_is_away_and_says_only_which_check(settings, jambi_region) -> None:
    settings.REDIS_URL = "redis://:hunter2@127.0.0.1:1/0"  # nothing listens on port 1
    response = Client().get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert b"hunter2" not in response.content
    assert b"127.0.0.1" not in response.content


@pytest.mark.django_db
def test_ready_is_503_when_the_database_fails_and_leaks_no_error_text(monkeypatch) -> None:
    def down() -> dict:
        raise OperationalError(SECRET_TEXT)

    monkeypatch.setitem(health.CHECKS, "database", down)
    response = Client().get("/health/ready")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert (checks["database"]["ok"], checks["routing"]["ok"]) == (False, False)  # routing reads the database
    assert b"centre-admin" not in response.content
    assert b"db.internal" not in response.content


@pytest.mark.django_db
def test_ready_is_503_when_a_regions_network_cannot_be_loaded(jambi_network) -> None:
    # A CRS that cannot measure Jambi (Ambon's UTM zone), saved before the admin's check existed.
    Region.objects.filter(pk=jambi_network.pk).update(metric_srid=32752)
    clear_engines()
    response = Client().get("/health/ready")
    assert response.status_code == 503
    routing = response.json()["checks"]["routing"]
    assert (routing["ok"], routing["regions_loaded"], routing["regions_failed"]) == (False, 0, 1)
    assert b"kota-jambi" not in response.content  # the log names the region; the anonymous answer does not
    clear_engines()
