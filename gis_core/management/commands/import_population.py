"""Import population figures for a region and its kecamatan and kelurahan from a CSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_core.importers.errors import ImportValidationError
from gis_core.importers.population import PopulationMapping, import_population
from gis_core.management.commands._common import data_path, region_or_error


class Command(BaseCommand):
    help = (
        "Import population figures from a CSV keyed on Kemendagri codes: the region's own code sets the city "
        "total, kecamatan and kelurahan codes set theirs. Per code the newest dated row wins; pre-split sums "
        "(a+b) and unknown codes are skipped and listed. Import boundaries first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = PopulationMapping()
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi or 15.71")
        parser.add_argument("--file", type=Path, required=True, help="relative paths are read from SIAGA_DATA_DIR")
        parser.add_argument("--code-field", default=defaults.code)
        parser.add_argument("--population-field", default=defaults.population)
        parser.add_argument("--year-field", default=defaults.year, help="date: YYYY, YYYY-MM, YYYY-MM-DD, YYYY-mid")
        parser.add_argument("--source-field", default=defaults.source)
        parser.add_argument("--where-found-field", default=defaults.where_found)
        parser.add_argument("--kind-field", default=defaults.kind, help="BPS/census/Dukcapil -> official")
        parser.add_argument("--name-field", default=defaults.name, help="used only to name rows in messages")

    def handle(self, *args, **options) -> None:
        region = region_or_error(options["region"])
        mapping = PopulationMapping(
            code=options["code_field"],
            population=options["population_field"],
            year=options["year_field"],
            source=options["source_field"],
            where_found=options["where_found_field"],
            kind=options["kind_field"],
            name=options["name_field"],
        )
        try:
            summary = import_population(region=region, path=data_path(options["file"]), mapping=mapping)
        except ImportValidationError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
