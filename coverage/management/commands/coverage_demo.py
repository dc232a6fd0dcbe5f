"""Store the Kota Jambi demo's coverage runs: PSC 119 ambulances, the Damkar HQ, new fire posts, a bridge closed."""

from __future__ import annotations

from pathlib import Path

import shapely
from django.core.management.base import BaseCommand, CommandError, CommandParser

from coverage.errors import CoverageError
from coverage.management.commands._common import (
    TqdmProgress,
    coverage_table,
    region_arg,
    siting_table,
    write_outputs,
)
from coverage.models import CoverageRun
from coverage.selectors import SourceSpec
from coverage.services import coverage_run_create, coverage_whatif_run
from coverage.siting import DEFAULT_CANDIDATES, coverage_siting_run
from fleet.models import Agency

LABEL = "demo: "
# Jembatan Aur Duri over the Batang Hari: the middle of its deck in the OSM main-road network (EPSG:4326).
AUR_DURI_BRIDGE = (103.548210, -1.605705)


class Command(BaseCommand):
    help = (
        "Store the demo coverage runs (PSC 119 ambulances and the Damkar HQ per kecamatan, MCLP for new fire "
        "posts, a what-if with the Aur Duri bridge closed); replaces earlier demo runs. Run load_demo_fleet first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("region", nargs="?", default="kota-jambi")
        parser.add_argument("--ems", default="psc119", help="the ambulance agency's code")
        parser.add_argument("--fire", default="damkar", help="the fire agency's code")
        parser.add_argument("--k", type=int, default=3, help="new fire posts to site")
        parser.add_argument("--n-candidates", type=int, default=DEFAULT_CANDIDATES, help="road nodes proposed")
        parser.add_argument("--png-dir", type=Path, help="write each run's map here")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **o) -> None:
        region = region_arg(o["region"])
        for code in (o["ems"], o["fire"]):
            if not Agency.objects.filter(region=region, code=code).exists():
                raise CommandError(
                    f"agency {code!r} is not loaded in {region.name}: run manage.py load_demo_fleet first"
                )
        if o["png_dir"] is not None:
            o["png_dir"].mkdir(parents=True, exist_ok=True)
        dropped, _ = CoverageRun.objects.filter(region=region, label__startswith=LABEL).delete()
        if dropped:
            self.stdout.write(f"replaced {dropped} earlier demo runs")
        ems, fire = SourceSpec(agencies=(o["ems"],), units=True, stations=False), SourceSpec(agencies=(o["fire"],))
        progress = TqdmProgress(disable=o["no_progress"])
        try:
            runs = [
                coverage_run_create(region=region, spec=ems, label=f"{LABEL}PSC 119 ambulances"),
                coverage_run_create(region=region, spec=fire, label=f"{LABEL}Damkar HQ"),
                coverage_siting_run(
                    region=region,
                    model="mclp",
                    spec=fire,
                    k=o["k"],
                    n_candidates=o["n_candidates"],
                    progress=progress,
                    label=f"{LABEL}{o['k']} new fire posts (MCLP)",
                ),
                coverage_whatif_run(
                    region=region,
                    spec=ems,
                    close_near=shapely.Point(AUR_DURI_BRIDGE),
                    close_tolerance_m=30,
                    label=f"{LABEL}PSC 119 with the Aur Duri bridge closed",
                ),
            ]
        except CoverageError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            progress.close()
        for run in runs:
            self._show(run, o["png_dir"])
        self.stdout.write(
            self.style.SUCCESS(f"{len(runs)} demo coverage runs stored: /api/coverage/runs/?region={region.slug}")
        )

    def _show(self, run: CoverageRun, png_dir: Path | None) -> None:
        say = self.stdout.write
        say(f"\n#{run.pk} {run.label} ({run.duration_s:.1f} s); sources: "
            + ", ".join(s["ref"] for s in run.inputs.get("sources") or run.inputs.get("existing") or []))  # fmt: skip
        if run.kind in {"mclp", "lscp"}:
            lines = siting_table(run.results)
        elif run.kind == "whatif":
            closed = ", ".join(sorted({e["name"] or "unnamed" for e in run.results["closed_edges"]}))
            lines = [f"closed: {closed}"] + [
                f"  within {t['threshold_s']} s: {t['population_within_before']:,.0f} -> "
                f"{t['population_within_after']:,.0f} people ({t['change']:+,.0f})"
                for t in run.results["delta"]["totals"]
            ]
        else:
            lines = coverage_table(run.results)
        for line in lines:
            say(line)
        if png_dir is not None:
            write_outputs(run, csv_path=None, png_path=png_dir / f"coverage-{run.pk}.png", say=say)
