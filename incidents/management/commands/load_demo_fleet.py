"""Load capabilities, unit types, incident types and the Kota Jambi demo fleet; idempotent."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.services.demo_fleet import JAMBI_FLEET_PATH, DemoFleetError, capabilities_load, demo_fleet_load
from incidents.errors import IncidentTypesFileError
from incidents.services.incident_types import incident_types_load


class Command(BaseCommand):
    help = (
        "Load fixtures/capabilities.json, fixtures/incident_types.json and a demo fleet "
        "(default fixtures/demo_fleet_jambi.json). Run manage.py load_demo first. Re-running changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=JAMBI_FLEET_PATH, help="the demo fleet file")
        parser.add_argument(
            "--reset-secrets", action="store_true", help="set existing devices' secrets back to the file's demo secrets"
        )

    def handle(self, *args, file: Path, reset_secrets: bool, **options) -> None:
        try:
            # Order matters: incident types need the capabilities, the fleet needs the unit types.
            self._say(capabilities_load())
            self._say(incident_types_load())
            self._say(demo_fleet_load(path=file, reset_secrets=reset_secrets))
        except (DemoFleetError, IncidentTypesFileError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("Demo fleet loaded (demo data: is_demo=True, names marked '(demo)')."))

    def _say(self, summary) -> None:
        for line in summary.lines():
            self.stdout.write(line)
