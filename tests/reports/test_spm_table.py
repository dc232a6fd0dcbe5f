"""The SPM table per kecamatan: events reached within the standard, p90, WMK population, failing ones ranked.

October on the seeded history (conftest.py; figures as in test_period_report.py): the fire reports are R1 and
R2 in 15.71.01 (Damkar on scene after 600 s and 840 s), R3 and R9 in 15.71.02 (1,200 s; never reached).
"""

from __future__ import annotations

import pytest
from factories.access import make_user
from rest_framework.test import APIClient

from coverage.models import RunKind
from coverage.selectors import SourceSpec
from coverage.services import coverage_run_create
from reports.periods import period_parse
from reports.selectors.spm import spm_table

pytestmark = pytest.mark.django_db


def _spm(region, kind="fire", period="2026-10", **kw):
    return spm_table(region=region, period=period_parse(time_zone=region.time_zone, period=period), kind=kind, **kw)


def test_fire_table_per_kecamatan(history):
    spm = _spm(history["region"])
    assert (spm["target_s"], spm["agencies"], spm["categories"]) == (900, ["damkar"], ["fire"])
    rows = {r["code"]: r for r in spm["kecamatan"]}
    assert len(rows) == 11  # every kecamatan of Kota Jambi, with or without fires
    k01, k02 = rows["15.71.01"], rows["15.71.02"]
    assert (k01["events"], k01["reached"], k01["within"], k01["share_within"]) == (2, 2, 2, 1.0)
    assert k01["p90_s"] == 816.0  # 600 + 0.9 x 240
    assert (k02["events"], k02["reached"], k02["within"], k02["share_within"]) == (2, 1, 0, 0.0)  # R9 fails too
    assert k02["p90_s"] == 1200.0
    assert rows["15.71.03"]["events"] == 0
    assert rows["15.71.03"]["share_within"] is None
    totals = spm["totals"]
    assert (totals["events"], totals["within"], totals["share_within"], totals["p90_s"]) == (4, 2, 0.5, 1128.0)
    assert spm["failing"] == ["15.71.02"]
    assert spm["wmk_note"]  # Kota Jambi has no road network in this test: the table stands without WMK
    assert k01["wmk_population_share"] is None


def test_the_standard_is_a_setting(history, settings):
    settings.SIAGA_SPM_FIRE_TARGET_S = 1200
    rows = {r["code"]: r for r in _spm(history["region"])["kecamatan"]}
    assert rows["15.71.02"]["within"] == 1  # R3's 1,200 s is within 20 minutes


def test_psc119_against_its_own_target(history):
    spm = _spm(history["region"], kind="ems")
    assert (spm["target_s"], spm["categories"]) == (600, ["medical", "traffic"])  # PSC 119's response target
    k02 = {r["code"]: r for r in spm["kecamatan"]}["15.71.02"]
    assert (k02["events"], k02["reached"], k02["within"]) == (1, 1, 0)  # R7: P2 after 900 s


def test_wmk_share_is_the_coverage_engines(grid_region):
    spm = _spm(grid_region)
    assert spm["wmk_note"] == ""
    # The oracle: a stored coverage run from the same stations at the same threshold.
    run = coverage_run_create(region=grid_region, spec=SourceSpec(agencies=("damkar",)), kind=RunKind.COVERAGE,
                              thresholds_s=[spm["wmk_travel_s"]])  # fmt: skip
    expected = {
        k["code"]: next(t["population_share"] for t in k["thresholds"] if t["threshold_s"] == spm["wmk_travel_s"])
        for k in run.results["kecamatan"]
    }
    assert {r["code"]: r["wmk_population_share"] for r in spm["kecamatan"]} == expected


def test_wmk_share_falls_with_the_travel_time(grid_region, settings):
    # From the south-west corner, 30 s of road reach part of West and none of East; 900 s reaches the whole grid.
    settings.SIAGA_SPM_WMK_TRAVEL_S = 30
    rows = {r["code"]: r for r in _spm(grid_region)["kecamatan"]}
    assert 0 < rows["99.02.01"]["wmk_population_share"] < 1
    assert rows["99.02.02"]["wmk_population_share"] == 0.0
    assert _spm(grid_region)["failing"] == ["99.02.02", "99.02.01"]  # worst WMK share first
    settings.SIAGA_SPM_WMK_TRAVEL_S = 900
    assert {r["wmk_population_share"] for r in _spm(grid_region)["kecamatan"]} == {1.0}


def test_spm_api(history):
    client = APIClient()
    client.force_authenticate(make_user("spm-planner", "planner"))
    response = client.get("/api/reports/spm/", {"region": "kota-jambi", "period": "2026-10", "agency": "ems"})
    assert response.status_code == 200
    assert response.json()["kind"] == "ems"
    bad = client.get("/api/reports/spm/", {"region": "kota-jambi", "period": "2026-10", "agency": "x\x00" * 5000})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "report_input_invalid"
