"""Siting runs on the tiny grid region: MCLP and LSCP against brute force, spopt and a coverage run of the answer."""

from __future__ import annotations

import itertools

import numpy as np
import pulp
import pytest
from factories.coverage import make_agency, make_station, node_at
from spopt.locate import MCLP

from coverage.context import coverage_context
from coverage.errors import CoverageInputError
from coverage.matrix import site_matrix, times_from_sources
from coverage.selectors import SourceSpec
from coverage.services import coverage_run_create
from coverage.siting import coverage_siting_run, propose_candidates
from coverage.solvers import InfeasibleCoverageError

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

THRESHOLD_S = 60
SPOTS = [(1, 1), (1, 0), (0, 1), (0.5, 0.5), (0.75, 0.25), (0.25, 0.75), (0.5, 1), (1, 0.5)]


@pytest.fixture
def damkar(tiny_region):
    agency = make_agency(tiny_region)
    make_station(agency, code="sw", **dict(zip(("lon", "lat"), node_at(tiny_region, 0, 0), strict=True)))
    return agency


def _covered(region, points, threshold_s: float) -> float:
    """People within ``threshold_s`` of the nearest of ``points``: one multi-source search, no solver."""
    context = coverage_context(region=region)
    snaps = context.engine.snap(list(points))
    _, times = times_from_sources(context.engine, snaps, context.attachment)
    return float(context.demand.population[times <= threshold_s].sum())


def test_mclp_with_given_candidates_equals_brute_force(tiny_region, damkar) -> None:
    candidates = [node_at(tiny_region, *spot) for spot in SPOTS]
    existing = node_at(tiny_region, 0, 0)
    run = coverage_siting_run(
        region=tiny_region,
        model="mclp",
        spec=SourceSpec(agencies=("damkar",)),
        k=2,
        threshold_s=THRESHOLD_S,
        candidates=candidates,
    )
    results = run.results
    # Brute force over all 28 pairs, each timed with its own multi-source search from the station and the pair.
    best = max(_covered(tiny_region, [existing, a, b], THRESHOLD_S) for a, b in itertools.combinations(candidates, 2))
    assert results["covered_after"] == pytest.approx(best, abs=0.5)
    assert results["covered_before"] == pytest.approx(_covered(tiny_region, [existing], THRESHOLD_S), abs=0.5)
    chosen = results["chosen"]
    assert [c["rank"] for c in chosen] == [1, 2]
    gains = [c["gain_population"] for c in chosen]
    assert gains == sorted(gains, reverse=True)
    assert sum(gains) == pytest.approx(results["covered_after"] - results["covered_before"], abs=0.5)
    assert all(c["kecamatan"] in {"West", "East"} for c in chosen)
    assert results["status"] == "optimal"
    # The same answer as a plain coverage run from the station plus the chosen sites.
    check = coverage_run_create(
        region=tiny_region,
        spec=SourceSpec(agencies=("damkar",), points=tuple(tuple(c["point"]) for c in chosen)),
        thresholds_s=[THRESHOLD_S],
    )
    assert check.results["totals"]["thresholds"][0]["population_within"] == pytest.approx(
        results["covered_after"], abs=0.5
    )
    assert run.inputs["candidates_from"] == "planner"
    assert run.inputs["n_candidates"] == len(SPOTS)


