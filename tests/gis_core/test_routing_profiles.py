"""Vehicle profiles on tiny graphs: tags -> allowed or forbidden, speeds, one-way rule, the walk to the caller."""

from __future__ import annotations

import numpy as np
import pytest

from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.graph import road_graph_from_arrays
from gis_core.routing.profiles import (
    CAR,
    FIRE_ENGINE,
    MOTORBIKE,
    EdgeAttributes,
    OnFootAccess,
    allowed_edges,
    edge_allowed,
    edge_speed_kph,
    profile_graph,
    vehicle_profile,
    width_m,
)

X0, Y0 = 500_000.0, 9_820_000.0  # UTM 48S, near Kota Jambi
ORIGIN = np.array([X0, Y0])
CRS = "EPSG:32748"


@pytest.mark.parametrize(
    ("highway", "tags", "car", "fire", "moto"),
    [
        ("residential", {}, True, True, True),
        ("residential", {"width": "2.5"}, True, False, True),
        ("service", {"maxwidth": "2,8 m"}, True, False, True),
        ("service", {"width": "4"}, True, True, True),
        ("service", {"service": "alley"}, True, False, True),
        ("residential", {"motorcar": "no", "motorcycle": "yes"}, False, False, True),
        ("residential", {"motor_vehicle": "no"}, False, False, False),
        ("residential", {"access": "no"}, True, False, True),  # the car keeps today's rule: access=no is driven
        ("residential", {"motorcycle": "no"}, True, True, False),
        ("footway", {"motorcycle": "yes"}, False, False, True),
        ("path", {"motorcycle": "designated"}, False, False, True),
        ("track", {}, False, False, False),
        ("footway", {}, False, False, False),
        ("steps", {"motorcycle": "yes"}, False, False, False),
        ("residential;footway", {"motorcycle": "yes"}, False, False, True),  # a merged edge: the strictest way
        ("living_street", {"width": "1.5"}, True, False, True),
    ],
)
def test_tags_decide_which_profile_may_drive(highway, tags, car, fire, moto) -> None:
    # Each row is the rule of the profile's docstring applied by hand to the tags.
    got = tuple(edge_allowed(vehicle_profile(name), highway, tags) for name in (CAR, FIRE_ENGINE, MOTORBIKE))
    assert got == (car, fire, moto)


def test_width_parses_metres_feet_and_lists() -> None:
    assert width_m("3") == 3.0
    assert width_m("2.5 m") == 2.5
    assert width_m("2,5") == 2.5
    assert width_m("7'6\"") == pytest.approx(2.286)  # 90 inches * 0.0254
    assert width_m("4;2.8") == 2.8
    assert width_m("narrow") is None
    assert width_m(None) is None


def test_fire_engine_min_width_is_a_setting() -> None:
    narrow = {"width": "2.8"}
    assert not edge_allowed(vehicle_profile(FIRE_ENGINE), "residential", narrow)
    assert edge_allowed(vehicle_profile(FIRE_ENGINE, fire_engine_min_width_m=2.5), "residential", narrow)


def test_profile_speeds_keep_maxspeed_and_use_their_own_table() -> None:
    fire, moto, car = vehicle_profile(FIRE_ENGINE), vehicle_profile(MOTORBIKE), vehicle_profile(CAR)
    assert edge_speed_kph(car, "residential", 30.0, "table") == 30.0
    assert edge_speed_kph(fire, "residential", 30.0, "table") == 25.0
    assert edge_speed_kph(fire, "residential", 48.0, "maxspeed") == 48.0  # a posted limit is kept
    assert edge_speed_kph(fire, "trunk", 80.0, "maxspeed") == 60.0  # the engine's own ceiling
    assert edge_speed_kph(moto, "living_street", 15.0, "table") == 20.0
    assert edge_speed_kph(moto, "footway", 25.0, "fallback") == 12.0


def test_unknown_profile_and_bad_factor_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown vehicle profile 'tank'"):
        vehicle_profile("tank")
    with pytest.raises(ValueError, match=">= 1"):
        vehicle_profile(CAR, against_oneway_factor=0.5)


