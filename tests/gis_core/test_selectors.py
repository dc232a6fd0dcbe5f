"""admin_areas_containing against independent answers (raw PostGIS ST_Contains, shapely, the OSM file's own
kecamatan property), and region_by_slug_or_code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from django.db import connection
from factories.gis_core import make_region
from shapely.geometry import shape

from gis_core.importers.boundaries import import_boundaries
from gis_core.selectors import admin_areas_containing, region_by_slug_or_code, region_kecamatan_union

pytestmark = pytest.mark.django_db

DAMKAR_HQ = (103.595769, -1.619313)  # (lon, lat) from fire_station_jambi_unverified.csv


@pytest.fixture
def jambi(jambi_region, data_dir: Path):
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kelurahan_jambi.geojson", level="kelurahan")
    return jambi_region


def _raw_st_contains(table: str, lon: float, lat: float) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT code FROM {table} WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) ORDER BY code",
            [lon, lat],
        )
        return [row[0] for row in cursor.fetchall()]


def _shapely_containing(path: Path, code_field: str, lon: float, lat: float) -> list[str]:
    collection = json.loads(path.read_text())
    point = shapely.Point(lon, lat)
    return [f["properties"][code_field] for f in collection["features"] if shape(f["geometry"]).contains(point)]


def test_damkar_hq_lies_in_kota_baru(jambi, data_dir: Path, django_assert_max_num_queries) -> None:
    lon, lat = DAMKAR_HQ
    with django_assert_max_num_queries(2):
        kecamatan, kelurahan = admin_areas_containing(region=jambi, lon=lon, lat=lat)
    # Independent answers: a raw ST_Contains query on the stored tables, and shapely on the source GeoJSON.
    assert _raw_st_contains("gis_core_kecamatan", lon, lat) == [kecamatan.code]
    assert _raw_st_contains("gis_core_kelurahan", lon, lat) == [kelurahan.code]
    assert _shapely_containing(data_dir / "jambi" / "kecamatan_jambi.geojson", "kode_kec", lon, lat) == [kecamatan.code]
    # The shapely check above (also run by hand on the file while writing this test) gives Kota Baru, kelurahan
    # Simpang III Sipin; the point is about 30 m from the Danau Sipin boundary, so an axis or datum slip would show.
    assert (kecamatan.code, kecamatan.name) == ("15.71.07", "Kota Baru")
    assert (kelurahan.code, kelurahan.name) == ("15.71.07.1002", "Simpang III Sipin")
    assert kelurahan.kecamatan_id == kecamatan.pk


def test_every_health_facility_matches_its_osm_kecamatan(jambi, data_dir: Path) -> None:
    """The GeoJSON's `kecamatan` property came from its maker's own spatial join (SOURCES.md); all 39 agree."""
    collection = json.loads((data_dir / "jambi" / "health_facilities_jambi_osm.geojson").read_text())
    with_property = [f for f in collection["features"] if f["properties"].get("kecamatan")]
    assert len(with_property) == 39
    mismatches = []
    for feature in with_property:
        lon, lat = feature["geometry"]["coordinates"]
        kecamatan, kelurahan = admin_areas_containing(region=jambi, lon=lon, lat=lat)
        found = kecamatan.name if kecamatan else None
        if found != feature["properties"]["kecamatan"]:
            mismatches.append((feature["properties"]["name"], found, feature["properties"]["kecamatan"]))
        # Jambi's kecamatan are dissolved from its kelurahan, so the two levels agree.
        assert kelurahan is not None
        assert kelurahan.kecamatan_id == kecamatan.pk
    assert mismatches == []


def test_outside_and_other_region(jambi, data_dir: Path) -> None:
    # Central Ambon (128.18 E, 3.70 S): far outside Kota Jambi.
    assert admin_areas_containing(region=jambi, lon=128.18, lat=-3.70) == (None, None)
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    import_boundaries(region=ambon, path=data_dir / "ambon" / "kecamatan_ambon.geojson", level="kecamatan")
    # Only the asked region's areas are searched.
    assert admin_areas_containing(region=ambon, lon=DAMKAR_HQ[0], lat=DAMKAR_HQ[1]) == (None, None)


def test_point_on_shared_boundary_goes_to_lowest_code(jambi, data_dir: Path) -> None:
    """ST_Covers counts the boundary as inside; a vertex shared by two kecamatan is in both, the lowest code wins."""
    collection = json.loads((data_dir / "jambi" / "kecamatan_jambi.geojson").read_text())
    rings = {f["properties"]["kode_kec"]: f["geometry"]["coordinates"][0] for f in collection["features"]}
    # Found with shapely: Telanaipura (15.71.01) and Alam Barajo (15.71.09) share this exact vertex.
    vertex = (103.5516134, -1.6164727)
    assert list(vertex) in rings["15.71.01"]
    assert list(vertex) in rings["15.71.09"]
    assert _raw_st_contains("gis_core_kecamatan", *vertex) == []  # ST_Contains excludes the boundary
    kecamatan, _ = admin_areas_containing(region=jambi, lon=vertex[0], lat=vertex[1])
    assert kecamatan.code == "15.71.01"


def test_region_kecamatan_union(jambi) -> None:
    union = region_kecamatan_union(region=jambi)
    # SOURCES.md: the kecamatan total 169.85 km² (UTM 48S); the union has no overlaps to lose.
    assert union.transform(32748, clone=True).area == pytest.approx(169.85e6, rel=0.005)
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    assert region_kecamatan_union(region=ambon) is None


def test_region_by_slug_or_code(jambi_region, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(1):
        assert region_by_slug_or_code("kota-jambi") == jambi_region
    assert region_by_slug_or_code("15.71") == jambi_region
    assert region_by_slug_or_code(" 15.71 ") == jambi_region
    assert region_by_slug_or_code("kota-ambon") is None