def test_mclp_on_proposed_sites_matches_spopt_on_the_same_matrix(tiny_region, damkar) -> None:
    run = coverage_siting_run(
        region=tiny_region, model="mclp", spec=SourceSpec(agencies=("damkar",)), k=2, threshold_s=THRESHOLD_S,
        n_candidates=30,
    )  # fmt: skip
    assert run.inputs["candidates_from"] == "network nodes"
    assert 20 <= run.inputs["n_candidates"] <= 30  # one node per square of a grid sized for 30: some squares are empty
    context = coverage_context(region=tiny_region)
    sites = context.engine.snap([tuple(p) for p in run.inputs["candidates"]])
    existing = context.engine.snap([node_at(tiny_region, 0, 0)])
    matrix = site_matrix(context.engine, existing + sites, context.attachment)
    # spopt: the station as a predefined facility, p = 2 new + 1 existing, on the same demand x site matrix.
    finite = np.where(np.isfinite(matrix), matrix, 1e12)
    predefined = np.r_[1, np.zeros(len(sites), dtype=int)]
    model = MCLP.from_cost_matrix(
        finite, context.demand.population, THRESHOLD_S, p_facilities=3, predefined_facilities_arr=predefined
    )
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    assert run.results["objective"] == pytest.approx(pulp.value(model.problem.objective), abs=1e-6)
    assert run.results["covered_after"] == pytest.approx(pulp.value(model.problem.objective), abs=0.1)


def test_lscp_picks_the_fewest_sites_for_the_share(tiny_region, damkar) -> None:
    candidates = [node_at(tiny_region, *spot) for spot in SPOTS]
    existing = node_at(tiny_region, 0, 0)
    run = coverage_siting_run(
        region=tiny_region,
        model="lscp",
        spec=SourceSpec(agencies=("damkar",)),
        required_share=0.8,
        threshold_s=THRESHOLD_S,
        candidates=candidates,
    )
    n = len(run.results["chosen"])
    assert run.results["objective"] == n
    assert run.results["share_after"] >= 0.8
    # Brute force: no set of n - 1 candidates reaches 80% of the 3,000 people; some set of n does.
    assert all(
        _covered(tiny_region, [existing, *subset], THRESHOLD_S) < 0.8 * 3000
        for subset in itertools.combinations(candidates, n - 1)
    )
    assert run.kind == "lscp"


def test_lscp_infeasible_share_says_what_is_reachable(tiny_region, damkar) -> None:
    with pytest.raises(InfeasibleCoverageError, match="cannot be reached"):
        coverage_siting_run(
            region=tiny_region,
            model="lscp",
            spec=SourceSpec(agencies=("damkar",)),
            required_share=1.0,
            threshold_s=5,
            candidates=[node_at(tiny_region, 1, 1)],
        )


def test_siting_without_existing_stations_and_bad_inputs(tiny_region) -> None:
    blank = coverage_siting_run(region=tiny_region, model="mclp", spec=SourceSpec(), k=1, threshold_s=60,
                                n_candidates=20)  # fmt: skip
    assert blank.results["covered_before"] == 0
    assert len(blank.results["chosen"]) == 1
    with pytest.raises(CoverageInputError, match="model must be mclp or lscp"):
        coverage_siting_run(region=tiny_region, model="pmedian", spec=SourceSpec(), k=1)
    with pytest.raises(CoverageInputError, match="mclp needs k"):
        coverage_siting_run(region=tiny_region, model="mclp", spec=SourceSpec(), k=0)
    with pytest.raises(CoverageInputError, match="lscp needs required_share"):
        coverage_siting_run(region=tiny_region, model="lscp", spec=SourceSpec())
    with pytest.raises(CoverageInputError, match="no candidate site lies within reach"):
        coverage_siting_run(region=tiny_region, model="mclp", spec=SourceSpec(), k=1, candidates=[(103.9, -1.9)])
    with pytest.raises(CoverageInputError, match="n_candidates must be >= 1"):
        propose_candidates(coverage_context(region=tiny_region), 0)


def test_proposed_candidates_are_spread_and_inside(tiny_region) -> None:
    context = coverage_context(region=tiny_region)
    points = propose_candidates(context, 12)
    assert 1 <= len(points) <= 12
    assert len({tuple(p) for p in points.tolist()}) == len(points)
    # Asked for more than its 120 nodes, the tiny grid also offers points along its streets, up to 500.
    many = propose_candidates(context, 500)
    assert 120 < len(many) <= 500
    assert len({tuple(p) for p in many.tolist()}) == len(many)
    snapped = context.engine.try_snap([tuple(p) for p in many.tolist()])
    assert all(snap.offset_m < 1 for snap in snapped)  # every one lies on a street
