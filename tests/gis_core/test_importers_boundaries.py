"""import_boundaries on the real Jambi, Ambon and Balikpapan files, other formats and CRSs, and bad files."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from django.core.management import CommandError, call_command
from factories.gis_core import make_region

from gis_core.importers.boundaries import BoundaryMapping, import_boundaries
from gis_core.importers.errors import ImportValidationError
from gis_core.models import Kecamatan, Kelurahan

pytestmark = pytest.mark.django_db

# SOURCES.md, table under kecamatan_jambi.geojson (areas computed there in UTM 48S): code -> (name, kelurahan, km²).
JAMBI_KECAMATAN = {
    "15.71.01": ("Telanaipura", 7, 20.33),
    "15.71.02": ("Jambi Selatan", 5, 7.60),
    "15.71.03": ("Jambi Timur", 9, 13.68),
    "15.71.04": ("Pasar Jambi", 4, 1.67),
    "15.71.05": ("Pelayangan", 6, 10.69),
    "15.71.06": ("Danau Teluk", 5, 13.44),
    "15.71.07": ("Kota Baru", 7, 27.26),
    "15.71.08": ("Jelutung", 7, 7.61),
    "15.71.09": ("Alam Barajo", 7, 36.06),
    "15.71.10": ("Danau Sipin", 5, 7.28),
    "15.71.11": ("Paal Merah", 6, 24.25),
}
# SOURCES.md, kecamatan_ambon.geojson "Areas" and kelurahan_ambon.geojson feature counts per kecamatan; the codes
# come from kecamatan_ambon_official_area.csv.
AMBON_KECAMATAN = {
    "81.71.01": ("Nusaniwe", 13, 46.68),
    "81.71.02": ("Sirimau", 14, 36.80),
    "81.71.03": ("Baguala", 7, 46.01),
    "81.71.04": ("Teluk Ambon", 8, 59.61),
    "81.71.05": ("Leitimur Selatan", 8, 47.43),
}
AREA_TOLERANCE = 0.005  # ±0.5 %: the SOURCES.md figures are rounded to 0.01 km²


def _ambon():
    return make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)


def _import_jambi(region, data_dir: Path) -> None:
    import_boundaries(region=region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    import_boundaries(region=region, path=data_dir / "jambi" / "kelurahan_jambi.geojson", level="kelurahan")


def _snapshot() -> list[tuple]:
    kecamatan = [(k.code, k.name, k.region_id, k.area_m2, bytes(k.geom.wkb)) for k in Kecamatan.objects.all()]
    kelurahan = [
        (k.code, k.name, k.kecamatan.code, k.kind, k.area_m2, bytes(k.geom.wkb))
        for k in Kelurahan.objects.select_related("kecamatan")
    ]
    return kecamatan + kelurahan


def _check_areas(region, expected: dict) -> None:
    areas = {k.code: k for k in Kecamatan.objects.filter(region=region)}
    assert set(areas) == set(expected)
    for code, (name, n_kelurahan, km2) in expected.items():
        assert areas[code].name == name
        assert areas[code].kelurahan.count() == n_kelurahan, code
        assert areas[code].area_m2 == pytest.approx(km2 * 1e6, rel=AREA_TOLERANCE), code
        assert areas[code].geom.srid == 4326


def test_jambi_kecamatan_and_kelurahan(jambi_region, data_dir: Path) -> None:
    kec = import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    kel = import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kelurahan_jambi.geojson", level="kelurahan")
    assert (kec.created, kec.updated, kec.unchanged) == (11, 0, 0)
    assert (kel.created, kel.updated, kel.unchanged) == (68, 0, 0)
    _check_areas(jambi_region, JAMBI_KECAMATAN)
    # Every Jambi village is a kelurahan: tipadm is 2 (BIG: 1 desa, 2 kelurahan) on all 68 features.
    assert set(Kelurahan.objects.values_list("kind", flat=True)) == {"kelurahan"}
    # SOURCES.md: "Simpang IV Sipin" 15.71.01.1001 is 1.9909 km² in the file's own area_km2 (UTM 48S).
    simpang = Kelurahan.objects.get(code="15.71.01.1001")
    assert (simpang.name, simpang.kecamatan.name) == ("Simpang IV Sipin", "Telanaipura")
    assert simpang.area_m2 == pytest.approx(1.9909e6, rel=AREA_TOLERANCE)
    # SOURCES.md: the kelurahan union is 169.853 km², and the parts do not overlap.
    total = sum(Kelurahan.objects.values_list("area_m2", flat=True))
    assert total == pytest.approx(169.853e6, rel=AREA_TOLERANCE)


def test_ambon_desa_and_kelurahan(data_dir: Path) -> None:
    region = _ambon()
    import_boundaries(region=region, path=data_dir / "ambon" / "kecamatan_ambon.geojson", level="kecamatan")
    import_boundaries(region=region, path=data_dir / "ambon" / "kelurahan_ambon.geojson", level="kelurahan")
    _check_areas(region, AMBON_KECAMATAN)
    # SOURCES.md: "the official 20 kelurahan plus 30 desa/negeri" (tipe column; desa/negeri is stored as desa).
    kinds = sorted(Kelurahan.objects.values_list("kind", flat=True))
    assert (kinds.count("kelurahan"), kinds.count("desa")) == (20, 30)


def test_balikpapan_multipolygon_kecamatan(data_dir: Path) -> None:
    region = make_region(code="64.71", slug="kota-balikpapan", name="Kota Balikpapan", metric_srid=32750)
    import_boundaries(region=region, path=data_dir / "balikpapan" / "kecamatan_balikpapan.geojson", level="kecamatan")
    import_boundaries(region=region, path=data_dir / "balikpapan" / "kelurahan_balikpapan.geojson", level="kelurahan")
    # SOURCES.md: 6 kecamatan totalling 509.3 km², 34 kelurahan; Balikpapan Barat includes an island.
    assert (Kecamatan.objects.count(), Kelurahan.objects.count()) == (6, 34)
    assert sum(Kecamatan.objects.values_list("area_m2", flat=True)) == pytest.approx(509.3e6, rel=AREA_TOLERANCE)
    barat = Kecamatan.objects.get(name="Balikpapan Barat")
    assert len(barat.geom) == 2
    assert barat.area_m2 == pytest.approx(192.52e6, rel=AREA_TOLERANCE)


def test_reimport_is_idempotent(jambi_region, data_dir: Path) -> None:
    _import_jambi(jambi_region, data_dir)
    before = _snapshot()
    again_kec = import_boundaries(
        region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan"
    )
    again_kel = import_boundaries(
        region=jambi_region, path=data_dir / "jambi" / "kelurahan_jambi.geojson", level="kelurahan"
    )
    assert (again_kec.created, again_kec.updated, again_kec.unchanged) == (0, 0, 11)
    assert (again_kel.created, again_kel.updated, again_kel.unchanged) == (0, 0, 68)
    assert _snapshot() == before
    assert (Kecamatan.objects.count(), Kelurahan.objects.count()) == (11, 68)


def test_changed_feature_is_updated_and_population_kept(jambi_region, data_dir: Path, tmp_path: Path) -> None:
    _import_jambi(jambi_region, data_dir)
    Kecamatan.objects.filter(code="15.71.04").update(population=11182, population_year=2021)
    collection = json.loads((data_dir / "jambi" / "kecamatan_jambi.geojson").read_text())
    for feature in collection["features"]:
        if feature["properties"]["kode_kec"] == "15.71.04":
            feature["properties"]["kecamatan"] = "Pasar Jambi (renamed)"
    renamed = tmp_path / "kecamatan.geojson"
    renamed.write_text(json.dumps(collection))
    summary = import_boundaries(region=jambi_region, path=renamed, level="kecamatan")
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 10)
    pasar = Kecamatan.objects.get(code="15.71.04")
    assert (pasar.name, pasar.population, pasar.population_year) == ("Pasar Jambi (renamed)", 11182, 2021)


def test_shapefile_in_utm_and_geopackage(jambi_region, data_dir: Path, tmp_path: Path) -> None:
    """A UTM 48S shapefile is transformed to 4326; areas match the GeoJSON import to 0.01 %."""
    kecamatan = gpd.read_file(data_dir / "jambi" / "kecamatan_jambi.geojson")[["kode_kec", "kecamatan", "geometry"]]
    kecamatan.to_crs(32748).to_file(tmp_path / "kecamatan_utm.shp")
    gpd.read_file(data_dir / "jambi" / "kelurahan_jambi.geojson").to_file(tmp_path / "kelurahan.gpkg", layer="kel")
    import_boundaries(region=jambi_region, path=tmp_path / "kecamatan_utm.shp", level="kecamatan")
    import_boundaries(region=jambi_region, path=tmp_path / "kelurahan.gpkg", level="kelurahan", layer="kel")
    _check_areas(jambi_region, JAMBI_KECAMATAN)
    telanaipura = Kecamatan.objects.get(code="15.71.01")
    # 103.58°E 1.62°S is the Telanaipura/Danau Sipin area: the transform did not swap or shift the axes.
    assert telanaipura.geom.extent[0] == pytest.approx(103.55, abs=0.05)
    assert telanaipura.geom.extent[1] == pytest.approx(-1.62, abs=0.05)
    # Same areas as the GeoJSON figures in the file's own area_km2 column.
    assert telanaipura.area_m2 == pytest.approx(20.325e6, rel=1e-4)


# --- bad input -------------------------------------------------------------------------------------------------


def _square(lon: float, lat: float, size: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _bowtie(lon: float, lat: float) -> dict:
    ring = [[lon, lat], [lon + 0.01, lat + 0.01], [lon + 0.01, lat], [lon, lat + 0.01], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _write(tmp_path: Path, features: list[tuple[dict, dict]], name: str = "bad.geojson") -> Path:
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    path = tmp_path / name
    path.write_text(json.dumps(collection))
    return path


def _kec(code: str | None, name: str = "Kecamatan Uji") -> dict:
    return {"kode_kec": code, "kecamatan": name}


def _assert_rejected(region, path: Path, level: str, *expected: str) -> ImportValidationError:
    counts = (Kecamatan.objects.count(), Kelurahan.objects.count())
    with pytest.raises(ImportValidationError) as info:
        import_boundaries(region=region, path=path, level=level)
    message = str(info.value)
    for text in expected:
        assert text in message
    assert "nothing was imported" in message or "required field" in message or "coordinate reference" in message
    assert (Kecamatan.objects.count(), Kelurahan.objects.count()) == counts
    return info.value


def test_every_bad_feature_is_named_and_nothing_written(jambi_region, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            (_kec("15.71.90", "Baik"), _square(103.60, -1.60)),
            (_kec(None, "Tanpa Kode"), _square(103.62, -1.60)),
            (_kec("15.71.91", "Garis"), {"type": "LineString", "coordinates": [[103.6, -1.6], [103.7, -1.6]]}),
            (_kec("15.71.92", "Kupu"), _bowtie(103.64, -1.60)),
            (_kec("15.71.90", "Kembar"), _square(103.66, -1.60)),
            (_kec("81.71.01", "Salah Kota"), _square(103.68, -1.60)),
        ],
    )
    error = _assert_rejected(
        jambi_region,
        path,
        "kecamatan",
        "feature 1 (no code, Tanpa Kode): no code in field 'kode_kec'",
        "feature 2 (15.71.91, Garis): geometry is a LineString",
        "feature 3 (15.71.92, Kupu): invalid polygon: Self-intersection",
        "feature 4 (15.71.90, Kembar): code '15.71.90' already used by feature 0 (15.71.90, Baik)",
        "feature 5 (81.71.01, Salah Kota): code '81.71.01' is not inside region 15.71",
    )
    assert len(error.problems) == 5
    assert "feature 0" not in "\n".join(p.split(":")[0] for p in error.problems)


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        ((_kec(None, "Tanpa Kode"), _square(103.6, -1.6)), "feature 1 (no code, Tanpa Kode)"),
        ((_kec("15.71.91"), {"type": "LineString", "coordinates": [[103.6, -1.6], [103.7, -1.6]]}), "LineString"),
        ((_kec("15.71.92"), _bowtie(103.6, -1.6)), "feature 1 (15.71.92, Kecamatan Uji): invalid polygon"),
        ((_kec("15.71.93"), None), "feature 1 (15.71.93, Kecamatan Uji): no geometry"),
    ],
)
def test_single_bad_feature_rejects_the_file(jambi_region, data_dir: Path, tmp_path: Path, feature, expected) -> None:
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    path = _write(tmp_path, [(_kec("15.71.99", "Baik"), _square(103.7, -1.6)), feature])
    _assert_rejected(jambi_region, path, "kecamatan", expected)


def test_duplicate_codes_rejected(jambi_region, tmp_path: Path) -> None:
    features = [(_kec("15.71.01", "A"), _square(103.6, -1.6)), (_kec("15.71.01", "B"), _square(103.7, -1.6))]
    path = _write(tmp_path, features)
    _assert_rejected(jambi_region, path, "kecamatan", "feature 1 (15.71.01, B): code '15.71.01' already used")


def test_make_valid_repairs_and_reports(jambi_region, tmp_path: Path) -> None:
    path = _write(tmp_path, [(_kec("15.71.92", "Kupu"), _bowtie(103.64, -1.60))])
    summary = import_boundaries(region=jambi_region, path=path, level="kecamatan", make_valid=True)
    assert summary.created == 1
    [note] = summary.notes
    assert note.startswith("feature 0 (15.71.92, Kupu): Self-intersection")
    assert "repaired by make_valid into 2 polygon(s)" in note
    repaired = Kecamatan.objects.get(code="15.71.92")
    assert repaired.geom.valid
    # The bowtie becomes its two triangles, each a quarter of the 0.01° square.
    assert len(repaired.geom) == 2


def test_shapefile_without_prj_rejected(jambi_region, data_dir: Path, tmp_path: Path) -> None:
    kecamatan = gpd.read_file(data_dir / "jambi" / "kecamatan_jambi.geojson")[["kode_kec", "kecamatan", "geometry"]]
    kecamatan.to_file(tmp_path / "kec.shp")
    (tmp_path / "kec.prj").unlink()
    _assert_rejected(jambi_region, tmp_path / "kec.shp", "kecamatan", "no coordinate reference system", ".prj")


def test_missing_field_rejected(jambi_region, tmp_path: Path) -> None:
    path = _write(tmp_path, [({"kode": "15.71.01", "kecamatan": "A"}, _square(103.6, -1.6))])
    _assert_rejected(jambi_region, path, "kecamatan", "required field(s) 'kode_kec' not found", "kode, kecamatan")


def test_custom_mapping(jambi_region, tmp_path: Path) -> None:
    path = _write(tmp_path, [({"KDCPUM": "15.71.01", "WADMKC": "Telanaipura"}, _square(103.6, -1.6))])
    mapping = BoundaryMapping.for_level("kecamatan", code="KDCPUM", name="WADMKC")
    import_boundaries(region=jambi_region, path=path, level="kecamatan", mapping=mapping)
    assert Kecamatan.objects.get().name == "Telanaipura"


def test_kelurahan_with_unknown_kecamatan_rejected(jambi_region, data_dir: Path, tmp_path: Path) -> None:
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    path = _write(
        tmp_path,
        [
            ({"kode_kel": "15.71.01.1099", "kelurahan": "Baru", "kode_kec": "15.71.01"}, _square(103.6, -1.6)),
            ({"kode_kel": "15.71.99.1001", "kelurahan": "Hilang", "kode_kec": "15.71.99"}, _square(103.7, -1.6)),
            ({"kode_kel": "15.71.02.1001", "kelurahan": "Salah", "kode_kec": "15.71.01"}, _square(103.8, -1.6)),
        ],
    )
    error = _assert_rejected(
        jambi_region,
        path,
        "kelurahan",
        "feature 1 (15.71.99.1001, Hilang): kecamatan '15.71.99' is not imported for Kota Jambi",
        "feature 2 (15.71.02.1001, Salah): code '15.71.02.1001' does not belong to its kecamatan '15.71.01'",
    )
    assert len(error.problems) == 2
    assert Kelurahan.objects.count() == 0


def test_kelurahan_kind_from_code_when_no_kind_field(jambi_region, data_dir: Path, tmp_path: Path) -> None:
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    path = _write(
        tmp_path,
        [
            ({"kode_kel": "15.71.01.1099", "kelurahan": "Kel", "kode_kec": "15.71.01"}, _square(103.6, -1.6)),
            ({"kode_kel": "15.71.01.2099", "kelurahan": "Desa", "kode_kec": "15.71.01"}, _square(103.7, -1.6)),
        ],
    )
    import_boundaries(region=jambi_region, path=path, level="kelurahan")
    assert dict(Kelurahan.objects.values_list("name", "kind")) == {"Kel": "kelurahan", "Desa": "desa"}


# --- command ---------------------------------------------------------------------------------------------------


def test_command_imports_real_files(jambi_region, capsys) -> None:
    call_command("import_boundaries", "kota-jambi", "--file", "jambi/kecamatan_jambi.geojson", "--level", "kecamatan")
    call_command("import_boundaries", "15.71", "--file", "jambi/kelurahan_jambi.geojson", "--level", "kelurahan")
    out = capsys.readouterr().out
    assert "11 created" in out
    assert "68 created" in out
    assert (Kecamatan.objects.count(), Kelurahan.objects.count()) == (11, 68)


def test_command_turns_validation_error_into_command_error(jambi_region, tmp_path: Path) -> None:
    path = _write(tmp_path, [(_kec("15.71.92", "Kupu"), _bowtie(103.64, -1.60))])
    with pytest.raises(CommandError, match=r"feature 0 \(15.71.92, Kupu\): invalid polygon"):
        call_command("import_boundaries", "kota-jambi", "--file", str(path), "--level", "kecamatan")
    call_command("import_boundaries", "kota-jambi", "--file", str(path), "--level", "kecamatan", "--make-valid")
    assert Kecamatan.objects.count() == 1
    with pytest.raises(CommandError, match="unknown region 'kota-x'"):
        call_command("import_boundaries", "kota-x", "--file", str(path), "--level", "kecamatan")


def test_command_field_mapping_on_a_shapefile_and_a_geopackage(jambi_region, data_dir: Path, tmp_path: Path) -> None:
    """BIG-style field names (KDCPUM, WADMKC, ...) mapped on the command line, Shapefile in UTM and GeoPackage."""
    kecamatan = gpd.read_file(data_dir / "jambi" / "kecamatan_jambi.geojson")
    kecamatan = kecamatan.rename(columns={"kode_kec": "KDCPUM", "kecamatan": "WADMKC"})[
        ["KDCPUM", "WADMKC", "geometry"]
    ]
    kecamatan.to_crs(32748).to_file(tmp_path / "ADMINISTRASIKECAMATAN_AR.shp")
    kelurahan = gpd.read_file(data_dir / "jambi" / "kelurahan_jambi.geojson").rename(
        columns={"kode_kel": "KDEPUM", "kelurahan": "WADMKD", "kode_kec": "KDCPUM", "tipadm": "TIPADM"}
    )[["KDEPUM", "WADMKD", "KDCPUM", "TIPADM", "geometry"]]
    kelurahan.to_file(tmp_path / "admin.gpkg", layer="desa_kelurahan")
    call_command(
        "import_boundaries", "kota-jambi", "--file", str(tmp_path / "ADMINISTRASIKECAMATAN_AR.shp"),
        "--level", "kecamatan", "--code-field", "KDCPUM", "--name-field", "WADMKC",
    )  # fmt: skip
    call_command(
        "import_boundaries", "kota-jambi", "--file", str(tmp_path / "admin.gpkg"), "--layer", "desa_kelurahan",
        "--level", "kelurahan", "--code-field", "KDEPUM", "--name-field", "WADMKD", "--parent-field", "KDCPUM",
        "--kind-field", "TIPADM",
    )  # fmt: skip
    _check_areas(jambi_region, JAMBI_KECAMATAN)
    simpang = Kelurahan.objects.get(code="15.71.01.1001")
    # kelurahan_jambi.geojson row 0: Simpang IV Sipin in Telanaipura, tipadm 2 (= kelurahan in BIG's schema).
    assert (simpang.name, simpang.kecamatan.code, simpang.kind) == ("Simpang IV Sipin", "15.71.01", "kelurahan")
    assert Kelurahan.objects.count() == 68
    # The default field names are not in these files: without the mapping the file is refused by field.
    with pytest.raises(CommandError, match="required field"):
        call_command(
            "import_boundaries", "kota-jambi", "--file", str(tmp_path / "ADMINISTRASIKECAMATAN_AR.shp"),
            "--level", "kecamatan",
        )  # fmt: skip
