"""Load capabilities, unit types, incident types and the Kota Jambi demo fleet; idempotent."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fleet.services.demo_fleet import JAMBI_FLEET_PATH, DemoFleetError, capabilities_load, demo_fleet_load


class Command(BaseCommand):
    help = (
        "Load fixtures/capabilities.json, the incident-type table and a demo fleet "
        "(default fixtures/demo_fleet_jambi.json). Run manage.py load_demo first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, default=JAMBI_FLEET_PATH, help="the demo fleet file")
        parser.add_argument(
            "--reset-secrets", action="store_true", help="set existing devices' secrets back to the file's demo secrets"
        )

    def handle(self, *args, file: Path, reset_secrets: bool, **options) -> None:
        try:
            self._say(capabilities_load())
            if importlib.util.find_spec("fleet.services.incident_types") is not None:
                from fleet.services.incident_types import incident_types_load

                self._say(incident_types_load())
            else:
                self.stdout.write("incident types: fleet.services.incident_types not available, skipped")
            self._say(demo_fleet_load(path=file, reset_secrets=reset_secrets))
        except DemoFleetError as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:
            # The incident-type loader's own file errors, named by it; anything else is a bug and propagates.
            if type(exc).__name__.endswith("FileError"):
                raise CommandError(str(exc)) from exc
            raise
        self.stdout.write(self.style.SUCCESS("Demo fleet loaded (demo data: is_demo=True, names marked '(demo)')."))

    def _say(self, summary) -> None:
        for line in summary.lines():
            self.stdout.write(line)
