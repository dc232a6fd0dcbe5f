"""The engine as deployed: networks imported into PostGIS, loaded by the registry, checked against networkx.

tests/gis_core/test_routing_engine.py checks the engine built straight from the GraphML files; this
module checks the path production takes (import_roads -> PostGIS -> load_road_graph -> engine_for) with
the importer's own weights (maxspeed where tagged, else the speed table), against networkx's Dijkstra
on the stored edge rows.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from factories.gis_core import make_region

from gis_core.importers.roads import import_roads
from gis_core.models import RoadEdge, RoadNode
from gis_core.routing.registry import clear_engines, engine_for

pytestmark = pytest.mark.django_db

NETWORKS = {
    "jambi": ({"code": "15.71", "slug": "kota-jambi", "name": "Kota Jambi", "metric_srid": 32748},
              "jambi/roads_main_jambi_osm.graphml"),
    "balikpapan": ({"code": "64.71", "slug": "kota-balikpapan", "name": "Kota Balikpapan", "metric_srid": 32750},
                   "balikpapan/roads_drive_balikpapan_kota_osm.graphml"),
}  # fmt: skip


@pytest.fixture(params=list(NETWORKS))
def stored(request, data_dir):
    region_fields, relative = NETWORKS[request.param]
    region = make_region(**region_fields)
    version = import_roads(region=region, path=data_dir / relative)
    clear_engines()
    # The oracle's graph: the stored directed edges with their stored travel times, the fastest of
    # parallel edges kept (a driver takes the faster of two ways between the same junctions).
    graph = nx.DiGraph()
    for u, v, time_s in RoadEdge.objects.filter(version=version).values_list("source_id", "target_id", "travel_time_s"):
        if not graph.has_edge(u, v) or graph[u][v]["time"] > time_s:
            graph.add_edge(u, v, time=time_s)
    lonlat = {
        pk: (point.x, point.y) for pk, point in RoadNode.objects.filter(version=version).values_list("pk", "geom")
    }
    yield region, version, graph, lonlat
    clear_engines()


def test_stored_network_times_equal_networkx_dijkstra(stored) -> None:
    region, version, graph, lonlat = stored
    engine = engine_for(region)
    assert engine.graph.n_nodes == version.node_count
    rng = np.random.default_rng(20261123)
    nodes = sorted(lonlat)
    hubs = rng.choice(nodes, size=10, replace=False).tolist()
    others = rng.choice(nodes, size=20, replace=False).tolist()
    asymmetric = 0
    for hub in hubs:
        # Points exactly on junctions: no access leg and no partial edge, so the engine's time must be the
        # plain node-to-node shortest path (10 hubs x 20 others = 200 pairs each way).
        to_hub = nx.single_source_dijkstra_path_length(graph.reverse(copy=False), hub, weight="time")
        from_hub = nx.single_source_dijkstra_path_length(graph, hub, weight="time")
        times_to = engine.travel_times_to([lonlat[o] for o in others], lonlat[hub])
        times_from = engine.travel_times_from(lonlat[hub], [lonlat[o] for o in others])
        for other, tt_to, tt_from in zip(others, times_to, times_from, strict=True):
            assert tt_to is not None  # one strongly connected component was stored
            assert tt_from is not None
            assert tt_to.network_s == pytest.approx(to_hub[other], abs=1e-6), (other, hub)
            assert tt_from.network_s == pytest.approx(from_hub[other], abs=1e-6), (hub, other)
            assert tt_to.access_s == pytest.approx(0.0, abs=1e-6)
            asymmetric += abs(to_hub[other] - from_hub[other]) > 1e-3
    if region.slug == "kota-balikpapan":
        # Real one-way tags: for some pairs the way there and the way back differ, and the engine follows both.
        assert asymmetric > 0


def test_engine_is_loaded_once_per_version(stored, data_dir) -> None:
    region, version, *_ = stored
    engine = engine_for(region)
    assert engine_for(region) is engine
    import_roads(region=region, path=version.source)
    assert engine_for(region) is not engine


def test_each_profile_is_its_own_engine_and_the_one_way_rule_is_a_setting(settings, data_dir) -> None:
    region = make_region(**NETWORKS["jambi"][0])
    import_roads(region=region, path=data_dir / NETWORKS["jambi"][1])
    clear_engines()
    car, fire = engine_for(region), engine_for(region, "fire_engine")
    assert car is engine_for(region, "car")  # built once per network version
    assert fire is not car
    # The same nodes in the same order (positions round-tripped through the metric CRS, as closures do).
    np.testing.assert_array_equal(fire.graph.node_db_id, car.graph.node_db_id)
    np.testing.assert_allclose(fire.node_lonlat, car.node_lonlat, rtol=0, atol=1e-9)
    one_way = int(((car.graph.edge_twin < 0) & (car.graph.edge_source != car.graph.edge_target)).sum())
    assert one_way > 0, "the Jambi main roads have one-way streets (osmnx oneway=True edges)"
    settings.SIAGA_AGAINST_ONEWAY_FACTORS = {"car": 1.5}
    clear_engines()
    against = engine_for(region)
    assert against.graph.n_edges == car.graph.n_edges + one_way  # each one-way also driven against, at 1.5x
    with pytest.raises(ValueError, match="unknown vehicle profile 'tank'"):
        engine_for(region, "tank")
