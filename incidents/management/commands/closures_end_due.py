"""Record the end of road closures past their end time and announce those that started (also in outbound_worker)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from incidents.services.closures import road_closures_end_due


class Command(BaseCommand):
    help = (
        "Lift road closures whose ends_at has passed (recorded as ended, audited as the system) and tell the "
        "consoles of closures that reached their starts_at. Routing already ignores an ended closure; "
        "outbound_worker runs this on every pass."
    )

    def handle(self, *args, **options) -> None:
        ended, started = road_closures_end_due()
        self.stdout.write(f"{len(ended)} closure(s) ended, {len(started)} started")
