"""Hand-offs to agencies without tracked units: delivered, acknowledged by a signed reply, escalated, timed.

WhatsApp agencies get the template with a "Diterima" quick reply (local Cloud API server); agencies with a
system of their own get a signed POST (the same local server records it) and answer on their signed
endpoint. KPI figures are worked by hand in the last tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from factories.access import make_user
from factories.cloud_api_server import CloudApiServer
from factories.fleet import make_agency, make_incident, make_incident_type, make_unit
from factories.gis_core import make_region
from factories.whatsapp_webhook import APP_SECRET, PHONE_NUMBER_ID, button_reply, deliver, envelope

from access import roles
from fleet.models import ActorKind, AgencyKind, AuditEntry, InboundMessage
from incidents.errors import HandoffRefusedError, HandoffStateError
from incidents.live.messages import handoff_escalated_message
from incidents.models import Handoff, HandoffStatus, OutboundMessage, WhatsAppMessage
from incidents.representations import incident_public, incidents_loaded
from incidents.selectors.kpis import handoff_kpis
from incidents.services.handoffs import (
    handoff_create,
    handoff_update,
    handoffs_escalate_due,
    handoffs_from_incident_type,
)
from incidents.services.outbound import outbound_process_due

pytestmark = pytest.mark.django_db

TOKEN = "EAAG-test-token"
POLRESTA_DUTY = "+6281211112222"
AGENCY_SECRET = "satpol-pp-shared-secret"


@pytest.fixture
def server(settings, jambi_region):
    jambi_region.whatsapp_phone_number_id = PHONE_NUMBER_ID
    jambi_region.save()
    with CloudApiServer(token=TOKEN) as running:
        settings.WHATSAPP_API_BASE_URL = running.base_url
        settings.WHATSAPP_ACCESS_TOKEN = TOKEN
        settings.WHATSAPP_APP_SECRET = APP_SECRET
        settings.SIAGA_HANDOFF_ACK_TIMEOUT_S = 300.0
        yield running


@pytest.fixture
def polresta(jambi_region):
    return make_agency(region=jambi_region, code="polresta", kind=AgencyKind.POLICE, duty_whatsapp="0812-1111-2222")


@pytest.fixture
def satpol(server, jambi_region):
    return make_agency(
        region=jambi_region, code="satpolpp", kind=AgencyKind.CIVIL,
        handoff_webhook_url=f"{server.base_url}/agency/satpolpp/hook", handoff_webhook_secret=AGENCY_SECRET,
    )  # fmt: skip


def _shape(incident) -> dict:
    loaded = incidents_loaded(type(incident).objects.filter(pk=incident.pk)).get()
    return incident_public(
        loaded, assignments=loaded.assignments.all(), pending_offers=loaded.pending_offers,
        handoffs=loaded.handoffs.all(),
    )  # fmt: skip


def test_a_whatsapp_hand_off_is_sent_then_acknowledged_by_the_duty_desks_reply(client, server, polresta) -> None:
    incident = make_incident(region=polresta.region, address_text="Pasar Angso Duo")
    handoff = handoff_create(incident=incident, agency=polresta)
    assert handoff.status == HandoffStatus.PENDING
    assert handoff.channel == "whatsapp"
    assert server.received == [], "sent after commit by the worker"

    outbound_process_due()

    (request,) = server.sends()
    body = request.json()
    assert body["to"] == POLRESTA_DUTY.lstrip("+")
    assert body["template"]["name"] == "siaga_handoff"
    params, button = body["template"]["components"]
    assert params["parameters"][3]["text"] == incident.reference
    assert button["parameters"] == [{"type": "payload", "payload": f"siaga:h:{handoff.pk}:acknowledged"}]
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.SENT
    assert handoff.sent_at is not None

    reply = button_reply(
        "wamid.H1", sender=POLRESTA_DUTY, payload=f"siaga:h:{handoff.pk}:acknowledged", text="Diterima"
    )
    assert deliver(client, envelope(reply)).status_code == 200
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.ACKNOWLEDGED
    assert handoff.acknowledged_at is not None
    audit = AuditEntry.objects.get(action="handoff.update")
    assert audit.actor_kind == ActorKind.AGENCY
    assert audit.actor_label == f"{POLRESTA_DUTY} (polresta duty)"
    (leg,) = _shape(incident)["handoffs"]
    assert leg["status"] == "acknowledged"
    assert leg["delivery"]["delivered"] is True
    assert leg["ack_s"] is not None


def test_an_acknowledgement_from_another_number_is_refused_and_stored(client, server, polresta) -> None:
    handoff = handoff_create(incident=make_incident(region=polresta.region), agency=polresta)
    outbound_process_due()
    reply = button_reply(
        "wamid.H2", sender="+6285700000000", payload=f"siaga:h:{handoff.pk}:acknowledged", text="Diterima"
    )
    deliver(client, envelope(reply))
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.SENT
    assert WhatsAppMessage.objects.get(message_id="wamid.H2").outcome == "refused"


def _sign(body: bytes, secret: str = AGENCY_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_webhook_hand_off_is_signed_retried_and_answered_on_the_signed_endpoint(client, server, satpol) -> None:
    incident = make_incident(region=satpol.region, description="pedagang di trotoar")
    handoff = handoff_create(incident=incident, agency=satpol)
    server.script.append("server_error")
    now = timezone.now()
    outbound_process_due(now=now)
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.PENDING, "a 500 is not a delivery"
    outbound_process_due(now=now + timedelta(seconds=60))
    first, second = [r for r in server.received if r.path == "/agency/satpolpp/hook"]
    assert second.headers["X-Siaga-Signature-256"] == _sign(second.body), "signed with the agency's secret"
    assert second.json()["incident"]["reference"] == incident.reference
    assert first.body == second.body
    handoff.refresh_from_db()
    assert handoff.status == HandoffStatus.SENT

    url = f"/api/handoffs/{handoff.pk}/agency/"
    body = json.dumps({"status": "on_scene", "reference": "SPP/2026/0413"}).encode()
    wrong = client.post(url, data=body, content_type="application/json", HTTP_X_SIAGA_SIGNATURE_256=_sign(body, "x"))
    assert wrong.status_code == 403
    assert InboundMessage.objects.filter(channel="handoff", outcome="rejected").count() == 1, "stored first"
    right = client.post(url, data=body, content_type="application/json", HTTP_X_SIAGA_SIGNATURE_256=_sign(body))
    assert right.status_code == 200, right.content
    assert right.json() == {"id": handoff.pk, "status": "on_scene", "agency_reference": "SPP/2026/0413"}
    handoff.refresh_from_db()
    assert handoff.on_scene_at is not None
    assert handoff.acknowledged_at is None, "a skipped step keeps no time"


def test_an_unacknowledged_hand_off_escalates_once_after_the_timeout(server, polresta, satpol) -> None:
    incident = make_incident(region=polresta.region)
    late = handoff_create(incident=incident, agency=polresta)
    answered = handoff_create(incident=incident, agency=satpol)
    outbound_process_due()
    handoff_update(handoff=answered, status=HandoffStatus.ACKNOWLEDGED)
    late.refresh_from_db()

    assert handoffs_escalate_due(now=late.sent_at + timedelta(seconds=299)) == []
    (escalated,) = handoffs_escalate_due(now=late.sent_at + timedelta(seconds=301))
    assert escalated.pk == late.pk
    assert handoffs_escalate_due(now=late.sent_at + timedelta(seconds=900)) == [], "once"
    shape = _shape(incident)
    assert shape["handoff_escalated"] is True
    assert [h["escalated"] for h in shape["handoffs"]] == [True, False]
    region_id, message = handoff_escalated_message(late.pk, timezone.now())
    assert region_id == incident.region_id
    assert message["type"] == "handoff_escalated"
    assert message["handoff"]["agency"] == "polresta"
    assert AuditEntry.objects.filter(action="handoff.escalate", data__waited_s=301).exists()

    handoff_update(handoff=late, status=HandoffStatus.ACKNOWLEDGED)
    assert _shape(incident)["handoff_escalated"] is False, "acknowledged late: no longer flagged"


def test_an_undelivered_hand_off_escalates_from_its_creation(server, settings, polresta) -> None:
    settings.WHATSAPP_ACCESS_TOKEN = ""  # never delivered
    handoff = handoff_create(incident=make_incident(region=polresta.region), agency=polresta)
    outbound_process_due()
    assert [h.pk for h in handoffs_escalate_due(now=handoff.created_at + timedelta(seconds=301))] == [handoff.pk]


def test_hand_off_rules(server, polresta, jambi_region) -> None:
    incident = make_incident(region=jambi_region)
    handoff = handoff_create(incident=incident, agency=polresta)
    with pytest.raises(HandoffRefusedError, match="already has an open hand-off"):
        handoff_create(incident=incident, agency=polresta)
    handoff_update(handoff=handoff, status=HandoffStatus.CLOSED, agency_reference="LP/123")
    with pytest.raises(HandoffStateError, match="cannot go back"):
        handoff_update(handoff=handoff, status=HandoffStatus.ACKNOWLEDGED)
    assert handoff_create(incident=incident, agency=polresta).pk != handoff.pk, "a new leg after the closed one"
    ambon = make_agency(region=make_region(code="81.71", slug="kota-ambon", name="Kota Ambon"), kind=AgencyKind.POLICE)
    with pytest.raises(HandoffRefusedError, match="another region"):
        handoff_create(incident=incident, agency=ambon)
    manual = handoff_create(incident=incident, agency=make_agency(region=jambi_region, kind=AgencyKind.SOCIAL))
    assert manual.channel == "manual"
    assert manual.status == HandoffStatus.SENT, "by phone: sent at once"
    assert not OutboundMessage.objects.filter(handoff=manual).exists()


def test_the_incident_type_names_the_agencies_without_tracked_units(server, polresta, jambi_region) -> None:
    itype = make_incident_type(code="perkelahian", needs=[(AgencyKind.POLICE, "police_patrol", 1)])
    tracked = make_agency(region=jambi_region, code="polsek", kind=AgencyKind.POLICE)
    make_unit(agency=tracked)
    incident = make_incident(region=jambi_region, incident_type=itype)
    created = handoffs_from_incident_type(incident=incident)
    assert [h.agency.code for h in created] == ["polresta"], "polsek has units: it is dispatched, not handed off"
    assert created[0].source == "incident_type"
    assert handoffs_from_incident_type(incident=incident) == [], "an open leg is not repeated"


def test_the_api_creates_and_updates_hand_offs(client, server, polresta, jambi_region) -> None:
    client.force_login(make_user("desk", roles.DISPATCHER, regions=[jambi_region]))
    incident = make_incident(region=jambi_region)
    url = f"/api/incidents/{incident.pk}/handoffs/"

    assert client.post(url, {"agency": "nope"}, content_type="application/json").status_code == 400
    assert client.post(url, {}, content_type="application/json").status_code == 400
    created = client.post(url, {"agency": "polresta", "note": "backup"}, content_type="application/json")
    assert created.status_code == 201, created.content
    (leg,) = created.json()
    assert leg["agency"] == "polresta"
    assert leg["status"] == "pending"
    again = client.post(url, {"agency": "polresta"}, content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "handoff_refused"
    update = f"/api/handoffs/{leg['id']}/"
    moved = client.post(update, {"status": "acknowledged", "agency_reference": "LP/9"}, content_type="application/json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["agency_reference"] == "LP/9"
    back = client.post(update, {"status": "pending"}, content_type="application/json")
    assert back.status_code == 400
    assert client.get(url).json()[0]["status"] == "acknowledged"
    assert client.get(f"/api/incidents/{incident.pk}/").json()["handoffs"][0]["id"] == leg["id"]
    kpis = client.get("/api/kpis/handoffs/", {"region": jambi_region.slug}).json()
    assert [(g["key"], g["handoffs"], g["acknowledged"]) for g in kpis["groups"]] == [("polresta", 1, 1)]
    assert client.get("/api/kpis/handoffs/", {"region": jambi_region.slug, "since": "soon"}).status_code == 400


def test_hand_off_kpis_per_agency_worked_by_hand(server, polresta, satpol, jambi_region) -> None:
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=2)

    def leg(agency, *, ack_after_s: float | None, start):
        h = Handoff.objects.create(
            incident=make_incident(region=jambi_region), agency=agency, channel="manual", source="dispatcher",
            status=HandoffStatus.SENT, created_at=start, sent_at=start,
        )  # fmt: skip
        if ack_after_s is not None:
            handoff_update(handoff=h, status=HandoffStatus.ACKNOWLEDGED, at=start + timedelta(seconds=ack_after_s))

    # Polresta: acknowledged after 60 s, 180 s and 300 s. Satpol PP: after 120 s, and one never acknowledged.
    for i, s in enumerate((60, 180, 300)):
        leg(polresta, ack_after_s=s, start=t0 + timedelta(minutes=i))
    leg(satpol, ack_after_s=120, start=t0)
    leg(satpol, ack_after_s=None, start=t0 + timedelta(minutes=5))

    result = handoff_kpis(region=jambi_region, since=t0 - timedelta(hours=1), until=timezone.now())
    by = {g["key"]: g for g in result["groups"]}
    # mean (60 + 180 + 300) / 3 = 180; p90 by linear interpolation: h = (3 - 1) * 0.9 = 1.8, so
    # 180 + 0.8 * (300 - 180) = 276.
    assert by["polresta"]["ack_s"] == {"n": 3, "mean": 180.0, "p90": 276.0}
    assert by["polresta"]["acknowledged"] == 3
    assert by["polresta"]["unacknowledged"] == 0
    # One acknowledged leg: n 1, mean and p90 both 120; the other is counted as unacknowledged.
    assert by["satpolpp"]["ack_s"] == {"n": 1, "mean": 120.0, "p90": 120.0}
    assert (by["satpolpp"]["handoffs"], by["satpolpp"]["unacknowledged"]) == (2, 1)


def test_an_agencys_update_with_junk_is_a_clear_refusal(client, server, satpol) -> None:
    handoff = handoff_create(incident=make_incident(region=satpol.region), agency=satpol)
    url = f"/api/handoffs/{handoff.pk}/agency/"
    for raw in (b"not json", b"[]", json.dumps({"status": "flying"}).encode(), json.dumps({"at": "soon"}).encode(),
                json.dumps({"reference": "LP\x00/1", "status": 5}).encode()):  # fmt: skip
        response = client.post(url, data=raw, content_type="application/json", HTTP_X_SIAGA_SIGNATURE_256=_sign(raw))
        assert response.status_code == 409, (raw, response.content)
    raw = json.dumps({"reference": "LP\x00/1"}).encode()
    response = client.post(url, data=raw, content_type="application/json", HTTP_X_SIAGA_SIGNATURE_256=_sign(raw))
    assert response.status_code == 200
    handoff.refresh_from_db()
    assert handoff.agency_reference == "LP\ufffd/1", "a NUL is kept visible, never stored raw"