def _square():
    """Five nodes: A(0,0) B(500,0) C(500,500) D(0,500) E(0,800), every street two-way.

    A-B, B-C, C-D residential (wide); A-D a residential gang 2.5 m wide; D-E a footway open to motorbikes.
    """
    xy = np.array([(0, 0), (500, 0), (500, 500), (0, 500), (0, 800)], dtype=float) + ORIGIN
    streets = [(0, 1, "residential", {}), (1, 2, "residential", {}), (2, 3, "residential", {}),
               (0, 3, "residential", {"width": "2.5"}), (3, 4, "footway", {"motorcycle": "yes"})]  # fmt: skip
    src, tgt, hw, tags = [], [], [], []
    for u, v, highway, t in streets:
        for a, b in ((u, v), (v, u)):
            src.append(a), tgt.append(b), hw.append(highway), tags.append(t)
    length = np.hypot(*(xy[src] - xy[tgt]).T)
    speed = np.array([30.0 if h == "residential" else 25.0 for h in hw])
    graph = road_graph_from_arrays(
        edge_source=src,
        edge_target=tgt,
        edge_travel_time_s=length / (speed / 3.6),
        edge_length_m=length,
        metric_crs=CRS,
        node_xy_m=xy,
        edge_highway=hw,
        edge_db_id=np.arange(100, 100 + len(src)),
        reorder_nodes=False,
    )
    attributes = EdgeAttributes(tags=tags, speed_kph=speed, speed_source=["table"] * len(src))
    return graph, attributes, xy


def _lonlat(graph, node: int) -> tuple[float, float]:
    lon, lat = graph.node_lonlat[node]
    return float(lon), float(lat)


def test_profile_graphs_keep_the_nodes_and_drop_forbidden_edges() -> None:
    graph, attributes, _ = _square()
    car = profile_graph(graph, attributes, vehicle_profile(CAR))
    fire = profile_graph(graph, attributes, vehicle_profile(FIRE_ENGINE))
    moto = profile_graph(graph, attributes, vehicle_profile(MOTORBIKE))
    assert car.n_nodes == fire.n_nodes == moto.n_nodes == 5
    np.testing.assert_array_equal(fire.node_xy_m, graph.node_xy_m)
    assert moto is not graph  # all of it, at the motorbike's speeds
    assert moto.n_edges == 10
    assert sorted(car.edge_db_id.tolist()) == list(range(100, 108))  # the footway is gone
    assert sorted(fire.edge_db_id.tolist()) == [100, 101, 102, 103, 104, 105]  # the gang too
    # The car keeps the imported times exactly; the engine drives residential at 25 km/h: 500 m in 72 s.
    np.testing.assert_array_equal(car.edge_travel_time_s, graph.edge_travel_time_s[:8])
    assert fire.edge_travel_time_s[0] == pytest.approx(500 / (25 / 3.6))


def test_car_profile_is_the_graph_itself_when_it_drives_all_of_it() -> None:
    graph, attributes, _ = _square()
    keep = np.arange(8)
    from gis_core.routing.variants import road_graph_with_closures

    drive_only = road_graph_with_closures(graph, [8, 9])
    attrs = EdgeAttributes(
        tags=[attributes.tags[i] for i in keep], speed_kph=attributes.speed_kph[keep], speed_source=["table"] * 8
    )
    assert profile_graph(drive_only, attrs, vehicle_profile(CAR)) is drive_only


