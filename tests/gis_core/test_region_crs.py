"""A region's metric CRS: the pure checks, Region.clean and the admin, the boundary importer, routing, region_create."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from pyproj import Geod, Transformer
from rest_framework.test import APIClient

from bench.grid import city_grid
from gis_core.importers.boundaries import import_boundaries
from gis_core.importers.errors import ImportValidationError
from gis_core.importers.roads import import_road_graph
from gis_core.metric_srid import MAX_SCALE_ERROR, metric_srid_problems, utm_srid_for
from gis_core.models import Kecamatan, Region
from gis_core.routing.registry import clear_engines

# (west, south, east, north), EPSG:4326: the extents of jambi/kecamatan_jambi.geojson and
# ambon/kecamatan_ambon.geojson, rounded outwards to 0.01° (GEOS extent of the files' union).
JAMBI_BOUNDS = (103.49, -1.68, 103.70, -1.54)
AMBON_BOUNDS = (128.06, -3.80, 128.31, -3.57)
# Kota Pontianak straddles the equator (about 0.09°S to 0.03°N), where UTM 49S's area of use stops.
PONTIANAK_BOUNDS = (109.25, -0.09, 109.40, 0.03)


# --- the pure functions --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "srid"),
    [
        (103.6, -1.6, 32748),  # Kota Jambi, UTM 48S (STYLE.md)
        (128.2, -3.7, 32752),  # Kota Ambon, UTM 52S (STYLE.md)
        (98.67, 3.59, 32647),  # Kota Medan: zone floor((98.67 + 180) / 6) + 1 = 47, north of the equator
        (102.0, -1.0, 32748),  # a zone's western edge belongs to it: (102 + 180) / 6 = 47 exactly -> zone 48
        (180.0, 0.0, 32660),  # the antimeridian is the last zone's; the equator counts as north
        (-180.0, -10.0, 32701),
    ],
)
def test_utm_srid_for(lon: float, lat: float, srid: int) -> None:
    assert utm_srid_for(lon, lat) == srid


@pytest.mark.parametrize(("lon", "lat"), [(181.0, 0.0), (0.0, -85.0), (0.0, 85.0), (float("nan"), 0.0)])
def test_utm_srid_for_refuses_points_utm_cannot_hold(lon: float, lat: float) -> None:
    with pytest.raises(ValueError, match=r"is not a \(lon, lat\) point|outside UTM's range"):
        utm_srid_for(lon, lat)


@pytest.mark.parametrize(
    ("srid", "bounds"),
    [
        (32748, JAMBI_BOUNDS),
        (32752, AMBON_BOUNDS),
        (23878, JAMBI_BOUNDS),  # DGN95 / UTM zone 48S, the Indonesian datum's own
        (32749, PONTIANAK_BOUNDS),  # 0.03° north of the zone's area of use: within the margin
        (32748, None),  # no geometry yet: the CRS itself is fine
    ],
)
def test_a_fitting_crs_has_no_problems(srid: int, bounds) -> None:
    assert metric_srid_problems(srid, bounds) == []


@pytest.mark.parametrize(
    ("srid", "expected"),
    [
        (4326, "EPSG:4326 (WGS 84) is geographic (degrees), not projected"),
        (9999999, "EPSG:9999999 is not a CRS known to PROJ's EPSG database"),
        (2229, "measures in US survey foot, not metres"),  # NAD83 / California zone 5 (ftUS)
        (4978, "is not a projected CRS (it is Geocentric CRS)"),  # WGS 84 geocentric, metres but 3D
        (5972, "is a compound CRS"),  # ETRS89 / UTM 32N + NN2000 height
        ("32748", "must be an EPSG code (a whole number), not '32748'"),
        (True, "must be an EPSG code"),
    ],
)
def test_an_unfit_crs_is_refused_with_its_reason(srid, expected: str) -> None:
    for bounds in (None, JAMBI_BOUNDS):
        problems = metric_srid_problems(srid, bounds)
        assert len(problems) == 1, problems
        assert expected in problems[0]


def test_the_wrong_utm_zone_is_refused_and_the_right_one_named() -> None:
    problems = metric_srid_problems(32752, JAMBI_BOUNDS)
    assert len(problems) == 2, problems
    assert problems[0].startswith("EPSG:32752 (WGS 84 / UTM zone 52S) is made for lon 126 to 132, lat -80 to 0")
    assert problems[0].endswith("its centre is in EPSG:32748 (WGS 84 / UTM zone 48S)")
    assert "stretches distances over the region by up to" in problems[1]
    # The neighbouring zone: Jambi's west edge is 1.49° beyond 47S's area of use; its scale there is fine (0.3%).
    neighbour = metric_srid_problems(32747, JAMBI_BOUNDS)
    assert len(neighbour) == 1, neighbour
    assert "is made for lon 96 to 102" in neighbour[0]


def test_the_reported_stretch_is_what_the_wrong_zone_does_to_a_distance() -> None:
    """Independent of the scale factors the check uses: a 1 km east-west segment at Jambi's centre measured in
    UTM 52S against its geodesic length on the WGS 84 ellipsoid (pyproj.Geod)."""
    lon0, lat0, lon1 = 103.595, -1.61, 103.604
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32752", always_xy=True).transform([lon0, lon1], [lat0, lat0])
    projected_m = ((x[1] - x[0]) ** 2 + (y[1] - y[0]) ** 2) ** 0.5
    geodesic_m = Geod(ellps="WGS84").inv(lon0, lat0, lon1, lat0)[2]
    stretch = projected_m / geodesic_m - 1
    assert stretch > 0.10  # about 10.7 %: Jambi is 25° of longitude from zone 52's central meridian (129°E)
    reported = metric_srid_problems(32752, JAMBI_BOUNDS)[1]
    percent = float(reported.split("up to ")[1].split("%")[0]) / 100
    assert percent == pytest.approx(stretch, abs=0.002)  # the bounds' corners stretch slightly more than the centre
    assert percent > MAX_SCALE_ERROR


@pytest.mark.parametrize(
    "bounds", [(1, 2, 3), (103.7, -1.6, 103.5, -1.5), (0, 0, 0, float("inf")), (-200, 0, 0, 1), ("a", 0, 0, 0)]
)
def test_bounds_that_are_not_lon_lat_are_a_callers_mistake(bounds) -> None:
    with pytest.raises(ValueError, match="bounds"):
        metric_srid_problems(32748, bounds)


# --- Region.clean and the admin ------------------------------------------------------------------------------


def _metric_srid_errors(region: Region) -> list[str]:
    with pytest.raises(ValidationError) as info:
        region.full_clean()
    return info.value.message_dict["metric_srid"]


@pytest.mark.django_db
def test_region_clean_refuses_a_geographic_or_unknown_crs() -> None:
    assert (
        "is geographic"
        in _metric_srid_errors(Region(code="15.71", slug="j", name="J", metric_srid=4326, time_zone="Asia/Jakarta"))[0]
    )
    assert (
        "not a CRS known"
        in _metric_srid_errors(Region(code="15.71", slug="j", name="J", metric_srid=9999999, time_zone="Asia/Jakarta"))[
            0
        ]
    )
    Region(
        code="15.71", slug="j", name="J", metric_srid=32748, time_zone="Asia/Jakarta"
    ).full_clean()  # the right one passes


@pytest.mark.django_db
def test_region_clean_checks_the_crs_against_the_imported_kecamatan(jambi_region, data_dir: Path) -> None:
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    jambi_region.metric_srid = 32752  # a real projected CRS in metres, of Ambon's zone
    errors = _metric_srid_errors(jambi_region)
    assert "is made for lon 126 to 132" in errors[0]
    assert "its centre is in EPSG:32748" in errors[0]


@pytest.mark.django_db
def test_admin_form_shows_the_crs_problem_and_saves_nothing(client) -> None:
    client.force_login(get_user_model().objects.create_superuser("root", password="pw"))
    form = {
        "code": "61.71", "slug": "kota-pontianak", "name": "Kota Pontianak", "metric_srid": "4326",
        "time_zone": "Asia/Pontianak",
    }  # fmt: skip
    response = client.post("/admin/gis_core/region/add/", form)
    assert response.status_code == 200  # the form again, with the error
    assert "EPSG:4326 (WGS 84) is geographic (degrees), not projected" in response.content.decode()
    assert not Region.objects.exists()
    response = client.post("/admin/gis_core/region/add/", {**form, "metric_srid": "32749"})
    assert response.status_code == 302
    assert Region.objects.get().metric_srid == 32749


# --- the boundary importer -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("srid", "expected"),
    [
        (32752, "EPSG:32752 (WGS 84 / UTM zone 52S) is made for lon 126 to 132"),
        (4326, "EPSG:4326 (WGS 84) is geographic"),
        (9999999, "EPSG:9999999 is not a CRS known"),
    ],
)
def test_importer_refuses_boundaries_its_region_cannot_measure(jambi_region, data_dir: Path, srid, expected) -> None:
    Region.objects.filter(pk=jambi_region.pk).update(metric_srid=srid)  # saved before the check existed
    jambi_region.refresh_from_db()
    with pytest.raises(ImportValidationError) as info:
        import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    message = str(info.value)
    assert f"Kota Jambi's metric_srid EPSG:{srid} cannot measure these areas; nothing was imported" in message
    assert expected in message
    assert not Kecamatan.objects.exists()


# --- routing -------------------------------------------------------------------------------------------------


@pytest.fixture
def grid_region(jambi_region):
    """Kota Jambi with bench/grid.py's 7 x 7 street grid (on Jambi, 100 m blocks) as its active network."""
    clear_engines()
    import_road_graph(region=jambi_region, graph=city_grid(7, seed=1, missing_share=0.0), source="grid",
                      source_kind="graph")  # fmt: skip
    yield jambi_region
    clear_engines()


