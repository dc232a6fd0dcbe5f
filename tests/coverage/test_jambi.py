"""The Kota Jambi demo: coverage of the PSC 119 ambulances against networkx, and the stored demo runs."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from factories.access import api_client

from coverage.context import coverage_context
from coverage.models import CoverageRun
from fleet.models import Station
from fleet.services.demo_fleet import capabilities_load, demo_fleet_load
from tests.coverage.oracle import networkx_point_times, population_within

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def jambi_fleet(jambi):
    """Kota Jambi with the demo fleet of fixtures/demo_fleet_jambi.json (agencies psc119, damkar, ...)."""
    capabilities_load()
    demo_fleet_load(region=jambi)
    return jambi


@pytest.mark.django_db(transaction=True)  # computed by the job worker, which sees committed rows
def test_psc119_ambulance_coverage_per_kecamatan_equals_networkx(jambi_fleet, run_queued) -> None:
    body = {"region": "kota-jambi", "sources": {"agencies": ["psc119"], "units": True, "stations": False}}
    planner = api_client("planner")
    response = planner.post("/api/coverage/report/", body, format="json")
    assert response.status_code == 202, response.content[:300]
    assert run_queued(queues=["coverage"]) == {"succeeded": 1}
    data = planner.get(response.json()["url"]).json()
    assert data["state"] == "succeeded", data["error"]
    # The three ambulances have no GPS fix: each stands at its home station (RSUD Raden Mattaher, RSUD H.
    # Abdul Manap, Puskesmas Putri Ayu); PSC 119's response target of 900 s joins the 480/600/900 defaults.
    assert [(s["ref"], s["position"]) for s in data["sources"]] == [
        ("PSC119-01", "home_station"),
        ("PSC119-02", "home_station"),
        ("PSC119-03", "home_station"),
    ]
    assert data["thresholds_s"] == [480, 600, 900]
    stations = Station.objects.filter(agency__code="psc119").order_by("code")
    points = [(s.geom.x, s.geom.y) for s in stations]
    context = coverage_context(region=jambi_fleet)
    times = networkx_point_times(context.engine, points, context.demand.lonlat)
    assert len(data["kecamatan"]) == 11
    for k, row in enumerate(data["kecamatan"]):
        for at in row["thresholds"]:
            # Expected: networkx multi-source Dijkstra from the three stations over the same graph and points.
            expected = population_within(context.demand, times, at["threshold_s"], kecamatan=k)
            assert at["population_within"] == pytest.approx(expected, abs=0.5), (row["name"], at["threshold_s"])
    assert data["totals"]["population"] == pytest.approx(635_101)  # the mid-2024 BPS city total


def test_coverage_demo_command_stores_the_demo_runs(jambi_fleet) -> None:
    out = io.StringIO()
    call_command("coverage_demo", "--n-candidates", "150", "--no-progress", stdout=out)
    text = out.getvalue()
    runs = {run.label: run for run in CoverageRun.objects.filter(region=jambi_fleet)}
    assert sorted(runs) == [
        "demo: 3 new fire posts (MCLP)",
        "demo: Damkar HQ",
        "demo: PSC 119 ambulances",
        "demo: PSC 119 with the Aur Duri bridge closed",
    ]
    damkar = runs["demo: Damkar HQ"]
    assert [s["ref"] for s in damkar.inputs["sources"]] == ["mako"]
    assert len(damkar.results["kecamatan"]) == 11
    siting = runs["demo: 3 new fire posts (MCLP)"].results
    assert len(siting["chosen"]) == 3
    assert all(site["kecamatan"] for site in siting["chosen"])  # every new post lies in a kecamatan
    assert siting["covered_after"] > siting["covered_before"]
    whatif = runs["demo: PSC 119 with the Aur Duri bridge closed"].results
    assert {e["name"] for e in whatif["closed_edges"]} == {"Jembatan Komplek Aur Duri"}
    assert all(t["change"] <= 0 for t in whatif["delta"]["totals"])  # closing a road never brings anyone closer
    assert "Paal Merah" in text
    assert "MCLP at 900 s" in text
    # Running it again replaces the demo runs instead of piling them up.
    call_command("coverage_demo", "--n-candidates", "150", "--no-progress", stdout=io.StringIO())
    assert CoverageRun.objects.filter(region=jambi_fleet).count() == 4
