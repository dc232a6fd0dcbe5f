"""Load the incident-type taxonomy and its needs (default fixtures/incident_types.json); idempotent."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from incidents.errors import IncidentTypesFileError
from incidents.services.incident_types import DEFAULT_PATH, incident_types_load


class Command(BaseCommand):
    help = "Create or update incident types and what each needs from a JSON table (capabilities must exist)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)

    def handle(self, *args, path: Path, **options) -> None:
        try:
            summary = incident_types_load(path=path)
        except IncidentTypesFileError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
