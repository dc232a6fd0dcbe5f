"""The live console's WebSocket against the real Redis: who may connect, what a fix or a status change sends.

The tests are transactional (``transaction=True``): messages are sent by ``transaction.on_commit``
callbacks, which run only when something really commits. Each test process uses its own channel
layer prefix, and groups carry the (per-process) test database name, so parallel runs never cross.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_agency, make_device, make_incident, make_unit
from factories.gis_core import make_region

from config.asgi import application
from fleet.actors import SYSTEM, Actor
from fleet.ingest.fix import CanonicalFix
from fleet.models import Unit, UnitStatus
from fleet.services.positions import position_record, region_envelope_cache_clear
from incidents.consumers import CLOSE_UNKNOWN_REGION
from incidents.live import live_send
from incidents.models import Channel
from incidents.services.dispatch import dispatch_assign, dispatch_cancel
from incidents.services.incidents import incident_create
from incidents.services.status import unit_status_set

pytestmark = pytest.mark.django_db(transaction=True)

CENTRE = (103.6131, -1.5913)  # Kota Jambi, Jl. Sultan Thaha area (lon, lat)
RECEIVE_TIMEOUT_S = 10  # only a guard against a hung test; the messages come in milliseconds
ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
def _own_channel_layer(settings):
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["prefix"] = f"siaga-test-{os.getpid()}"
    settings.CHANNEL_LAYERS = layers  # channels drops its cached layer on this setting change
    region_envelope_cache_clear()
    yield
    region_envelope_cache_clear()


@pytest.fixture
def redis_up():
    """The real channel layer answers; fails (never skips) with what to do when it does not."""

    async def ping() -> None:
        layer = get_channel_layer()
        await layer.group_send("siaga-ping", {"type": "ping"})

    try:
        async_to_sync(ping)()
    except Exception as exc:
        pytest.fail(f"Redis is not reachable at settings.REDIS_URL ({exc!r}); run scripts/setup.sh or set REDIS_URL")


@pytest.fixture
def jambi():
    return make_region()


@pytest.fixture
def unit(jambi):
    return make_unit(agency=make_agency(region=jambi), call_sign="AMB-01")


def _user(username: str, *, role: str | None = "dispatcher", regions=None) -> User:
    """A user in ``role``'s group, a member of ``regions`` (default: every region existing now)."""
    return make_user(username, *([role] if role else []), regions=regions)


def _cookie(user: User) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()


def _headers(user: User | None) -> list[tuple[bytes, bytes]]:
    """What a browser sends: our Origin, and the session cookie of ``user`` (none when None)."""
    return [ORIGIN] + ([_cookie(user)] if user is not None else [])


def _communicator(slug: str, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, f"/ws/regions/{slug}/", headers=headers)


def _run(scenario: Callable[[], Awaitable[None]]) -> None:
    # Sync test, async scenario: database_sync_to_async inside runs back on this thread and connection.
    async_to_sync(scenario)()