def _route(api: APIClient):
    # Two points inside the grid, which starts at (103.55, -1.66) and spans about 600 m.
    body = {"region": "kota-jambi", "origin": [103.5505, -1.6595], "destination": [103.5545, -1.6560]}
    return api.post("/api/routing/route/", body, format="json")


@pytest.mark.django_db
def test_route_for_a_region_with_a_wrong_crs_is_a_409_and_a_fixed_one_routes_again(grid_region) -> None:
    api = APIClient()
    api.force_authenticate(get_user_model().objects.create_superuser("root", password="pw"))
    assert _route(api).status_code == 200  # the engine is loaded and cached with UTM 48S
    for srid, expected in ((4326, "is geographic"), (32752, "is made for lon 126 to 132"), (9999999, "not a CRS")):
        Region.objects.filter(pk=grid_region.pk).update(metric_srid=srid)
        response = _route(api)
        assert response.status_code == 409, (srid, response.content)
        error = response.json()["error"]
        assert error["code"] == "region_crs_invalid"
        assert f"Kota Jambi's metric_srid EPSG:{srid} cannot measure its road network" in error["message"]
        assert expected in error["message"]
    Region.objects.filter(pk=grid_region.pk).update(metric_srid=32748)
    assert _route(api).status_code == 200


# --- manage.py region_create ---------------------------------------------------------------------------------


