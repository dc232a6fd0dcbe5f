"""Import hospitals, puskesmas, clinics or fire stations for a region from GeoJSON (or another GDAL layer) or CSV."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_core.importers.errors import ImportValidationError
from gis_core.importers.facilities import DEFAULT_MAX_OUTSIDE_M, FacilityMapping, import_facilities
from gis_core.management.commands._common import data_path, region_or_error
from gis_core.models import FacilityKind


class Command(BaseCommand):
    help = (
        "Import facilities for a region, upserting on ref: osm:{type}/{id} when the record has OSM ids, else "
        "--ref-field, else name:{slug of the name}. Every record is validated first (name, lon/lat range, (0,0), "
        "distance from the region's kecamatan, kind, unique ref); any problem rejects the file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = FacilityMapping()
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi or 15.71")
        parser.add_argument("--file", type=Path, required=True, help="relative paths are read from SIAGA_DATA_DIR")
        parser.add_argument("--kind", choices=FacilityKind.values, help="one kind for every record")
        parser.add_argument("--kind-field", default=defaults.kind, help="mapped: hospital, puskesmas, clinic, ...")
        parser.add_argument("--ref-field", help="the source's own stable id (when there are no OSM ids)")
        parser.add_argument("--name-field", default=defaults.name)
        parser.add_argument("--lon-field", default=defaults.lon, help="CSV only")
        parser.add_argument("--lat-field", default=defaults.lat, help="CSV only")
        parser.add_argument("--source-field", default=defaults.source, help="per-record provenance column")
        parser.add_argument("--source", default="", help="provenance for records without a source column")
        parser.add_argument("--layer", help="layer name, for files with several layers")
        parser.add_argument(
            "--max-outside-m",
            type=float,
            default=DEFAULT_MAX_OUTSIDE_M,
            help="reject points farther than this (metres) outside the region's kecamatan",
        )

    def handle(self, *args, **options) -> None:
        region = region_or_error(options["region"])
        mapping = FacilityMapping(
            name=options["name_field"],
            kind=options["kind_field"],
            ref=options["ref_field"],
            lon=options["lon_field"],
            lat=options["lat_field"],
            source=options["source_field"],
        )
        try:
            summary = import_facilities(
                region=region,
                path=data_path(options["file"]),
                mapping=mapping,
                kind=options["kind"],
                layer=options["layer"],
                source=options["source"],
                max_outside_m=options["max_outside_m"],
            )
        except ImportValidationError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
