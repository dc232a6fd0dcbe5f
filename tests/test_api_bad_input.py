"""Every API endpoint answers junk with a 4xx and a message, never a 500 (the whole URL map, all apps).

Junk: bodies that are not JSON, JSON of the wrong shape, and every usual field name with a value of the
wrong type; query strings with unparsable values. Sent by a logged-in superuser (so permissions are not
what refuses them) at URLs whose ids exist, so the input itself is what is judged.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from fleet.models import Agency, AgencyKind, InboundMessage, Incident, Unit, UnitType
from fleet.services.callers import caller_flag
from fleet.services.devices import device_create
from gis_core.importers.boundaries import import_boundaries
from gis_core.importers.roads import import_roads

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
    flag = caller_flag(phone="+6281234567890", reason="test")
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
    assert stored[3].body.startswith("id=%00")
    assert stored[3].headers["User-Agent"] == "Traccar\\x00Client"


def test_a_nul_character_is_a_400_that_says_so(world) -> None:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser("root", password="pw"))
    body = json.dumps({"region": "kota-jambi", "origin": [103.61, -1.6], "thresholds_s": [600], "note": "a\x00"})
    response = client.post("/api/routing/isochrone/", body, content_type="application/json")
    assert response.status_code == 400
    assert "may not contain NUL characters" in response.json()["error"]["message"]
    response = client.get("/api/units/?region=kota%00")  # a query string: an unknown region
    assert response.status_code == 400
    assert "unknown region" in response.json()["error"]["message"]
