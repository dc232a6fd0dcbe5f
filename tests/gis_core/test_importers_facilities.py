"""import_facilities on the real Jambi OSM health points and the Damkar CSV, and on small bad files."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from factories.gis_core import make_region

from gis_core.importers.boundaries import import_boundaries
from gis_core.importers.errors import ImportValidationError
from gis_core.importers.facilities import FacilityMapping, import_facilities, name_ref
from gis_core.models import Facility

pytestmark = pytest.mark.django_db

CSV_HEADER = ["name", "address", "phone", "lat", "lon", "source", "confidence"]


@pytest.fixture
def jambi(jambi_region, data_dir: Path):
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    return jambi_region


def _health(data_dir: Path) -> Path:
    return data_dir / "jambi" / "health_facilities_jambi_osm.geojson"


def _damkar(data_dir: Path) -> Path:
    return data_dir / "jambi" / "fire_station_jambi_unverified.csv"


def _snapshot() -> list[tuple]:
    facilities = Facility.objects.order_by("ref")
    return [(f.ref, f.name, f.kind, bytes(f.geom.wkb), f.source, f.attributes) for f in facilities]


def _write_csv(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "stations.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
    return path


def test_jambi_health_facilities(jambi, data_dir: Path) -> None:
    summary = import_facilities(region=jambi, path=_health(data_dir))
    assert (summary.created, summary.updated, summary.unchanged) == (39, 0, 0)
    # SOURCES.md: hospital 18, puskesmas 9 (by name), clinic 6, non_emergency_cosmetic 6 (stored as other).
    assert Counter(Facility.objects.values_list("kind", flat=True)) == {
        "hospital": 18,
        "puskesmas": 9,
        "clinic": 6,
        "other": 6,
    }
    mattaher = Facility.objects.get(ref="osm:way/602572389")
    assert (mattaher.name, mattaher.kind) == ("RSUD Raden Mattaher Jambi", "hospital")
    # Properties other than the key, name and kind are kept; nulls are dropped.
    assert mattaher.attributes == {
        "amenity": "hospital",
        "healthcare": "hospital",
        "healthcare:speciality": "general",
        "emergency": "yes",
        "operator": "Pemerintah Provinsi Jambi",
        "operator:type": "government",
        "addr:street": "Jalan Letjen Suprapto",
        "addr:city": "Kota Jambi",
        "kecamatan": "Telanaipura",
    }
    assert "OpenStreetMap" in mattaher.source
    assert mattaher.geom.coords == pytest.approx((103.57932615608027, -1.60280705))
    assert Facility.objects.filter(ref="osm:relation/20450553", name="RS Bhayangkara Mayang Mangurai").exists()


def test_damkar_csv_as_fire_station(jambi, data_dir: Path) -> None:
    summary = import_facilities(region=jambi, path=_damkar(data_dir), kind="fire_station")
    assert summary.created == 1
    damkar = Facility.objects.get()
    assert damkar.kind == "fire_station"
    assert damkar.ref == name_ref(damkar.name)
    assert damkar.ref.startswith("name:dinas-pemadam-kebakaran-dan-penyelamatan-kota")
    assert len(damkar.ref) <= 64
    # (lon, lat) from the CSV's lat -1.619313, lon 103.595769.
    assert damkar.geom.coords == pytest.approx((103.595769, -1.619313))
    assert damkar.source.startswith("public GitHub file")
    assert damkar.attributes["confidence"].startswith("low")
    assert damkar.attributes["phone"] == "(0741) 7033082"
    assert set(damkar.attributes) == {"address", "phone", "confidence"}


def test_reimport_is_idempotent(jambi, data_dir: Path) -> None:
    import_facilities(region=jambi, path=_health(data_dir))
    import_facilities(region=jambi, path=_damkar(data_dir), kind="fire_station")
    before = _snapshot()
    again = import_facilities(region=jambi, path=_health(data_dir))
    damkar = import_facilities(region=jambi, path=_damkar(data_dir), kind="fire_station")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 39)
    assert (damkar.created, damkar.updated, damkar.unchanged) == (0, 0, 1)
    assert _snapshot() == before
    assert Facility.objects.count() == 40


def test_changed_record_is_updated(jambi, data_dir: Path, tmp_path: Path) -> None:
    import_facilities(region=jambi, path=_health(data_dir))
    collection = json.loads(_health(data_dir).read_text())
    collection["features"][0]["properties"]["phone"] = "+62 741 000"
    changed = tmp_path / _health(data_dir).name  # same file name: the default source names the file
    changed.write_text(json.dumps(collection))
    summary = import_facilities(region=jambi, path=changed)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 38)
    assert Facility.objects.get(ref="osm:node/9852699083").attributes["phone"] == "+62 741 000"


def test_bad_records_are_named_and_nothing_written(jambi, data_dir: Path, tmp_path: Path) -> None:
    import_facilities(region=jambi, path=_damkar(data_dir), kind="fire_station")
    path = _write_csv(
        tmp_path,
        [
            ["Pos Damkar Baik", "", "", "-1.60", "103.60", "survey", "high"],
            ["Pos Nol", "", "", "0", "0", "survey", "high"],
            ["Pos Tertukar", "", "", "103.60", "-1.60", "survey", "high"],
            ["Pos Yogyakarta", "", "", "-7.80", "110.36", "survey", "high"],
            ["", "", "", "-1.61", "103.61", "survey", "high"],
            ["Pos Teks", "", "", "satu", "103.61", "survey", "high"],
            ["Pos Damkar Baik", "", "", "-1.62", "103.62", "survey", "high"],
        ],
    )
    before = _snapshot()
    with pytest.raises(ImportValidationError) as info:
        import_facilities(region=jambi, path=path, kind="fire_station")
    message = str(info.value)
    assert "6 problem(s) in 7 records; nothing was imported" in message
    assert "line 3 (Pos Nol): position is (0, 0)" in message
    assert "line 4 (Pos Tertukar): position lon -1.6, lat 103.6 is outside lon ±180 / lat ±90 (lat and lon" in message
    # Yogyakarta is a real place in the wrong city: pyproj's geodesic from central Kota Jambi (103.6, -1.6) is
    # 1016 km, so about 1000 km from the nearest kecamatan edge.
    assert "line 5 (Pos Yogyakarta): position lon 110.36, lat -7.8 is 100" in message
    assert "km outside Kota Jambi's kecamatan (limit 20.0 km)" in message
    assert "line 6 (no name): no name in field 'name'" in message
    assert "line 7 (Pos Teks): lat 'satu' is not a number" in message
    assert "line 8 (Pos Damkar Baik): ref 'name:pos-damkar-baik' already used by line 2 (Pos Damkar Baik)" in message
    assert _snapshot() == before


def test_swapped_point_inside_range_is_flagged(tmp_path: Path) -> None:
    """Where both axes are below 90° a swap stays in range; the distance check catches it and says why.

    No Indonesian city has that property (longitudes are 95-141°E), so the region here is a synthetic
    0.1° square at 20°E 50°N with UTM 34N as its metric CRS.
    """
    region = make_region(code="99.01", slug="uji", name="Kota Uji", metric_srid=32634)
    ring = [[20.0, 50.0], [20.1, 50.0], [20.1, 50.1], [20.0, 50.1], [20.0, 50.0]]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"kode_kec": "99.01.01", "kecamatan": "Uji"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    (tmp_path / "kec.geojson").write_text(json.dumps(collection))
    import_boundaries(region=region, path=tmp_path / "kec.geojson", level="kecamatan")
    path = _write_csv(tmp_path, [["Pos Tertukar", "", "", "20.05", "50.05", "survey", "high"]])
    expected = r"line 2 \(Pos Tertukar\): position lon 50.05, lat 20.05 is"
    with pytest.raises(ImportValidationError, match=expected) as info:
        import_facilities(region=region, path=path, kind="fire_station")
    assert "they look swapped" in str(info.value)
    path = _write_csv(tmp_path, [["Pos Benar", "", "", "50.05", "20.05", "survey", "high"]])
    assert import_facilities(region=region, path=path, kind="fire_station").created == 1


def test_geojson_line_and_unknown_kind_rejected(jambi, tmp_path: Path) -> None:
    features = [
        {"name": "RS Garis", "facility_class": "hospital"},
        {"name": "RS Aneh", "facility_class": "spa"},
    ]
    geometries = [
        {"type": "LineString", "coordinates": [[103.6, -1.6], [103.61, -1.6]]},
        {"type": "Point", "coordinates": [103.6, -1.6]},
    ]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": p, "geometry": g} for p, g in zip(features, geometries, strict=True)
        ],
    }
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(collection))
    with pytest.raises(ImportValidationError) as info:
        import_facilities(region=jambi, path=path)
    assert "feature 0 (RS Garis): geometry is a LineString, expected Point" in str(info.value)
    assert "feature 1 (RS Aneh): kind 'spa' in field 'facility_class' is not one of" in str(info.value)
    assert Facility.objects.count() == 0


def test_ref_field_and_no_boundaries(jambi_region, tmp_path: Path) -> None:
    path = _write_csv(tmp_path, [["Pos 1", "", "", "-1.60", "103.60", "survey", "high"]])
    mapping = FacilityMapping(ref="phone")
    with pytest.raises(ImportValidationError, match=r"line 2 \(Pos 1\): no ref in field 'phone'"):
        import_facilities(region=jambi_region, path=path, kind="fire_station", mapping=mapping)
    path = _write_csv(tmp_path, [["Pos 1", "", "P-001", "-1.60", "103.60", "survey", "high"]])
    summary = import_facilities(region=jambi_region, path=path, kind="fire_station", mapping=mapping)
    assert Facility.objects.get().ref == "P-001"
    assert summary.notes == ["Kota Jambi has no kecamatan yet: positions were checked for range only"]


def test_name_ref_is_stable_and_short() -> None:
    long_name = "Dinas Pemadam Kebakaran dan Penyelamatan Kota Jambi (Mako Damkar) - candidate A"
    assert name_ref(long_name) == name_ref(long_name)
    assert len(name_ref(long_name)) <= 64
    assert name_ref("Puskesmas Paal X") == "name:puskesmas-paal-x"


def test_command(jambi, capsys) -> None:
    call_command("import_facilities", "kota-jambi", "--file", "jambi/health_facilities_jambi_osm.geojson")
    call_command(
        "import_facilities", "kota-jambi", "--file", "jambi/fire_station_jambi_unverified.csv", "--kind", "fire_station"
    )
    out = capsys.readouterr().out
    assert "39 created" in out
    assert "1 created" in out
    assert Facility.objects.count() == 40
    with pytest.raises(CommandError, match="no kind field 'facility_class'"):
        call_command("import_facilities", "kota-jambi", "--file", "jambi/fire_station_jambi_unverified.csv")
