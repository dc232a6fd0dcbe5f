"""Import a region's drivable road network as a new active version."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gis_core.importers.errors import ImportValidationError
from gis_core.importers.roads import import_roads
from gis_core.management.commands._common import data_path, region_or_error
from gis_core.tasks import import_roads_enqueue

# Around the city's boundary: units on the way in from outside it, and roads that leave and re-enter.
DEFAULT_CLIP_BUFFER_M = 5000.0


class Command(BaseCommand):
    help = (
        "Import a drivable road network for a region from an osmnx .graphml, an OSM .osm/.osm.bz2/.osm.pbf "
        "extract, or straight from OpenStreetMap by --place (online). The largest strongly connected "
        "component is kept; the new version replaces the active one atomically."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi or 15.71")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--file", type=Path, help="road file; a relative path is read from SIAGA_DATA_DIR")
        source.add_argument("--place", help='place name for osmnx, e.g. "Kota Jambi, Jambi, Indonesia"')
        parser.add_argument("--speeds", type=Path, help="JSON object {highway class: km/h} overriding the table")
        parser.add_argument("--keep-versions", type=int, default=2, help="versions to keep, the new one included")
        clip = parser.add_mutually_exclusive_group()
        clip.add_argument(
            "--clip-buffer-m", type=float, default=DEFAULT_CLIP_BUFFER_M,
            help="OSM extracts: keep the ways with a node within this many metres of the region's kecamatan "
                 f"(default {DEFAULT_CLIP_BUFFER_M:.0f}), so a province or country file gives the city's network",
        )  # fmt: skip
        clip.add_argument("--no-clip", action="store_true", help="import the whole extract")
        parser.add_argument(
            "--background", action="store_true",
            help="queue the import as a job for a worker (manage.py procrastinate worker) and return; "
                 "follow it with manage.py job_status",
        )  # fmt: skip

    def handle(self, *args, region: str, file: Path | None, place: str | None, speeds: Path | None,
               keep_versions: int, clip_buffer_m: float, no_clip: bool, background: bool,
               **options) -> None:  # fmt: skip
        region_obj = region_or_error(region)
        if file is not None:
            file = data_path(file)
        overrides = dict(settings.SIAGA_SPEEDS_KPH)
        if speeds is not None:
            try:
                table = json.loads(speeds.read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"--speeds {speeds}: {exc}") from exc
            if not isinstance(table, dict):
                raise CommandError(f'--speeds {speeds}: expected a JSON object {{"highway class": km/h}}')
            overrides.update(table)
        if background:
            if file is not None and not file.exists():
                raise CommandError(f"{file}: no such file")
            job = import_roads_enqueue(
                region=region_obj, path=file, place=place, speeds_kph=overrides, keep_versions=keep_versions,
                clip_buffer_m=None if no_clip else clip_buffer_m,
            )  # fmt: skip
            self.stdout.write(f"queued road import job {job.pk}; follow it with: manage.py job_status {job.pk}")
            return
        try:
            version = import_roads(
                region=region_obj,
                path=file,
                place=place,
                speeds_kph=overrides,
                keep_versions=keep_versions,
                progress=options["verbosity"] > 0,
                clip_buffer_m=None if no_clip else clip_buffer_m,
            )
        except (ImportValidationError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        report = version.report
        self.stdout.write(
            self.style.SUCCESS(
                f"{region_obj.name}: network version {version.pk} active with {version.node_count} nodes and "
                f"{version.edge_count} edges from {version.source}"
            )
        )
        self.stdout.write(
            f"  dropped outside the largest strongly connected component: {version.dropped_node_count} nodes, "
            f"{version.dropped_edge_count} edges ({report['strongly_connected_components']} components)"
        )
        clip_note = report.get("clip")
        if clip_note and clip_note["applied"]:
            self.stdout.write(f"  clipped to the ways within {clip_note['buffer_m']:.0f} m of the region's kecamatan")
        elif clip_note:
            self.stdout.write(
                self.style.WARNING(
                    f"  {region_obj.name} has no kecamatan boundaries yet: the whole extract was imported "
                    "(import the boundaries first to clip it, or pass --no-clip)"
                )
            )
        self.stdout.write(f"  speeds from: {report['speed_sources']}")
        if report["unparsed_maxspeed"]:
            self.stdout.write(f"  maxspeed values not understood (table speed used): {report['unparsed_maxspeed']}")
        if report["classes_not_in_speed_table"]:
            self.stdout.write(f"  highway classes not in the speed table: {report['classes_not_in_speed_table']}")
