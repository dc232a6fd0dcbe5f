"""Import a region's gazetteer (streets, landmarks, kelurahan, kecamatan) as a new active version."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gazetteer.services import gazetteer_build_from_region, gazetteer_import
from gazetteer.tasks import gazetteer_import_enqueue
from gis_core.importers.errors import ImportValidationError
from gis_core.management.commands._common import data_path, region_or_error


class Command(BaseCommand):
    help = (
        "Build a region's gazetteer from an OSM .osm.pbf/.osm extract (streets and landmarks), an osmnx "
        ".graphml (streets), by --place through osmnx (online), or --from-database (the stored roads and "
        "facilities). Kecamatan, kelurahan and facilities already imported join it; local names stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi or 15.71")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", type=Path, help="a relative path is read from SIAGA_DATA_DIR")
        source.add_argument("--place", help='place name for osmnx, e.g. "Kota Jambi, Indonesia"')
        source.add_argument("--from-database", action="store_true", help="the region's stored roads")
        parser.add_argument(
            "--background", action="store_true",
            help="queue the import as a job for a worker and return; follow it with manage.py job_status",
        )  # fmt: skip

    def handle(self, *args, region: str, file: Path | None, place: str | None, from_database: bool,
               background: bool, **options) -> None:  # fmt: skip
        region_obj = region_or_error(region)
        if background:
            path = data_path(file) if file else None
            if path is not None and not path.exists():
                raise CommandError(f"{path}: no such file")
            job = gazetteer_import_enqueue(region=region_obj, path=path, place=place, from_database=from_database)
            self.stdout.write(f"queued gazetteer import job {job.pk}; follow it with: manage.py job_status {job.pk}")
            return
        progress = options["verbosity"] > 0
        try:
            if from_database:
                record = gazetteer_build_from_region(region=region_obj)
            else:
                record = gazetteer_import(region=region_obj, path=data_path(file) if file else None, place=place,
                                          progress=progress, say=self.stdout.write)  # fmt: skip
        except (ImportValidationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{n} {kind}" for kind, n in record.counts.items())
        self.stdout.write(self.style.SUCCESS(f"{region_obj.name}: gazetteer v{record.pk} active from {record.source}"))
        self.stdout.write(f"  names: {counts}")
