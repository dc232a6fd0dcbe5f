"""Drop GPS fix and raw message partitions older than N days (keeping last fixes); see fleet.services.retention."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.services.retention import RetentionError, positions_prune


class Command(BaseCommand):
    help = (
        "Drop the partitions of fixes and raw device messages received more than --days ago (default "
        "SIAGA_FIX_RETENTION_DAYS), keeping every unit's current last position and the raw messages still "
        "needed; --dry-run says what it would drop."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=float, default=settings.SIAGA_FIX_RETENTION_DAYS, help="age in days (default: %(default)s)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be dropped and deleted; change nothing"
        )

    def handle(self, *args, days: float, dry_run: bool, **options) -> None:
        if not days > 0:
            raise CommandError(f"--days must be a positive number of days, got {days}")
        try:
            result = positions_prune(older_than=timedelta(days=days), dry_run=dry_run)
        except RetentionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(result.summary())
