"""MCLP, LSCP and move-up ranking on small matrices: hand-checked cases and PySAL spopt on the same matrix."""

from __future__ import annotations

import numpy as np
import pulp
import pytest
from spopt.locate import LSCP, MCLP

from coverage.solvers import (
    InfeasibleCoverageError,
    SitingError,
    coverage_mask,
    greedy_order,
    lscp_solve,
    mclp_solve,
    moveup_rank,
)

# spopt builds its models with PuLP 3 calls that PuLP deprecates for 4.0.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

INF = np.inf

# 4 demand points (weights 10, 20, 30, 40) x 3 candidate sites, threshold 100 s.
#   site 0 covers d0, d1      (30)
#   site 1 covers d1, d2      (50)
#   site 2 covers d3          (40)
TIMES = np.array(
    [
        [50, INF, 300],
        [90, 100, INF],
        [200, 10, INF],
        [INF, 150, 0],
    ]
)
WEIGHTS = [10, 20, 30, 40]


def test_mclp_hand_case_picks_the_best_pair_and_orders_by_gain() -> None:
    result = mclp_solve(TIMES, WEIGHTS, threshold_s=100, k=2)
    # Pairs by hand: {0,1} 60, {0,2} 70, {1,2} 90 -> sites 1 and 2; site 1 adds 50, then site 2 adds 40.
    assert result.objective == 90
    assert result.chosen == (1, 2)
    assert result.gains == (50, 40)
    assert (result.covered_before, result.covered_after, result.total) == (0, 90, 100)
    assert result.status == "optimal"


def test_mclp_keeps_existing_stations() -> None:
    existing = np.array([0, 0, INF, INF])  # an existing station already covers d0 and d1 (30)
    result = mclp_solve(TIMES, WEIGHTS, threshold_s=100, k=1, existing_time_s=existing)
    # With d0, d1 covered: site 1 adds d2 (30), site 2 adds d3 (40) -> site 2, 70 in all.
    assert result.chosen == (2,)
    assert result.gains == (40,)
    assert (result.covered_before, result.covered_after) == (30, 70)


def test_mclp_k_beyond_useful_candidates_opens_only_useful_ones() -> None:
    existing = np.array([0, 0, 0, INF])
    result = mclp_solve(TIMES, WEIGHTS, threshold_s=100, k=3, existing_time_s=existing)
    assert result.chosen == (2,)  # sites 0 and 1 add nothing
    assert result.covered_after == 100


def test_mclp_when_k_sites_reach_everyone_the_greedy_answer_is_final() -> None:
    # A fourth site covering d0..d3 within 100 s: one site covers all 100, whatever the other three do.
    times = np.column_stack([TIMES, [99, 99, 99, 99]])
    result = mclp_solve(times, WEIGHTS, threshold_s=100, k=1)
    assert result.chosen == (3,)
    assert (result.objective, result.status) == (100, "optimal")


def test_lscp_full_and_partial_share() -> None:
    full = lscp_solve(TIMES, WEIGHTS, threshold_s=100)
    # d0 only by site 0, d2 only by site 1, d3 only by site 2: all three are needed.
    assert full.objective == 3
    assert full.covered_after == 100
    partial = lscp_solve(TIMES, WEIGHTS, threshold_s=100, required_share=0.85)
    # 85 of 100: one site covers at most 50; the pair {1, 2} covers 90 -> 2 sites, and it is that pair.
    assert partial.objective == 2
    assert partial.chosen == (1, 2)
    assert partial.covered_after == 90


def test_lscp_infeasible_share_says_what_is_reachable() -> None:
    times = TIMES.copy()
    times[3] = INF  # d3 (40 of 100) is now out of reach of every site
    with pytest.raises(InfeasibleCoverageError, match=r"at most 60\.0%"):
        lscp_solve(times, WEIGHTS, threshold_s=100, required_share=0.7)


def test_lscp_already_met_by_existing_opens_nothing() -> None:
    result = lscp_solve(TIMES, WEIGHTS, threshold_s=100, required_share=0.5, existing_time_s=np.array([0, 0, 0, 0]))
    assert result.chosen == ()
    assert result.objective == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": -1}, "k must be"),
        ({"k": 1.5}, "k must be"),
        ({"k": 1, "threshold_s": -5}, "threshold_s"),
    ],
)
def test_mclp_bad_inputs(kwargs, message) -> None:
    args = {"threshold_s": 100, **kwargs}
    with pytest.raises(SitingError, match=message):
        mclp_solve(TIMES, WEIGHTS, **args)


