"""What the coverage commands share: argument parsing, a tqdm progress factory, summary tables, file output."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from coverage import render, selectors
from coverage.models import CoverageRun
from fleet.models import Agency
from gis_core.models import Region


def routing_args(parser) -> None:
    """``--profile`` and ``--hour-band``: what a run routes on (coverage.services.run_profile, coverage_context)."""
    from coverage.context import BAND_NAMES
    from gis_core.routing.profiles import PROFILE_NAMES

    parser.add_argument(
        "--profile", choices=PROFILE_NAMES, help="vehicle profile (default: the one most of the agencies' units have)"
    )
    parser.add_argument(
        "--hour-band", choices=BAND_NAMES, help="plan on this hour band's learned speeds (default: all-day weights)"
    )


def region_arg(value: str) -> Region:
    """A region by slug or Kemendagri code, or a CommandError listing the known ones."""
    region = Region.objects.filter(slug=value).first() or Region.objects.filter(code=value).first()
    if region is None:
        known = ", ".join(Region.objects.order_by("slug").values_list("slug", flat=True)) or "none yet"
        raise CommandError(f"unknown region {value!r}; known regions: {known} (load one with manage.py load_demo)")
    return region


def codes_arg(value: str | None) -> list[str]:
    """``"a,b , c"`` as ``["a", "b", "c"]``; None or blank gives ``[]``."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def seconds_arg(value: str | None, *, name: str) -> list[int]:
    """Comma-separated whole seconds, each > 0."""
    out = []
    for part in codes_arg(value):
        try:
            seconds = int(part)
        except ValueError:
            raise CommandError(f"{name}: {part!r} is not a whole number of seconds") from None
        if seconds <= 0:
            raise CommandError(f"{name}: thresholds must be > 0 seconds, got {seconds}")
        out.append(seconds)
    return out


def agency_codes(region: Region, codes: list[str]) -> tuple[str, ...]:
    """Agency codes as stored, matched without regard to case (``PSC119`` finds ``psc119``)."""
    stored = {code.lower(): code for code in Agency.objects.filter(region=region).values_list("code", flat=True)}
    missing = [code for code in codes if code.lower() not in stored]
    if missing:
        known = ", ".join(sorted(stored.values())) or "none yet (run manage.py load_demo_fleet)"
        raise CommandError(f"unknown agency {', '.join(missing)} in {region.name}; known agencies: {known}")
    return tuple(stored[code.lower()] for code in codes)


class TqdmProgress:
    """A progress factory for the services (``factory(total, description)`` returns ``update``), on stderr."""

    def __init__(self, *, disable: bool = False) -> None:
        self.disable = disable
        self.bars: list[tqdm] = []

    def __call__(self, total: int, description: str) -> Callable[[int], None]:
        bar = tqdm(total=total, desc=description, disable=self.disable, leave=True)
        self.bars.append(bar)
        return bar.update

    def close(self) -> None:
        for bar in self.bars:
            bar.close()


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:6.1%}"


def coverage_table(results: dict) -> list[str]:
    """Per kecamatan and city-wide: population (official/estimated, year), share within each threshold, beyond."""
    thresholds = results["thresholds_s"]
    target = results["target_s"]
    head = f"{'kecamatan':<22}{'population':>11} {'figure':<15}" + "".join(
        f"{f'<= {t // 60:g} min':>11}" for t in thresholds
    )
    lines = [head + f"{'beyond ' + str(target // 60) + ' min':>16}", "-" * (len(head) + 16)]
    for row in [
        *results["kecamatan"],
        {**results["totals"], "name": "city", "population_kind": "", "population_year": None},
    ]:
        at = {t["threshold_s"]: t for t in row["thresholds"]}
        figure = f"{row['population_kind']} {row['population_year'] or ''}".strip()
        lines.append(
            f"{row['name'][:21]:<22}{row['population']:>11,.0f} {figure:<15}"
            + "".join(f"{_share(at[t]['population_share']):>11}" for t in thresholds)
            + f"{at[target]['population_outside']:>16,.0f}"
        )
    return lines


def siting_table(results: dict) -> list[str]:
    """The chosen sites in order of marginal gain, and coverage before and after."""
    lines = [
        f"{results['model'].upper()} at {results['threshold_s']} s ({results['status']}): covered "
        f"{results['covered_before']:,.0f} -> {results['covered_after']:,.0f} of {results['population']:,.0f} people "
        f"({results['share_before']:.1%} -> {results['share_after']:.1%})",
        f"{'rank':>4}  {'lon':>11} {'lat':>10}  {'kecamatan':<22}{'gain':>10}{'share after':>13}",
    ]
    for site in results["chosen"]:
        lon, lat = site["point"]
        lines.append(
            f"{site['rank']:>4}  {lon:>11.6f} {lat:>10.6f}  {(site['kecamatan'] or '-')[:21]:<22}"
            f"{site['gain_population']:>10,.0f}{_share(site['covered_share_after']):>13}"
        )
    solver = results["solver"]
    lines.append(
        f"matrix {solver['candidates']} sites x {solver['demand_points']} demand points in {solver['matrix_s']:.1f} s; "
        f"solve {solver['solve_s']:.2f} s ({solver['model_rows']} rows x {solver['model_columns']} columns)"
    )
    return lines


def write_outputs(
    run: CoverageRun, *, csv_path: Path | None, png_path: Path | None, say: Callable[[str], None]
) -> None:
    """Write the run's gap CSV and/or its map PNG."""
    if csv_path is not None:
        csv_path.write_text(render.gaps_csv(run), encoding="utf-8")
        say(f"gap ranking written to {csv_path}")
    if png_path is not None:
        kecamatan, _, _ = selectors.admin_area_rows(region=run.region)
        png_path.write_bytes(render.coverage_map_png(run, kecamatan))
        say(f"map written to {png_path}")


def read_points(path: Path) -> list[tuple[float, float]]:
    """Candidate points from a CSV with ``lon,lat`` columns or a GeoJSON file of Points (EPSG:4326)."""
    if not path.is_file():
        raise CommandError(f"candidates file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in {".json", ".geojson"}:
            data = json.loads(text)
            features = data.get("features", [data]) if isinstance(data, dict) else data
            return [tuple(map(float, f["geometry"]["coordinates"][:2])) for f in features]
        rows = list(csv.DictReader(text.splitlines()))
        return [(float(row["lon"]), float(row["lat"])) for row in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise CommandError(
            f"cannot read candidate points from {path}: expected a CSV with lon,lat columns or GeoJSON Points ({exc})"
        ) from None
