"""Escalate hand-offs not acknowledged in time (the outbound worker does this on every pass too)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from incidents.services.handoffs import handoffs_escalate_due


class Command(BaseCommand):
    help = "Escalate every hand-off not acknowledged SIAGA_HANDOFF_ACK_TIMEOUT_S after it was sent (or created)."

    def handle(self, *args, **options) -> None:
        escalated = handoffs_escalate_due()
        for h in escalated:
            self.stdout.write(f"escalated: hand-off {h.pk} of {h.incident.reference} to {h.agency.code}")
        self.stdout.write(f"{len(escalated)} hand-off(s) escalated")
