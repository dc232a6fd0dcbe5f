"""Speed learning from matched tracks: hand-made runs, the fallback order, and a simulation on Kota Jambi.

No database. The simulation (bench/track_simulation.py) drives trips on the real main-road network
at known true speeds per road class and hour band, with 8 m GPS noise, parked periods, a 120 s hole,
swapped and repeated fixes; the matcher and the learner must recover the true speeds within 5%.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.track_simulation import (
    JAMBI_ZONE,
    MAIN_CLASSES,
    TRUE_FACTORS,
    as_delivered,
    drive,
    jambi_graph,
    true_speeds_kph,
)
from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.engine import NetworkPath
from gis_core.routing.matching import MatchedFix, MatchedRun, match_track
from gis_core.routing.speed_learning import (
    ALL_DAY,
    HOUR_BANDS,
    SpeedFactor,
    edge_passes,
    hour_band,
    hour_band_at,
    learn_speeds,
    resolve_edge_factors,
)

T0 = 1_762_000_000.0  # 2025-11-01 12:26:40 UTC, 19:26 in Asia/Jakarta (UTC+7)


def test_hour_bands_cover_the_local_day() -> None:
    assert [hour_band(h) for h in (0, 5, 6, 9, 10, 15, 16, 19, 20, 23)] == [
        "00-06", "00-06", "06-10", "06-10", "10-16", "10-16", "16-20", "16-20", "20-24", "20-24",
    ]  # fmt: skip
    assert hour_band_at(T0, JAMBI_ZONE) == "16-20"
    assert hour_band_at(T0, "Asia/Jayapura") == "20-24"  # 21:26 at UTC+9
    with pytest.raises(ValueError, match="24"):
        hour_band(24)


def test_leg_time_is_shared_by_believed_pace_and_passes_merge_across_legs() -> None:
    # Edge 0 is 100 m at 0.1 s/m, edge 1 200 m at 0.2 s/m. Leg one: from the start of edge 0 to the
    # middle of edge 1 in 30 s, shared 100 * 0.1 : 100 * 0.2 = 10 s : 20 s. Leg two: the rest of edge 1
    # in 10 s. So edge 0 is 100 m in 10 s, edge 1 is 200 m in 20 + 10 = 30 s.
    run = MatchedRun(
        fixes=(
            MatchedFix(0, T0, 0, 0.0, 1.0),
            MatchedFix(1, T0 + 30, 1, 0.5, 1.0),
            MatchedFix(2, T0 + 40, 1, 1.0, 1.0),
        ),
        legs=(NetworkPath((0, 1), (100.0, 100.0)), NetworkPath((1,), (100.0,))),
    )
    passes = edge_passes(run, edge_length_m=np.array([100.0, 200.0]), pace_s_per_m=np.array([0.1, 0.2]))
    assert [(p.edge, p.covered_m, p.time_s) for p in passes] == [(0, 100.0, 10.0), (1, 200.0, 30.0)]
    assert passes[0].speed_kph == pytest.approx(36.0)
    assert passes[1].speed_kph == pytest.approx(24.0)
    assert passes[1].t_s == pytest.approx(T0 + 25.0)  # the middle of 10 s .. 40 s
    # An edge driven less than half is no observation: stop at a quarter of edge 1.
    short = MatchedRun(fixes=run.fixes[:2], legs=(NetworkPath((0, 1), (100.0, 50.0)),))
    passes = edge_passes(short, edge_length_m=np.array([100.0, 200.0]), pace_s_per_m=np.array([0.1, 0.2]))
    assert [p.edge for p in passes] == [0]


def factor(highway, band, value, *, edge=None, applied=True) -> SpeedFactor:
    return SpeedFactor(highway, band, edge, value, 30 if applied else 3, 0.0, 0.0, applied)


def test_an_edge_falls_back_from_its_own_band_to_its_class_to_all_day_to_the_table() -> None:
    factors = [
        factor("primary", "06-10", 0.7),
        factor("primary", ALL_DAY, 0.9),
        factor("primary", "06-10", 0.5, edge=1),
        factor("primary", ALL_DAY, 0.8, edge=2),
        factor("tertiary", "06-10", 0.1, applied=False),  # too few passes: not used
        factor("tertiary", ALL_DAY, 1.1),
    ]
    highway = ["primary", "primary", "primary", "tertiary", "residential"]
    np.testing.assert_allclose(resolve_edge_factors(factors, "06-10", highway), [0.7, 0.5, 0.7, 1.1, 1.0])
    np.testing.assert_allclose(resolve_edge_factors(factors, "20-24", highway), [0.9, 0.9, 0.8, 1.1, 1.0])
    np.testing.assert_allclose(resolve_edge_factors(factors, ALL_DAY, highway), [0.9, 0.9, 0.8, 1.1, 1.0])


def test_learn_speeds_refuses_bad_table_speeds() -> None:
    with pytest.raises(ValueError, match="table speed"):
        learn_speeds([], edge_highway=["a"], edge_length_m=np.array([1.0]), edge_table_kph=np.array([0.0]),
                     zone=JAMBI_ZONE, min_observations=5)  # fmt: skip


@pytest.fixture(scope="module")
def jambi(data_dir):
    graph, table_kph = jambi_graph(data_dir)
    return graph, table_kph, CsgraphEngine(graph)


def test_calibration_recovers_simulated_speeds_per_class_and_band_within_5_percent(jambi) -> None:
    graph, table_kph, engine = jambi
    rng = np.random.default_rng(20261102)
    runs = []
    for band, _, _ in HOUR_BANDS:
        for _ in range(10):  # about 50 min of driving per band: every main class gets 10+ passes
            trip = as_delivered(drive(graph, table_kph, rng, band=band, sigma_m=8.0), rng)
            runs.extend(match_track(engine, trip.t_s, trip.lonlat).runs)
    # One street is a market (pasar) in the morning: four edges near the end of a route at 0.4 of their table speed,
    # on a route a station's crews drive twelve times.
    route = drive(graph, table_kph, rng, band="06-10", min_length_m=4000.0)
    market = dict.fromkeys(route.path_edges[-6:-2], 0.4)
    for _ in range(12):
        trip = drive(graph, table_kph, rng, band="06-10", between=(route.origin_node, route.destination_node),
                     slow_edges=market)  # fmt: skip
        runs.extend(match_track(engine, *_delivered(trip, rng)).runs)
    learned = learn_speeds(runs, edge_highway=graph.edge_highway, edge_length_m=graph.edge_length_m,
                           edge_table_kph=table_kph, zone=JAMBI_ZONE, min_observations=10)  # fmt: skip
    by_cell = {(f.highway, f.band): f for f in learned.factors if f.edge is None}
    for band, _, _ in HOUR_BANDS:
        for cls in MAIN_CLASSES:
            cell = by_cell[(cls, band)]
            assert cell.applied, f"{cls} {band}: only {cell.observations} passes"
            true = TRUE_FACTORS[band][cls]
            assert cell.factor == pytest.approx(true, rel=0.05), f"{cls} {band}: {cell.factor:.3f} vs {true}"
    # The market street's own edges learn their own morning speed; their class does not follow them.
    own = {f.edge: f for f in learned.factors if f.edge in market and f.band == "06-10"}
    morning = learned.edge_factors("06-10", graph.edge_highway)
    for e in market:
        if graph.edge_length_m[e] >= 100:  # a 10 m stub between two fixes 5 s apart is not measured
            assert own[e].applied, own[e]
            assert morning[e] == pytest.approx(0.4, rel=0.05), e
    others = np.setdiff1d(np.array(sorted({f.edge for f in learned.factors if f.edge is not None})), list(market))
    truth = true_speeds_kph(graph, table_kph, "06-10") / table_kph
    assert np.median(np.abs(morning[others] / truth[others] - 1)) < 0.05


def _delivered(trip, rng):
    delivered = as_delivered(trip, rng)
    return delivered.t_s, delivered.lonlat
