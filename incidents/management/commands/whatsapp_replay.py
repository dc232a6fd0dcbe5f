"""Process stored WhatsApp deliveries again, e.g. after their number was set on a region; idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.models import InboundMessage
from incidents.errors import WebhookPayloadError
from incidents.services.whatsapp import CHANNEL, whatsapp_deliveries_to_replay, whatsapp_inbound_replay


class Command(BaseCommand):
    help = (
        "Replay WhatsApp deliveries (InboundMessage ids, or --all-failed: every failed or partial one, oldest "
        "first). A message already recorded is never recorded twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="delivery ids (the admin's raw messages list)")
        parser.add_argument("--all-failed", action="store_true", help="every delivery with outcome failed or partial")

    def handle(self, *args, ids: list[int], all_failed: bool, **options) -> None:
        if ids and all_failed:
            raise CommandError("give either delivery ids or --all-failed, not both")
        if not ids and not all_failed:
            raise CommandError("name delivery ids or --all-failed")
        if all_failed:
            deliveries = list(whatsapp_deliveries_to_replay())
        else:
            found = {m.pk: m for m in InboundMessage.objects.filter(pk__in=ids, channel=CHANNEL)}
            missing = [str(i) for i in ids if i not in found]
            if missing:
                raise CommandError(f"no WhatsApp delivery {', '.join(missing)} (see the admin's raw messages list)")
            deliveries = [found[i] for i in dict.fromkeys(ids)]
        refused = 0
        for delivery in deliveries:
            before = delivery.outcome
            try:
                result = whatsapp_inbound_replay(inbound=delivery)
            except WebhookPayloadError as exc:
                refused += 1
                self.stderr.write(f"delivery {delivery.pk}: {exc}")
                continue
            self.stdout.write(
                f"delivery {delivery.pk}: {before} -> {delivery.outcome}; {result.messages_new} new, "
                f"{result.messages_duplicate} already recorded, {result.messages_unroutable} not routable"
                + (f"; reports {', '.join(result.incidents)}" if result.incidents else "")
                + (f"; {delivery.error}" if delivery.error else "")
            )
        self.stdout.write(self.style.SUCCESS(f"{len(deliveries) - refused} deliveries replayed"))
        if refused:
            raise CommandError(f"{refused} deliveries are not webhook envelopes and cannot be replayed")
