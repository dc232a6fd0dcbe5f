"""Show background jobs: one by id, or the latest, with state, progress, step and why a failed one failed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs.models import Job


class Command(BaseCommand):
    help = "Show a background job (import_roads --background, coverage runs, ...) or the latest ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job", nargs="?", type=int, help="job id (default: the latest 20)")

    def handle(self, *args, job: int | None, **options) -> None:
        jobs = Job.objects.select_related("region").order_by("-created_at", "-pk")
        rows = list(jobs.filter(pk=job)) if job is not None else list(jobs[:20])
        if job is not None and not rows:
            raise CommandError(f"no job {job}")
        for row in rows:
            where = row.region.slug if row.region_id else "-"
            self.stdout.write(
                f"{row.pk:>6} {row.kind:<24} {where:<14} {row.state:<9} {100 * row.progress:5.1f}% {row.message}"
            )
            if row.error:
                self.stdout.write(self.style.ERROR(f"       {row.error_code}: {row.error}"))
            if row.result_url:
                self.stdout.write(f"       result: {row.result_url}")
