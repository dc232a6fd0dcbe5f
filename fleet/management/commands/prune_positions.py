"""Drop GPS fix and raw message partitions older than N days (keeping last fixes); see fleet.services.retention."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.services.retention import RetentionError, positions_prune


class Command(BaseCommand):
    help = (
        "Drop the partitions of fixes received more than --days ago (default SIAGA_FIX_RETENTION_DAYS) and of "
        "raw device messages received more than --raw-days ago (default SIAGA_RAW_RETENTION_DAYS, at least "
        "--days), keeping every unit's current last position and the raw messages still needed; --dry-run "
        "says what it would drop."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days", type=float, default=settings.SIAGA_FIX_RETENTION_DAYS, help="age in days (default: %(default)s)"
        )
        parser.add_argument(
            "--raw-days",
            type=float,
            default=None,
            help=f"raw messages' age in days, at least --days (default: {settings.SIAGA_RAW_RETENTION_DAYS:g}, "
            "or --days if longer)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be dropped and deleted; change nothing"
        )

    def handle(self, *args, days: float, raw_days: float | None, dry_run: bool, **options) -> None:
        if not days > 0:
            raise CommandError(f"--days must be a positive number of days, got {days}")
        if raw_days is None:
            raw_days = max(days, settings.SIAGA_RAW_RETENTION_DAYS)
        try:
            result = positions_prune(
                older_than=timedelta(days=days), raw_older_than=timedelta(days=raw_days), dry_run=dry_run
            )
        except RetentionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(result.summary())
