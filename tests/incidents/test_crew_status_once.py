"""The crew status endpoint with a crew session and an Idempotency-Key: a resend records no second change;
a change queued offline keeps the time it was made."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from fleet.models import InboundMessage, UnitStatus
from fleet.services.crew_sessions import crew_pairing_create, crew_pairing_redeem
from incidents.models import StatusChange
from incidents.services.dispatch import dispatch_assign


def test_a_resent_status_change_is_recorded_once_at_the_time_it_was_made(client, fleet) -> None:
    unit = fleet.make_unit()
    device = fleet.make_device(unit=unit)
    incident = fleet.make_incident(region=unit.agency.region)
    dispatch_assign(incident=incident, unit=unit, at=timezone.now() - timedelta(minutes=10))
    _, token = crew_pairing_create(device=device)
    _, session_token = crew_pairing_redeem(token=token)
    made_at = timezone.now() - timedelta(minutes=3)
    body = json.dumps({"status": "en_route", "at": made_at.isoformat()})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {session_token}", "HTTP_IDEMPOTENCY_KEY": "status-7"}
    first = client.post("/api/ingest/status/", body, content_type="application/json", **headers)
    assert first.status_code == 200, first.content
    again = client.post("/api/ingest/status/", body, content_type="application/json", **headers)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["status"] == "en_route"
    changes = StatusChange.objects.filter(unit=unit).order_by("at")
    assert [c.to_status for c in changes] == ["dispatched", "en_route"]  # not twice
    assert changes.last().at == made_at
    # A phone whose clock is behind: the change is put at the one before it, never earlier.
    behind = client.post(
        "/api/ingest/status/", {"status": "on_scene", "at": (made_at - timedelta(minutes=5)).isoformat()},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {session_token}",
    )  # fmt: skip
    assert behind.status_code == 200
    assert StatusChange.objects.filter(unit=unit).order_by("at", "pk").last().at == made_at
    unit.refresh_from_db()
    assert unit.status == UnitStatus.ON_SCENE
    messages = InboundMessage.objects.filter(channel="crew_status").order_by("pk")
    outcomes = list(messages.values_list("outcome", flat=True))
    assert outcomes == ["accepted", "duplicate", "accepted"]


def test_a_refused_change_claims_no_key_and_a_time_ahead_is_a_400(client, fleet) -> None:
    device = fleet.make_device()
    _, token = crew_pairing_create(device=device)
    _, session_token = crew_pairing_redeem(token=token)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {session_token}", "HTTP_IDEMPOTENCY_KEY": "k1"}
    refused = client.post("/api/ingest/status/", {"status": "on_scene"}, content_type="application/json", **headers)
    assert refused.status_code == 409
    assert "cannot go from available to on_scene" in refused.json()["error"]["message"]
    ahead = (timezone.now() + timedelta(hours=1)).isoformat()
    late = client.post(
        "/api/ingest/status/", {"status": "out_of_service", "at": ahead}, content_type="application/json", **headers
    )
    assert late.status_code == 400
    ok = client.post("/api/ingest/status/", {"status": "out_of_service"}, content_type="application/json", **headers)
    assert ok.status_code == 200
    assert "duplicate" not in ok.json()
