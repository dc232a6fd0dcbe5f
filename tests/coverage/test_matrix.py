"""Coverage on the real Kota Jambi network and population, against an independent networkx computation."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from coverage.context import clear_contexts, coverage_context
from coverage.selectors import SourceSpec
from coverage.services import coverage_run_create
from gis_core.demo import region_load
from gis_core.routing.registry import clear_engines

pytestmark = pytest.mark.django_db

# Damkar HQ candidate (fire_station_jambi_unverified.csv) and RSUD H. Abdul Manap (health_facilities_jambi_osm).
SOURCES = ((103.595769, -1.619313), (103.579035273099606, -1.6410166))
THRESHOLDS_S = [300, 480, 900]


@pytest.fixture
def jambi(data_dir, settings):
    settings.SIAGA_DATA_DIR = data_dir
    clear_engines()
    clear_contexts()
    region = region_load(slug="kota-jambi", say=lambda line: None)
    yield region
    clear_engines()
    clear_contexts()


def _networkx_point_times(engine, demand_lonlat: np.ndarray) -> np.ndarray:
    """Seconds from the nearest source to each demand point with networkx, rebuilt from the graph's edges."""
    graph = engine.graph
    g = nx.DiGraph()
    for e, (u, v, t) in enumerate(zip(graph.edge_source, graph.edge_target, graph.edge_travel_time_s, strict=True)):
        if u != v and (not g.has_edge(u, v) or g[u][v]["w"] > t):
            g.add_edge(int(u), int(v), w=float(t), e=e)
    twin = graph.edge_twin
    # One virtual node per source, joined to the ends of its street segment by the partial edge + access leg.
    for k, snap in enumerate(engine.snap(list(SOURCES))):
        e, f, name = snap.edge_index, snap.fraction, f"source{k}"
        g.add_edge(name, int(graph.edge_target[e]), w=(1 - f) * graph.edge_travel_time_s[e] + snap.access_s)
        if twin[e] >= 0:
            g.add_edge(name, int(graph.edge_source[e]), w=f * graph.edge_travel_time_s[twin[e]] + snap.access_s)
    dist = nx.multi_source_dijkstra_path_length(g, {f"source{k}" for k in range(len(SOURCES))}, weight="w")
    out = np.full(len(demand_lonlat), np.inf)
    for i, snap in enumerate(engine.try_snap([tuple(p) for p in demand_lonlat.tolist()])):
        if isinstance(snap, Exception):
            continue
        e, f = snap.edge_index, snap.fraction
        u, v = int(graph.edge_source[e]), int(graph.edge_target[e])
        ways = [dist.get(u, np.inf) + f * graph.edge_travel_time_s[e]]
        if twin[e] >= 0:
            ways.append(dist.get(v, np.inf) + (1 - f) * graph.edge_travel_time_s[twin[e]])
        out[i] = min(ways) + snap.access_s
    return out


def test_kecamatan_coverage_equals_networkx_multi_source_dijkstra(jambi) -> None:
    run = coverage_run_create(region=jambi, spec=SourceSpec(points=SOURCES), thresholds_s=THRESHOLDS_S)
    context = coverage_context(region=jambi)
    demand = context.demand
    times = _networkx_point_times(context.engine, demand.lonlat)
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
