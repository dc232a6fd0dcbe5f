"""The client's address behind the reverse proxy: one reader (``gis_core.client_address``) for the audit log, the
rate limits and the login lockout, that trusts ``X-Forwarded-For`` only from the proxies it is told of."""

from __future__ import annotations

from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from factories.access import make_user
from factories.fleet import make_unit
from factories.gis_core import make_region
from rest_framework.test import APIClient

from fleet.models import AuditEntry
from gis_core.client_address import client_address_of

NGINX = "127.0.0.1"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", NGINX),  # no proxy configured: the header is the client's own word, ignored
        (1, "203.0.113.9", "203.0.113.9"),  # nginx appended the peer it saw
        (1, "10.6.6.6, 203.0.113.9", "203.0.113.9"),  # what the client wrote before it is never read
        (2, "10.6.6.6, 203.0.113.9, 198.51.100.4", "203.0.113.9"),  # two proxies: the outer one's peer
        (2, "203.0.113.9", NGINX),  # fewer entries than proxies: it came round them
        (1, "", NGINX),
        (1, "not-an-address", NGINX),
        (1, " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_the_address_trusted_from_x_forwarded_for(proxies, forwarded, expected) -> None:
    meta = {"REMOTE_ADDR": NGINX, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_address_of(meta, num_proxies=proxies) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("proxies", "expected"), [(0, NGINX), (1, "203.0.113.9")])
def test_the_audit_log_records_the_client_behind_the_proxy(settings, proxies, expected) -> None:
    settings.SIAGA_NUM_PROXIES = proxies
    region = make_region()
    unit = make_unit()
    client = APIClient(REMOTE_ADDR=NGINX)
    client.force_login(make_user("addr-dispatcher", "dispatcher", regions=[region]))
    response = client.post(
        f"/api/units/{unit.pk}/status/", {"status": "out_of_service"}, format="json",
        HTTP_X_FORWARDED_FOR="10.6.6.6, 203.0.113.9",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    entry = AuditEntry.objects.filter(action="unit.status_set").latest("at")
    assert entry.remote_addr == expected


@pytest.mark.django_db
def test_the_per_address_rate_limit_counts_each_client_behind_the_proxy(settings) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], "routing": "100/min", "address": "1/min"}
    settings.REST_FRAMEWORK = rest
    region = make_region()
    body = {"region": region.slug, "destination": [103.6131, -1.6101], "origins": [[103.5958, -1.6193]]}

    def eta(user: str, forwarded: str):
        client = APIClient(REMOTE_ADDR=NGINX)
        client.force_login(make_user(user, "dispatcher", regions=[region]))
        return client.post("/api/routing/eta/", body, format="json", HTTP_X_FORWARDED_FOR=forwarded).status_code

    settings.SIAGA_NUM_PROXIES = 1
    assert eta("a", "203.0.113.1") != 429
    assert eta("b", "203.0.113.2") != 429  # another client behind the same nginx
    assert eta("c", "10.6.6.6, 203.0.113.1") == 429  # the first client again, whatever it wrote itself
    settings.SIAGA_NUM_PROXIES = 0
    assert eta("d", "203.0.113.3") != 429  # no proxy configured: the connecting address, a budget of its own,
    assert eta("e", "203.0.113.4") == 429  # however each client names itself


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_login_lockout_is_per_client_behind_the_proxy_and_cannot_be_dodged_without_one(settings) -> None:
    make_user("lockme", "dispatcher", regions=[make_region()])

    def fail(forwarded: str) -> int:
        client = Client(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=forwarded)
        return client.post("/login/", {"username": "lockme", "password": "wrong"}).status_code

    settings.SIAGA_NUM_PROXIES = 1
    assert [fail("203.0.113.1"), fail("203.0.113.1")] == [200, 429]
    assert fail("203.0.113.2") == 200  # another client of the same nginx is not locked out by the first
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.1", "203.0.113.2"}
    settings.SIAGA_NUM_PROXIES = 0
    assert fail("198.51.100.1") == 200  # counted for the connecting address,
    assert fail("198.51.100.2") == 429  # however the client names itself


APPS = ("access", "config", "console", "coverage", "crew", "fleet", "gazetteer", "gis_core", "incidents", "jobs")


def test_no_code_reads_the_peer_address_but_this_module() -> None:
    # Behind the proxy REMOTE_ADDR is nginx: an audit entry or a rate limit that read it would blame the proxy.
    root = Path(__file__).resolve().parents[2]
    readers = [
        str(path.relative_to(root))
        for app in (*APPS, "ops", "reports")
        for path in (root / app).rglob("*.py")
        if "REMOTE_ADDR" in path.read_text() and path.name != "client_address.py"
    ]
    assert readers == [], f"read the client's address through gis_core.client_address, not REMOTE_ADDR: {readers}"
