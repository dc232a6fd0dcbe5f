"""Coverage runs on the tiny grid region: figures vs networkx, thresholds, gaps, live, move-up, what-if, compare."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from factories.coverage import make_agency, make_station, make_unit, node_at
from factories.gis_core import make_band_factors, make_region

from coverage.context import coverage_context
from coverage.errors import CoverageInputError, NoSourcesError
from coverage.matrix import times_from_sources
from coverage.models import AgencyCoverageSettings, CoverageRun, RunKind
from coverage.selectors import SourceSpec
from coverage.services import (
    coverage_live_run,
    coverage_run_create,
    coverage_runs_compare,
    coverage_thresholds,
    coverage_whatif_run,
)
from fleet.models import UnitStatus
from gis_core.routing.hour_band_engines import clear_band_engines, engine_for_band
from gis_core.routing.registry import engine_for
from tests.coverage.oracle import networkx_point_times, population_within

pytestmark = pytest.mark.django_db

THRESHOLDS_S = [30, 60, 120]  # the tiny grid is crossed in about 200 s (see test_figures_match_networkx)


@pytest.fixture
def damkar(tiny_region):
    """Agency damkar with one station on the south-west corner node of the grid."""
    agency = make_agency(tiny_region)
    make_station(agency, code="sw", **dict(zip(("lon", "lat"), node_at(tiny_region, 0, 0), strict=True)))
    return agency


def test_figures_match_networkx_and_add_up(tiny_region, damkar) -> None:
    run = coverage_run_create(region=tiny_region, spec=SourceSpec(agencies=("damkar",)), thresholds_s=THRESHOLDS_S)
    demand = coverage_context(region=tiny_region).demand
    times = networkx_point_times(engine_for(tiny_region), [node_at(tiny_region, 0, 0)], demand.lonlat)
    assert np.isfinite(times).all()
    assert [row["name"] for row in run.results["kecamatan"]] == ["West", "East"]
    for k, row in enumerate(run.results["kecamatan"]):
        for at in row["thresholds"]:
            # Expected: the same demand points, timed by networkx multi-source Dijkstra (tests/coverage/oracle.py).
            expected = population_within(demand, times, at["threshold_s"], kecamatan=k)
            assert at["population_within"] == pytest.approx(expected, abs=0.1)
            assert at["population_within"] + at["population_outside"] == pytest.approx(row["population"], abs=0.2)
    totals = run.results["totals"]
    # 1,000 official people in West; East has no figure and gets the rest of the 3,000 city total.
    assert totals["population"] == pytest.approx(3000)
    assert [r["population"] for r in run.results["kecamatan"]] == pytest.approx([1000, 2000])
    assert totals["max_time_s"] == pytest.approx(times.max(), abs=0.1)
    for i, at in enumerate(totals["thresholds"]):
        assert at["population_within"] == pytest.approx(
            sum(row["thresholds"][i]["population_within"] for row in run.results["kecamatan"]), abs=0.2
        )
    provenance = run.results["provenance"]
    assert [a["name"] for a in provenance["official"]] == ["West"]
    assert [a["name"] for a in provenance["estimated"]] == ["East"]
    assert "by area" in provenance["spread"]
    # Stored with its inputs: the resolved station and the thresholds, so it can be shown again.
    stored = CoverageRun.objects.get(pk=run.pk)
    assert stored.inputs["sources"][0]["ref"] == "sw"
    assert stored.inputs["thresholds_s"] == [30, 60, 120]
    assert stored.network_version_id is not None


def test_gap_ranking_puts_the_worst_served_first(tiny_region, damkar) -> None:
    run = coverage_run_create(region=tiny_region, spec=SourceSpec(agencies=("damkar",)), thresholds_s=[60])
    gaps = run.results["gaps"]
    assert gaps["target_s"] == 60
    # East lies away from the south-west station and holds 2,000 people: it has the most people beyond 60 s.
    assert [row["name"] for row in gaps["kecamatan"]] == ["East", "West"]
    beyond = [row["population_beyond_target"] for row in gaps["kecamatan"]]
    assert beyond == sorted(beyond, reverse=True)
    cells = [c["population_beyond_target"] for c in gaps["cells"]]
    assert cells == sorted(cells, reverse=True)
    assert sum(cells) == pytest.approx(sum(beyond), abs=1.0)  # every cell with people beyond target is listed


def test_thresholds_come_from_request_settings_or_defaults(tiny_region, damkar) -> None:
    defaults = coverage_thresholds(region=tiny_region, agencies=["damkar"])
    assert (defaults.thresholds_s, defaults.target_s) == ((480, 600, 900), 900)
    damkar.response_target_s = 720
    damkar.save()
    # The agency's response target joins the defaults and becomes the target.
    assert coverage_thresholds(region=tiny_region, agencies=["damkar"]).thresholds_s == (480, 600, 720, 900)
    AgencyCoverageSettings.objects.create(agency=damkar, thresholds_s=[300, 600], target_s=600)
    configured = coverage_thresholds(region=tiny_region, agencies=["damkar"])
    assert (configured.thresholds_s, configured.target_s, configured.origin) == ((300, 600), 600, "settings of damkar")
    asked = coverage_thresholds(region=tiny_region, agencies=["damkar"], thresholds_s=[100], target_s=50)
    assert (asked.thresholds_s, asked.target_s, asked.origin) == ((50, 100), 50, "request")


def test_unknown_agency_and_empty_sources_are_named(tiny_region, damkar) -> None:
    make_agency(tiny_region, code="psc119")  # no stations
    with pytest.raises(CoverageInputError, match=r"unknown agency polisi.*known agencies: damkar, psc119"):
        coverage_run_create(region=tiny_region, spec=SourceSpec(agencies=("polisi",)))
    with pytest.raises(NoSourcesError, match="no stations or units found"):
        coverage_run_create(region=tiny_region, spec=SourceSpec(agencies=("psc119",)))
    # A station 20 km away (beyond SIAGA_MAX_ACCESS_M of every road) cannot be placed on the network.
    far = make_agency(tiny_region, code="far")
    make_station(far, code="far", lon=103.75, lat=-1.66)
    with pytest.raises(NoSourcesError, match="none of the 1 stations or units can be placed"):
        coverage_run_create(region=tiny_region, spec=SourceSpec(agencies=("far",)))
    with pytest.raises(CoverageInputError, match="no unit of type boat"):
        coverage_run_create(region=tiny_region, spec=SourceSpec(unit_types=("boat",)))


def test_live_coverage_counts_only_available_units_and_moveup_restores_the_gap(tiny_region) -> None:
    psc = make_agency(tiny_region, code="psc119")
    sw = make_station(psc, code="sw", **dict(zip(("lon", "lat"), node_at(tiny_region, 0, 0), strict=True)))
    ne = make_station(psc, code="ne", **dict(zip(("lon", "lat"), node_at(tiny_region, 1, 1), strict=True)))
    make_unit(psc, call_sign="A1", station=sw)
    make_unit(psc, call_sign="A2", station=sw)
    make_unit(psc, call_sign="A3", station=ne, status=UnitStatus.DISPATCHED)
    run = coverage_live_run(region=tiny_region, agencies=["psc119"], threshold_s=90, max_moves=2)
    results = run.results
    assert [u["ref"] for u in results["available_units"]] == ["A1", "A2"]
    demand = coverage_context(region=tiny_region).demand
    engine = engine_for(tiny_region)
    # By networkx: "now" is the south-west station alone, "staffed" both stations.
    now = population_within(demand, networkx_point_times(engine, [node_at(tiny_region, 0, 0)], demand.lonlat), 90)
    staffed = population_within(
        demand,
        networkx_point_times(engine, [node_at(tiny_region, 0, 0), node_at(tiny_region, 1, 1)], demand.lonlat),
        90,
    )
    at = next(t for t in results["now"]["totals"]["thresholds"] if t["threshold_s"] == 90)
    assert at["population_within"] == pytest.approx(now, abs=0.1)
    assert results["uncovered_by_dispatch_population"] == pytest.approx(staffed - now, abs=0.2)
    # One of the two units at the south-west station moves to the empty north-east one and restores all of it;
    # a second move would only uncover someone, so none is suggested.
    assert len(results["moveups"]) == 1
    move = results["moveups"][0]
    assert move["unit"] in {"A1", "A2"}
    assert move["to_station"] == "ne"
    assert move["gain_population"] == pytest.approx(staffed - now, abs=0.2)
    assert move["covered_after_share"] == pytest.approx(staffed / 3000, abs=1e-4)
    assert run.kind == RunKind.LIVE


def test_live_without_available_units_covers_nobody(tiny_region) -> None:
    psc = make_agency(tiny_region, code="psc119")
    sw = make_station(psc, code="sw", **dict(zip(("lon", "lat"), node_at(tiny_region, 0, 0), strict=True)))
    make_unit(psc, call_sign="A1", station=sw, status=UnitStatus.ON_SCENE)
    results = coverage_live_run(region=tiny_region, agencies=["psc119"], threshold_s=90).results
    assert results["available_units"] == []
    assert results["moveups"] == []
    assert results["now"]["totals"]["thresholds"][0]["population_within"] == 0
    assert results["uncovered_by_dispatch_population"] > 0
    with pytest.raises(CoverageInputError, match="at least one agency"):
        coverage_live_run(region=tiny_region, agencies=[])


def test_whatif_closure_changes_only_the_variant(tiny_region, damkar) -> None:
    engine = engine_for(tiny_region)
    station = engine.snap([node_at(tiny_region, 0, 0)])
    live_before = engine.node_times_from_sources(station)
    # A north-south line through the middle of the grid cuts every east-west street: the east is cut off.
    # 0.00045 deg of longitude is about 50 m: half a block east of the middle column of nodes.
    middle = [node_at(tiny_region, 0.5, f) for f in (0, 1)]
    cut = shapely.LineString(
        [(middle[0][0] + 0.00045, middle[0][1] - 0.001), (middle[1][0] + 0.00045, middle[1][1] + 0.001)]
    )
    run = coverage_whatif_run(
        region=tiny_region,
        spec=SourceSpec(agencies=("damkar",)),
        close_near=cut,
        close_tolerance_m=5,
        thresholds_s=[120],
    )
    results = run.results
    assert results["closed_edges"], "the line crosses streets"
    assert all(e["edge_id"] is not None for e in results["closed_edges"])
    before, after = results["before"]["totals"], results["after"]["totals"]
    assert before["unreachable_population"] == 0
    assert after["unreachable_population"] > 500  # most of East (2,000 people) is now beyond the cut
    delta = results["delta"]["totals"][0]
    assert delta["change"] < 0
    assert delta["change"] == pytest.approx(
        delta["population_within_after"] - delta["population_within_before"], abs=0.1
    )
    # The live engine is the same object and gives the same answers.
    assert engine_for(tiny_region) is engine
    assert np.array_equal(engine.node_times_from_sources(station), live_before)
    assert run.inputs["close_tolerance_m"] == 5
    assert "LineString" in run.inputs["close_near"]


def test_whatif_added_station_only_gains(tiny_region, damkar) -> None:
    run = coverage_whatif_run(
        region=tiny_region,
        spec=SourceSpec(agencies=("damkar",)),
        add_points=[node_at(tiny_region, 1, 1)],
        thresholds_s=[60, 120],
    )
    changes = [t["change"] for row in run.results["delta"]["kecamatan"] for t in row["thresholds"]]
    assert min(changes) >= 0
    assert max(changes) > 0
    assert run.results["closed_edges"] == []
    assert [s["kind"] for s in run.inputs["sources"]] == ["station", "point"]


def test_whatif_bad_inputs(tiny_region, damkar) -> None:
    spec = SourceSpec(agencies=("damkar",))
    with pytest.raises(CoverageInputError, match="nothing to compare"):
        coverage_whatif_run(region=tiny_region, spec=spec)
    with pytest.raises(CoverageInputError, match="no road lies within 5 m"):
        coverage_whatif_run(region=tiny_region, spec=spec, close_near=shapely.Point(103.70, -1.70), close_tolerance_m=5)


def test_runs_compare(tiny_region, damkar) -> None:
    one = coverage_run_create(region=tiny_region, spec=SourceSpec(agencies=("damkar",)), thresholds_s=[60, 120])
    two = coverage_run_create(
        region=tiny_region,
        spec=SourceSpec(agencies=("damkar",), points=(node_at(tiny_region, 1, 1),)),
        thresholds_s=[60],
    )
    compared = coverage_runs_compare(run_a=one, run_b=two)
    # Only the threshold both runs hold is compared; the change is b minus a, from the stored figures.
    assert [t["threshold_s"] for t in compared["totals"]] == [60]
    a60 = one.results["totals"]["thresholds"][0]["population_within"]
    b60 = two.results["totals"]["thresholds"][0]["population_within"]
    assert compared["totals"][0]["change"] == pytest.approx(b60 - a60, abs=0.1)
    assert compared["totals"][0]["change"] > 0
    other = make_region(code="99.02", slug="other", name="Other")
    foreign = CoverageRun.objects.create(region=other, kind="coverage", inputs={}, results={}, duration_s=0)
    with pytest.raises(CoverageInputError, match="different regions"):
        coverage_runs_compare(run_a=one, run_b=foreign)


def _surface_s(run) -> list:
    return sorted(cell["time_s"] for cell in run.results["cells"])


def test_a_run_routes_on_its_units_profile_and_records_it(tiny_region, damkar) -> None:
    station = damkar.stations.get()
    for n, (type_code, profile) in enumerate([("fire_engine", "fire_engine")] * 2 + [("rescue", "car")]):
        make_unit(damkar, call_sign=f"E{n}", station=station, type_code=type_code, profile=profile)
    spec = SourceSpec(agencies=("damkar",))
    run = coverage_run_create(region=tiny_region, spec=spec, thresholds_s=THRESHOLDS_S)
    assert (run.profile, run.hour_band) == ("fire_engine", "all")  # two engines to one rescue car; no band asked
    assert run.inputs["profile_from"] == "the units' profiles (fire_engine 2, car 1)"
    # Expected: the fire engine's own search from the station over the same demand points.
    context = coverage_context(region=tiny_region, profile="fire_engine")
    assert context.engine is engine_for(tiny_region, "fire_engine")
    _, expected = times_from_sources(context.engine, [node_at(tiny_region, 0, 0)], context.attachment)
    assert run.results["totals"]["max_time_s"] == pytest.approx(float(expected.max()), abs=0.1)
    car = coverage_run_create(region=tiny_region, spec=spec, thresholds_s=THRESHOLDS_S, profile="car")
    assert (car.profile, car.inputs["profile_from"]) == ("car", "asked for")
    nobody = coverage_run_create(region=tiny_region, spec=SourceSpec(points=(node_at(tiny_region, 0, 0),)))
    assert (nobody.profile, nobody.inputs["profile_from"]) == ("car", "no agency or unit type named: car")
    with pytest.raises(CoverageInputError, match="use one of car, fire_engine, motorbike"):
        coverage_run_create(region=tiny_region, spec=spec, profile="tank")


def test_an_hour_band_is_a_run_parameter_recorded_with_what_was_used(tiny_region, damkar) -> None:
    spec = SourceSpec(agencies=("damkar",))
    free = coverage_run_create(region=tiny_region, spec=spec, thresholds_s=THRESHOLDS_S)
    unlearned = coverage_run_create(region=tiny_region, spec=spec, thresholds_s=THRESHOLDS_S, hour_band="16-20")
    # Nothing learned for 16-20 yet: the all-day weights, and the band asked is kept.
    assert (unlearned.hour_band, unlearned.inputs["hour_band_asked"]) == ("all", "16-20")
    assert unlearned.results["totals"] == free.results["totals"]
    make_band_factors(tiny_region, band="16-20", factor=0.5)
    clear_band_engines()  # factors are written with a new version by calibrate_speeds; here onto the same one
    evening = coverage_run_create(region=tiny_region, spec=spec, thresholds_s=THRESHOLDS_S, hour_band="16-20")
    assert (evening.profile, evening.hour_band) == ("car", "16-20")  # damkar here has no units: car
    context = coverage_context(region=tiny_region, hour_band="16-20")
    assert context.engine is engine_for_band(tiny_region, "16-20")
    # Half speed on every street: the network part of the slowest cell's time doubles, so it grows.
    assert evening.results["totals"]["max_time_s"] > free.results["totals"]["max_time_s"]
    with pytest.raises(CoverageInputError, match="unknown hour band"):
        coverage_run_create(region=tiny_region, spec=spec, hour_band="rush")
