"""Create a region (a city served by one 112 centre), choosing its UTM zone from its boundaries."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone, translation

from gis_core.importers.errors import ImportValidationError
from gis_core.management.commands._common import data_path
from gis_core.metric_srid import crs_label
from gis_core.services import region_create
from gis_core.time_zones import zone_label


class Command(BaseCommand):
    help = (
        "Create a region. Its metric CRS (every distance and area is measured in it) is --metric-srid, or else "
        "the WGS 84 / UTM zone of the centroid of --boundaries; either way it must be projected, in metres and "
        "made for the boundaries' area. Then import its boundaries, roads and fleet (see README, Adding a city)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help='the city\'s name, e.g. "Kota Pontianak"')
        parser.add_argument("--code", required=True, help="Kemendagri code, e.g. 61.71")
        parser.add_argument("--slug", help="URL name; default from the name, e.g. kota-pontianak")
        parser.add_argument("--metric-srid", type=int, help="EPSG code of a projected CRS in metres, e.g. 32749")
        parser.add_argument(
            "--boundaries", type=Path, help="polygon file of the city (e.g. its kecamatan), only read to choose or "
            "check the CRS; a relative path is read from SIAGA_DATA_DIR",
        )  # fmt: skip
        parser.add_argument("--layer", help="layer of --boundaries, for files with several layers")
        parser.add_argument(
            "--time-zone", help="IANA zone the centre's times are shown in, e.g. Asia/Jayapura (WIT); default: the "
            "zone of the province in --code (WIB, WITA or WIT)",
        )  # fmt: skip

    def handle(self, *args, name: str, code: str, slug: str | None, metric_srid: int | None,
               boundaries: Path | None, layer: str | None, time_zone: str | None, **options) -> None:  # fmt: skip
        with translation.override(None):  # English messages (the model's validators), like the other commands
            try:
                created = region_create(
                    name=name,
                    code=code,
                    slug=slug,
                    metric_srid=metric_srid,
                    boundaries=data_path(boundaries) if boundaries is not None else None,
                    layer=layer,
                    time_zone=time_zone,
                )
            except ImportValidationError as exc:
                raise CommandError(str(exc)) from exc
            except ValidationError as exc:
                raise CommandError(_validation_message(exc)) from exc
        region = created.region
        self.stdout.write(
            self.style.SUCCESS(f"Created {region} as {region.slug!r}")
            + f", metric CRS {crs_label(region.metric_srid)} ({created.srid_reason}),"
            + f" time zone {region.time_zone} {zone_label(region.time_zone, at=timezone.now())['abbreviation']}"
            + f" ({created.time_zone_reason})."
        )
        self.stdout.write(
            f"Next: manage.py import_boundaries {region.slug} --file ... --level kecamatan (then kelurahan), "
            f"import_roads {region.slug} --file ... or --place ..."
        )


def _validation_message(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return "; ".join(exc.messages)
    options = {"metric_srid": "--metric-srid", "code": "--code", "slug": "--slug", "time_zone": "--time-zone"}
    return "; ".join(f"{options.get(field, field)}: {'; '.join(texts)}" for field, texts in exc.message_dict.items())