def _region_create(*args: str) -> str:
    out = io.StringIO()
    call_command("region_create", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "code", "folder", "srid", "zone"),
    [("Kota Jambi", "15.71", "jambi", 32748, "UTM zone 48S"), ("Kota Ambon", "81.71", "ambon", 32752, "UTM zone 52S")],
)
def test_region_create_chooses_the_utm_zone_from_the_boundaries(data_dir: Path, name, code, folder, srid, zone) -> None:
    path = data_dir / folder / f"kecamatan_{folder}.geojson"
    out = _region_create(name, "--code", code, "--boundaries", str(path))
    region = Region.objects.get(code=code)
    assert (region.name, region.slug, region.metric_srid) == (name, name.lower().replace(" ", "-"), srid)
    assert f"EPSG:{srid} (WGS 84 / {zone}) (the UTM zone of the centroid" in out
    summary = import_boundaries(region=region, path=path, level="kecamatan")  # the next step of README's recipe
    assert summary.created == Kecamatan.objects.filter(region=region).count() > 0


@pytest.mark.django_db
def test_region_create_with_a_given_crs(data_dir: Path) -> None:
    out = _region_create("Kota Balikpapan", "--code", "64.71", "--slug", "bpn", "--metric-srid", "32750")
    region = Region.objects.get(code="64.71")
    assert (region.slug, region.metric_srid) == ("bpn", 32750)
    assert "EPSG:32750 (WGS 84 / UTM zone 50S) (as given)" in out
    # Given and checked against a file: DGN95 / UTM 48S fits Jambi, so it is kept rather than the WGS 84 zone.
    path = data_dir / "jambi" / "kecamatan_jambi.geojson"
    _region_create("Kota Jambi", "--code", "15.71", "--metric-srid", "23878", "--boundaries", str(path))
    assert Region.objects.get(code="15.71").metric_srid == 23878


@pytest.fixture
def points_file(tmp_path: Path) -> Path:
    point = {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [103.6, -1.6]}}
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [point]}))
    return path


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["Kota X", "--code", "99.01"], "--metric-srid: give the EPSG code of a projected CRS, or a boundary file"),
        (["Kota X", "--code", "99.01", "--metric-srid", "4326"], "--metric-srid: EPSG:4326 (WGS 84) is geographic"),
        (["Kota X", "--code", "99.01", "--metric-srid", "9999999"], "EPSG:9999999 is not a CRS known"),
        (["Kota X", "--code", "99.01", "--metric-srid", "0"], "--metric-srid: "),
        (["Kota X", "--code", "99.01", "--metric-srid", "32748", "--boundaries", "ambon/kecamatan_ambon.geojson"],
         "its centre is in EPSG:32752 (WGS 84 / UTM zone 52S)"),
        (["Kota X", "--code", "99.01", "--boundaries", "nowhere/kec.geojson"], "nowhere/kec.geojson: file not found"),
        (["Kota X", "--code", "99.01", "--boundaries", "POINTS"], "points.geojson: layer 'points' has no polygon"),
        (["Kota X", "--code", "15.71", "--metric-srid", "32748"], "--code: Region with this Code already exists."),
        (["Kota Jambi", "--code", "99.01", "--metric-srid", "32748"], "--slug: Region with this Slug already exists."),
        (["Kota\x00X", "--code", "99.01", "--metric-srid", "32748"], "name: must not contain a NUL character"),
        (["", "--code", "", "--metric-srid", "32748"], "--code: This field cannot be blank."),
        (["Kota X", "--code", "9" * 17, "--metric-srid", "32748"], "--code: Ensure this value has at most 16"),
    ],
)  # fmt: skip
def test_region_create_bad_input_is_a_command_error(jambi_region, points_file: Path, args, expected) -> None:
    args = [str(points_file) if arg == "POINTS" else arg for arg in args]
    with pytest.raises(CommandError) as info:
        _region_create(*args)
    assert expected in str(info.value)
    assert list(Region.objects.values_list("code", flat=True)) == ["15.71"]  # only the fixture's