async def _joined(slug: str, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = _communicator(slug, headers)
    connected, code = await communicator.connect()
    assert connected, f"console refused (close code {code})"
    hello = await communicator.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
    assert hello["type"] == "hello"
    assert hello["region"] == slug
    return communicator


def test_a_recorded_fix_moves_the_unit_on_an_open_console(redis_up, unit) -> None:
    device = make_device(unit=unit, identifier="psc119-amb-01")
    user = _user("dispatcher1")
    headers = _headers(user)
    recorded_at = timezone.now() - timedelta(seconds=20)
    fix = CanonicalFix(
        device_identifier="psc119-amb-01", lon=CENTRE[0], lat=CENTRE[1], recorded_at=recorded_at, accuracy_m=8.0
    )

    async def scenario() -> None:
        console = await _joined("kota-jambi", headers)
        await database_sync_to_async(position_record)(device=device, fixes=[fix], protocol="osmand")
        message = await console.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
        await console.disconnect()
        assert message["type"] == "unit"
        got = message["unit"]
        assert (got["id"], got["call_sign"], got["status"]) == (unit.pk, "AMB-01", "available")
        position = got["position"]
        assert (position["lon"], position["lat"], position["source"]) == (CENTRE[0], CENTRE[1], "gps")
        assert datetime.fromisoformat(position["recorded_at"]) == recorded_at  # in the API's time zone
        assert position["accuracy_m"] == 8.0
        assert 20.0 <= position["age_s"] < 20.0 + RECEIVE_TIMEOUT_S  # recorded 20 s before the fix was sent
        assert got["assignment"] is None

    _run(scenario)


def test_a_status_change_reaches_every_console_of_the_region(redis_up, unit) -> None:
    dispatcher, planner = _user("dispatcher1"), _user("planner1", role="planner")
    both = [_headers(dispatcher), _headers(planner)]

    async def scenario() -> None:
        consoles = [await _joined("kota-jambi", headers) for headers in both]
        await database_sync_to_async(unit_status_set)(
            unit=unit, to_status=UnitStatus.OUT_OF_SERVICE, actor=Actor.person(dispatcher)
        )
        for console in consoles:
            message = await console.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
            await console.disconnect()
            assert message["type"] == "unit"
            assert (message["unit"]["id"], message["unit"]["status"]) == (unit.pk, "out_of_service")
            assert message["unit"]["position"] is None  # no fix and no home station

    _run(scenario)


def test_a_dispatch_sends_the_unit_and_the_report_as_committed(redis_up, unit, jambi) -> None:
    user = _user("dispatcher1")
    headers = _headers(user)
    incident = make_incident(region=jambi, geom=CENTRE, reference="JMB-2026-000001")

    async def scenario() -> None:
        console = await _joined("kota-jambi", headers)
        await database_sync_to_async(dispatch_assign)(incident=incident, unit=unit, actor=Actor.person(user))
        first = await console.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
        second = await console.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
        await console.disconnect()
        by_type = {first["type"]: first, second["type"]: second}
        assert set(by_type) == {"unit", "incident"}
        sent_unit = by_type["unit"]["unit"]
        assert sent_unit["status"] == "dispatched"
        assert sent_unit["assignment"]["incident_id"] == incident.pk
        assert sent_unit["assignment"]["incident_reference"] == "JMB-2026-000001"
        report = by_type["incident"]["incident"]
        # The report is set dispatched after the unit's status in the same transaction: the message
        # is built after commit, so it shows the final state.
        assert (report["id"], report["status"]) == (incident.pk, "dispatched")
        assert report["location"]["coordinates"][0] == CENTRE[0]  # a GeoJSON Point, as in the REST API
        [assignment] = report["assignments"]
        assert (assignment["unit_id"], assignment["call_sign"], assignment["status"]) == (unit.pk, "AMB-01", "active")
        assert assignment["dispatched_at"] is not None
        assert assignment["en_route_at"] is None

    _run(scenario)


def test_a_cancelled_dispatch_sends_the_unit_available_and_the_report_open(redis_up, unit, jambi) -> None:
    user = _user("dispatcher1")
    headers = _headers(user)
    incident = make_incident(region=jambi, geom=CENTRE, reference="JMB-2026-000002")
    assignment = dispatch_assign(incident=incident, unit=unit, actor=Actor.person(user))

    async def scenario() -> None:
        console = await _joined("kota-jambi", headers)
        await database_sync_to_async(dispatch_cancel)(
            assignment=assignment, actor=Actor.person(user), reason="duplicate call"
        )
        messages = [await console.receive_json_from(timeout=RECEIVE_TIMEOUT_S) for _ in range(2)]
        await console.disconnect()
        by_type = {m["type"]: m for m in messages}
        assert by_type["unit"]["unit"]["status"] == "available"
        assert by_type["unit"]["unit"]["assignment"] is None
        report = by_type["incident"]["incident"]
        assert report["status"] == "open"
        assert [(a["id"], a["status"]) for a in report["assignments"]] == [(assignment.pk, "cancelled")]
        assert report["assignments"][0]["cancelled_at"] is not None

    _run(scenario)


def test_a_new_report_reaches_the_console(redis_up, jambi) -> None:
    user = _user("dispatcher1")
    headers = _headers(user)

    async def scenario() -> None:
        console = await _joined("kota-jambi", headers)
        created = await database_sync_to_async(incident_create)(
            region=jambi, channel=Channel.WHATSAPP, caller_phone="0811-7400-123", priority=1, actor=Actor.person(user)
        )
        message = await console.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
        await console.disconnect()
        assert message["type"] == "incident"
        report = message["incident"]
        assert (report["id"], report["reference"], report["priority"]) == (created.pk, created.reference, 1)
        assert (report["status"], report["location"], report["channel"]) == ("awaiting_location", None, "whatsapp")
        assert (report["assignments"], report["pending_offers"]) == ([], [])

    _run(scenario)


def test_a_rolled_back_change_is_never_sent(redis_up, unit, jambi) -> None:
    other = make_unit(agency=unit.agency, call_sign="AMB-02")
    user = _user("dispatcher1")
    headers = _headers(user)

    def change_then_abort() -> None:
        with transaction.atomic():
            unit_status_set(unit=unit, to_status=UnitStatus.OUT_OF_SERVICE, actor=Actor.person(user))
            raise RuntimeError("abort")

    def rolled_back_then_real() -> None:
        with pytest.raises(RuntimeError, match="abort"):
            change_then_abort()
        unit_status_set(unit=other, to_status=UnitStatus.OUT_OF_SERVICE, actor=SYSTEM)

    async def scenario() -> None:
        console = await _joined("kota-jambi", headers)
        await database_sync_to_async(rolled_back_then_real)()
        message = await console.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
        await console.disconnect()
        # Messages to one channel arrive in the order sent: had AMB-01's rolled-back change been sent,
        # it would have come first.
        assert message["unit"]["call_sign"] == "AMB-02"
        assert (await database_sync_to_async(Unit.objects.get)(pk=unit.pk)).status == "available"

    _run(scenario)


def test_a_console_sees_only_its_own_region(redis_up, unit, jambi) -> None:
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    ambon_unit = make_unit(agency=make_agency(region=ambon), call_sign="AMQ-01")
    user = _user("dispatcher1")  # a member of both centres
    headers = _headers(user)

    async def scenario() -> None:
        ambon_console = await _joined("kota-ambon", headers)
        set_status = database_sync_to_async(unit_status_set)
        await set_status(unit=unit, to_status=UnitStatus.OUT_OF_SERVICE, actor=SYSTEM)
        await set_status(unit=ambon_unit, to_status=UnitStatus.OUT_OF_SERVICE, actor=SYSTEM)
        message = await ambon_console.receive_json_from(timeout=RECEIVE_TIMEOUT_S)
        await ambon_console.disconnect()
        # The Jambi change was sent first: in order delivery means it never reached the Ambon console.
        assert message["unit"]["call_sign"] == "AMQ-01"

    _run(scenario)


@pytest.mark.parametrize(
    ("who", "role"),
    [("anonymous", None), ("no console role", None), ("inactive dispatcher", "dispatcher")],
)
def test_who_may_not_watch_is_refused_at_the_handshake(jambi, who, role) -> None:
    user = None
    if who != "anonymous":
        user = _user("someone", role=role)
    if who == "inactive dispatcher":
        # An inactive user's session no longer authenticates: AuthMiddleware yields AnonymousUser.
        User.objects.filter(pk=user.pk).update(is_active=False)
    headers = _headers(user)

    async def scenario() -> None:
        communicator = _communicator("kota-jambi", headers)
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()

    _run(scenario)


def test_a_foreign_origin_is_refused(jambi) -> None:
    # The session cookie alone must not let another site's page open a dispatcher's socket.
    user = _user("dispatcher1")
    headers = [(b"origin", b"http://evil.example"), _cookie(user)]

    async def scenario() -> None:
        communicator = WebsocketCommunicator(application, "/ws/regions/kota-jambi/", headers=headers)
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()

    _run(scenario)


def test_an_unknown_region_is_closed_with_4404(redis_up, jambi) -> None:
    user = _user("dispatcher1")
    headers = _headers(user)

    async def scenario() -> None:
        communicator = _communicator("kota-atlantis", headers)
        connected, _ = await communicator.connect()
        assert connected
        closed = await communicator.receive_output(timeout=RECEIVE_TIMEOUT_S)
        assert closed == {"type": "websocket.close", "code": CLOSE_UNKNOWN_REGION}

    _run(scenario)


def test_another_centres_region_is_closed_with_4404_like_an_unknown_one(redis_up, jambi) -> None:
    make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    jambi_only = _user("dispatcher-jambi", regions=[jambi])
    headers = _headers(jambi_only)

    async def scenario() -> None:
        await (await _joined("kota-jambi", headers)).disconnect()
        communicator = _communicator("kota-ambon", headers)
        connected, _ = await communicator.connect()
        assert connected
        closed = await communicator.receive_output(timeout=RECEIVE_TIMEOUT_S)
        assert closed == {"type": "websocket.close", "code": CLOSE_UNKNOWN_REGION}

    _run(scenario)


def test_a_staff_user_may_watch_and_gets_pong(redis_up, jambi) -> None:
    staff = make_user("kepala", regions=[jambi])
    staff.is_staff = True
    staff.save()
    headers = _headers(staff)

    async def scenario() -> None:
        console = await _joined("kota-jambi", headers)
        await console.send_json_to({"type": "ping"})
        assert (await console.receive_json_from(timeout=RECEIVE_TIMEOUT_S))["type"] == "pong"
        await console.disconnect()

    _run(scenario)


def test_a_fix_is_recorded_when_redis_is_unreachable(settings, unit, caplog) -> None:
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    # Port 1 on the loopback: nothing listens, the connection is refused at once.
    layers["default"]["CONFIG"]["hosts"] = [{"address": "redis://127.0.0.1:1/0", "socket_connect_timeout": 1}]
    settings.CHANNEL_LAYERS = layers
    device = make_device(unit=unit, identifier="psc119-amb-01")
    fix = CanonicalFix(
        device_identifier="psc119-amb-01",
        lon=CENTRE[0],
        lat=CENTRE[1],
        recorded_at=timezone.now() - timedelta(seconds=5),
    )

    with caplog.at_level(logging.WARNING, logger="incidents.live"):
        result = position_record(device=device, fixes=[fix], protocol="osmand")
        unit_status_set(unit=unit, to_status=UnitStatus.OUT_OF_SERVICE, actor=SYSTEM)

    assert result.last_fix_changed
    stored = Unit.objects.get(pk=unit.pk)
    assert (stored.last_fix_id, stored.status) == (result.last_fix.pk, "out_of_service")
    not_sent = [r for r in caplog.records if r.name == "incidents.live" and "not sent" in r.getMessage()]
    assert len(not_sent) == 2, [r.getMessage() for r in caplog.records]
    assert live_send(region_id=unit.agency.region_id, message={"type": "unit"}) is False
