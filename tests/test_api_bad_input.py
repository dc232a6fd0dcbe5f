"""Every API endpoint answers junk with a 4xx and a message, never a 500 (the whole URL map, all apps).

Junk: bodies that are not JSON, JSON of the wrong shape, and every usual field name with a value of the
wrong type; query strings with unparsable values. Sent by a logged-in superuser (so permissions are not
what refuses them) at URLs whose ids exist, so the input itself is what is judged.
"""

from __future__ import annotations

import base64
import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from factories.access import basic_header
from rest_framework.test import APIClient

from fleet.models import Agency, AgencyKind, InboundMessage, Unit, UnitType
from fleet.services.devices import device_create
from gis_core.importers.boundaries import import_boundaries
from gis_core.importers.roads import import_roads
from incidents.models import Incident
from incidents.services.callers import caller_flag

pytestmark = pytest.mark.django_db

FIELDS = (
    "region", "destination", "origin", "origins", "destinations", "point", "points", "location", "geom",
    "thresholds_s", "cutoff_s", "units", "unit_id", "status", "note", "sources", "model", "k", "spec",
    "capabilities", "agencies", "phone", "channel", "priority", "incident_type", "outcome", "fixes",
    "device", "lat", "lon", "close_near", "add_stations", "reason", "limit", "kind", "accuracy_m",
)  # fmt: skip
WRONG = ([], {"type": "Point"}, "x" * 300, -1, 1e308, None, [[1, 2, 3]], True, "nul\x00")
JUNK_BODIES = [b"not json", b"[]", b'"x"', b"{", b"123", b'{"fixes": 5}', b'{"lat": 1e999, "lon": NaN}'] + [
    json.dumps(dict.fromkeys(FIELDS, w)).encode() for w in WRONG
]
JUNK_QUERY = (
    "?region=%00&since=yesterday&until=2026-13-45&in_bbox=a,b,c&lon=x&lat=200&start=soon&end=-"
    "&routes=maybe&limit=-5&capabilities=%00&route_units=a,b&group_by=colour&kind=%25&page=-1&kecamatan=%27"
)


