"""The outbound queue against a local server speaking the WhatsApp Cloud API's send endpoint over real HTTP.

The request as Meta documents it (``POST /{version}/{phone-number-id}/messages``, ``Authorization: Bearer``,
``messaging_product``/``to``/``type``), its 200 answer with ``messages[0].id``, its error answers (rate
limits 130429 and 131056 retried, a 429 with Retry-After, a 5xx retried, a refusal kept as failed), every
attempt recorded, and the webhook's ``statuses`` as delivery receipts.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from factories.cloud_api_server import CloudApiServer

from incidents.models import DeliveryReceipt, OutboundAttempt, OutboundMessage, OutboundPurpose, OutboundState
from incidents.services.cloud_api import whatsapp_template_body
from incidents.services.outbound import WHATSAPP, outbound_enqueue, outbound_process_due, outbound_receipt_record

pytestmark = pytest.mark.django_db

TOKEN = "EAAG-test-token"
PHONE_NUMBER_ID = "106540352242922"


@pytest.fixture
def server(settings, jambi_region):
    jambi_region.whatsapp_phone_number_id = PHONE_NUMBER_ID
    jambi_region.save()
    with CloudApiServer(token=TOKEN) as running:
        settings.WHATSAPP_API_BASE_URL = running.base_url
        settings.WHATSAPP_API_VERSION = "v21.0"
        settings.WHATSAPP_ACCESS_TOKEN = TOKEN
        settings.SIAGA_OUTBOUND_BACKOFF_S = 5.0
        settings.SIAGA_OUTBOUND_MAX_ATTEMPTS = 3
        yield running


def _queue(region, *, to: str = "+6281234567890") -> OutboundMessage:
    body = whatsapp_template_body(
        to=to, template="siaga_dispatch", parameters=["Kebakaran", "Jl. Sultan Agung", "-", "-"],
        button_payloads=["siaga:a:1:en_route"],
    )  # fmt: skip
    return outbound_enqueue(region=region, channel=WHATSAPP, purpose=OutboundPurpose.DISPATCH, to=to, body=body)


def test_a_message_goes_out_as_the_cloud_api_documents_it(server, jambi_region) -> None:
    message = _queue(jambi_region)
    assert server.received == [], "queued, not sent: nothing leaves before the worker runs"

    assert outbound_process_due() == 1

    (request,) = server.sends()
    assert request.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["to"] == "6281234567890"
    assert body["type"] == "template"
    assert body["template"]["name"] == "siaga_dispatch"
    assert body["template"]["language"] == {"code": "id"}
    message.refresh_from_db()
    assert message.state == OutboundState.SENT
    assert message.provider_message_id.startswith("wamid.")
    assert message.attempts == 1
    assert message.next_attempt_at is None
    (attempt,) = OutboundAttempt.objects.filter(message=message)
    assert attempt.http_status == 200
    assert '"messages"' in attempt.response_body
    assert TOKEN not in attempt.request_body, "the token never lands in the attempt log"
    assert outbound_process_due() == 0, "nothing is sent twice"


@pytest.mark.parametrize(
    ("scripted", "wait_s"),
    [
        ("rate_limit", 5.0),  # 130429: the first backoff, SIAGA_OUTBOUND_BACKOFF_S
        ("pair_rate_limit", 6.0),  # 131056: at least 6 s to the same recipient (1 message per 6 s)
        ("too_many_calls", 30.0),  # HTTP 429 with Retry-After: 30
        ("server_error", 5.0),  # HTTP 500
    ],
)
def test_rate_limits_and_server_errors_are_retried_after_a_backoff(server, jambi_region, scripted, wait_s) -> None:
    message = _queue(jambi_region)
    server.script.append(scripted)
    now = timezone.now()

    outbound_process_due(now=now)

    message.refresh_from_db()
    assert message.state == OutboundState.QUEUED
    assert message.attempts == 1
    assert message.next_attempt_at == now + timedelta(seconds=wait_s)
    assert message.last_error.startswith("HTTP ")
    assert outbound_process_due(now=now) == 0, "not due before its backoff"
    outbound_process_due(now=now + timedelta(seconds=wait_s))
    message.refresh_from_db()
    assert message.state == OutboundState.SENT
    assert message.attempts == 2
    attempts = list(OutboundAttempt.objects.filter(message=message))
    assert [a.retry for a in attempts] == [True, False]
    assert attempts[0].http_status in (400, 429, 500)
    assert "error" in json.loads(attempts[0].response_body)


def test_the_backoff_doubles_and_the_last_attempt_fails_the_message(server, jambi_region) -> None:
    message = _queue(jambi_region)
    server.script += ["server_error"] * 3
    now = timezone.now()
    outbound_process_due(now=now)
    outbound_process_due(now=now + timedelta(seconds=5))
    message.refresh_from_db()
    assert message.next_attempt_at == now + timedelta(seconds=5 + 10), "5 s, then 10 s"
    outbound_process_due(now=now + timedelta(seconds=15))
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.attempts == 3
    assert message.failed_at is not None


@pytest.mark.parametrize(("scripted", "status"), [("invalid_recipient", 400), (None, 401)])
def test_a_refusal_is_final(server, settings, jambi_region, scripted, status) -> None:
    message = _queue(jambi_region)
    if scripted:
        server.script.append(scripted)
    else:
        settings.WHATSAPP_ACCESS_TOKEN = "a-wrong-token"
    outbound_process_due()
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.attempts == 1
    assert message.last_error.startswith(f"HTTP {status}, error {131030 if scripted else 190}")


def test_no_token_and_no_answer_are_attempts_with_their_reason(server, settings, jambi_region) -> None:
    message = _queue(jambi_region)
    settings.WHATSAPP_ACCESS_TOKEN = ""
    outbound_process_due()
    message.refresh_from_db()
    assert message.state == OutboundState.QUEUED
    assert message.last_error == "WHATSAPP_ACCESS_TOKEN is not set"
    assert server.received == []
    settings.WHATSAPP_ACCESS_TOKEN = TOKEN
    settings.WHATSAPP_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    outbound_process_due(now=timezone.now() + timedelta(seconds=60))
    message.refresh_from_db()
    assert message.attempts == 2
    assert message.last_error.startswith("no answer from")


def _status(wamid: str, status: str, ts: int, **extra) -> dict:
    return {"id": wamid, "status": status, "timestamp": str(ts), "recipient_id": "6281234567890", **extra}


def test_receipts_move_the_message_forward_once(server, jambi_region) -> None:
    message = _queue(jambi_region)
    outbound_process_due()
    message.refresh_from_db()
    wamid, ts = message.provider_message_id, int(timezone.now().timestamp())

    assert outbound_receipt_record(status=_status(wamid, "delivered", ts))
    assert not outbound_receipt_record(status=_status(wamid, "delivered", ts)), "Meta's retry changes nothing"
    assert outbound_receipt_record(status=_status(wamid, "read", ts + 5))
    assert outbound_receipt_record(status=_status(wamid, "sent", ts - 5))  # late: kept, but never moves it back
    message.refresh_from_db()
    assert message.state == OutboundState.READ
    assert message.delivered_at.timestamp() == ts
    assert message.read_at.timestamp() == ts + 5
    assert DeliveryReceipt.objects.filter(message=message).count() == 3
    assert not outbound_receipt_record(status=_status("wamid.NOT-OURS", "read", ts)), "kept, matched to nothing"
    assert DeliveryReceipt.objects.filter(provider_message_id="wamid.NOT-OURS", message=None).exists()


def test_a_failed_receipt_fails_the_message(server, jambi_region) -> None:
    message = _queue(jambi_region)
    outbound_process_due()
    message.refresh_from_db()
    errors = [{"code": 131026, "title": "Message undeliverable"}]
    outbound_receipt_record(status=_status(message.provider_message_id, "failed", 1767225600, errors=errors))
    message.refresh_from_db()
    assert message.state == OutboundState.FAILED
    assert message.last_error == "delivery failed: 131026 Message undeliverable"
