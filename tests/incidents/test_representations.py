"""One place for a unit and one shape for a unit and a report, whether a console reads REST or live messages.

A unit whose last fix is older than ``SIAGA_POSITION_MAX_AGE_S`` is at its home station on the REST
map layer, in the live message and in the recommendation alike; the REST feature's properties and
the live message's unit are the same dict, and so are a queue feature's and a live report's.
"""

from __future__ import annotations

import copy
import os
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_agency, make_fix, make_incident, make_station, make_unit
from factories.gis_core import make_region
from rest_framework.test import APIClient

from config.asgi import application
from fleet.actors import Actor
from incidents.selectors.recommend import units_recommend
from incidents.services.dispatch import dispatch_assign
from incidents.services.status import unit_status_set

CENTRE = (103.6131, -1.5913)  # Kota Jambi riverfront (lon, lat)
TELANAIPURA = (103.5800, -1.5950)  # a street in Telanaipura (OpenStreetMap)
RSUD_RADEN_MATTAHER = (103.57932615608027, -1.60280705)  # jambi/health_facilities_jambi_osm.geojson
RECEIVE_TIMEOUT_S = 10  # a guard against a hung test only
STALE_S = 3600.0  # an hour: well over SIAGA_POSITION_MAX_AGE_S (600 s by default)
AGE_KEYS = ("position_age_s",)  # the only values that move between two reads: the fix ages meanwhile


@pytest.fixture(autouse=True)
def _own_channel_layer(settings):
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = f"siaga-test-repr-{os.getpid()}"
    settings.CHANNEL_LAYERS = layers


