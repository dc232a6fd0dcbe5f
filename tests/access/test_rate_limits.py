"""Rate limits of the expensive endpoints: per token, per user and per address, a 429 that says when to retry."""

from __future__ import annotations

from uuid import uuid4

import pytest
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from factories.access import make_user
from factories.gis_core import make_region
from rest_framework.test import APIClient

from access.services import api_token_create

pytestmark = pytest.mark.django_db

ETA = "/api/routing/eta/"
BODY = {"region": "kota-jambi", "destination": [103.6, -1.61], "origins": [[103.59, -1.62]]}


@pytest.fixture
def rates(settings):
    """Small rates, set as the environment would (settings), read by the throttles at each request."""

    def set_rates(**changed: str) -> None:
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **changed}
        settings.REST_FRAMEWORK = rest

    return set_rates


@pytest.fixture
def jambi(db):
    return make_region()


def _as_user(name: str, *roles: str, address: str = "10.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.force_login(make_user(name, *roles))
    return client


def _as_token(region, *scopes: str, address: str = "10.0.0.1") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    issued = api_token_create(region=region, name="t", scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.text}")
    return client


def _eta(client: APIClient, **extra):
    return client.post(ETA, BODY, format="json", **extra)


def test_the_429_says_when_to_retry_in_the_body_and_the_header(jambi, rates) -> None:
    rates(routing="2/min")
    client = _as_user("dispatcher-a", "dispatcher")
    assert [_eta(client).status_code != 429 for _ in range(2)] == [True, True]  # counted, whatever they answer
    refused = _eta(client)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited"
    assert 1 <= error["retry_after_s"] <= 60  # a 1-minute window
    assert refused["Retry-After"] == str(error["retry_after_s"])
    assert "2/min" in error["message"]
    assert f"{error['retry_after_s']} s" in error["message"]


def test_each_user_and_each_token_has_its_own_budget(jambi, rates) -> None:
    rates(routing="2/min")
    first, second = _as_user("dispatcher-a", "dispatcher"), _as_user("dispatcher-b", "dispatcher")
    token_a, token_b = _as_token(jambi, "eta"), _as_token(jambi, "eta")
    for client in (first, token_a):
        for _ in range(2):
            assert _eta(client).status_code != 429
        assert _eta(client).status_code == 429
    assert "API token" in _eta(token_a).json()["error"]["message"]
    assert _eta(second).status_code != 429
    assert _eta(token_b).status_code != 429


def test_one_address_has_a_budget_over_all_expensive_endpoints(jambi, rates) -> None:
    rates(routing="100/min", recommendations="100/min", address="3/min")
    users = [_as_user(f"dispatcher-{i}", "dispatcher") for i in range(3)]
    assert _eta(users[0]).status_code != 429
    assert users[1].post("/api/units/eta/", BODY, format="json").status_code != 429
    assert users[2].get("/api/incidents/999999/recommendations/").status_code != 429  # throttle before the 404
    refused = _eta(users[0])
    assert refused.status_code == 429
    assert "from this address" in refused.json()["error"]["message"]
    # Another address goes on; a client cannot pick its own address with X-Forwarded-For (no proxy is set).
    assert _eta(_as_user("elsewhere", "dispatcher", address="10.0.0.2")).status_code != 429
    assert _eta(users[1], HTTP_X_FORWARDED_FOR="192.0.2.7").status_code == 429


def test_cheap_endpoints_are_not_limited(jambi, rates) -> None:
    rates(routing="1/min", address="1/min")
    client = _as_user("dispatcher-a", "dispatcher")
    for _ in range(5):
        assert client.get("/api/regions/").status_code == 200
        assert client.get("/api/incidents/?region=kota-jambi").status_code == 200


def test_coverage_runs_and_siting_have_their_rates(jambi, rates) -> None:
    rates(coverage="1/min", siting="1/min")
    planner = _as_user("planner-a", "planner")
    for path in ("/api/coverage/report/", "/api/coverage/siting/"):
        assert planner.post(path, {}, format="json").status_code == 400  # counted: bad input still costs a call
        assert planner.post(path, {}, format="json").status_code == 429, path


def test_the_counts_live_in_the_redis_cache_shared_by_the_workers(jambi, rates, settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": f"test-{uuid4()}",  # this test's own keys
        }
    }
    rates(routing="2/min")
    client = _as_user("dispatcher-a", "dispatcher")
    for _ in range(2):
        assert _eta(client).status_code != 429
    caches.close_all()  # another worker: a new connection sees the same counts
    del caches["default"]
    assert _eta(client).status_code == 429
    caches["default"].clear()


def test_an_unreachable_cache_lets_requests_through(jambi, rates, settings) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    rates(routing="1/min")
    client = _as_user("dispatcher-a", "dispatcher")
    assert [_eta(client).status_code in (200, 400, 404, 409) for _ in range(3)] == [True] * 3


def test_a_rate_from_the_environment_is_checked(monkeypatch) -> None:
    from config.settings import _env_rate

    monkeypatch.setenv("SIAGA_RATE_ROUTING", "30/hour")
    assert _env_rate("SIAGA_RATE_ROUTING", "120/min") == "30/hour"
    for junk in ("lots", "0/min", "10/fortnight", "-5/min"):
        monkeypatch.setenv("SIAGA_RATE_ROUTING", junk)
        with pytest.raises(ImproperlyConfigured, match="SIAGA_RATE_ROUTING"):
            _env_rate("SIAGA_RATE_ROUTING", "120/min")
