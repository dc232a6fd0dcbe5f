"""The road closure API: drawn, uploaded and picked closures, their validation, who may, and the audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from factories.gis_core import make_region
from rest_framework.test import APIClient

from access.services import membership_grant
from fleet.models import AuditEntry
from gis_core.importers.roads import import_roads
from gis_core.models import RoadClosure, RoadEdge
from gis_core.routing.registry import clear_engines

pytestmark = pytest.mark.django_db

# A box over Jl. Jend. Sudirman / the Simpang Kawat area of Kota Jambi (on the main-road network).
SIMPANG_KAWAT = (103.6070, -1.6250)


def _box(lon: float, lat: float, half: float = 0.0008) -> dict:
    ring = [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


@pytest.fixture
def jambi_network(jambi_region, data_dir):
    clear_engines()
    import_roads(region=jambi_region, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    yield jambi_region
    clear_engines()


def _member(username: str, role: str, region) -> User:
    user = User.objects.create(username=username)  # no password: the client authenticates it directly
    membership_grant(user=user, region=region, role=role)
    return user


@pytest.fixture
def users(jambi_network):
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    return {
        "dispatcher": _member("jambi.dispatcher", "dispatcher", jambi_network),
        "bpbd": _member("jambi.bpbd", "supervisor", jambi_network),  # BPBD: the supervisor role
        "planner": _member("jambi.planner", "planner", jambi_network),
        "ambon": _member("ambon.dispatcher", "dispatcher", ambon),
    }


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _create(client: APIClient, **body):
    return client.post("/api/closures/", {"region": "kota-jambi", "reason": "banjir", **body}, format="json")


def test_a_drawn_polygon_closes_the_roads_under_it_and_is_audited(users) -> None:
    response = _create(_client(users["dispatcher"]), geometry=_box(*SIMPANG_KAWAT), ends_at=None)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["type"] == "Feature"
    assert body["geometry"]["type"] == "MultiPolygon"
    props = body["properties"]
    assert props["source"] == "drawn"
    assert props["state"] == "active"
    assert props["created_by"] == "jambi.dispatcher"
    assert props["edge_count"] > 0
    assert props["streets"]  # the named streets it closes, for the dispatcher to check
    entry = AuditEntry.objects.get(action="road_closure.create")
    assert entry.actor_user == users["dispatcher"]
    assert entry.object_id == str(props["id"])
    assert entry.data["edges"] == props["edge_count"]


def test_an_uploaded_feature_collection_and_picked_streets(users) -> None:
    client = _client(users["bpbd"])  # a BPBD officer holds the supervisor role: dispatch and plan
    lon, lat = SIMPANG_KAWAT
    upload = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [{"type": "Feature", "properties": {"name": "genangan"}, "geometry": _box(lon, lat)}],
    }
    response = _create(client, geojson=upload, mode="slow", slow_factor=3, ends_at=_later(hours=6))
    assert response.status_code == 201, response.json()
    assert response.json()["properties"]["source"] == "uploaded"
    assert response.json()["properties"]["slow_factor"] == 3
    edge = RoadEdge.objects.exclude(name="").order_by("pk").first()
    picked = _create(client, edge_ids=[edge.pk])
    assert picked.status_code == 201, picked.json()
    props = picked.json()["properties"]
    assert props["source"] == "streets"
    assert props["edge_ids"] == [edge.pk]
    assert edge.name in props["streets"]
    assert picked.json()["geometry"]["type"] == "MultiLineString"


def _later(**kwargs) -> str:
    return (timezone.now() + timedelta(**kwargs)).isoformat()


BAD = [
        ({"geometry": {"type": "Point", "coordinates": list(SIMPANG_KAWAT)}}, "closure_geometry_invalid", "Polygon"),
        (
            {"geojson": {**_box(*SIMPANG_KAWAT), "crs": {"type": "name", "properties": {"name": "EPSG:32748"}}}},
            "closure_geometry_invalid",
            "reproject",
        ),
        ({"geometry": {"type": "Polygon", "coordinates": [[[1e6, 0], [1e6, 1], [1e6 + 1, 1], [1e6, 0]]]}},
         "closure_geometry_invalid", "longitude"),
        ({"geojson": {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": _box(*SIMPANG_KAWAT)},
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[103.6, -1.6], [103.61, -1.6]]}},
        ]}}, "closure_geometry_invalid", "not both"),
        ({"geojson": {"type": "Polygon", "coordinates": [[[103.6 + i * 1e-6, -1.6] for i in range(6000)]]}},
         "closure_geometry_invalid", "vertices"),
        ({"geojson": "not geojson"}, "closure_geometry_invalid", "not GeoJSON"),
        ({"geometry": _box(100.0, 0.0)}, "closure_covers_no_road", "no road"),  # far from Jambi's roads
        ({"geometry": _box(*SIMPANG_KAWAT, half=0.5)}, "closure_geometry_invalid", "km²"),  # ~12,000 km²
        ({"geometry": _box(*SIMPANG_KAWAT), "mode": "slow"}, "closure_invalid", "slow_factor"),
        ({"geometry": _box(*SIMPANG_KAWAT), "mode": "slow", "slow_factor": 0.5}, "closure_invalid", "above 1"),
        ({"geometry": _box(*SIMPANG_KAWAT), "ends_at": "2020-01-01T00:00:00Z"}, "closure_invalid", "later"),
        ({"edge_ids": [999999999]}, "unknown_edge", "999999999"),
        ({"geometry": _box(*SIMPANG_KAWAT), "edge_ids": [1]}, "invalid", "exactly one"),
        ({}, "invalid", "exactly one"),
        ({"geometry": _box(*SIMPANG_KAWAT), "reason": "a\x00b"}, "parse_error", "NUL"),
        ({"geometry": _box(*SIMPANG_KAWAT), "reason": "x" * 10_000}, "invalid", "reason"),
        ({"geometry": _box(*SIMPANG_KAWAT), "region": "kota-ambon"}, "invalid", "region"),
    ]  # fmt: skip


def test_bad_closures_get_a_clear_400(users) -> None:
    client = _client(users["dispatcher"])
    for body, code, words in BAD:
        response = _create(client, **body)
        assert response.status_code == 400, (body, response.json())
        error = response.json()["error"]
        assert code == "invalid" or error["code"] == code, (body, error)
        assert words in str(error), (body, error)
    assert not RoadClosure.objects.exists()


def test_who_may_close_lift_and_read(users) -> None:
    closure_id = _create(_client(users["dispatcher"]), geometry=_box(*SIMPANG_KAWAT)).json()["id"]
    assert _create(_client(users["planner"]), geometry=_box(*SIMPANG_KAWAT)).status_code == 403
    assert _client(users["planner"]).post(f"/api/closures/{closure_id}/lift/").status_code == 403
    # Another centre's closure is a 404 as one that does not exist; its list of Jambi is a 404 too.
    assert _client(users["ambon"]).post(f"/api/closures/{closure_id}/lift/").status_code == 404
    assert _client(users["ambon"]).get("/api/regions/kota-jambi/closures/").status_code == 404
    listed = _client(users["planner"]).get("/api/regions/kota-jambi/closures/")  # every role's map draws them
    assert listed.status_code == 200
    assert [f["id"] for f in listed.json()["features"]] == [closure_id]


def test_lift_is_audited_once_and_the_list_keeps_recent_ones_on_request(users) -> None:
    client = _client(users["bpbd"])
    closure_id = _create(client, geometry=_box(*SIMPANG_KAWAT)).json()["id"]
    lifted = client.post(f"/api/closures/{closure_id}/lift/", {"reason": "air surut"}, format="json")
    assert lifted.status_code == 200, lifted.json()
    assert lifted.json()["properties"]["state"] == "lifted"
    assert lifted.json()["properties"]["lifted_by"] == "jambi.bpbd"
    again = client.post(f"/api/closures/{closure_id}/lift/", format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "closure_not_active"
    entry = AuditEntry.objects.get(action="road_closure.lift")
    assert entry.actor_user == users["bpbd"]
    assert entry.data["reason"] == "air surut"
    assert client.get("/api/regions/kota-jambi/closures/").json()["features"] == []
    recent = client.get("/api/regions/kota-jambi/closures/?recent_h=24").json()["features"]
    assert [f["properties"]["state"] for f in recent] == ["lifted"]
    assert client.get("/api/regions/kota-jambi/closures/?recent_h=x").status_code == 400


def test_the_list_query_count_does_not_grow_with_closures(users, django_assert_max_num_queries) -> None:
    client = _client(users["dispatcher"])
    for _ in range(3):  # overlapping closures are allowed (each lifted on its own)
        assert _create(client, geometry=_box(*SIMPANG_KAWAT)).status_code == 201
    with django_assert_max_num_queries(6):  # session/user, memberships, region, the closures with their users
        response = client.get("/api/regions/kota-jambi/closures/")
    assert len(response.json()["features"]) == 3


def test_the_live_message_says_what_the_consoles_draw(users, django_capture_on_commit_callbacks) -> None:
    from incidents.live.messages import closure_message

    client = _client(users["dispatcher"])
    with django_capture_on_commit_callbacks() as callbacks:
        closure_id = _create(client, geometry=_box(*SIMPANG_KAWAT)).json()["id"]
    assert len(callbacks) == 1  # one closure message, sent after commit
    region_id, message = closure_message(closure_id, timezone.now())
    assert region_id == users["dispatcher"].memberships.get().region_id
    assert message["type"] == "closure"
    assert message["closure"]["properties"]["state"] == "active"
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(f"/api/closures/{closure_id}/lift/", format="json")
    assert len(callbacks) == 1
    assert closure_message(closure_id, timezone.now())[1]["closure"]["properties"]["state"] == "lifted"
    assert closure_message(999_999, timezone.now()) is None
