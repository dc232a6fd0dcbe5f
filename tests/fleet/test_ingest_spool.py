"""OwnTracks over HTTP while PostgreSQL is away: spooled in Redis, answered 200 only once spooled, replayed once.

The outage is simulated: the storage raises ``OperationalError`` as psycopg does when the server is gone.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client
from django.utils import timezone
from factories.fleet import make_agency, make_device, make_unit

from fleet.models import InboundMessage, PositionFix
from fleet.services import spool
from fleet.services.spool import credentials_forget, spool_depth, spool_replay

pytestmark = pytest.mark.django_db
OWNTRACKS = "/api/ingest/owntracks"
SECRET = "owntracks-phone-secret"
CENTRE = (103.6131, -1.5913)


def _basic(user: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


@pytest.fixture(autouse=True)
def _own_spool(settings):
    """A stream of this test's own in the test Redis; no remembered credentials from another test."""
    stream = settings.SIAGA_SPOOL_STREAM = f"siaga-test-spool-{uuid.uuid4().hex}"
    client = spool._redis()  # the test Redis, whatever REDIS_URL a test sets meanwhile
    credentials_forget()
    yield
    client.delete(stream, *client.keys(f"{stream}:*"))  # and the credential changes shared under its name
    credentials_forget()


@pytest.fixture
def phone(jambi_kecamatan):
    unit = make_unit(agency=make_agency(region=jambi_kecamatan), call_sign="AMB-07")
    return make_device(unit=unit, identifier="amb07/phone", secret=SECRET)


def _post(ago_s: float, *, secret: str = SECRET, lon: float = CENTRE[0]):
    tst = int((timezone.now() - timedelta(seconds=ago_s)).timestamp())
    body = {"_type": "location", "lat": CENTRE[1], "lon": lon, "tst": tst, "acc": 9, "vel": 30}
    return Client().post(
        OWNTRACKS, data=json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION=_basic("amb07", secret), HTTP_X_LIMIT_D="phone",
    )  # fmt: skip


