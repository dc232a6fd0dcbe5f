"""Compute and store a coverage run (travel-time surface, coverage per kecamatan, gap ranking) and print it."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coverage.context import DEFAULT_CELL_M, coverage_context
from coverage.errors import CoverageError
from coverage.management.commands._common import (
    TqdmProgress,
    agency_codes,
    codes_arg,
    coverage_table,
    region_arg,
    routing_args,
    seconds_arg,
    write_outputs,
)
from coverage.models import RunKind
from coverage.selectors import SourceSpec
from coverage.services import coverage_run_create, run_profile


class Command(BaseCommand):
    help = (
        "Coverage per kecamatan from an agency's stations and/or units: one multi-source search, stored as a "
        "CoverageRun. Example: coverage_run kota-jambi --agency PSC119 --units --thresholds 480,600,900"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi")
        parser.add_argument("--agency", help="agency codes, comma-separated (case does not matter)")
        parser.add_argument("--unit-types", help="unit type codes, comma-separated, e.g. ambulance_als,ambulance_bls")
        parser.add_argument("--units", action="store_true", help="search from the agencies' units, not stations")
        parser.add_argument("--available-only", action="store_true", help="only units available right now")
        parser.add_argument("--thresholds", help="seconds, comma-separated (default: the agency's, else 480,600,900)")
        parser.add_argument("--target", type=int, help="target seconds for the gap ranking")
        parser.add_argument("--cell-m", type=float, default=DEFAULT_CELL_M, help="grid cell side, metres")
        parser.add_argument("--label", default="", help="a name for the stored run")
        parser.add_argument("--csv", type=Path, help="write the gap ranking as CSV here")
        parser.add_argument("--png", type=Path, help="write the travel-time map as PNG here")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        routing_args(parser)

    def handle(self, *args, **o) -> None:
        region = region_arg(o["region"])
        agencies = agency_codes(region, codes_arg(o["agency"]))
        unit_types = tuple(codes_arg(o["unit_types"]))
        if not (agencies or unit_types):
            raise CommandError("name --agency and/or --unit-types to search from")
        if o["target"] is not None and o["target"] <= 0:
            raise CommandError(f"--target must be > 0 seconds, got {o['target']}")
        spec = SourceSpec(
            agencies=agencies,
            unit_types=unit_types,
            units=o["units"],
            stations=not (o["units"] or unit_types),
            available_only=o["available_only"],
        )
        progress = TqdmProgress(disable=o["no_progress"])
        step = progress(2, "coverage run")
        try:
            profile, _ = run_profile(region=region, spec=spec, profile=o["profile"])
            # The slow part the first time: demand points attached to the profile's engine.
            coverage_context(region=region, cell_m=o["cell_m"], profile=profile, hour_band=o["hour_band"])
            step(1)
            run = coverage_run_create(
                region=region,
                spec=spec,
                kind=RunKind.COVERAGE,
                thresholds_s=seconds_arg(o["thresholds"], name="--thresholds") or None,
                target_s=o["target"],
                cell_m=o["cell_m"],
                label=o["label"],
                profile=profile,
                hour_band=o["hour_band"],
            )
            step(1)
        except CoverageError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()
        say = self.stdout.write
        say(f"coverage run #{run.pk} of {region.name} in {run.duration_s:.1f} s ({run.results['thresholds_from']})")
        say(f"sources: {', '.join(s['ref'] for s in run.inputs['sources'])}")
        say(f"routed on: {run.profile} ({run.inputs['profile_from']}), hour band {run.hour_band}")
        for line in coverage_table(run.results):
            say(line)
        write_outputs(run, csv_path=o["csv"], png_path=o["png"], say=say)
