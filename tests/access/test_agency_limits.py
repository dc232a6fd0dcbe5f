"""A member limited to agencies (a PSC 119 desk) sees and sends only those agencies' units; reports stay shared.

Desk is a Jambi dispatcher limited to PSC 119: the units layer, stations, position history, recommendations,
unit ETAs and the live channel offer PSC 119's units only; sending, moving or cancelling a Damkar unit is
the 404 an unknown unit gets and changes nothing. Every report of the region is in the desk's queue.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_agency, make_fix, make_incident, make_incident_type, make_station, make_unit
from rest_framework.test import APIClient

from fleet.actors import Actor
from fleet.models import AgencyKind, Unit
from fleet.selectors.units import agencies_for_user, agency_ids_for_user, unit_for_user
from incidents.consumers import RegionLiveConsumer, watch_scope
from incidents.models import Assignment
from incidents.services.dispatch import dispatch_assign

pytestmark = pytest.mark.django_db

CENTRE = (103.6131, -1.5913)
DAMKAR_HQ = (103.595769, -1.619313)


@pytest.fixture
def scene(jambi_network):
    region = jambi_network
    now = timezone.now()
    psc = make_agency(region=region, code="psc119", kind=AgencyKind.EMS)
    damkar = make_agency(region=region, code="damkar", kind=AgencyKind.FIRE)
    psc_post = make_station(agency=psc, code="posko", geom=CENTRE)
    damkar_hq = make_station(agency=damkar, code="mako", geom=DAMKAR_HQ)
    ambulance = make_unit(agency=psc, call_sign="AMB-1", capabilities=["als"], home_station=psc_post)
    engine = make_unit(agency=damkar, call_sign="DMK-1", capabilities=["als", "fire_engine"], home_station=damkar_hq)
    busy_engine = make_unit(agency=damkar, call_sign="DMK-2", capabilities=["fire_engine"], home_station=damkar_hq)
    for unit in (ambulance, engine):
        make_fix(unit=unit, geom=CENTRE, recorded_at=now - timedelta(seconds=30))
    house_fire = make_incident_type(code="house_fire", needs=[("fire", "fire_engine", 1), ("ems", "als", 1)])
    incident = make_incident(region=region, geom=CENTRE, incident_type=house_fire)
    staff = make_user("staff", "dispatcher", regions=[region])
    other = make_incident(region=region, geom=CENTRE)
    assignment = dispatch_assign(incident=other, unit=busy_engine, actor=Actor.person(staff))
    desk = make_user("desk", "dispatcher", regions=[region], agencies=[psc])
    client = APIClient()
    client.force_authenticate(desk)
    return {
        "region": region, "psc": psc, "damkar": damkar, "ambulance": ambulance, "engine": engine,
        "busy_engine": busy_engine, "incident": incident, "other": other, "assignment": assignment,
        "desk": desk, "staff": staff, "api": client, "stations": (psc_post, damkar_hq),
    }  # fmt: skip


def test_the_selectors_hold_only_the_desks_agencies(scene) -> None:
    desk, staff = scene["desk"], scene["staff"]
    assert list(agencies_for_user(desk)) == [scene["psc"]]
    assert agency_ids_for_user(desk) == [scene["psc"].pk]
    assert agency_ids_for_user(staff) is None  # not limited: every agency of the region
    assert unit_for_user(desk, pk=scene["engine"].pk) is None
    assert unit_for_user(desk, pk=scene["ambulance"].pk) == scene["ambulance"]
    assert set(agencies_for_user(staff)) == {scene["psc"], scene["damkar"]}


def test_reads_offer_only_the_desks_units(scene) -> None:
    api = scene["api"]
    for path in ("/api/units/?region=kota-jambi", "/api/units/"):
        calls = {f["properties"]["call_sign"] for f in api.get(path).json()["features"]}
        assert calls == {"AMB-1"}, path
    stations = api.get("/api/stations/?region=kota-jambi").json()
    assert [f["properties"]["code"] for f in stations["features"]] == ["posko"]
    assert api.get(f"/api/units/{scene['engine'].pk}/positions/").status_code == 404
    assert api.get(f"/api/units/{scene['ambulance'].pk}/positions/").status_code == 200
    # Every report of the region is the desk's to see, the fire too.
    queue = {f["id"] for f in api.get("/api/incidents/?region=kota-jambi").json()["features"]}
    assert queue == {scene["incident"].pk, scene["other"].pk}


def test_recommendations_and_etas_offer_only_the_desks_units(scene) -> None:
    api = scene["api"]
    answer = api.get(f"/api/incidents/{scene['incident'].pk}/recommendations/")
    assert answer.status_code == 200, answer.content
    suggested = {s["call_sign"] for need in answer.json()["needs"] for s in need["suggestions"]}
    assert suggested == {"AMB-1"}  # DMK-1 has ALS and is as near, but is Damkar's
    etas = api.post("/api/units/eta/", {"region": "kota-jambi", "destination": list(CENTRE)}, format="json")
    assert etas.status_code == 200, etas.content
    assert {row["call_sign"] for row in etas.json()["results"]} == {"AMB-1"}
    named = api.post(
        "/api/units/eta/",
        {"region": "kota-jambi", "destination": list(CENTRE), "units": [scene["engine"].pk]},
        format="json",
    )
    assert named.status_code == 400  # as unknown as another region's unit
    by_agency = api.post(
        "/api/units/eta/", {"region": "kota-jambi", "destination": list(CENTRE), "agencies": ["damkar"]}, format="json"
    )
    assert by_agency.status_code == 400


def test_acting_on_another_agencys_unit_is_a_404_and_changes_nothing(scene) -> None:
    api, engine, busy = scene["api"], scene["engine"], scene["busy_engine"]
    sent = api.post(f"/api/incidents/{scene['incident'].pk}/assignments/", {"unit_id": engine.pk}, format="json")
    assert sent.status_code == 404, sent.content
    moved = api.post(f"/api/units/{engine.pk}/status/", {"status": "out_of_service"}, format="json")
    assert moved.status_code == 404
    cancelled = api.post(f"/api/assignments/{scene['assignment'].pk}/cancel/", {"reason": "x"}, format="json")
    assert cancelled.status_code == 404
    assert Unit.objects.get(pk=engine.pk).status == "available"
    assert Unit.objects.get(pk=busy.pk).status == "dispatched"
    assert Assignment.objects.get(pk=scene["assignment"].pk).status == "active"
    assert Assignment.objects.count() == 1
    ok = api.post(
        f"/api/incidents/{scene['incident'].pk}/assignments/", {"unit_id": scene["ambulance"].pk}, format="json"
    )
    assert ok.status_code == 201, ok.content


def test_the_live_channel_sends_the_desk_only_its_agencies_unit_messages(scene) -> None:
    allowed, region_id, codes = watch_scope(scene["desk"], "kota-jambi")
    assert (allowed, region_id, codes) == (True, scene["region"].pk, frozenset({"psc119"}))
    assert watch_scope(scene["staff"], "kota-jambi")[2] is None
    consumer = RegionLiveConsumer()
    consumer.agency_codes = codes
    sent: list[dict] = []

    async def send_json(content, close=False):
        sent.append(content)

    consumer.send_json = send_json
    messages = [
        {"type": "unit", "unit": {"call_sign": "DMK-1", "agency": "damkar"}},
        {"type": "unit", "unit": {"call_sign": "AMB-1", "agency": "psc119"}},
        {"type": "incident", "incident": {"id": 1}},
    ]
    for message in messages:
        async_to_sync(consumer.live_relay)({"message": message})
    assert sent == messages[1:]
