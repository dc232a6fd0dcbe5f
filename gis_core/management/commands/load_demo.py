"""Load a demo region (default Kota Jambi) from SIAGA_DATA_DIR; idempotent."""

from __future__ import annotations

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_core.demo import known_regions, region_load
from gis_core.importers.errors import ImportValidationError


class Command(BaseCommand):
    help = "Load a region's boundaries, population, facilities and road network from SIAGA_DATA_DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", nargs="?", default="kota-jambi", choices=sorted(known_regions()))
        parser.add_argument("--reload-roads", action="store_true", help="import the road file again")

    def handle(self, *args, region: str, reload_roads: bool, **options) -> None:
        try:
            loaded = region_load(slug=region, reload_roads=reload_roads, say=self.stdout.write)
        except (ImportValidationError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        if apps.is_installed("gazetteer"):
            # By name: the foundation imports nothing above it; the gazetteer app builds its names from
            # what was just loaded (streets of the demo roads, facilities, kecamatan, kelurahan).
            call_command("import_gazetteer", loaded.slug, "--from-database", stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"{loaded.name} is loaded."))
