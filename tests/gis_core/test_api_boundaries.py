"""Regions, kecamatan and kelurahan as GeoJSON, the locate endpoint, and the OpenAPI schema."""

from __future__ import annotations

import json

import pytest
import shapely
from factories.access import api_client
from rest_framework.test import APIClient
from shapely.geometry import shape

from gis_core.importers.boundaries import import_boundaries
from gis_core.importers.roads import import_roads

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(jambi_region) -> APIClient:
    """A dispatcher's client: the API's permissions ask for a console role (tests/access checks who is refused)."""
    return api_client("dispatcher")


@pytest.fixture
def jambi(jambi_region, data_dir):
    for level in ("kecamatan", "kelurahan"):
        import_boundaries(region=jambi_region, path=data_dir / "jambi" / f"{level}_jambi.geojson", level=level)
    return jambi_region


def test_regions_list_shows_the_active_network(api, jambi, data_dir, django_assert_max_num_queries) -> None:
    import_roads(region=jambi, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    with django_assert_max_num_queries(4):  # + the role check
        response = api.get("/api/regions/")
    assert response.status_code == 200
    (region,) = response.json()["results"]
    assert (region["slug"], region["code"], region["metric_srid"]) == ("kota-jambi", "15.71", 32748)
    assert region["network"]["node_count"] == 490


def test_kecamatan_geojson_with_pagination(api, jambi, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(4):  # + the role check
        response = api.get("/api/regions/kota-jambi/kecamatan/?page_size=5")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == 11
    assert len(body["features"]) == 5
    first = body["features"][0]
    assert first["id"] == "15.71.01"
    assert first["geometry"]["type"] == "MultiPolygon"
    # kecamatan_jambi.geojson area_km2 for Telanaipura is 20.325 (computed in UTM 48S by the data's author).
    assert first["properties"]["area_m2"] == pytest.approx(20.325e6, rel=0.005)
    assert body["next"].endswith("page=2&page_size=5")


def test_bbox_filter_keeps_overlapping_areas(api, jambi) -> None:
    # A small box around the Damkar HQ point (103.595769, -1.619313), which lies in Kota Baru and in
    # kelurahan Simpang III Sipin (checked in tests/gis_core/test_selectors.py against ST_Contains).
    box = "103.5950,-1.6200,103.5965,-1.6185"
    response = api.get(f"/api/regions/kota-jambi/kelurahan/?in_bbox={box}")
    assert response.status_code == 200
    names = {f["properties"]["name"] for f in response.json()["features"]}
    assert "Simpang III Sipin" in names
    assert len(names) < 68


def test_kecamatan_bbox_filter_pages_through_exactly_the_overlapping_areas(
    api, jambi, data_dir, django_assert_max_num_queries
) -> None:
    box = (103.60, -1.62, 103.63, -1.59)  # central Kota Jambi, south of the Batang Hari
    # Independent answer from the source file with shapely. The filter is drf-gis "overlapping", i.e. the
    # PostGIS && operator: a kecamatan comes back when its bounding box meets the box (8 here, 6 of which
    # meet it with their polygon; a client that needs the exact set intersects on its side).
    collection = json.loads((data_dir / "jambi" / "kecamatan_jambi.geojson").read_text())
    expected = sorted(
        f["properties"]["kode_kec"]
        for f in collection["features"]
        if shapely.box(*shape(f["geometry"]).bounds).intersects(shapely.box(*box))
    )
    assert 0 < len(expected) < 11
    url = "/api/regions/kota-jambi/kecamatan/?in_bbox={},{},{},{}&page_size=3".format(*box)
    codes = []
    while url:
        with django_assert_max_num_queries(4):  # + the role check
            response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == len(expected)
        assert len(body["features"]) <= 3
        codes += [f["id"] for f in body["features"]]
        url = body["next"]
        if url:
            assert "in_bbox=" in url  # the next page keeps the filter
    assert codes == expected  # ordered by code, each once, none outside the box


def test_kelurahan_of_one_kecamatan(api, jambi, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(4):  # + the role check
        response = api.get("/api/regions/kota-jambi/kelurahan/?kecamatan=15.71.01")
    features = response.json()["features"]
    assert len(features) == 7  # SOURCES.md: Telanaipura has 7 kelurahan
    assert {f["properties"]["kecamatan_code"] for f in features} == {"15.71.01"}


@pytest.mark.parametrize(
    ("bbox", "fragment"),
    [
        ("1,2,3", "four numbers"),
        ("a,b,c,d", "four numbers"),
        ("103.6,-1.6,103.5,-1.5", "min_lon must be below max_lon"),
        ("-1.62,103.59,-1.61,103.60", "out of range"),
    ],
)
def test_bad_bbox_is_a_400(api, jambi, bbox, fragment) -> None:
    response = api.get(f"/api/regions/kota-jambi/kecamatan/?in_bbox={bbox}")
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_locate_names_kecamatan_and_kelurahan(api, jambi, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(4):
        response = api.get("/api/regions/kota-jambi/locate/?lon=103.595769&lat=-1.619313")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["kecamatan"] == {"code": "15.71.07", "name": "Kota Baru"}
    assert body["kelurahan"]["name"] == "Simpang III Sipin"


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("lon=106.8272&lat=-6.1754", "outside Kota Jambi"),
        ("lon=-1.619313&lat=103.595769", "did you mean [103.595769, -1.619313]"),
        ("lon=east&lat=-1.6", "lon"),
        ("lat=-1.6", "lon"),
    ],
)
def test_locate_bad_input_is_a_400(api, jambi, query, fragment) -> None:
    response = api.get(f"/api/regions/kota-jambi/locate/?{query}")
    assert response.status_code == 400
    assert fragment in response.json()["error"]["message"]


def test_unknown_region_in_a_path_is_a_404_with_a_message(api, jambi) -> None:
    response = api.get("/api/regions/atlantis/kecamatan/")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "unknown region 'atlantis'; your regions: kota-jambi",
    }


def test_openapi_schema_and_docs_page(api) -> None:
    schema = api.get("/api/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/routing/eta/", "/api/routing/route/", "/api/regions/{slug}/kecamatan/"):
        assert path in paths
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
