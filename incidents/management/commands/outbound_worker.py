"""Send the outbound queue (crews' dispatch messages, hand-offs, answers) and escalate late hand-offs, in a loop."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from incidents.services.closures import road_closures_end_due
from incidents.services.handoffs import handoffs_escalate_due
from incidents.services.outbound import outbound_process_due

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Send due outbound messages (WhatsApp Cloud API, agencies' webhooks) with retries, and escalate hand-offs "
        "not acknowledged in SIAGA_HANDOFF_ACK_TIMEOUT_S, and record road closures that reached their end time. "
        "Several workers may run: each takes rows the others do not hold (SELECT ... FOR UPDATE SKIP LOCKED)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass over what is due, then exit")

    def handle(self, *args, once: bool, **options) -> None:
        while True:
            close_old_connections()
            try:
                sent = outbound_process_due()
                escalated = len(handoffs_escalate_due())
                road_closures_end_due()  # closures past their end time recorded as ended, starts announced
            except Exception:  # the database went away for a moment: keep the worker alive
                logger.exception("outbound worker pass failed")
                sent = escalated = 0
            if sent or escalated:
                self.stdout.write(f"{sent} message(s) attempted, {escalated} hand-off(s) escalated")
            if once:
                return
            if not sent:
                time.sleep(settings.SIAGA_OUTBOUND_IDLE_S)
