"""The crew page's endpoints: a dispatcher's pairing link (QR, one device, own region only), pairing,
the page's state with the job, the route and the other units; and the page shell, manifest, worker."""

from __future__ import annotations

import pytest
from factories.access import make_user
from factories.gis_core import make_region

from fleet.models import CrewPairing, Device, InboundMessage
from fleet.services.crew_sessions import crew_pairing_create, crew_pairing_redeem
from incidents.services.dispatch import dispatch_assign


@pytest.fixture
def unit(fleet, jambi_region):
    return fleet.make_unit(agency=fleet.make_agency(region=jambi_region), call_sign="PSC119-02")


def _session(device: Device) -> str:
    _, token = crew_pairing_create(device=device)
    return crew_pairing_redeem(token=token)[1]


def test_a_dispatcher_makes_a_one_time_link_with_its_qr_code(client, fleet, unit) -> None:
    device = fleet.make_device(unit=unit, identifier="psc119-02-phone")
    client.force_login(make_user("ani", "dispatcher"))
    answer = client.post("/api/crew/pairings/", {"unit": unit.pk}, content_type="application/json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["device"] == "psc119-02-phone"
    assert body["call_sign"] == "PSC119-02"
    # The token travels in the fragment, which a browser never sends to a server (nor a log keeps).
    base, token = body["url"].split("#pair=")
    assert base == "http://testserver/crew/"
    assert body["qr_svg"].startswith("<svg")
    assert CrewPairing.objects.get().device == device
    paired = client.post("/api/crew/pair/", {"token": token}, content_type="application/json")
    assert paired.status_code == 200
    assert paired.json()["unit"] == {"id": unit.pk, "call_sign": "PSC119-02"}
    again = client.post("/api/crew/pair/", {"token": token}, content_type="application/json")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "pairing_invalid"
    # Both requests are kept as they came, the token masked; the second with why it was refused.
    stored = list(InboundMessage.objects.filter(channel="crew_pair").order_by("pk"))
    assert [m.outcome for m in stored] == ["accepted", "rejected"]
    assert all(token not in m.body and '"token": "***"' in m.body for m in stored)
    assert "already used" in stored[1].error


def test_a_unit_without_a_device_gets_one_and_with_several_one_must_be_named(client, fleet, unit) -> None:
    client.force_login(make_user("ani", "dispatcher"))
    first = client.post("/api/crew/pairings/", {"unit": unit.pk}, content_type="application/json")
    assert first.status_code == 201
    assert Device.objects.get(unit=unit).identifier == first.json()["device"]
    other = fleet.make_device(unit=unit)
    several = client.post("/api/crew/pairings/", {"unit": unit.pk}, content_type="application/json")
    assert several.status_code == 400
    assert several.json()["error"]["code"] == "crew_device_choice"
    named = client.post("/api/crew/pairings/", {"unit": unit.pk, "device": other.pk}, content_type="application/json")
    assert named.json()["device"] == other.identifier


def test_another_centres_unit_is_a_404(client, fleet, unit) -> None:
    ambon = make_region(name="Kota Ambon", code="81.71", slug="kota-ambon")
    client.force_login(make_user("ambon-desk", "dispatcher", regions=[ambon]))
    answer = client.post("/api/crew/pairings/", {"unit": unit.pk}, content_type="application/json")
    assert answer.status_code == 404
    assert not CrewPairing.objects.exists()


def test_the_state_shows_the_job_and_the_other_units_to_that_crew_only(client, fleet, unit) -> None:
    device = fleet.make_device(unit=unit)
    token = _session(device)
    idle = client.get("/api/crew/state/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert idle["incident"] is None
    assert idle["transitions"]["available"] == ["out_of_service"]  # "dispatched" comes from an assignment only
    incident = fleet.make_incident(region=unit.agency.region, description="asap dari dapur", caller_flags=["prank"])
    other = fleet.make_unit(agency=unit.agency, call_sign="DAMKAR-01")
    dispatch_assign(incident=incident, unit=unit)
    dispatch_assign(incident=incident, unit=other)
    state = client.get("/api/crew/state/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert state["unit"]["status"] == "dispatched"
    assert state["transitions"]["dispatched"] == ["en_route", "out_of_service"]
    assert state["incident"]["description"] == "asap dari dapur"
    assert "caller_flags" not in state["incident"]  # the crew's view leaves the centre's caller record out
    assert [u["call_sign"] for u in state["others"]] == ["DAMKAR-01"]
    assert state["route"] is None  # no fix and no station: the page shows the destination alone
    assert client.get("/api/crew/state/").status_code == 401
    assert client.get("/api/crew/state/", HTTP_AUTHORIZATION="Bearer crew_forged").status_code == 401


def test_the_page_manifest_and_worker_are_served_to_anyone(client) -> None:
    page = client.get("/crew/")
    assert page.status_code == 200
    assert b'lang="id"' in page.content
    assert b'rel="manifest"' in page.content
    manifest = client.get("/crew/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/crew/"
    worker = client.get("/crew/sw.js")
    assert worker["Content-Type"].startswith("application/javascript")
    assert worker["Service-Worker-Allowed"] == "/crew/"
    assert b"/static/crew/crew.js" in worker.content
