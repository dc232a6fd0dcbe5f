"""The crew's WhatsApp: a dispatch queues the template with three quick replies; a signed reply moves the unit.

End to end through the dispatch service, the outbound worker against a local Cloud API server, and Meta's
signed webhook through Django's test client.
"""

from __future__ import annotations

import pytest
from factories.cloud_api_server import CloudApiServer
from factories.fleet import make_incident, make_unit
from factories.whatsapp_webhook import APP_SECRET, PHONE_NUMBER_ID, button_reply, deliver, envelope, interactive_reply

from fleet.models import ActorKind, AuditEntry, InboundMessage, UnitStatus
from incidents.models import (
    Assignment,
    OutboundMessage,
    OutboundPurpose,
    OutboundState,
    StatusChange,
    WhatsAppMessage,
)
from incidents.representations import assignment_public
from incidents.services.dispatch import dispatch_assign
from incidents.services.outbound import outbound_process_due

pytestmark = pytest.mark.django_db

TOKEN = "EAAG-test-token"
CREW = "+6281300001111"
STRANGER = "+6281399998888"


@pytest.fixture
def server(settings, jambi_region):
    jambi_region.whatsapp_phone_number_id = PHONE_NUMBER_ID
    jambi_region.save()
    with CloudApiServer(token=TOKEN) as running:
        settings.WHATSAPP_API_BASE_URL = running.base_url
        settings.WHATSAPP_ACCESS_TOKEN = TOKEN
        settings.WHATSAPP_APP_SECRET = APP_SECRET
        settings.SIAGA_CREW_PAGE_URL = "https://siaga.example.id/crew/"
        yield running


@pytest.fixture
def dispatched(server, jambi_region) -> Assignment:
    unit = make_unit(call_sign="PSC119-02", crew_whatsapp="0813-0000-1111")  # as a dispatcher types it
    incident = make_incident(region=jambi_region, address_text="Jl. Sultan Agung No. 12")
    return dispatch_assign(incident=incident, unit=unit)


def _unit_status(assignment: Assignment) -> str:
    assignment.unit.refresh_from_db()
    return assignment.unit.status


def test_a_dispatch_queues_the_template_and_the_worker_sends_it(server, dispatched) -> None:
    assert server.received == [], "nothing is sent inside the dispatch"
    (message,) = OutboundMessage.objects.filter(assignment=dispatched, purpose=OutboundPurpose.DISPATCH)
    assert message.state == OutboundState.QUEUED
    assert message.to == CREW
    assert assignment_public(dispatched)["notification"]["delivered"] is False

    outbound_process_due()

    (request,) = server.sends()
    body = request.json()
    assert body["to"] == CREW.lstrip("+")
    assert body["type"] == "template"
    body_params, *buttons = body["template"]["components"]
    assert [p["text"] for p in body_params["parameters"]] == [
        "-",  # no type yet
        "Jl. Sultan Agung No. 12",
        "-",  # no gazetteer loaded: no landmark
        "https://siaga.example.id/crew/",
    ]
    assert [(b["sub_type"], b["index"], b["parameters"][0]["payload"]) for b in buttons] == [
        ("quick_reply", "0", f"siaga:a:{dispatched.pk}:en_route"),
        ("quick_reply", "1", f"siaga:a:{dispatched.pk}:on_scene"),
        ("quick_reply", "2", f"siaga:a:{dispatched.pk}:returning"),
    ]
    shown = assignment_public(Assignment.objects.get(pk=dispatched.pk))["notification"]
    assert shown["state"] == "sent"
    assert shown["delivered"] is True


def test_a_refused_send_never_touches_the_dispatch_and_shows_as_not_sent(server, jambi_region) -> None:
    server.script.append("server_error")
    unit = make_unit(crew_whatsapp=CREW)
    assignment = dispatch_assign(incident=make_incident(region=jambi_region), unit=unit)
    outbound_process_due()
    assert _unit_status(assignment) == UnitStatus.DISPATCHED
    shown = assignment_public(Assignment.objects.get(pk=assignment.pk))["notification"]
    assert shown["delivered"] is False
    assert shown["retrying"] is True
    assert shown["error"].startswith("HTTP 500")