def test_fire_engine_route_differs_from_the_car_and_ends_on_foot() -> None:
    graph, attributes, _ = _square()
    on_foot_kph = 3.6  # 60 m a minute: the hose lay
    engines = {}
    for name in (CAR, FIRE_ENGINE, MOTORBIKE):
        profile = vehicle_profile(name)
        access = None
        if profile.on_foot:
            access = OnFootAccess(
                graph, allowed_edges(graph, attributes, profile), speed_kph=on_foot_kph, max_on_foot_m=3000
            )
        engines[name] = CsgraphEngine(profile_graph(graph, attributes, profile), on_foot=access)
    a, d, e = _lonlat(graph, 0), _lonlat(graph, 3), _lonlat(graph, 4)
    # A -> D: the car takes the gang (500 m at 30 km/h = 60 s); the engine goes round (1500 m at 25 km/h = 216 s).
    car = engines[CAR].travel_times_to([a], d)[0]
    fire = engines[FIRE_ENGINE].travel_times_to([a], d)[0]
    assert car.eta_s == pytest.approx(60.0, abs=0.01)
    assert fire.eta_s == pytest.approx(216.0, abs=0.01)
    assert engines[FIRE_ENGINE].route(a, d).length_m == pytest.approx(1500.0, abs=0.01)
    # The caller at E, on the footway: the engine stops at D and the crew walks 300 m (300 s at 1 m/s).
    reach = engines[FIRE_ENGINE].reach(e)
    assert reach.reachable_point == pytest.approx(d, abs=1e-6)
    assert reach.on_foot_m == pytest.approx(300.0, abs=0.01)
    assert reach.on_foot_s == pytest.approx(300.0, abs=0.01)
    assert engines[FIRE_ENGINE].travel_times_to([a], reach.snap)[0].eta_s == pytest.approx(216.0, abs=0.01)
    # The motorbike rides the footway (300 m at 12 km/h = 90 s after 60 s through the gang at 30 km/h).
    moto_reach = engines[MOTORBIKE].reach(e)
    assert moto_reach.on_foot_m == 0
    assert moto_reach.reachable_point is None
    assert engines[MOTORBIKE].travel_times_to([a], moto_reach.snap)[0].eta_s == pytest.approx(150.0, abs=0.01)
    # The car has no walk: as before, it snaps E to D with a straight access leg (300 m at 15 km/h = 72 s).
    car_reach = engines[CAR].reach(e)
    assert car_reach.on_foot_m == 0
    assert engines[CAR].travel_times_to([a], car_reach.snap)[0].eta_s == pytest.approx(60.0 + 72.0, abs=0.01)


def test_a_caller_beside_a_forbidden_street_walks_straight_when_that_is_shorter() -> None:
    graph, attributes, _ = _square()
    profile = vehicle_profile(FIRE_ENGINE)
    access = OnFootAccess(graph, allowed_edges(graph, attributes, profile), speed_kph=3.6, max_on_foot_m=3000)
    engine = CsgraphEngine(profile_graph(graph, attributes, profile), on_foot=access)
    # 20 m east of the gang A-D at its middle: 20 m to the gang, then 250 m along it to A or D = 270 m;
    # straight to the nearest road the engine may drive (A-B or C-D) is 250 m (hand calculation).
    from gis_core.crs import transformer_to_lonlat

    lon, lat = transformer_to_lonlat(CRS).transform(X0 + 20, Y0 + 250)
    reach = engine.reach((lon, lat))
    assert reach.on_foot_m == pytest.approx(250.0, abs=0.01)


def test_emergency_rule_drives_against_a_one_way_at_a_penalty() -> None:
    xy = np.array([(0, 0), (500, 0)], dtype=float) + ORIGIN
    # A -> B a one-way street (500 m); B -> A only the long way round (2000 m, drawn straight for brevity).
    src, tgt = [0, 1], [1, 0]
    length = np.array([500.0, 2000.0])
    graph = road_graph_from_arrays(
        edge_source=src,
        edge_target=tgt,
        edge_travel_time_s=length / (36 / 3.6),
        edge_length_m=length,
        metric_crs=CRS,
        node_xy_m=xy,
        reorder_nodes=False,
    )
    assert (graph.edge_twin == -1).all()  # 1500 m apart in length: not one street's two directions
    attributes = EdgeAttributes.untagged(graph)
    plain = CsgraphEngine(profile_graph(graph, attributes, vehicle_profile(CAR)))
    penalised = CsgraphEngine(profile_graph(graph, attributes, vehicle_profile(CAR, against_oneway_factor=1.5)))
    a, b = _lonlat(graph, 0), _lonlat(graph, 1)
    # B -> A: 2000 m at 10 m/s = 200 s as mapped; against A -> B's one-way 50 s x 1.5 = 75 s.
    assert plain.travel_times_to([b], a)[0].eta_s == pytest.approx(200.0, abs=0.01)
    assert penalised.travel_times_to([b], a)[0].eta_s == pytest.approx(75.0, abs=0.01)
    assert penalised.travel_times_to([a], b)[0].eta_s == pytest.approx(50.0, abs=0.01)
