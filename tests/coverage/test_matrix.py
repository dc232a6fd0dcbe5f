"""Coverage on the real Kota Jambi network and population, against an independent networkx computation."""

from __future__ import annotations

import pytest

from coverage.context import coverage_context
from coverage.selectors import SourceSpec
from coverage.services import coverage_run_create
from tests.coverage.oracle import networkx_point_times

pytestmark = pytest.mark.django_db

# Damkar HQ candidate (fire_station_jambi_unverified.csv) and RSUD H. Abdul Manap (health_facilities_jambi_osm).
SOURCES = ((103.595769, -1.619313), (103.579035273099606, -1.6410166))
THRESHOLDS_S = [300, 480, 900]


def test_kecamatan_coverage_equals_networkx_multi_source_dijkstra(jambi) -> None:
    run = coverage_run_create(region=jambi, spec=SourceSpec(points=SOURCES), thresholds_s=THRESHOLDS_S)
    context = coverage_context(region=jambi)
    demand = context.demand
    times = networkx_point_times(context.engine, SOURCES, demand.lonlat)
    assert len(run.results["kecamatan"]) == 11
    for k, row in enumerate(run.results["kecamatan"]):
        mine = demand.kecamatan == k
        for at in row["thresholds"]:
            expected = demand.population[mine & (times <= at["threshold_s"])].sum()
            assert at["population_within"] == pytest.approx(expected, abs=0.1), (row["name"], at["threshold_s"])
    total = run.results["totals"]
    assert total["population"] == pytest.approx(635_101)  # the mid-2024 BPS city total, all of it placed
    # Provenance: Alam Barajo, Pasar Jambi (BPS 2021) and Kota Baru (Dukcapil 2021) are official; the six
    # kecamatan without figures are estimated from the city total; the two north-bank figures are undated news.
    provenance = run.results["provenance"]
    assert {a["name"] for a in provenance["official"]} == {"Alam Barajo", "Pasar Jambi", "Kota Baru"}
    assert {a["name"] for a in provenance["estimated"]} >= {"Pelayangan", "Danau Teluk", "Paal Merah"}
    assert provenance["missing"] == []