def test_bad_shapes_and_values() -> None:
    with pytest.raises(SitingError, match="3 weights for 4"):
        mclp_solve(TIMES, [1, 2, 3], threshold_s=100, k=1)
    with pytest.raises(SitingError, match=">= 0"):
        mclp_solve(TIMES, [1, 2, 3, -4], threshold_s=100, k=1)
    with pytest.raises(SitingError, match="NaN"):
        coverage_mask(np.array([[np.nan]]), 10)
    with pytest.raises(SitingError, match="required_share"):
        lscp_solve(TIMES, WEIGHTS, threshold_s=100, required_share=1.5)


def _random_case(seed: int, n_demand: int = 120, n_sites: int = 40, n_existing: int = 3):
    rng = np.random.default_rng(seed)
    demand = rng.uniform(0, 10_000, size=(n_demand, 2))
    sites = rng.uniform(0, 10_000, size=(n_sites + n_existing, 2))
    # Travel time: straight-line distance at 10 m/s, with 5% of pairs unreachable.
    times = np.linalg.norm(demand[:, None] - sites[None], axis=2) / 10.0
    times[rng.random(times.shape) < 0.05] = INF
    weights = rng.integers(1, 500, size=n_demand).astype(float)
    return times, weights


@pytest.mark.parametrize(("seed", "k"), [(1, 1), (2, 3), (3, 5)])
def test_mclp_matches_spopt_on_the_same_matrix(seed, k) -> None:
    times, weights = _random_case(seed)
    existing_cols, threshold_s = [40, 41, 42], 250.0
    ours = mclp_solve(times[:, :40], weights, threshold_s=threshold_s, k=k, existing_time_s=times[:, 40:].min(axis=1))
    # spopt: the same matrix with the existing stations as predefined facilities and p = k + 3.
    predefined = np.isin(np.arange(43), existing_cols).astype(int)
    finite = np.where(np.isfinite(times), times, 1e12)
    model = MCLP.from_cost_matrix(
        finite, weights, threshold_s, p_facilities=k + 3, predefined_facilities_arr=predefined
    )
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    assert ours.objective == pytest.approx(pulp.value(model.problem.objective), abs=1e-6)
    assert ours.covered_after == pytest.approx(ours.covered_before + sum(ours.gains))
    assert list(ours.gains) == sorted(ours.gains, reverse=True)
    assert len(ours.chosen) == k


@pytest.mark.parametrize("seed", [4, 5])
def test_lscp_matches_spopt_on_the_same_matrix(seed) -> None:
    times, weights = _random_case(seed, n_demand=80, n_sites=60, n_existing=2)
    threshold_s = 400.0
    times[:, :60][~np.isfinite(times[:, :60]).any(axis=1)] = 1.0  # every point coverable by some candidate
    ours = lscp_solve(times[:, :60], weights, threshold_s=threshold_s, existing_time_s=times[:, 60:].min(axis=1))
    predefined = np.isin(np.arange(62), [60, 61]).astype(int)
    finite = np.where(np.isfinite(times), times, 1e12)
    model = LSCP.from_cost_matrix(finite, threshold_s, predefined_facilities_arr=predefined)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    # spopt counts the two predefined stations among its facilities.
    assert ours.objective == pytest.approx(pulp.value(model.problem.objective) - 2)
    assert ours.covered_after == pytest.approx(ours.total)


def test_greedy_order_sums_to_the_union() -> None:
    cover = coverage_mask(TIMES, 100)
    order, gains = greedy_order(cover, np.array(WEIGHTS, float), np.zeros(4, bool), [0, 1, 2])
    # Site 1 first (50), then site 2 (40), then site 0 adds only d0 (10).
    assert order == (1, 2, 0)
    assert gains == (50, 40, 10)


def test_moveup_prefers_the_move_that_fills_the_gap() -> None:
    # Demand d0..d3 (10, 20, 30, 40). Units: u0 covers d0, d1; u1 covers d1 (redundant). Stations:
    # s0 covers d3, s1 covers d0. Now covered: 30. Moving u1 to s0 covers d0, d1, d3 = 70 (+40);
    # moving u0 to s0 leaves d0 out: d1, d3 = 60 (+30); u1 to s1 adds nothing.
    units = np.array([[10, INF], [10, 10], [INF, INF], [INF, INF]])
    stations = np.array([[INF, 10], [INF, INF], [INF, INF], [10, INF]])
    moves = moveup_rank(units, stations, WEIGHTS, threshold_s=100)
    assert [(m.unit, m.station, m.covered, m.gain) for m in moves] == [(1, 0, 70, 40), (0, 0, 60, 30)]
