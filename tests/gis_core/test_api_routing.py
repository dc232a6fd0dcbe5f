"""The routing endpoints over the real Kota Jambi main-road network in PostGIS."""

from __future__ import annotations

import pytest
from factories.access import api_client
from factories.gis_core import make_band_factors
from rest_framework.test import APIClient

from gis_core.importers.roads import import_roads
from gis_core.models import RoadNetworkVersion
from gis_core.routing.hour_band_engines import engine_for_band
from gis_core.routing.registry import clear_engines, engine_for

pytestmark = pytest.mark.django_db

# Real places in Kota Jambi (lon, lat): the Damkar HQ candidate from
# jambi/fire_station_jambi_unverified.csv and three hospitals from health_facilities_jambi_osm.geojson.
DAMKAR_HQ = [103.595769, -1.619313]
RSUD_ABDUL_MANAP = [103.579035273099606, -1.6410166]
SIMPANG_KAWAT = [103.6070, -1.6250]
THE_HOTEL_AREA = [103.6131, -1.6101]
JAKARTA_MONAS = [106.8272, -6.1754]


@pytest.fixture
def api(jambi_region) -> APIClient:
    """A dispatcher's client, a member of Kota Jambi (tests/access checks who is refused)."""
    return api_client("dispatcher")


@pytest.fixture
def jambi_network(jambi_region, data_dir):
    clear_engines()
    import_roads(region=jambi_region, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    yield jambi_region
    clear_engines()


def _post(api: APIClient, name: str, body: dict):
    return api.post(f"/api/routing/{name}/", body, format="json")


def test_eta_sorted_by_eta_and_equal_to_the_engine(api, jambi_network) -> None:
    origins = [{"id": "damkar", "point": DAMKAR_HQ}, RSUD_ABDUL_MANAP, {"id": "kawat", "point": SIMPANG_KAWAT}]
    response = _post(api, "eta", {"region": "kota-jambi", "destination": THE_HOTEL_AREA, "origins": origins})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    etas = [r["eta_s"] for r in results]
    assert etas == sorted(etas)
    assert {r["id"] for r in results} == {"damkar", None, "kawat"}
    engine = engine_for(jambi_network)
    expected = engine.travel_times_to([DAMKAR_HQ, RSUD_ABDUL_MANAP, SIMPANG_KAWAT], THE_HOTEL_AREA)
    for row in results:
        tt = expected[row["index"]]
        assert row["eta_s"] == pytest.approx(tt.eta_s, abs=1e-3)
        assert row["eta_s"] == pytest.approx(row["network_s"] + row["access_s"], abs=2e-3)
        assert row["distance_m"] == pytest.approx(tt.distance_m, abs=1e-2)
    assert response.json()["destination"]["offset_m"] >= 0


def test_eta_cutoff_marks_far_origins_unreachable_and_puts_them_last(api, jambi_network) -> None:
    body = {"region": "15.71", "destination": THE_HOTEL_AREA, "origins": [RSUD_ABDUL_MANAP, SIMPANG_KAWAT]}
    full = _post(api, "eta", body).json()["results"]
    longest = max(r["eta_s"] for r in full)
    shortest = min(r["eta_s"] for r in full)
    cut = _post(api, "eta", {**body, "cutoff_s": (longest + shortest) / 2}).json()["results"]
    assert [r["reachable"] for r in cut] == [True, False]
    assert cut[1]["eta_s"] is None


def test_eta_origin_outside_the_network_is_reported_in_its_row(api, jambi_network) -> None:
    body = {"region": "kota-jambi", "destination": THE_HOTEL_AREA, "origins": [DAMKAR_HQ, JAKARTA_MONAS]}
    response = _post(api, "eta", body)
    assert response.status_code == 200
    last = response.json()["results"][-1]
    assert last["index"] == 1
    assert last["eta_s"] is None
    assert "from the nearest road" in last["error"]


def test_route_is_a_linestring_whose_time_matches_the_eta(api, jambi_network) -> None:
    response = _post(api, "route", {"region": "kota-jambi", "origin": DAMKAR_HQ, "destination": RSUD_ABDUL_MANAP})
    assert response.status_code == 200, response.content
    feature = response.json()
    assert feature["geometry"]["type"] == "LineString"
    props = feature["properties"]
    assert props["length_m"] > 1000  # about 3 km apart as the crow flies
    assert props["street_names"], "a route over named main roads lists them"
    eta = _post(api, "eta", {"region": "kota-jambi", "destination": RSUD_ABDUL_MANAP, "origins": [DAMKAR_HQ]})
    assert props["eta_s"] == pytest.approx(eta.json()["results"][0]["eta_s"], abs=2e-3)


def test_isochrones_grow_with_the_threshold(api, jambi_network) -> None:
    body = {"region": "kota-jambi", "origin": DAMKAR_HQ, "thresholds_s": [300, 600]}
    response = _post(api, "isochrone", body)
    assert response.status_code == 200, response.content
    small, large = response.json()["features"]
    assert small["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert 0 < small["properties"]["area_m2"] < large["properties"]["area_m2"]


def test_matrix_rows_are_origins_and_match_eta(api, jambi_network) -> None:
    body = {
        "region": "kota-jambi",
        "origins": [DAMKAR_HQ, SIMPANG_KAWAT],
        "destinations": [RSUD_ABDUL_MANAP, THE_HOTEL_AREA],
    }
    response = _post(api, "matrix", body)
    assert response.status_code == 200, response.content
    matrix = response.json()["eta_s"]
    assert len(matrix) == 2
    assert all(len(row) == 2 for row in matrix)
    eta = _post(api, "eta", {"region": "kota-jambi", "destination": THE_HOTEL_AREA, "origins": [SIMPANG_KAWAT]})
    assert matrix[1][1] == pytest.approx(eta.json()["results"][0]["eta_s"], abs=2e-3)


def test_engine_reloads_after_a_reimport(jambi_network, data_dir) -> None:
    first = engine_for(jambi_network)
    assert engine_for(jambi_network) is first
    import_roads(region=jambi_network, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    second = engine_for(jambi_network)
    assert second is not first
    before = first.travel_times_to([DAMKAR_HQ], RSUD_ABDUL_MANAP)[0]
    after = second.travel_times_to([DAMKAR_HQ], RSUD_ABDUL_MANAP)[0]
    assert after.eta_s == pytest.approx(before.eta_s, abs=1e-9)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"destination": [200.0, -1.6]}, "out of range"),
        ({"destination": [-1.6101, 103.6131]}, "did you mean [103.6131, -1.6101]"),
        ({"destination": JAKARTA_MONAS}, "from the nearest road"),
        ({"destination": {"type": "Pointy", "coordinates": [103.6, -1.6]}}, "GeoJSON Point"),
        ({"destination": {"type": "Point"}}, "GeoJSON Point"),
        ({"destination": [103.6]}, "two numbers"),
        ({"destination": ["east", "south"]}, "must be numbers"),
        ({"destination": [0, 0]}, "(0, 0) is not a real position"),
        ({"region": "atlantis"}, "unknown region 'atlantis'; your regions: kota-jambi"),
        ({"origins": [DAMKAR_HQ] * 501}, "at most 500"),
        ({"origins": []}, "at least one point"),
        ({"cutoff_s": -5}, "cutoff_s"),
    ],
)
def test_eta_bad_input_is_a_400_that_says_what_is_wrong(api, jambi_network, body, fragment) -> None:
    base = {"region": "kota-jambi", "destination": THE_HOTEL_AREA, "origins": [DAMKAR_HQ]}
    response = _post(api, "eta", {**base, **body})
    assert response.status_code == 400, response.content
    assert fragment in response.json()["error"]["message"]