def _paths(patterns, prefix: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _paths(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def _concrete(pattern: str, ids: dict[str, str]) -> str | None:
    """A URL pattern with its parameters filled from ``ids``; None for non-API or un-fillable ones."""
    path = "/" + pattern.replace("^", "").replace("$", "").replace("/?", "/")
    if not path.startswith("/api/") or "(?P<format>" in path or "\\." in path:
        return None
    for name, value in ids.items():
        for form in (f"<int:{name}>", f"<str:{name}>", f"<slug:{name}>", f"(?P<{name}>[^/.]+)", f"<{name}>"):
            path = path.replace(form, value)
    return None if "<" in path or "(?P" in path else path


@pytest.fixture
def world(jambi_region, data_dir):
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    import_roads(region=jambi_region, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    agency = Agency.objects.create(region=jambi_region, code="psc119", name="PSC 119", kind=AgencyKind.EMS)
    unit = Unit.objects.create(agency=agency, call_sign="AMB-1", unit_type=UnitType.objects.create(code="amb"))
    device_create(unit=unit, identifier="amb-1")
    incident = Incident.objects.create(
        region=jambi_region, reference="JMB-TEST-1", channel="phone", received_at=timezone.now()
    )
    flag = caller_flag(region=jambi_region, phone="+6281234567890", reason="test")
    return {"slug": jambi_region.slug, "pk": str(incident.pk), "unit_id": str(unit.pk), "run_id": "999999",
            "other_id": "999998", "offer_id": "999997", "flag_id": str(flag.pk), "phone": "+6281234567890"}  # fmt: skip


@pytest.mark.parametrize("logged_in", [True, False])
def test_no_endpoint_answers_junk_with_a_500(world, logged_in: bool) -> None:
    client = APIClient(raise_request_exception=False)
    if logged_in:
        client.force_authenticate(get_user_model().objects.create_superuser("root", password="pw"))
    urls = sorted({u for u in (_concrete(p, world) for p in _paths(get_resolver().url_patterns)) if u})
    assert len(urls) >= 40  # the whole API, not a few endpoints
    failures = []
    for url in urls:
        for body in JUNK_BODIES:
            response = client.post(url, body, content_type="application/json")
            if response.status_code >= 500:
                failures.append(f"POST {url} {body[:60]!r}: {response.status_code}")
        form = client.post(url, JUNK_QUERY[1:], content_type="application/x-www-form-urlencoded")
        for method, response in (("GET", client.get(url + JUNK_QUERY)), ("POST form", form)):
            if response.status_code >= 500:
                failures.append(f"{method} {url} {JUNK_QUERY[:40]}...: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_osmand_junk_values_are_stored_and_refused_or_flagged_never_a_500(world) -> None:
    client = APIClient(raise_request_exception=False)
    for query in (
        "id=amb-1&lat=abc&lon=103.6&timestamp=1700000000",
        "id=amb-1&lat=-1.6&lon=1e999&timestamp=xx",
        "id=amb-1&lat=NaN&lon=NaN&timestamp=-1&speed=-5&bearing=999&accuracy=-1&batt=400",
        "id=%00&lat=-1.6&lon=103.6",
        "lat=-1.6&lon=103.6",
    ):
        response = client.get(f"/api/ingest/osmand/?{query}&key=wrong", HTTP_USER_AGENT="Traccar\x00Client")
        assert 400 <= response.status_code < 500, (query, response.status_code, response.content[:200])
    # Every one of them was stored first, NUL bytes as the text \x00.
    stored = InboundMessage.objects.filter(channel="osmand").order_by("pk")
    assert [m.outcome for m in stored] == ["rejected"] * 5
    assert stored[3].query.startswith("id=%00")
    assert stored[3].headers["User-Agent"] == "Traccar\\x00Client"


def test_a_nul_character_is_a_400_that_says_so(world) -> None:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser("root", password="pw"))
    body = json.dumps({"region": "kota-jambi", "origin": [103.61, -1.6], "thresholds_s": [600], "note": "a\x00"})
    response = client.post("/api/routing/isochrone/", body, content_type="application/json")
    assert response.status_code == 400
    assert "may not contain NUL characters" in response.json()["error"]["message"]
    response = client.get("/api/units/?region=kota%00")  # a query string: an unknown region, not a 500
    assert response.status_code == 404
    assert "unknown region" in response.json()["error"]["message"]


# -- credentials PostgreSQL cannot store ----------------------------------------------------------------


# The header: base64 of "\x1eC3\x00:" and three bytes that are not UTF-8, sent logged out.
NUL_BASIC = "Basic HkMzADrsv1g="
BAD_BASIC = {
    "nul_in_user": NUL_BASIC,
    "nul_in_password": basic_header("root", "p\x00w"),
    "long_user": basic_header("x" * 10_000, "pw"),
    "long_password": basic_header("root", "x" * 10_000),
    "not_base64": "Basic !!!not*base64",
    "no_colon": "Basic " + base64.b64encode(b"rootpw").decode(),
    "latin1_header": "Basic \xe9t\xe9",  # a header's raw bytes as WSGI decodes them (latin-1)
}
# Views that read no Authorization header at all: signed bodies (Meta's webhook, an agency's hand-off update at
# /api/handoffs/<id>/agency/) and a crew phone pairing by the one-time token in its body.
IGNORES_AUTHORIZATION = ("/api/whatsapp/webhook/", "/agency/", "/api/crew/pair/")


def _all_urls(world: dict) -> list[str]:
    return sorted({u for u in (_concrete(p, world) for p in _paths(get_resolver().url_patterns)) if u})


def test_a_nul_in_the_basic_user_name_is_a_401_on_every_api_url_never_a_500(world) -> None:
    client = APIClient(raise_request_exception=False)
    urls = _all_urls(world)
    assert len(urls) >= 40
    failures = []
    for url in urls:
        for method in ("get", "post"):
            response = getattr(client, method)(url, HTTP_AUTHORIZATION=NUL_BASIC)
            if url.endswith(IGNORES_AUTHORIZATION):
                ok = response.status_code < 500
            elif response.status_code == 405:  # the method is refused before anything is authenticated
                ok = True
            else:  # the code in the JSON or YAML error body; the Swagger page is HTML (DRF's 401 page)
                says = b"credentials_invalid" in response.content or "html" in response["Content-Type"]
                ok = response.status_code == 401 and says
            if not ok:
                failures.append(f"{method.upper()} {url}: {response.status_code} {response.content[:120]!r}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("header", BAD_BASIC.values(), ids=BAD_BASIC.keys())
@pytest.mark.parametrize("url", ["/api/regions/", "/api/incidents/", "/api/units/999/positions/"])
def test_bad_basic_credentials_are_a_401_that_says_what_is_wrong(world, url: str, header: str) -> None:
    client = APIClient(raise_request_exception=False)
    response = client.get(url, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "credentials_invalid"
    assert "HTTP Basic" in error["message"]


@pytest.mark.parametrize("header", BAD_BASIC.values(), ids=BAD_BASIC.keys())
@pytest.mark.parametrize("path", ["/api/ingest/batch/", "/api/ingest/owntracks/", "/api/ingest/status/"])
def test_bad_basic_credentials_of_a_device_are_a_401_recorded_as_refused(world, path: str, header: str) -> None:
    client = APIClient(raise_request_exception=False)
    response = client.post(path, b'{"fixes": []}', content_type="application/json", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401, response.content[:300]
    assert response.json()["error"]["code"] == "credentials_invalid"
    message = InboundMessage.objects.get()
    assert message.outcome == "rejected"
    assert message.body == '{"fixes": []}'  # stored as it came all the same


@pytest.mark.parametrize("key", ["se\x00cret", "x" * 10_000])
def test_a_device_key_or_id_postgresql_cannot_store_is_a_401_recorded_as_refused(world, key: str) -> None:
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/ingest/osmand/", {"id": "amb-1", "lat": "-1.6", "lon": "103.6", "key": key})
    assert response.status_code == 401, response.content[:300]
    assert response.json()["error"]["code"] == "credentials_invalid"
    assert InboundMessage.objects.get().outcome == "rejected"
    response = client.post("/api/ingest/batch/?key=pw", b'{"device": "amb\\u0000", "fixes": []}',
                           content_type="application/json")  # fmt: skip
    assert response.status_code in {400, 401}, response.content[:300]


BAD_COOKIES = {"nul": "abc\x00defghijk", "long": "a" * 10_000, "control": "abc\x1bdefghijk"}


@pytest.mark.parametrize("value", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
@pytest.mark.parametrize("cookie", ["sessionid", "csrftoken"])
def test_a_bad_session_or_csrf_cookie_is_a_401_on_the_api(world, cookie: str, value: str) -> None:
    client = APIClient(raise_request_exception=False)
    for url in ("/api/regions/", "/api/incidents/", "/api/ingest/batch/"):
        response = client.get(url, HTTP_COOKIE=f"{cookie}={value}")
        assert response.status_code == 401, (url, response.status_code, response.content[:300])
        error = response.json()["error"]
        assert error["code"] == "credentials_invalid"
        assert f"{cookie} cookie" in error["message"]


@pytest.mark.parametrize("value", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
def test_a_bad_session_cookie_on_a_web_page_is_never_a_500(world, value: str) -> None:
    client = APIClient(raise_request_exception=False)
    for url in ("/", "/dispatch/", "/plan/", "/admin/", "/admin/login/", "/login/"):
        response = client.get(url, HTTP_COOKIE=f"sessionid={value}")
        assert response.status_code < 500, (url, response.status_code)
        # The broken cookie is dropped, so the browser comes back without it.
        assert response.cookies["sessionid"].value == "", url
