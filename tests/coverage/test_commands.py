"""The coverage management commands on the tiny grid region: stored runs, summary tables, files, bad arguments."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from factories.coverage import make_agency, make_station, make_unit, node_at

from coverage.models import CoverageRun

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture
def damkar(tiny_region):
    agency = make_agency(tiny_region)
    station = make_station(agency, code="sw", **dict(zip(("lon", "lat"), node_at(tiny_region, 0, 0), strict=True)))
    make_unit(agency, call_sign="E1", station=station, type_code="fire_engine")
    return agency


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, "--no-progress", stdout=out)
    return out.getvalue()


def test_coverage_run_prints_a_table_and_writes_csv_and_png(tiny_region, damkar, tmp_path) -> None:
    csv_path, png_path = tmp_path / "gaps.csv", tmp_path / "map.png"
    text = _run("coverage_run", "tiny", "--agency", "DAMKAR", "--thresholds", "60,120", "--csv", str(csv_path),
                "--png", str(png_path))  # fmt: skip
    run = CoverageRun.objects.get()
    assert run.kind == "coverage"
    assert run.inputs["spec"]["agencies"] == ["damkar"]  # DAMKAR matched without regard to case
    assert f"coverage run #{run.pk}" in text
    lines = text.splitlines()
    west = next(line for line in lines if line.startswith("West"))
    assert "official 2021" in west
    assert next(line for line in lines if line.startswith("city")).split()[1] == "3,000"
    assert csv_path.read_text().startswith("level,rank,code,name")
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_coverage_run_from_units(tiny_region, damkar) -> None:
    text = _run("coverage_run", "tiny", "--agency", "damkar", "--units", "--thresholds", "60")
    assert "sources: E1" in text
    assert CoverageRun.objects.get().inputs["sources"][0]["position"] == "home_station"


def test_coverage_siting_mclp_and_lscp(tiny_region, damkar, tmp_path) -> None:
    candidates = tmp_path / "sites.csv"
    spots = [node_at(tiny_region, 1, 1), node_at(tiny_region, 0.5, 0.5), node_at(tiny_region, 1, 0)]
    candidates.write_text("lon,lat\n" + "".join(f"{lon},{lat}\n" for lon, lat in spots))
    text = _run("coverage_siting", "tiny", "--agency", "damkar", "--k", "2", "--threshold", "60",
                "--candidates", str(candidates), "--png", str(tmp_path / "siting.png"))  # fmt: skip
    run = CoverageRun.objects.get(kind="mclp")
    assert "MCLP at 60 s (optimal)" in text
    assert "existing stations kept: sw" in text
    assert len(run.results["chosen"]) == 2
    assert (tmp_path / "siting.png").read_bytes()[:4] == b"\x89PNG"
    text = _run("coverage_siting", "tiny", "--agency", "damkar", "--share", "0.5", "--threshold", "90",
                "--n-candidates", "20")  # fmt: skip
    assert "LSCP at 90 s" in text
    assert CoverageRun.objects.get(kind="lscp").inputs["candidates_from"] == "network nodes"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("coverage_run", "nowhere", "--agency", "damkar"), "unknown region 'nowhere'"),
        (("coverage_run", "tiny", "--agency", "polisi"), "unknown agency polisi"),
        (("coverage_run", "tiny"), "name --agency and/or --unit-types"),
        (("coverage_run", "tiny", "--agency", "damkar", "--thresholds", "0"), "must be > 0"),
        (("coverage_run", "tiny", "--agency", "damkar", "--thresholds", "ten"), "not a whole number"),
        (("coverage_siting", "tiny", "--agency", "damkar"), "either --k"),
        (("coverage_siting", "tiny", "--k", "1", "--share", "0.5"), "either --k"),
        (("coverage_siting", "tiny", "--k", "1", "--threshold", "-5"), "must be > 0"),
        (("coverage_siting", "tiny", "--k", "1", "--candidates", "/nonexistent.csv"), "does not exist"),
        (("coverage_siting", "tiny", "--share", "1", "--threshold", "1", "--n-candidates", "3"), "cannot be reached"),
        (("coverage_demo", "tiny"), "run manage.py load_demo_fleet first"),
    ],
)
def test_bad_arguments_are_command_errors(tiny_region, damkar, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        _run(*args)
