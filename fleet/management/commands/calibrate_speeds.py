"""Learn a region's road speeds from its crews' GPS tracks as a new network version (services.speed_calibration)."""

from __future__ import annotations

from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_date, parse_datetime

from fleet.services.speed_calibration import (
    DEFAULT_MIN_OBSERVATIONS,
    CalibrationInputError,
    speeds_calibrate,
)
from gis_core.management.commands._common import region_or_error
from gis_core.models import Region
from gis_core.routing.errors import RoutingError


class Command(BaseCommand):
    help = (
        "Map-match the region's GPS tracks onto its active road network, learn speed factors per road class "
        "and local hour band (and per edge with enough data), and activate them as a new network version "
        "(the previous one stays). --dry-run only reports."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi or 15.71")
        parser.add_argument("--since", help="start of the window: a date or ISO time, in the region's zone unless "
                                            "it says otherwise (default: 30 days before --until)")  # fmt: skip
        parser.add_argument("--until", help="end of the window, as --since (default: now)")
        parser.add_argument(
            "--min-observations", type=int, default=DEFAULT_MIN_OBSERVATIONS,
            help="edge passes a factor needs before it replaces the table speed (default: %(default)s)",
        )  # fmt: skip
        parser.add_argument("--dry-run", action="store_true", help="learn and report, write nothing")

    def handle(self, *args, region: str, since: str | None, until: str | None, min_observations: int,
               dry_run: bool, **options) -> None:  # fmt: skip
        region_obj = region_or_error(region)
        try:
            result = speeds_calibrate(
                region=region_obj,
                since=_moment(since, region_obj, "--since"),
                until=_moment(until, region_obj, "--until"),
                min_observations=min_observations,
                dry_run=dry_run,
            )
        except (CalibrationInputError, RoutingError) as exc:
            raise CommandError(str(exc)) from exc
        report = result.report
        evidence = report["evidence"]
        self.stdout.write(
            f"{region_obj.name}: {evidence.get('fixes', 0)} fixes of {evidence.get('units_with_fixes', 0)} units "
            f"from {report['since']} to {report['until']}; {evidence['matched_runs']} matched runs, "
            f"{evidence['edge_passes']} edge passes (dropped: {evidence.get('duplicates', 0)} repeated, "
            f"{evidence.get('stationary', 0)} stationary, {evidence.get('off_road', 0)} off-road fixes; "
            f"{evidence.get('breaks', 0)} breaks)"
        )
        for band, classes in report["factors"].items():
            cells = ", ".join(
                f"{cls} x{c['factor']:.2f} ({c['observations']}{'' if c['applied'] else ', too few'})"
                for cls, c in sorted(classes.items())
            )
            self.stdout.write(f"  {band}: {cells}")
        own = report["edges_with_own_factor"]
        if own:
            self.stdout.write("  edges with their own factor: " + ", ".join(f"{b} {n}" for b, n in own.items()))
        change = report["travel_time_change_pct"]
        self.stdout.write(
            f"  {report['edges_changed']} of {report['edges_total']} edges change travel time "
            f"(median {change['median']:+.1f}%, from {change['min']:+.1f}% to {change['max']:+.1f}%)"
        )
        if result.version is not None:
            self.stdout.write(
                self.style.SUCCESS(
                    f"network version {result.version.pk} active, calibrated from version {report['source_version']} "
                    "(which stays)"
                )
            )
        elif dry_run:
            self.stdout.write("dry run: nothing written")
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"no factor has {min_observations} observations: nothing written (lower --min-observations "
                    "or widen the window)"
                )
            )


def _moment(text: str | None, region: Region, option: str) -> datetime | None:
    """An ISO time or date; without a zone it is the region's local time (a date: its midnight)."""
    if text is None:
        return None
    if "\x00" in text or len(text) > 64:
        raise CommandError(f"{option}: not a date or time")
    try:
        moment = parse_datetime(text)
        day = None if moment is not None else parse_date(text)
    except ValueError as exc:
        raise CommandError(f"{option} {text!r}: {exc}") from exc
    if moment is None and day is None:
        raise CommandError(f"{option} {text!r}: expected a date (2026-11-01) or an ISO time (2026-11-01T06:00+07:00)")
    if moment is None:
        assert day is not None
        moment = datetime.combine(day, time())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=region.zone)
