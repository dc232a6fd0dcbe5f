"""Each outbound message is a job of its own, deferred once its row commits; a retry is the same job deferred for
its next attempt; the periodic sweep sends what no job took. The rows stay the truth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from factories.cloud_api_server import CloudApiServer
from factories.gis_core import make_region
from procrastinate.contrib.django.models import ProcrastinateJob

from incidents.models import OutboundMessage, OutboundPurpose, OutboundState
from incidents.services.cloud_api import whatsapp_text_body
from incidents.services.outbound import WHATSAPP, outbound_enqueue
from incidents.tasks import outbound_sweep


@pytest.fixture
def cloud_api(settings, run_queued):
    region = make_region()
    region.whatsapp_phone_number_id = "106540352242922"
    region.save()
    with CloudApiServer(token="t") as server:
        settings.WHATSAPP_API_BASE_URL = server.base_url
        settings.WHATSAPP_ACCESS_TOKEN = "t"
        settings.SIAGA_OUTBOUND_BACKOFF_S = 0.0  # the retry is due at once, so this test's worker takes it

        def enqueue() -> OutboundMessage:
            with transaction.atomic():
                message = outbound_enqueue(
                    region=region, channel=WHATSAPP, purpose=OutboundPurpose.REPLY, to="+6281234567890",
                    body=whatsapp_text_body(to="+6281234567890", text="uji"),
                )  # fmt: skip
                assert not ProcrastinateJob.objects.filter(task_name="incidents.outbound_send").exists()
            return message

        yield server, enqueue, run_queued


def _send_jobs(message: OutboundMessage) -> list[str]:
    jobs = ProcrastinateJob.objects.filter(task_name="incidents.outbound_send", args__message_id=message.pk)
    return list(jobs.order_by("id").values_list("status", flat=True))


def test_a_message_gets_its_job_on_commit_and_is_sent_once(cloud_api) -> None:
    server, enqueue, run_queued = cloud_api
    message = enqueue()
    assert _send_jobs(message) == ["todo"]  # deferred once the row committed
    run_queued(queues=["outbound"])  # (the worker also queues and runs this minute's periodic sweep)
    assert _send_jobs(message) == ["succeeded"]
    message.refresh_from_db()
    assert message.state == OutboundState.SENT
    assert len(server.sends()) == 1
    outbound_sweep.defer(timestamp=0)  # the sweep finds nothing left to send
    run_queued(queues=["outbound"])
    assert len(server.sends()) == 1


def test_a_refusal_to_retry_defers_the_same_job_for_the_next_attempt(cloud_api) -> None:
    server, enqueue, run_queued = cloud_api
    server.script = ["server_error"]
    message = enqueue()
    run_queued(queues=["outbound"])
    message.refresh_from_db()
    assert (message.state, message.attempts) == (OutboundState.SENT, 2)
    assert _send_jobs(message) == ["succeeded", "succeeded"]  # the first attempt, then its retry's job
    assert len(server.sends()) == 2


def test_the_sweep_sends_a_message_whose_job_never_came(cloud_api) -> None:
    server, enqueue, run_queued = cloud_api
    message = enqueue()
    with connection.cursor() as cursor:  # the process died between the commit and the defer
        cursor.execute("DELETE FROM procrastinate_jobs WHERE task_name = 'incidents.outbound_send'")
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    outbound_sweep.defer(timestamp=0)
    run_queued(queues=["outbound"])
    assert not _send_jobs(message)
    message.refresh_from_db()
    assert message.state == OutboundState.SENT
    assert len(server.sends()) == 1