def test_a_unit_without_a_crew_number_gets_no_message(server, jambi_region) -> None:
    assignment = dispatch_assign(incident=make_incident(region=jambi_region), unit=make_unit())
    assert assignment_public(assignment)["notification"] is None
    assert not OutboundMessage.objects.exists()


def test_the_crews_button_moves_the_unit_audited_as_the_crew(client, server, dispatched) -> None:
    reply = button_reply("wamid.R1", sender=CREW, payload=f"siaga:a:{dispatched.pk}:en_route", text="Berangkat")
    response = deliver(client, envelope(reply))
    assert response.status_code == 200, response.content
    assert _unit_status(dispatched) == UnitStatus.EN_ROUTE
    change = StatusChange.objects.get(unit=dispatched.unit, to_status=UnitStatus.EN_ROUTE)
    assert change.actor_kind == ActorKind.CREW
    assert change.assignment_id == dispatched.pk
    audit = AuditEntry.objects.get(action="unit.status_set", data__to=UnitStatus.EN_ROUTE)
    assert audit.actor_kind == ActorKind.CREW
    assert audit.actor_label == f"{CREW} (crew of PSC119-02)"
    assert WhatsAppMessage.objects.get(message_id="wamid.R1").outcome == "applied"
    assert Assignment.objects.get(pk=dispatched.pk).en_route_at is not None

    # Meta's retry of the same delivery (same wamid) changes nothing.
    again = deliver(client, envelope(reply))
    assert again.json()["messages_duplicate"] == 1
    assert StatusChange.objects.filter(unit=dispatched.unit, to_status=UnitStatus.EN_ROUTE).count() == 1

    arrive = interactive_reply(
        "wamid.R2", sender=CREW, payload=f"siaga:a:{dispatched.pk}:on_scene", title="Tiba di lokasi"
    )
    deliver(client, envelope(arrive))
    assert _unit_status(dispatched) == UnitStatus.ON_SCENE


def test_an_illegal_reply_changes_nothing_and_is_answered_why(client, server, dispatched) -> None:
    reply = button_reply("wamid.R3", sender=CREW, payload=f"siaga:a:{dispatched.pk}:returning", text="Selesai")
    deliver(client, envelope(reply))
    assert _unit_status(dispatched) == UnitStatus.DISPATCHED
    assert WhatsAppMessage.objects.get(message_id="wamid.R3").outcome == "illegal"
    (answer,) = OutboundMessage.objects.filter(purpose=OutboundPurpose.REPLY)
    assert answer.to == CREW
    assert answer.body["type"] == "text"
    assert answer.body["text"]["body"] == (
        'Status PSC119-02 tidak diubah: dari "ditugaskan" tidak bisa ke "kembali (selesai)". '
        "Yang bisa sekarang: berangkat, tidak beroperasi."
    )


def test_a_reply_from_another_number_is_refused_and_stored(client, server, dispatched) -> None:
    reply = button_reply("wamid.R4", sender=STRANGER, payload=f"siaga:a:{dispatched.pk}:en_route", text="Berangkat")
    response = deliver(client, envelope(reply))
    assert response.status_code == 200
    assert _unit_status(dispatched) == UnitStatus.DISPATCHED
    stored = WhatsAppMessage.objects.get(message_id="wamid.R4")
    assert stored.outcome == "refused"
    assert stored.from_phone == STRANGER
    assert stored.incident is None
    assert "wamid.R4" in InboundMessage.objects.get(pk=stored.inbound_id).body
    assert AuditEntry.objects.filter(action="whatsapp.crew_reply_refused", actor_label=STRANGER).exists()
    assert not OutboundMessage.objects.filter(purpose=OutboundPurpose.REPLY).exists(), "a stranger gets no answer"


def test_delivery_receipts_reach_the_dispatchers_view(client, server, dispatched) -> None:
    outbound_process_due()
    wamid = OutboundMessage.objects.get(assignment=dispatched).provider_message_id
    status = {"id": wamid, "status": "read", "timestamp": "1767225600", "recipient_id": CREW.lstrip("+")}
    deliver(client, envelope(statuses=[status]))
    shown = assignment_public(Assignment.objects.get(pk=dispatched.pk))["notification"]
    assert shown["state"] == "read"
    assert shown["read_at"] is not None