def _database_down(monkeypatch, where: str = "fleet.api.ingest_views.inbound_message_store") -> None:
    def down(**kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    monkeypatch.setattr(where, down)


def test_a_fix_sent_while_the_database_is_away_is_spooled_answered_200_and_replayed_once(phone, monkeypatch) -> None:
    assert _post(60).status_code == 200  # the phone was heard before the outage: its secret's hash is known
    with monkeypatch.context() as outage:
        _database_down(outage)
        response = _post(30, lon=CENTRE[0] + 0.001)
        assert (response.status_code, response.json()) == (200, [])
        assert spool_depth() == 1
    assert InboundMessage.objects.count() == 1  # the outage stored nothing
    result = spool_replay()
    assert (result.stored, result.left, result.database_away) == (1, 0, False)
    replayed = InboundMessage.objects.get(headers__has_key="Spool-Id")
    assert (replayed.channel, replayed.outcome, replayed.device_id) == ("owntracks", "accepted", phone.pk)
    assert SECRET not in json.dumps(replayed.headers) + replayed.body + replayed.query  # nor in the spool
    fixes = PositionFix.objects.filter(unit=phone.unit).order_by("recorded_at")
    assert [f.lon for f in fixes] == [CENTRE[0], CENTRE[0] + 0.001]
    assert fixes.last().message_id == replayed.pk
    phone.unit.refresh_from_db()
    assert phone.unit.last_fix_id == fixes.last().pk  # the spooled fix is the newest: the unit moved to it
    assert spool_replay().stored == 0  # nothing left, nothing stored twice
    assert PositionFix.objects.filter(unit=phone.unit).count() == 2


def test_a_replay_while_the_database_is_still_away_keeps_every_entry_in_order(phone, monkeypatch) -> None:
    assert _post(90).status_code == 200
    with monkeypatch.context() as outage:
        _database_down(outage)
        for ago_s in (60, 50, 40):
            assert _post(ago_s).status_code == 200
        _database_down(outage, "fleet.services.spool.inbound_message_store")
        result = spool_replay()
        assert (result.stored, result.database_away, result.left) == (0, True, 3)
    result = spool_replay()
    assert (result.stored, result.left) == (3, 0)
    spooled = InboundMessage.objects.filter(headers__has_key="Spool-Id").order_by("received_at")
    assert len(spooled) == 3
    assert [m.received_at for m in spooled] == sorted(m.received_at for m in spooled)
    assert all(m.received_at < timezone.now() for m in spooled)  # received when spooled, not when replayed


def test_an_entry_stored_before_a_replay_stopped_is_not_stored_again(phone, monkeypatch) -> None:
    assert _post(60).status_code == 200
    with monkeypatch.context() as outage:
        _database_down(outage)
        assert _post(30).status_code == 200
    # A replay that committed the entry and stopped before removing it from the stream.
    with monkeypatch.context() as crash:
        crash.setattr(spool.redis.Redis, "xdel", lambda self, *a: (_ for _ in ()).throw(ConnectionError("killed")))
        with pytest.raises(ConnectionError):
            spool_replay()
    assert spool_depth() == 1
    result = spool_replay()
    assert (result.stored, result.already_stored, result.left) == (0, 1, 0)
    assert InboundMessage.objects.filter(headers__has_key="Spool-Id").count() == 1
    assert PositionFix.objects.filter(unit=phone.unit).count() == 2


def test_the_database_failing_after_the_raw_message_was_stored_spools_too(phone, monkeypatch) -> None:
    assert _post(60).status_code == 200
    with monkeypatch.context() as outage:
        _database_down(outage, "fleet.api.ingest_views.owntracks_http_record")
        assert _post(30).status_code == 200
    assert spool_replay().stored == 1
    assert PositionFix.objects.filter(unit=phone.unit).count() == 2  # the failed attempt wrote no fix


@pytest.mark.parametrize("case", ["never heard", "wrong secret", "redis away"])
def test_what_cannot_be_spooled_is_a_503_for_the_phone_to_send_again(phone, monkeypatch, settings, case) -> None:
    if case != "never heard":
        assert _post(60).status_code == 200
    _database_down(monkeypatch)
    if case == "redis away":
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = _post(30, secret="wrong-secret" if case == "wrong secret" else SECRET)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "ingest_unavailable"
    if case != "redis away":
        assert spool_depth() == 0


def test_a_device_deactivated_meanwhile_is_refused_at_replay_and_kept_with_why(phone, monkeypatch) -> None:
    assert _post(60).status_code == 200
    with monkeypatch.context() as outage:
        _database_down(outage)
        assert _post(30).status_code == 200
    phone.is_active = False
    phone.save(update_fields=["is_active"])
    result = spool_replay()
    assert (result.refused, result.left) == (1, 0)
    message = InboundMessage.objects.get(headers__has_key="Spool-Id")
    assert message.outcome == "rejected"
    assert "deactivated" in message.error


def test_the_command_replays_the_spool(phone, monkeypatch) -> None:
    from io import StringIO

    assert _post(60).status_code == 200
    with monkeypatch.context() as outage:
        _database_down(outage)
        assert _post(30).status_code == 200
    # The test runs in one transaction: a long-running command's "drop a stale connection" would end it.
    monkeypatch.setattr("fleet.management.commands.ingest_spool_replay.close_old_connections", lambda: None)
    out = StringIO()
    call_command("ingest_spool_replay", stdout=out)
    assert "stored 1, already stored 0, refused 0, left 0" in out.getvalue()


def test_a_secret_rotated_through_another_process_is_refused_here_while_the_database_is_away(
    phone, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """This process remembered the old secret's hash; the secret is rotated elsewhere (the admin on another worker):
    during an outage here the old secret is refused and the new one taken, through the change kept in Redis."""
    from fleet.services.devices import device_secret_rotate

    assert _post(60).status_code == 200  # remembered here: the old hash
    remembered = dict(spool._credentials)
    with django_capture_on_commit_callbacks(execute=True):
        new_secret = device_secret_rotate(device=phone)  # as another process would: only Redis carries it here
    monkeypatch.setattr(spool, "_credentials", remembered)  # this process never saw the rotation
    _database_down(monkeypatch)
    assert _post(30).status_code == 503  # the old secret
    assert _post(20, secret=new_secret).status_code == 200  # the new one, checked against the shared hash
    assert spool_depth() == 1


def test_a_device_deactivated_in_the_admin_of_another_process_cannot_spool_here(
    phone, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from fleet.services.devices import device_deactivated

    assert _post(60).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        device_deactivated(device=phone)  # shared once the admin's save commits
    _database_down(monkeypatch)
    assert _post(30).status_code == 503
    assert spool_depth() == 0