def _dispatcher(username: str = "dispatcher1") -> User:
    return make_user(username, "dispatcher")  # a member of every region existing now


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _headers(user: User) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [(b"origin", b"http://127.0.0.1"), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


def _stale_unit(region, *, with_station: bool = True):
    """A unit with a valid fix in Telanaipura an hour old, based (or not) at RSUD Raden Mattaher."""
    agency = make_agency(region=region, code="psc119")
    station = make_station(agency=agency, code="mattaher", name="RSUD Raden Mattaher", geom=RSUD_RADEN_MATTAHER)
    unit = make_unit(agency=agency, call_sign="AMB-STALE", home_station=station if with_station else None)
    fix = make_fix(unit=unit, geom=TELANAIPURA, recorded_at=timezone.now() - timedelta(seconds=STALE_S))
    return unit, fix


def _rest_feature(client: APIClient, unit_id: int) -> dict:
    response = client.get("/api/units/?region=kota-jambi")
    assert response.status_code == 200, response.content
    [found] = [f for f in response.json()["features"] if f["id"] == unit_id]
    return found


def _without_ages(unit: dict) -> dict:
    unit = copy.deepcopy(unit)
    for key in AGE_KEYS:
        unit.pop(key, None)
    if isinstance(unit.get("position"), dict):
        unit["position"].pop("age_s", None)
    return unit


async def _receive(communicator: WebsocketCommunicator, kind: str) -> dict:
    while True:
        message = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
        if message["type"] == kind:
            return message


@pytest.mark.django_db(transaction=True)
def test_a_stale_unit_is_at_its_station_in_rest_and_live_with_one_representation() -> None:
    if settings.SIAGA_POSITION_MAX_AGE_S >= STALE_S:
        pytest.fail(f"the test needs SIAGA_POSITION_MAX_AGE_S < {STALE_S}")
    region = make_region()
    unit, _ = _stale_unit(region)
    user = _dispatcher()
    headers = _headers(user)

    async def scenario() -> dict:
        communicator = WebsocketCommunicator(application, "/ws/regions/kota-jambi/", headers=headers)
        connected, code = await communicator.connect()
        assert connected, f"console refused (close code {code})"
        await _receive(communicator, "hello")
        await database_sync_to_async(unit_status_set)(unit=unit, to_status="out_of_service", actor=Actor.person(user))
        message = await _receive(communicator, "unit")
        await communicator.disconnect()
        return message["unit"]

    live = async_to_sync(scenario)()
    rest = _rest_feature(_api(user), unit.pk)

    # Both at the home station, saying so, with the old fix's time and age.
    assert rest["geometry"] == {"type": "Point", "coordinates": list(RSUD_RADEN_MATTAHER)}
    assert (live["position"]["lon"], live["position"]["lat"]) == RSUD_RADEN_MATTAHER
    props = rest["properties"]
    assert props["position_source"] == live["position"]["source"] == "home_station"
    assert props["position_stale"] is True
    assert props["position_age_s"] == pytest.approx(STALE_S, abs=RECEIVE_TIMEOUT_S)
    assert live["position"]["age_s"] == pytest.approx(STALE_S, abs=RECEIVE_TIMEOUT_S)
    assert props["position_recorded_at"] == live["position"]["recorded_at"] is not None
    # The same keys and the same values from both (the fix's age moves on between the two reads).
    assert _without_ages(props) == _without_ages(live)
    assert props["position_age_s"] == pytest.approx(live["position"]["age_s"], abs=RECEIVE_TIMEOUT_S)


@pytest.mark.django_db
def test_a_stale_unit_without_a_station_stays_at_its_old_fix_flagged_stale() -> None:
    region = make_region()
    unit, _ = _stale_unit(region, with_station=False)
    rest = _rest_feature(_api(_dispatcher()), unit.pk)
    assert rest["geometry"] == {"type": "Point", "coordinates": list(TELANAIPURA)}
    assert (rest["properties"]["position_source"], rest["properties"]["position_stale"]) == ("stale_gps", True)
    assert rest["properties"]["position"]["source"] == "stale_gps"


@pytest.mark.django_db
def test_the_recommendation_ranks_from_where_the_map_draws_the_unit(jambi_network) -> None:
    unit, _ = _stale_unit(jambi_network)
    fresh = make_unit(agency=unit.agency, call_sign="AMB-FRESH")
    make_fix(unit=fresh, geom=CENTRE, recorded_at=timezone.now() - timedelta(seconds=20))
    incident = make_incident(region=jambi_network, geom=CENTRE)
    client = _api(_dispatcher())
    rows = {r["unit"]: r for r in units_recommend(incident=incident, capabilities=["als"])["needs"][0]["suggestions"]}
    for placed in (unit, fresh):
        feature = _rest_feature(client, placed.pk)
        assert rows[placed.pk]["origin"] == feature["geometry"]["coordinates"]
        assert rows[placed.pk]["position_source"] == feature["properties"]["position_source"]
    assert rows[unit.pk]["origin"] == list(RSUD_RADEN_MATTAHER)
    assert rows[fresh.pk]["origin"] == list(CENTRE)


@pytest.mark.django_db(transaction=True)
def test_a_report_in_the_queue_and_in_the_live_message_is_one_representation() -> None:
    region = make_region()
    unit = make_unit(agency=make_agency(region=region), call_sign="AMB-01")
    incident = make_incident(region=region, geom=CENTRE, reference="JMB-2026-000009", address_text="Jl. Sultan Thaha")
    user = _dispatcher()
    headers = _headers(user)

    async def scenario() -> dict:
        communicator = WebsocketCommunicator(application, "/ws/regions/kota-jambi/", headers=headers)
        connected, code = await communicator.connect()
        assert connected, f"console refused (close code {code})"
        await _receive(communicator, "hello")
        await database_sync_to_async(dispatch_assign)(incident=incident, unit=unit, actor=Actor.person(user))
        message = await _receive(communicator, "incident")
        await communicator.disconnect()
        return message["incident"]

    live = async_to_sync(scenario)()
    response = _api(user).get("/api/incidents/?region=kota-jambi")
    assert response.status_code == 200, response.content
    [queued] = [f for f in response.json()["features"] if f["id"] == incident.pk]
    assert queued["geometry"] == {"type": "Point", "coordinates": list(CENTRE)}
    assert (live["status"], live["active_units"], live["assignments"][0]["unit_id"]) == ("dispatched", 1, unit.pk)
    assert queued["properties"] == live


@pytest.mark.django_db
def test_a_status_change_answers_with_the_unit_as_the_map_shows_it() -> None:
    region = make_region()
    unit, _ = _stale_unit(region)
    client = _api(_dispatcher())
    response = client.post(f"/api/units/{unit.pk}/status/", {"status": "out_of_service"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body.pop("allowed_next") == ["available"]
    assert (body["status"], body["position_source"]) == ("out_of_service", "home_station")
    assert _without_ages(body) == _without_ages(_rest_feature(client, unit.pk)["properties"])


@pytest.mark.django_db
def test_a_reports_detail_holds_the_report_as_the_queue_shows_it() -> None:
    region = make_region()
    unit = make_unit(agency=make_agency(region=region), call_sign="AMB-01")
    incident = make_incident(region=region, geom=CENTRE, address_text="Jl. Sultan Thaha")
    user = _dispatcher()
    dispatch_assign(incident=incident, unit=unit, actor=Actor.person(user))
    client = _api(user)
    [queued] = [f for f in client.get("/api/incidents/?region=kota-jambi").json()["features"] if f["id"] == incident.pk]
    detail = client.get(f"/api/incidents/{incident.pk}/").json()
    assert detail["location"] == queued["geometry"] == {"type": "Point", "coordinates": list(CENTRE)}
    # The detail adds what only it shows (needs, every offer, WhatsApp, the caller); the rest is the same.
    assert {key: detail.get(key) for key in queued["properties"]} == queued["properties"]
