"""Map exports for planners: GeoPackage layers read back with pyogrio, GeoJSON, PNG; region-scoped; bad input a 400.

Coverage on conftest.py's street grid (one Damkar posko, two kecamatan); incidents on the seeded Kota Jambi
history, whose October reports (8, test_period_report.py) all lie at the factories' Kota Jambi centre.
"""

from __future__ import annotations

import json

import pyogrio
import pytest
from factories.access import make_user
from factories.gis_core import make_region
from rest_framework.test import APIClient

from coverage.models import RunKind
from coverage.selectors import SourceSpec
from coverage.services import coverage_run_create

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _saved(body: bytes, tmp_path) -> str:
    path = tmp_path / "export.gpkg"  # as a planner saves it (GDAL wants the .gpkg name)
    path.write_bytes(body)
    return str(path)


def _layers(path: str) -> dict:
    """Each layer of a GeoPackage: its geometry type, CRS, columns and feature count (pyogrio reads it back)."""
    out = {}
    for name, geometry_type in pyogrio.list_layers(path):
        info = pyogrio.read_info(path, layer=name)
        out[name] = {"type": geometry_type, "crs": info["crs"], "fields": list(info["fields"]),
                     "features": info["features"]}  # fmt: skip
    return out


def test_coverage_geopackage(grid_region, tmp_path):
    client = _client(make_user("map-planner", "planner"))
    response = client.get("/api/reports/maps/coverage.gpkg", {"region": "grid"})
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"].endswith('.gpkg"')
    path = _saved(response.content, tmp_path)
    layers = _layers(path)
    assert set(layers) == {"stations", "wmk_zones", "coverage_cells", "gaps_kecamatan", "gap_cells"}
    assert {layer["crs"] for layer in layers.values()} == {"EPSG:4326"}
    assert layers["stations"]["features"] == 1  # posko-sw
    assert layers["wmk_zones"]["features"] == 1  # its 15-minute zone
    assert layers["wmk_zones"]["type"] == "MultiPolygon"
    assert layers["gaps_kecamatan"]["features"] == 2  # West and East
    # The oracle: a stored coverage run from the same posko at the same travel time holds as many cells.
    run = coverage_run_create(region=grid_region, spec=SourceSpec(agencies=("damkar",)), kind=RunKind.COVERAGE,
                              thresholds_s=[900])  # fmt: skip
    assert layers["coverage_cells"]["features"] == len(run.results["cells"])
    assert {"population", "time_s", "in_wmk", "population_beyond"} <= set(layers["coverage_cells"]["fields"])
    assert {"rank", "code", "name", "population_beyond", "share_beyond"} <= set(layers["gaps_kecamatan"]["fields"])
    assert layers["gap_cells"]["features"] == 0  # 15 minutes of road reach the whole 1 km grid
    cells = pyogrio.read_dataframe(path, layer="coverage_cells")
    assert cells["population"].sum() == pytest.approx(2000, abs=0.5)  # West's and East's 1,000 each
    assert set(cells["in_wmk"]) == {1}


def test_coverage_geojson_png_and_bad_input(grid_region):
    client = _client(make_user("map-planner2", "planner"))
    zones = client.get("/api/reports/maps/coverage.geojson", {"region": "grid", "layer": "wmk_zones"})
    assert zones.status_code == 200
    body = json.loads(zones.content)
    assert body["features"][0]["properties"]["station"] == "posko-sw"
    assert body["features"][0]["geometry"]["type"] == "MultiPolygon"
    png = client.get("/api/reports/maps/coverage.png", {"region": "grid"})
    assert png.status_code == 200
    assert png.content.startswith(PNG)
    bad = client.get("/api/reports/maps/coverage.geojson", {"region": "grid", "layer": "x" * 10000})
    assert bad.status_code == 400
    assert "layer must be one of" in bad.json()["error"]["message"]
    assert client.get("/api/reports/maps/coverage.gpkg", {"region": "grid", "agency": "police"}).status_code == 400
    # A region without EMS stations: a clear 4xx, not a 500.
    assert client.get("/api/reports/maps/coverage.gpkg", {"region": "grid", "agency": "ems"}).status_code == 400


def test_incident_geopackage(history, tmp_path):
    client = _client(make_user("map-dispatcher", "dispatcher"))
    response = client.get("/api/reports/maps/incidents.gpkg", {"region": "kota-jambi", "period": "2026-10"})
    assert response.status_code == 200, response.content
    path = _saved(response.content, tmp_path)
    layers = _layers(path)
    assert layers["incidents"]["crs"] == "EPSG:4326"
    assert layers["incidents"]["features"] == 8
    assert {"reference", "received_at", "channel", "incident_type", "priority", "outcome", "response_s"} <= set(
        layers["incidents"]["fields"]
    )
    assert "caller_phone" not in layers["incidents"]["fields"]  # never on a map, whoever asks
    assert layers["density"]["crs"] == "EPSG:32748"  # Kota Jambi's metric CRS
    density = pyogrio.read_dataframe(path, layer="density")
    # All eight at one spot: one cell; R1, R2, R3, R9 are fires; R6 and R10 pranks.
    assert density[["reports", "fires", "pranks"]].values.tolist() == [[8, 4, 2]]
    assert density.geometry.iloc[0].area == pytest.approx(500 * 500)
    points = pyogrio.read_dataframe(path, layer="incidents")
    assert sorted(points["received_at"])[0] == "2026-10-01T00:30:00+07:00"  # R1, in WIB


def test_incident_geojson_png_and_scoping(history):
    make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", time_zone="Asia/Jayapura")
    client = _client(make_user("map-jambi", "supervisor", regions=[history["region"]]))
    query = {"region": "kota-jambi", "period": "2026-10", "layer": "density", "cell_m": "1000"}
    density = json.loads(client.get("/api/reports/maps/incidents.geojson", query).content)
    assert density["features"][0]["properties"]["cell_m"] == 1000
    lon, lat = density["features"][0]["geometry"]["coordinates"][0][0]
    assert 103 < lon < 104  # lon/lat (RFC 7946), not UTM metres
    assert -2 < lat < -1
    png = client.get("/api/reports/maps/incidents.png", {"region": "kota-jambi", "period": "2026-10"})
    assert png.content.startswith(PNG)
    url = "/api/reports/maps/incidents.gpkg"
    assert client.get(url, {"region": "kota-ambon", "period": "2026-10"}).status_code == 404
    for cell_m in ("0", "abc", "10\x00", "99999999"):
        bad = client.get(url, {"region": "kota-jambi", "period": "2026-10", "cell_m": cell_m})
        assert bad.status_code == 400, cell_m
    assert client.get("/api/reports/maps/incidents.gpkg", {"region": "kota-jambi"}).status_code == 400
