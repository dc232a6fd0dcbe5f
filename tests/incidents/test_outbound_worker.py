"""The outbound worker: rows another worker holds are skipped (FOR UPDATE SKIP LOCKED), and the command's pass.

Committed data (a transactional test), since the second worker is another database connection.
"""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from factories.cloud_api_server import CloudApiServer
from factories.gis_core import make_region

from incidents.models import OutboundMessage, OutboundPurpose, OutboundState
from incidents.services.cloud_api import whatsapp_text_body
from incidents.services.outbound import WHATSAPP, outbound_enqueue, outbound_process_one

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(settings):
    region = make_region()
    region.whatsapp_phone_number_id = "106540352242922"
    region.save()
    with CloudApiServer(token="t") as server:
        settings.WHATSAPP_API_BASE_URL = server.base_url
        settings.WHATSAPP_ACCESS_TOKEN = "t"
        body = whatsapp_text_body(to="+6281234567890", text="uji")
        message = outbound_enqueue(
            region=region, channel=WHATSAPP, purpose=OutboundPurpose.REPLY, to="+6281234567890", body=body
        )
        yield server, message


def test_a_row_held_by_another_worker_is_skipped_not_sent_twice(queued) -> None:
    server, message = queued
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                OutboundMessage.objects.select_for_update().get(pk=message.pk)
                held.set()
                release.wait(10)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert held.wait(10)
    assert outbound_process_one() is None, "held elsewhere: skipped, not waited for"
    release.set()
    thread.join(10)
    assert done.is_set()
    assert outbound_process_one().pk == message.pk
    assert len(server.sends()) == 1


def test_the_command_sends_what_is_due_in_one_pass(queued) -> None:
    server, message = queued
    out = StringIO()
    call_command("outbound_worker", "--once", stdout=out)
    message.refresh_from_db()
    assert message.state == OutboundState.SENT
    assert "1 message(s) attempted" in out.getvalue()
    assert len(server.sends()) == 1
