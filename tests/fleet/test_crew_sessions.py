"""Crew pairing: a one-time, short-lived link for one device; the session it gives authenticates the
device endpoints in place of the device secret; an Idempotency-Key makes a resend record nothing again."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from fleet.errors import CrewSessionInvalidError, PairingInvalidError
from fleet.models import CrewPairing, CrewSession, DeviceRequestKey, InboundMessage, PositionFix
from fleet.services.crew_sessions import (
    crew_pairing_create,
    crew_pairing_redeem,
    crew_session_authenticate,
    crew_sessions_revoke,
    token_digest,
)


@pytest.fixture
def paired(fleet):
    device = fleet.make_device(identifier="psc-01-web")
    _, token = crew_pairing_create(device=device)
    _, session_token = crew_pairing_redeem(token=token)
    return device, session_token


def _bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_pairing_is_stored_hashed_and_redeemed_once(fleet) -> None:
    device = fleet.make_device()
    pairing, token = crew_pairing_create(device=device)
    assert pairing.token_hash == token_digest(token)
    assert token not in pairing.token_hash
    # What SIAGA_CREW_PAIRING_TTL_S defaults to: ten minutes.
    assert (pairing.expires_at - pairing.created_at).total_seconds() == 600
    session, session_token = crew_pairing_redeem(token=token)
    assert session.device == device
    assert session_token.startswith("crew_")
    assert CrewSession.objects.get().token_hash == token_digest(session_token)
    assert crew_session_authenticate(session_token) == device
    with pytest.raises(PairingInvalidError, match="already used"):
        crew_pairing_redeem(token=token)


def test_an_expired_or_unknown_pairing_is_refused(fleet) -> None:
    device = fleet.make_device()
    pairing, token = crew_pairing_create(device=device)
    CrewPairing.objects.filter(pk=pairing.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(PairingInvalidError, match="expired"):
        crew_pairing_redeem(token=token)
    with pytest.raises(PairingInvalidError, match="unknown"):
        crew_pairing_redeem(token="not-a-token")
    assert not CrewSession.objects.exists()


def test_a_revoked_session_or_a_deactivated_device_no_longer_authenticates(paired) -> None:
    device, session_token = paired
    device.is_active = False
    device.save()
    with pytest.raises(CrewSessionInvalidError):
        crew_session_authenticate(session_token)
    device.is_active = True
    device.save()
    assert crew_sessions_revoke(device=device) == 1
    with pytest.raises(CrewSessionInvalidError):
        crew_session_authenticate(session_token)


def test_the_batch_endpoint_takes_the_crew_session_and_a_resend_is_recorded_once(client, paired) -> None:
    device, session_token = paired
    body = json.dumps({"fixes": [{"recorded_at": timezone.now().isoformat(), "lon": 103.61, "lat": -1.61}]})
    headers = {**_bearer(session_token), "HTTP_IDEMPOTENCY_KEY": "fix-batch-1"}
    first = client.post("/api/ingest/batch/", body, content_type="application/json", **headers)
    assert first.status_code == 200, first.content
    again = client.post("/api/ingest/batch/", body, content_type="application/json", **headers)
    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    assert PositionFix.objects.filter(device=device).count() == 1
    # Both requests are kept as they came, the second marked a duplicate; neither holds the token.
    messages = InboundMessage.objects.filter(channel="batch").order_by("pk")
    assert [m.outcome for m in messages] == ["accepted", "duplicate"]
    assert all(session_token not in json.dumps(m.headers) + m.body for m in messages)
    assert DeviceRequestKey.objects.get().message == messages[0]


def test_a_wrong_crew_session_is_a_401_and_a_bad_key_a_400(client, paired) -> None:
    _, session_token = paired
    body = json.dumps({"fixes": [{"recorded_at": timezone.now().isoformat(), "lon": 103.61, "lat": -1.61}]})
    wrong = client.post("/api/ingest/batch/", body, content_type="application/json", **_bearer("crew_nope"))
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "crew_session_invalid"
    bad = client.post(
        "/api/ingest/batch/", body, content_type="application/json", **_bearer(session_token),
        HTTP_IDEMPOTENCY_KEY="x" * 65,
    )  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "idempotency_key_invalid"
    assert not PositionFix.objects.exists()


def test_a_batch_naming_another_device_is_refused_for_a_crew_session(client, fleet, paired) -> None:
    _, session_token = paired
    other = fleet.make_device(identifier="someone-else")
    body = json.dumps({"device": other.identifier, "fixes": [{"lon": 103.61, "lat": -1.61}]})
    answer = client.post("/api/ingest/batch/", body, content_type="application/json", **_bearer(session_token))
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "wrong_unit"


def test_the_admin_ends_a_lost_phones_crew_sessions(admin_client, paired) -> None:
    device, session_token = paired
    response = admin_client.post(
        "/admin/fleet/device/", {"action": "end_crew_sessions", "_selected_action": [device.pk]}, follow=True
    )
    assert "1 crew page session(s) ended" in response.content.decode()
    with pytest.raises(CrewSessionInvalidError):
        crew_session_authenticate(session_token)
