"""Live closures as routing sees them: a closure made through the service changes ``engine_for``'s answers
from the next call, a lift or its end time restores them, and the check costs no extra query.

On the real Kota Jambi main-road network in PostGIS; the closure is a small box over the middle of the
fastest route between two places, so that route must change.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import shapely
from django.contrib.auth.models import User
from django.utils import timezone
from factories.access import make_user

from fleet.actors import Actor
from gis_core.importers.roads import import_roads
from gis_core.models import RoadClosure
from gis_core.routing.live_closures import network_state
from gis_core.routing.registry import clear_engines, engine_for
from incidents.services.closures import road_closure_create, road_closure_lift, road_closures_end_due

pytestmark = pytest.mark.django_db

DAMKAR_HQ = (103.595769, -1.619313)  # jambi/fire_station_jambi_unverified.csv
RSUD_ABDUL_MANAP = (103.579035273099606, -1.6410166)  # health_facilities_jambi_osm.geojson


@pytest.fixture
def jambi_network(jambi_region, data_dir):
    clear_engines()
    import_roads(region=jambi_region, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    yield jambi_region
    clear_engines()


def _eta_s(region) -> float | None:
    [tt] = engine_for(region).travel_times_to([DAMKAR_HQ], RSUD_ABDUL_MANAP)
    return None if tt is None else tt.eta_s


def _box_over_route_middle(region, half_deg: float = 0.0004) -> shapely.Polygon:
    route = engine_for(region).route(DAMKAR_HQ, RSUD_ABDUL_MANAP, with_access_legs=False).geometry_lonlat
    middle = route.interpolate(0.5, normalized=True)
    return shapely.box(middle.x - half_deg, middle.y - half_deg, middle.x + half_deg, middle.y + half_deg)


def _close(region, area, **kwargs):
    user = User.objects.filter(username="bpbd.officer").first() or make_user("bpbd.officer", "supervisor")
    actor = Actor.person(user)
    geometry = shapely.MultiPolygon([area])
    return road_closure_create(region=region, reason="banjir", source="drawn", geometry=geometry, actor=actor, **kwargs)


def test_a_closure_changes_the_eta_from_the_next_call_and_a_lift_restores_it(jambi_network) -> None:
    region = jambi_network
    before = _eta_s(region)
    base = engine_for(region)
    created = _close(region, _box_over_route_middle(region))
    assert created.edge_count >= 2  # both directions of at least one street segment
    after = _eta_s(region)
    assert after is None or after > before + 1  # a detour, or no way round on the main roads
    closed = engine_for(region)
    assert closed is not base
    assert closed is engine_for(region)
    assert engine_for(region, live_closures=False) is base  # the imported network stays loaded for the lift
    road_closure_lift(closure=created.closure, actor=Actor.person(make_user("dispatcher-a", "dispatcher")))
    assert engine_for(region) is base
    assert _eta_s(region) == pytest.approx(before)


def test_a_slow_closure_multiplies_the_time_of_what_it_covers(jambi_network) -> None:
    region = jambi_network
    before = _eta_s(region)
    _close(region, _box_over_route_middle(region), mode="slow", slow_factor=5.0)
    after = _eta_s(region)
    assert after is not None
    assert after > before
    # Never more than the closed network's: a slowed road is still there to take.
    closed_s = _eta_s_closed(region)
    assert closed_s is None or after <= closed_s + 1e-6


def _eta_s_closed(region) -> float | None:
    RoadClosure.objects.update(lifted_at=timezone.now())
    _close(region, _box_over_route_middle(region))
    return _eta_s(region)


def test_an_ended_or_scheduled_closure_does_not_apply_and_its_end_is_recorded(jambi_network) -> None:
    region = jambi_network
    before, base = _eta_s(region), engine_for(region)
    area = _box_over_route_middle(region)
    later = _close(region, area, starts_at=timezone.now() + timedelta(hours=1)).closure
    assert engine_for(region) is base  # scheduled: not yet in force
    ended = _close(region, area, ends_at=timezone.now() + timedelta(hours=2)).closure
    assert engine_for(region) is not base
    # Its end time passes (moved into the past here rather than waiting): routing drops it on the next call.
    RoadClosure.objects.filter(pk=ended.pk).update(
        starts_at=timezone.now() - timedelta(hours=2), ends_at=timezone.now() - timedelta(seconds=1)
    )
    assert engine_for(region) is base
    assert _eta_s(region) == pytest.approx(before)
    ended_ids, started_ids = road_closures_end_due()
    assert ended_ids == [ended.pk]
    assert started_ids == []
    ended.refresh_from_db()
    assert ended.lifted_at == ended.ends_at
    assert ended.lift_reason == "ended"
    # An hour on, the scheduled one is in force and announced once.
    _, key = network_state(region, now=timezone.now() + timedelta(hours=1, minutes=1))
    assert [pk for pk, _ in key] == [later.pk]
    assert road_closures_end_due(now=timezone.now() + timedelta(hours=1, minutes=1)) == ([], [later.pk])
    assert road_closures_end_due(now=timezone.now() + timedelta(hours=1, minutes=2)) == ([], [])


def test_the_per_call_check_stays_one_query(jambi_network, django_assert_num_queries) -> None:
    region = jambi_network
    _close(region, _box_over_route_middle(region))
    engine_for(region)
    with django_assert_num_queries(1):  # the active version and the closures in force, together
        engine_for(region)