def test_malformed_json_body_is_a_400(api, jambi_network) -> None:
    response = api.post("/api/routing/eta/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["error"]["message"]


def test_matrix_too_large_is_a_400(api, jambi_network) -> None:
    body = {"region": "kota-jambi", "origins": [DAMKAR_HQ] * 500, "destinations": [THE_HOTEL_AREA] * 21}
    response = _post(api, "matrix", body)
    assert response.status_code == 400
    assert "split the matrix" in response.json()["error"]["message"]


def test_region_without_network_is_a_409(api, jambi_region) -> None:
    clear_engines()
    response = _post(api, "eta", {"region": "kota-jambi", "destination": THE_HOTEL_AREA, "origins": [DAMKAR_HQ]})
    assert response.status_code == 409
    assert "import_roads kota-jambi" in response.json()["error"]["message"]


ENDPOINT_BODIES = {
    "route": {"origin": DAMKAR_HQ, "destination": RSUD_ABDUL_MANAP},
    "isochrone": {"origin": DAMKAR_HQ, "thresholds_s": [300]},
    "matrix": {"origins": [DAMKAR_HQ], "destinations": [RSUD_ABDUL_MANAP]},
}
# (field to replace per endpoint, value, message fragment): each class of bad input the issue lists.
BAD_POINTS = [
    ([200.0, -1.6], "out of range"),
    ([-1.619313, 103.595769], "did you mean [103.595769, -1.619313]"),
    ({"type": "LineString", "coordinates": [[103.6, -1.6], [103.61, -1.6]]}, "GeoJSON Point"),
    ({"type": "Point", "coordinates": "103.6,-1.6"}, "two numbers"),
]


@pytest.mark.parametrize("endpoint", list(ENDPOINT_BODIES))
@pytest.mark.parametrize(("point", "fragment"), BAD_POINTS)
def test_every_routing_endpoint_refuses_bad_points(api, jambi_network, endpoint, point, fragment) -> None:
    body = {"region": "kota-jambi", **ENDPOINT_BODIES[endpoint]}
    field = "origins" if endpoint == "matrix" else "origin"
    body[field] = [point] if endpoint == "matrix" else point
    response = _post(api, endpoint, body)
    assert response.status_code == 400, response.content
    message = response.json()["error"]["message"]
    assert message.startswith(f"{field}"), message  # the message names the field at fault
    assert fragment in message


@pytest.mark.parametrize("endpoint", list(ENDPOINT_BODIES))
def test_every_routing_endpoint_refuses_an_unknown_region(api, jambi_network, endpoint) -> None:
    response = _post(api, endpoint, {"region": "atlantis", **ENDPOINT_BODIES[endpoint]})
    assert response.status_code == 400
    assert "unknown region 'atlantis'; your regions: kota-jambi" in response.json()["error"]["message"]


@pytest.mark.parametrize("endpoint", ["route", "isochrone"])
def test_route_and_isochrone_from_outside_the_network_are_a_400(api, jambi_network, endpoint) -> None:
    body = {"region": "kota-jambi", **ENDPOINT_BODIES[endpoint], "origin": JAKARTA_MONAS}
    response = _post(api, endpoint, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "outside_network"
    assert "from the nearest road" in response.json()["error"]["message"]


def test_matrix_point_outside_the_network_is_null_in_its_row(api, jambi_network) -> None:
    body = {"region": "kota-jambi", "origins": [DAMKAR_HQ, JAKARTA_MONAS], "destinations": [RSUD_ABDUL_MANAP]}
    response = _post(api, "matrix", body)
    assert response.status_code == 200, response.content
    etas = response.json()["eta_s"]
    assert etas[0][0] > 0
    assert etas[1] == [None]


@pytest.mark.parametrize(
    ("thresholds_s", "fragment"),
    [([], "thresholds_s"), ([0], "thresholds_s"), ([300] * 11, "thresholds_s"), (["soon"], "thresholds_s")],
)
def test_isochrone_bad_thresholds_are_a_400(api, jambi_network, thresholds_s, fragment) -> None:
    body = {"region": "kota-jambi", "origin": DAMKAR_HQ, "thresholds_s": thresholds_s}
    response = _post(api, "isochrone", body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_routing_takes_a_vehicle_profile_and_shows_the_walk_apart(api, kampung_network) -> None:
    from factories.fleet_fixtures import KAMPUNG_A, KAMPUNG_D, KAMPUNG_E

    body = {"region": "kota-jambi", "origin": KAMPUNG_A, "destination": KAMPUNG_E}
    car = _post(api, "route", body).json()["properties"]
    fire = _post(api, "route", {**body, "profile": "fire_engine"}).json()["properties"]
    # tests/incidents/test_vehicle_profiles.py: the car takes the 556.0 m gang, the engine goes round (1667.5 m)
    # and its crew walks the last 221.1 m at 3.6 km/h.
    assert (car["profile"], car["access_on_foot_s"], car["reachable_point"]) == ("car", 0, None)
    assert car["length_m"] == pytest.approx(556.0, abs=0.5)
    assert fire["length_m"] == pytest.approx(1667.5, abs=0.5)
    assert fire["access_on_foot_s"] == pytest.approx(221.1, abs=0.3)
    assert fire["reachable_point"] == pytest.approx(list(KAMPUNG_D), abs=1e-6)
    assert fire["eta_s"] == pytest.approx(240.1 + 221.1, abs=0.5)
    eta = _post(
        api, "eta", {"region": "kota-jambi", "destination": KAMPUNG_E, "origins": [KAMPUNG_A], "profile": "fire_engine"}
    ).json()
    assert eta["results"][0]["eta_s"] == pytest.approx(fire["eta_s"], abs=1e-3)
    assert eta["access_on_foot_s"] == pytest.approx(221.1, abs=0.3)
    bad = _post(api, "route", {**body, "profile": "tank"})
    assert bad.status_code == 400, bad.content
    assert "profile" in bad.json()["error"]["message"]


def test_routing_uses_the_hour_band_of_at_and_says_what_it_routed_on(api, jambi_network) -> None:
    version = make_band_factors(jambi_network, band="16-20", factor=0.5)  # half speed from 16 to 20 local
    body = {"region": "kota-jambi", "origin": DAMKAR_HQ, "destination": THE_HOTEL_AREA, "profile": "fire_engine"}
    evening = _post(api, "route", {**body, "at": "2026-12-01T17:30:00+07:00"}).json()
    noon = _post(api, "route", {**body, "at": "2026-12-01T12:00"}).json()  # no offset: Jambi's local time
    assert evening["basis"] == {
        "profile": "fire_engine", "at": "2026-12-01T17:30:00+07:00", "hour_band": "16-20",
        "network_version": version.pk,
    }  # fmt: skip
    assert (noon["basis"]["at"], noon["basis"]["hour_band"]) == ("2026-12-01T12:00:00+07:00", "all")
    # Expected: each band engine's own route; the evening network times are twice the all-day ones.
    band_route = engine_for_band(jambi_network, "16-20", "fire_engine").route(DAMKAR_HQ, THE_HOTEL_AREA)
    assert evening["properties"]["travel_time_s"] == pytest.approx(band_route.travel_time_s, abs=1e-3)
    assert evening["properties"]["travel_time_s"] == pytest.approx(2 * noon["properties"]["travel_time_s"], rel=1e-6)
    eta = _post(api, "eta", {"region": "kota-jambi", "destination": THE_HOTEL_AREA, "origins": [DAMKAR_HQ]}).json()
    assert eta["basis"]["profile"] == "car"  # no at: now, whatever band that is
    assert eta["basis"]["network_version"] == RoadNetworkVersion.objects.get(region=jambi_network, is_active=True).pk
    for name in ("isochrone", "matrix"):
        extra = (
            {"thresholds_s": [300]}
            if name == "isochrone"
            else {"origins": [DAMKAR_HQ], "destinations": [THE_HOTEL_AREA]}
        )
        answer = _post(
            api, name, {"region": "kota-jambi", "origin": DAMKAR_HQ, "at": "2026-12-01T18:00+07:00", **extra}
        )
        assert answer.status_code == 200, answer.content
        assert answer.json()["basis"]["hour_band"] == "16-20"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"profile": "tank"}, "use one of car, fire_engine, motorbike"),
        ({"at": "tomorrow at five"}, "is not an ISO 8601 date-time"),
        ({"at": "2026-13-01T10:00"}, "is not an ISO 8601 date-time"),
    ],
)
def test_a_bad_profile_or_at_is_a_400_that_names_the_choices(api, jambi_network, extra, fragment) -> None:
    body = {"region": "kota-jambi", "origin": DAMKAR_HQ, "destination": THE_HOTEL_AREA, **extra}
    for name in ("route", "eta"):
        answer = _post(api, name, {**body, "origins": [DAMKAR_HQ]} if name == "eta" else body)
        assert answer.status_code == 400, answer.content
        assert fragment in answer.json()["error"]["message"]
