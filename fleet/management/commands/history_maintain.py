"""The history tables' periodic job: partitions ahead, then retention; see fleet.services.retention."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.services.retention import RetentionError, history_maintain


class Command(BaseCommand):
    help = (
        "Create the fixes and raw messages partitions ahead (SIAGA_HISTORY_PARTITIONS_AHEAD), then drop the "
        "fixes' partitions older than SIAGA_FIX_RETENTION_DAYS (keeping every unit's last fix) and the raw "
        "messages' older than SIAGA_RAW_RETENTION_DAYS. Run it daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be created and dropped; change nothing"
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        try:
            result = history_maintain(dry_run=dry_run)
        except RetentionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(result.summary())
