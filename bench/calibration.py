"""Speed calibration on simulated crew tracks: recovered vs true speeds, and ETA error before and after.

Drives ``--trips`` training trips per local hour band on Kota Jambi's main roads at known true
speeds (bench/track_simulation.py: 8 m GPS noise, parked periods, a 120 s hole per trip, swapped and
repeated fixes), map-matches them, learns factors per road class and band (and per edge), and prints

- the recovered speed against the true one for each main class and band, with the passes behind it;
- the ETA error on ``--held-out`` further trips per band (not used for learning): the engine's
  network time from origin to destination against the simulated drive's true time, with the table
  speeds (before) and with the band's learned factors (after): median and 90th percentile of the
  absolute error, and the bias (median signed error; negative = the ETA promised too early).

No database: the network is read from data/jambi with the importer's own preparation. Run:

    .venv/bin/python bench/calibration.py [--trips 20] [--held-out 20] [--seed 1] [--min-observations 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.track_simulation import (  # noqa: E402
    JAMBI_ZONE,
    MAIN_CLASSES,
    TRUE_FACTORS,
    as_delivered,
    drive,
    jambi_graph,
)
from gis_core.routing.csgraph_engine import CsgraphEngine  # noqa: E402
from gis_core.routing.matching import MatchSettings, match_track  # noqa: E402
from gis_core.routing.speed_learning import HOUR_BANDS, learn_speeds  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trips", type=int, default=20, help="training trips per hour band")
    parser.add_argument("--held-out", type=int, default=20, help="held-out trips per hour band for the ETA error")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-observations", type=int, default=20)
    parser.add_argument("--interval-s", type=float, default=5.0, help="seconds between a phone's fixes")
    parser.add_argument("--sigma-m", type=float, default=8.0, help="GPS noise, metres (standard deviation)")
    args = parser.parse_args()

    graph, table_kph = jambi_graph(ROOT / "data")
    engine = CsgraphEngine(graph)
    rng = np.random.default_rng(args.seed)
    # Sparser fixes need a longer gap before the match breaks, and a wider beta (Newson and Krumm).
    settings = MatchSettings(
        sigma_m=args.sigma_m, beta_m=max(10.0, 2.0 * args.interval_s), max_gap_s=max(90.0, 3 * args.interval_s)
    )
    print(
        f"Kota Jambi main roads: {graph.n_nodes} nodes, {graph.n_edges} edges; {args.trips} training trips per band, "
        f"a fix every {args.interval_s:g} s with {args.sigma_m:g} m noise"
    )

    runs, fixes, match_s = [], 0, 0.0
    for band, _, _ in HOUR_BANDS:
        for _ in range(args.trips):
            trip = drive(graph, table_kph, rng, band=band, interval_s=args.interval_s, sigma_m=args.sigma_m)
            trip = as_delivered(trip, rng)
            fixes += len(trip.t_s)
            started = time.perf_counter()
            runs.extend(match_track(engine, trip.t_s, trip.lonlat, settings=settings).runs)
            match_s += time.perf_counter() - started
    started = time.perf_counter()
    learned = learn_speeds(
        runs,
        edge_highway=graph.edge_highway,
        edge_length_m=graph.edge_length_m,
        edge_table_kph=table_kph,
        zone=JAMBI_ZONE,
        min_observations=args.min_observations,
    )
    learn_s = time.perf_counter() - started
    print(f"matched {fixes} fixes in {match_s:.2f} s ({fixes / match_s:.0f} fixes/s) into {len(runs)} runs; "
          f"learned from {learned.passes} edge passes in {learn_s:.2f} s")  # fmt: skip

    print("\nrecovered vs true speed (km/h) per class and local hour band, passes in brackets")
    cells = {(f.highway, f.band): f for f in learned.factors if f.edge is None}
    print(f"{'class':<10}" + "".join(f"{band:>27}" for band, _, _ in HOUR_BANDS))
    worst = 0.0
    for cls in MAIN_CLASSES:
        row = f"{cls:<10}"
        for band, _, _ in HOUR_BANDS:
            cell = cells.get((cls, band))
            true_kph = cell.table_speed_kph * TRUE_FACTORS[band][cls] if cell else float("nan")
            if cell is None:
                row += f"{'-':>27}"
                continue
            got_kph = cell.table_speed_kph * cell.factor
            error = got_kph / true_kph - 1
            worst = max(worst, abs(error)) if cell.applied else worst
            mark = "" if cell.applied else "*"
            row += f"{got_kph:5.1f} vs {true_kph:4.1f} ({cell.observations:>3}){mark} {error:+5.1%}".rjust(27)
        print(row)
    print(f"worst applied class-band error: {worst:.1%}   (* = fewer than {args.min_observations} passes: not applied)")
    own = sum(1 for f in learned.factors if f.edge is not None and f.applied and f.band != "all")
    print(f"edge-band factors with enough passes: {own}")

    print(f"\nETA error on {args.held_out} held-out trips per band (network time, origin node to destination node)")
    heads = ("table speeds", "all-day factors", "band factors")
    print(f"{'':<8}" + "".join(f"{h:>32}" for h in heads))
    print(f"{'band':<8}" + f"{'median':>16}{'p90':>8}{'bias':>8}" * len(heads))
    all_day = engine.with_travel_time_factors(1.0 / learned.edge_factors("all", graph.edge_highway))
    totals: list[list[float]] = [[] for _ in heads]
    for band, _, _ in HOUR_BANDS:
        in_band = engine.with_travel_time_factors(1.0 / learned.edge_factors(band, graph.edge_highway))
        errors: list[list[float]] = [[] for _ in heads]
        for _ in range(args.held_out):
            trip = drive(graph, table_kph, rng, band=band)
            origin = tuple(graph.node_lonlat[trip.origin_node])
            destination = tuple(graph.node_lonlat[trip.destination_node])
            for eng, out in zip((engine, all_day, in_band), errors, strict=True):
                eta = eng.travel_times_from(origin, [destination])[0]
                assert eta is not None
                out.append((eta.network_s - trip.true_time_s) / trip.true_time_s)
        for total, out in zip(totals, errors, strict=True):
            total.extend(out)
        print(f"{band:<8}" + "".join(_summary(out) for out in errors))
    print(f"{'all':<8}" + "".join(_summary(out) for out in totals))
    print("(errors relative to the true drive time; bias = median signed error, negative = ETA too early)")


def _summary(errors: list[float]) -> str:
    e = np.array(errors)
    return f"{np.median(np.abs(e)):>16.1%}{np.percentile(np.abs(e), 90):>8.1%}{np.median(e):>+8.1%}"


if __name__ == "__main__":
    main()
