"""import_population on the real (messy) Jambi, Ambon and Balikpapan CSVs, and on small bad files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from factories.gis_core import make_region

from gis_core.importers.boundaries import import_boundaries
from gis_core.importers.errors import ImportValidationError
from gis_core.importers.population import classify_kind, import_population
from gis_core.models import Kecamatan, PopulationKind, Region

pytestmark = pytest.mark.django_db

HEADER = ["area", "kode_kemendagri", "reference_date", "population", "original_source", "where_found", "kind"]


@pytest.fixture
def jambi(jambi_region, data_dir: Path):
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kelurahan_jambi.geojson", level="kelurahan")
    return jambi_region


def _population(code: str) -> tuple:
    k = Kecamatan.objects.get(code=code)
    return (k.name, k.population, k.population_year, k.population_kind)


def _write(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    path = tmp_path / "population.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_jambi_partial_csv(jambi, data_dir: Path) -> None:
    summary = import_population(region=jambi, path=data_dir / "jambi" / "population_jambi_partial.csv")
    # Expected figures are the CSV's own rows as summarised in SOURCES.md ("population_jambi_partial.csv").
    assert _population("15.71.09") == ("Alam Barajo", 110377, 2021, PopulationKind.OFFICIAL)
    # Pasar Jambi has a dated 2021 BPS row (11,182, line 7) and an undated news row (12,498, line 10).
    assert _population("15.71.04") == ("Pasar Jambi", 11182, 2021, PopulationKind.OFFICIAL)
    assert _population("15.71.07") == ("Kota Baru", 82563, 2021, PopulationKind.OFFICIAL)  # Dukcapil mid-2021
    # Only the undated news figure exists for Danau Teluk and Pelayangan: kept, undated, as an estimate.
    assert _population("15.71.06") == ("Danau Teluk", 13694, None, PopulationKind.ESTIMATED)
    assert _population("15.71.05") == ("Pelayangan", 12123, None, PopulationKind.ESTIMATED)
    # SOURCES.md: still missing in the 11-kecamatan layout.
    assert _population("15.71.01") == ("Telanaipura", None, None, "")
    alam_barajo = Kecamatan.objects.get(code="15.71.09")
    assert alam_barajo.population_source.startswith("BPS Kota Jambi 2022 (as cited by Pemkot); where found: https://")

    region = Region.objects.get(pk=jambi.pk)
    # Newest total: mid-2024 BPS estimate 635,101 (en.wikipedia), over 2015, 2020, 2021 and mid-2023.
    assert (region.population, region.population_year) == (635101, 2024)
    assert "en.wikipedia.org" in region.population_source

    assert (summary.created, summary.updated, summary.unchanged) == (0, 6, 0)
    # The three rows of the old 8-kecamatan layout (codes joined with +) are skipped with the reason.
    assert len(summary.skipped) == 3
    assert all("a sum over several of today's areas" in line for line in summary.skipped)
    assert any("15.71.07+15.71.09" in line for line in summary.skipped)
    # Four older city totals and the undated Pasar Jambi news row lost.
    assert len(summary.superseded) == 5
    [pasar] = [line for line in summary.superseded if "15.71.04" in line]
    assert pasar.startswith("line 10 (Pasar Jambi, 15.71.04, unknown (~2023/24)): 12498 lost to line 7")
    assert "a dated figure (11182) beats an undated one" in pasar


def test_reimport_is_idempotent(jambi, data_dir: Path) -> None:
    path = data_dir / "jambi" / "population_jambi_partial.csv"
    import_population(region=jambi, path=path)
    before = list(Kecamatan.objects.values_list("code", "population", "population_year", "population_source"))
    again = import_population(region=jambi, path=path)
    assert (again.updated, again.unchanged) == (0, 6)
    assert list(Kecamatan.objects.values_list("code", "population", "population_year", "population_source")) == before


def test_ambon_2007_kecamatan_and_newest_total(data_dir: Path) -> None:
    region = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    import_boundaries(region=region, path=data_dir / "ambon" / "kecamatan_ambon.geojson", level="kecamatan")
    summary = import_population(region=region, path=data_dir / "ambon" / "population_ambon_partial.csv")
    # SOURCES.md: BPS 2007 for all five kecamatan, "kind" column "BPS, old" -> official.
    assert dict(Kecamatan.objects.values_list("code", "population")) == {
        "81.71.01": 82760,
        "81.71.02": 105010,
        "81.71.03": 47149,
        "81.71.04": 27990,
        "81.71.05": 9063,
    }
    assert set(Kecamatan.objects.values_list("population_year", "population_kind")) == {(2007, "official")}
    region.refresh_from_db()
    # Mid-2024 BPS 357,289 is newer than Dukcapil's 2023-12-31 355,365.
    assert (region.population, region.population_year) == (357289, 2024)
    assert summary.skipped == []
    assert len(summary.superseded) == 5


def test_balikpapan_blog_rows_are_estimates(data_dir: Path) -> None:
    region = make_region(code="64.71", slug="kota-balikpapan", name="Kota Balikpapan", metric_srid=32750)
    import_boundaries(region=region, path=data_dir / "balikpapan" / "kecamatan_balikpapan.geojson", level="kecamatan")
    summary = import_population(region=region, path=data_dir / "balikpapan" / "population_balikpapan.csv")
    tengah = Kecamatan.objects.get(code="64.71.04")
    # SOURCES.md: 2011 figures from a blog, marked unverified.
    assert (tengah.population, tengah.population_year, tengah.population_kind) == (98552, 2011, "estimated")
    region.refresh_from_db()
    assert (region.population, region.population_year) == (746804, 2024)
    assert [line for line in summary.skipped if "64.71.05+64.71.06" in line]


def test_unmatched_codes_are_reported_not_dropped(jambi, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            ["Hilang", "15.71.99", "2021", "100", "BPS", "x", "BPS projection"],
            ["Kota lain", "15.72", "2021", "100", "BPS", "x", "census"],
            ["Simpang IV Sipin", "15.71.01.1001", "2021", "9000", "BPS", "x", "census"],
        ],
    )
    summary = import_population(region=jambi, path=path)
    assert summary.skipped == [
        "line 2 (Hilang, 15.71.99, 2021): code '15.71.99' is not Kota Jambi (15.71) nor one of its kecamatan or "
        "kelurahan",
        "line 3 (Kota lain, 15.72, 2021): code '15.72' is not Kota Jambi (15.71) nor one of its kecamatan or kelurahan",
    ]
    # A kelurahan code lands on the kelurahan.
    assert jambi.kecamatan.get(code="15.71.01").kelurahan.get(code="15.71.01.1001").population == 9000


def test_ties_are_deterministic(jambi, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            ["Pasar Jambi", "15.71.04", "2023-mid", "100", "news site", "x", "news, unverified"],
            ["Pasar Jambi", "15.71.04", "2023-06-30", "200", "BPS", "x", "BPS estimate"],
            ["Jelutung", "15.71.08", "2022", "300", "BPS", "x", "BPS projection"],
            ["Jelutung", "15.71.08", "2022", "400", "BPS", "x", "BPS projection"],
            ["Jelutung", "15.71.08", "2021-12-31", "500", "BPS", "x", "BPS projection"],
        ],
    )
    summary = import_population(region=jambi, path=path)
    # 2023-mid is read as 30 June, the same date as 2023-06-30: the official figure wins the tie.
    assert Kecamatan.objects.get(code="15.71.04").population == 200
    # Two 2022 rows of the same kind: the earlier row wins; 2021-12-31 is older than 2022.
    assert Kecamatan.objects.get(code="15.71.08").population == 300
    assert any("official figure (200) beats the estimate" in line for line in summary.superseded)
    assert any("the earlier row (300) wins" in line for line in summary.superseded)
    assert any("the newer figure (300) wins" in line for line in summary.superseded)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (["Pasar Jambi", "15.71.04", "2021", "sebelas ribu", "BPS", "x", "census"], "population 'sebelas ribu'"),
        (["Pasar Jambi", "15.71.04", "2021", "", "BPS", "x", "census"], "population '' is not a whole number"),
        (["Pasar Jambi", "15.71.04", "2021", "11.5", "BPS", "x", "census"], "population '11.5'"),
        (["Pasar Jambi", "15.71.04", "last year", "11182", "BPS", "x", "census"], "date 'last year' not understood"),
        (["Pasar Jambi", "15.71.04", "2021-13", "11182", "BPS", "x", "census"], "date '2021-13' is not a real date"),
        (["Pasar Jambi", "", "2021", "11182", "BPS", "x", "census"], "no code in column 'kode_kemendagri'"),
    ],
)
def test_bad_row_rejects_the_file(jambi, tmp_path: Path, row: list[str], expected: str) -> None:
    path = _write(tmp_path, [["Alam Barajo", "15.71.09", "2021", "110377", "BPS", "x", "census"], row])
    with pytest.raises(ImportValidationError) as info:
        import_population(region=jambi, path=path)
    message = str(info.value)
    assert "nothing was imported" in message
    assert "line 3 (Pasar Jambi" in message
    assert expected in message
    # Nothing written: the valid Alam Barajo row did not land either.
    assert Kecamatan.objects.filter(population__isnull=False).count() == 0


def test_missing_column_rejected(jambi, tmp_path: Path) -> None:
    path = _write(tmp_path, [["15.71.09", "110377"]], header=["code", "population"])
    with pytest.raises(ImportValidationError, match="column\\(s\\) 'kode_kemendagri', 'reference_date'"):
        import_population(region=jambi, path=path)


@pytest.mark.parametrize(
    ("kind", "source", "expected"),
    [
        ("census", "BPS Sensus Penduduk 2020", "official"),
        ("BPS projection", "", "official"),
        ("BPS estimate", "BPS (as cited)", "official"),
        ("civil registry", "Dukcapil", "official"),
        ("BPS projection, pre-split boundary", "", "official"),
        ("news, unverified", "unstated (news article)", "estimated"),
        ("blog, unverified", "unstated (BPS figures as retold)", "estimated"),
        ("", "BPS Kota Jambi", "official"),
        ("", "", "estimated"),
    ],
)
def test_classify_kind(kind: str, source: str, expected: str) -> None:
    assert classify_kind(kind, source) == expected


def test_command(jambi, capsys) -> None:
    call_command("import_population", "kota-jambi", "--file", "jambi/population_jambi_partial.csv")
    out = capsys.readouterr().out
    assert "6 updated" in out
    assert "skipped: line 13 (Kotabaru" in out
    with pytest.raises(CommandError, match="column"):
        call_command("import_population", "kota-jambi", "--file", "ambon/kecamatan_ambon_official_area.csv")
