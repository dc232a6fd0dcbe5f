"""The outbound queue's jobs: one per message, sent after its row commits, and a periodic sweep.

The outbound rows (``OutboundMessage``) stay the source of truth; a job only says "send this one now". A send
that is to be retried defers the same job again for its next attempt. The sweep sends whatever is due that no
job took (a process that died between the commit and the defer, a queue that was away) and escalates
hand-offs not acknowledged in time, as ``manage.py outbound_worker`` does in its loop.
"""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate.contrib.django import app

from incidents.models import OutboundState
from incidents.services.handoffs import handoffs_escalate_due
from incidents.services.outbound import outbound_defer_send, outbound_process_due, outbound_process_message

logger = logging.getLogger(__name__)


@app.task(queue="outbound", name="incidents.outbound_send")
def outbound_send(message_id: int) -> None:
    """Send one queued message if it is due; defer its retry for the time the backoff set."""
    message = outbound_process_message(message_id=message_id)
    if message is not None and message.state == OutboundState.QUEUED and message.next_attempt_at is not None:
        outbound_defer_send(message.pk, at=message.next_attempt_at)


@app.periodic(cron=settings.SIAGA_OUTBOUND_SWEEP_CRON)
@app.task(queue="outbound", name="incidents.outbound_sweep", queueing_lock="outbound_sweep")
def outbound_sweep(timestamp: int) -> None:
    """Send every due message no job took and escalate late hand-offs (every minute by default)."""
    sent = outbound_process_due()
    escalated = len(handoffs_escalate_due())
    if sent or escalated:
        logger.info("outbound sweep: %s message(s) attempted, %s hand-off(s) escalated", sent, escalated)
