"""Choose new sites (MCLP: k sites covering the most people; LSCP: fewest sites for a share), store and print."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coverage.context import DEFAULT_CELL_M
from coverage.errors import CoverageError
from coverage.management.commands._common import (
    TqdmProgress,
    agency_codes,
    codes_arg,
    read_points,
    region_arg,
    routing_args,
    siting_table,
    write_outputs,
)
from coverage.selectors import SourceSpec
from coverage.siting import DEFAULT_CANDIDATES, coverage_siting_run
from coverage.solvers import SitingError


class Command(BaseCommand):
    help = (
        "Where new posko should go, keeping the agency's stations: coverage_siting kota-jambi --agency DAMKAR "
        "--k 3 --threshold 900 (MCLP), or --share 0.9 for the fewest sites covering 90% (LSCP)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", help="region slug or Kemendagri code, e.g. kota-jambi")
        parser.add_argument("--agency", help="agencies whose stations are kept, comma-separated (none: blank slate)")
        parser.add_argument("--k", type=int, help="MCLP: the number of new sites")
        parser.add_argument("--share", type=float, help="LSCP: the population share to cover, 0 < share <= 1")
        parser.add_argument("--threshold", type=int, help="seconds (default: the agency's target)")
        parser.add_argument("--candidates", type=Path, help="CSV (lon,lat) or GeoJSON Points: the planner's sites")
        parser.add_argument("--n-candidates", type=int, default=DEFAULT_CANDIDATES, help="road nodes proposed")
        parser.add_argument("--cell-m", type=float, default=DEFAULT_CELL_M, help="grid cell side, metres")
        parser.add_argument("--time-limit", type=float, help="stop the MIP solver after this many seconds")
        parser.add_argument("--label", default="", help="a name for the stored run")
        parser.add_argument("--png", type=Path, help="write the map with the chosen sites as PNG here")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        routing_args(parser)

    def handle(self, *args, **o) -> None:
        region = region_arg(o["region"])
        if (o["k"] is None) == (o["share"] is None):
            raise CommandError("give either --k (MCLP: k new sites) or --share (LSCP: fewest sites for that share)")
        if o["threshold"] is not None and o["threshold"] <= 0:
            raise CommandError(f"--threshold must be > 0 seconds, got {o['threshold']}")
        agencies = agency_codes(region, codes_arg(o["agency"]))
        candidates = read_points(o["candidates"]) if o["candidates"] else None
        progress = TqdmProgress(disable=o["no_progress"])
        try:
            run = coverage_siting_run(
                region=region,
                model="mclp" if o["k"] is not None else "lscp",
                spec=SourceSpec(agencies=agencies),
                k=o["k"],
                required_share=o["share"],
                threshold_s=o["threshold"],
                candidates=candidates,
                n_candidates=o["n_candidates"],
                cell_m=o["cell_m"],
                time_limit_s=o["time_limit"],
                progress=progress,
                label=o["label"],
                profile=o["profile"],
                hour_band=o["hour_band"],
            )
        except (CoverageError, SitingError) as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()
        say = self.stdout.write
        kept = ", ".join(s["ref"] for s in run.inputs["existing"]) or "none"
        say(f"siting run #{run.pk} of {region.name} in {run.duration_s:.1f} s; existing stations kept: {kept}")
        say(f"routed on: {run.profile} ({run.inputs['profile_from']}), hour band {run.hour_band}")
        for line in siting_table(run.results):
            say(line)
        write_outputs(run, csv_path=None, png_path=o["png"], say=say)
