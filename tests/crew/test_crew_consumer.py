"""The crew page's WebSocket: only a live session of that unit's device joins, and only that unit's news
(its own state, its report, the other units on the report) reaches it."""

from __future__ import annotations

import copy
import os

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from factories.fleet import make_agency, make_device, make_incident, make_unit
from factories.gis_core import make_region

from config.asgi import application
from fleet.actors import SYSTEM
from fleet.models import UnitStatus
from fleet.services.crew_sessions import crew_pairing_create, crew_pairing_redeem
from incidents.services.dispatch import dispatch_assign
from incidents.services.status import unit_status_set

pytestmark = pytest.mark.django_db(transaction=True)
TIMEOUT_S = 10  # a guard against a hung test only
ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
def _own_channel_layer(settings):
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = f"siaga-crew-test-{os.getpid()}"
    settings.CHANNEL_LAYERS = layers


def _token(unit) -> str:
    _, pairing = crew_pairing_create(device=make_device(unit=unit))
    return crew_pairing_redeem(token=pairing)[1]


def _socket(unit_id: int, token: str | None) -> WebsocketCommunicator:
    protocols = ["siaga-crew", token] if token else ["siaga-crew"]
    return WebsocketCommunicator(application, f"/ws/crew/units/{unit_id}/", headers=[ORIGIN], subprotocols=protocols)


def test_a_session_joins_its_own_unit_only() -> None:
    agency = make_agency(region=make_region())
    mine, theirs = make_unit(agency=agency, call_sign="A-1"), make_unit(agency=agency, call_sign="A-2")
    token = _token(mine)

    async def scenario() -> None:
        for unit_id, used in ((theirs.pk, token), (mine.pk, None), (mine.pk, "crew_forged")):
            refused = _socket(unit_id, used)
            connected, _ = await refused.connect()
            assert not connected, f"unit {unit_id} with {used!r} was let in"
        joined = _socket(mine.pk, token)
        connected, protocol = await joined.connect()
        assert connected
        assert protocol == "siaga-crew"  # the token is never echoed back
        assert (await joined.receive_json_from(timeout=TIMEOUT_S))["type"] == "hello"
        await joined.disconnect()

    async_to_sync(scenario)()


def test_the_crew_hears_its_job_and_its_colleagues_but_not_other_units() -> None:
    region = make_region()
    agency = make_agency(region=region)
    mine, colleague, stranger = (make_unit(agency=agency, call_sign=c) for c in ("A-1", "A-2", "A-3"))
    token = _token(mine)
    incident = make_incident(region=region, description="kebakaran rumah", caller_flags=["prank"])

    async def scenario() -> None:
        socket = _socket(mine.pk, token)
        assert (await socket.connect())[0]
        await socket.receive_json_from(timeout=TIMEOUT_S)  # hello
        await database_sync_to_async(unit_status_set)(unit=stranger, to_status=UnitStatus.OUT_OF_SERVICE,
                                                      actor=SYSTEM)  # fmt: skip
        await database_sync_to_async(dispatch_assign)(incident=incident, unit=mine)
        unit = await socket.receive_json_from(timeout=TIMEOUT_S)
        assert unit["type"] == "unit"  # the stranger's change never came
        assert unit["unit"]["id"] == mine.pk
        assert unit["unit"]["assignment"]["incident_id"] == incident.pk
        report = await socket.receive_json_from(timeout=TIMEOUT_S)
        assert report["type"] == "incident"
        assert report["incident"]["description"] == "kebakaran rumah"
        assert "caller_flags" not in report["incident"]
        await database_sync_to_async(dispatch_assign)(incident=incident, unit=colleague)
        other = await socket.receive_json_from(timeout=TIMEOUT_S)
        assert other["type"] == "other_unit"
        assert other["unit"]["call_sign"] == "A-2"
        assert (await socket.receive_json_from(timeout=TIMEOUT_S))["type"] == "incident"
        assert await socket.receive_nothing(timeout=0.3)
        await socket.disconnect()

    async_to_sync(scenario)()
