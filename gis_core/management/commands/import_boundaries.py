"""Import kecamatan or kelurahan polygons for a region (GeoJSON, Shapefile or GeoPackage)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_core.importers.boundaries import BoundaryMapping, import_boundaries
from gis_core.importers.errors import ImportValidationError
from gis_core.management.commands._common import data_path, region_or_error


class Command(BaseCommand):
    help = (
        "Import kecamatan or kelurahan boundaries for a region, upserting on the Kemendagri code. The whole file "
        "is validated first (fields, geometry type, CRS, validity, unique codes, parent kecamatan); any problem "
        "rejects the file and nothing is written. Import kecamatan before kelurahan."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi or 15.71")
        parser.add_argument("--file", type=Path, required=True, help="relative paths are read from SIAGA_DATA_DIR")
        parser.add_argument("--level", choices=["kecamatan", "kelurahan"], required=True)
        parser.add_argument("--layer", help="layer name, for files with several layers")
        parser.add_argument("--code-field", help="default kode_kec (kecamatan) or kode_kel (kelurahan)")
        parser.add_argument("--name-field", help="default kecamatan or kelurahan")
        parser.add_argument("--parent-field", help="kelurahan only: the kecamatan code field, default kode_kec")
        parser.add_argument("--kind-field", help="kelurahan only: default tipe or tipadm if present, else from code")
        parser.add_argument(
            "--make-valid", action="store_true", help="repair invalid polygons (each repair is reported)"
        )

    def handle(self, *args, **options) -> None:
        region = region_or_error(options["region"])
        mapping = BoundaryMapping.for_level(
            options["level"],
            code=options["code_field"],
            name=options["name_field"],
            parent_code=options["parent_field"],
            kind=options["kind_field"],
        )
        try:
            summary = import_boundaries(
                region=region,
                path=data_path(options["file"]),
                level=options["level"],
                mapping=mapping,
                layer=options["layer"],
                make_valid=options["make_valid"],
            )
        except ImportValidationError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
