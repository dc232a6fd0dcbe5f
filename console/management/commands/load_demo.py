"""Load a demo region (default Kota Jambi) from SIAGA_DATA_DIR and let the demo's users in; idempotent.

The command lives with the console rather than with ``gis_core`` because it does more than geography: the
demo accounts (``create_demo_users``) become members of the region it loads, and the gazetteer is built
from what it loaded.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.services import demo_users_join
from gis_core.demo import known_regions, region_load
from gis_core.importers.errors import ImportValidationError


class Command(BaseCommand):
    help = (
        "Load a region's boundaries, population, facilities and road network from SIAGA_DATA_DIR; "
        "the demo accounts that exist become members of it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", nargs="?", default="kota-jambi", choices=sorted(known_regions()))
        parser.add_argument("--reload-roads", action="store_true", help="import the road file again")

    def handle(self, *args, region: str, reload_roads: bool, **options) -> None:
        try:
            loaded = region_load(slug=region, reload_roads=reload_roads, say=self.stdout.write)
        except (ImportValidationError, FileNotFoundError) as exc:
            raise CommandError(str(exc)) from exc
        members = demo_users_join(region=loaded)
        if members:
            self.stdout.write(f"demo users {', '.join(m.username for m in members)} are members of {loaded.name}")
        for member in members:
            if member.region and member.created:
                self.stdout.write(
                    f"demo user {member.username!r} ({member.role} of {loaded.name} only), password {member.password!r}"
                )
        # The gazetteer's names from what was just loaded (streets of the demo roads, facilities, areas).
        call_command("import_gazetteer", loaded.slug, "--from-database", stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"{loaded.name} is loaded."))
