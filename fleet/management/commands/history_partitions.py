"""Create the history tables' partitions ahead, and list them; see fleet.services.partitions."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.services.partitions import HISTORY_TABLES, PartitionError, partitions_ensure, partitions_list


class Command(BaseCommand):
    help = (
        "Create the partitions of the fixes and raw messages tables from this period to --ahead periods on "
        "(default SIAGA_HISTORY_PARTITIONS_AHEAD, period SIAGA_HISTORY_PARTITION_PERIOD), then list them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ahead", type=int, default=settings.SIAGA_HISTORY_PARTITIONS_AHEAD,
            help="periods after the current one that must exist (default: %(default)s)",
        )  # fmt: skip
        parser.add_argument("--period", choices=("month", "week"), default=settings.SIAGA_HISTORY_PARTITION_PERIOD)
        parser.add_argument("--dry-run", action="store_true", help="only list what would be created")

    def handle(self, *args, ahead: int, period: str, dry_run: bool, **options) -> None:
        try:
            result = partitions_ensure(ahead=ahead, period=period, dry_run=dry_run)
        except PartitionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(result.summary())
        for table in HISTORY_TABLES:
            for p in partitions_list(table):
                span = (
                    "default (rows outside every partition)"
                    if p.is_default
                    else f"{p.start:%Y-%m-%d} to {p.end:%Y-%m-%d}"
                )
                self.stdout.write(f"{p.name}: {span}")
