"""Placing population: kecamatan figures, estimates from the city total, spreading by area over grid cells."""

from __future__ import annotations

import pytest
import shapely

from coverage.population import AreaRow, RegionTotal, demand_points, kecamatan_populations
from gis_core.crs import transformer_to_lonlat

CRS = "EPSG:32748"
# Three kecamatan side by side in UTM 48S: A 1 km2 (800 people, official 2021), B 2 km2 and C 1 km2 (no figures).
A = shapely.box(500_000, 9_800_000, 501_000, 9_801_000)
B = shapely.box(501_000, 9_800_000, 503_000, 9_801_000)
C = shapely.box(503_000, 9_800_000, 504_000, 9_801_000)


def _rows():
    kecamatan = [
        AreaRow("01", "A", A, 800, 2021, "BPS", "official"),
        AreaRow("02", "B", B, None, None, "", ""),
        AreaRow("03", "C", C, None, None, "", ""),
    ]
    # A has two kelurahan: A1 (west 0.25 km2, 500 people) and A2 (the rest, no figure).
    a1, a2 = shapely.box(500_000, 9_800_000, 500_250, 9_801_000), shapely.box(500_250, 9_800_000, 501_000, 9_801_000)
    kelurahan = [
        AreaRow("01.1", "A1", a1, 500, 2021, "BPS", "official", "01"),
        AreaRow("01.2", "A2", a2, None, None, "", "", "01"),
        AreaRow("02.1", "B1", B, None, None, "", "", "02"),
    ]
    return kecamatan, kelurahan


def test_missing_kecamatan_share_the_city_rest_by_area_and_are_labelled_estimated() -> None:
    kecamatan, kelurahan = _rows()
    areas, notes = kecamatan_populations(kecamatan, kelurahan, RegionTotal(3800, 2024, "BPS total"))
    # Rest 3800 - 800 = 3000 over B (2 km2) and C (1 km2): 2000 and 1000.
    assert [(a.code, round(a.population), a.kind, a.year) for a in areas] == [
        ("01", 800, "official", 2021),
        ("02", 2000, "estimated", 2024),
        ("03", 1000, "estimated", 2024),
    ]
    assert "city total 3800 (2024, BPS total)" in areas[1].source
    assert "2021" in notes[0]  # the mixed years are said


def test_without_a_city_total_the_missing_kecamatan_weigh_nothing() -> None:
    kecamatan, kelurahan = _rows()
    areas, notes = kecamatan_populations(kecamatan, kelurahan, RegionTotal(None, None, ""))
    assert [a.kind for a in areas] == ["official", "missing", "missing"]
    assert areas[1].population == 0
    assert "no city total" in notes[0]


def test_demand_points_keep_every_person_and_spread_by_area() -> None:
    kecamatan, kelurahan = _rows()
    demand = demand_points(
        kecamatan,
        kelurahan,
        RegionTotal(3800, 2024, "BPS total"),
        cell_m=250,
        metric_crs=CRS,
        to_lonlat=transformer_to_lonlat(CRS),
    )
    assert demand.population.sum() == pytest.approx(3800)
    assert demand.area_m2.sum() == pytest.approx(4e6)  # 4 km2, no gap, no overlap
    # A1 holds 500 people on 0.25 km2 = 4 cells of 250 m x 1 km / 4 ... i.e. 4 pieces of 125 people each.
    a1 = demand.population[demand.kelurahan == 0]
    assert a1 == pytest.approx([125.0] * 4)
    # A2 holds A's rest, 300, on 0.75 km2; C (no kelurahan) is cut whole: 1000 over 16 cells.
    assert demand.population[demand.kelurahan == 1].sum() == pytest.approx(300)
    assert demand.population[demand.kecamatan == 2] == pytest.approx([1000 / 16] * 16)


def test_cell_size_must_be_positive() -> None:
    kecamatan, kelurahan = _rows()
    with pytest.raises(ValueError, match="cell_m"):
        demand_points(
            kecamatan,
            kelurahan,
            RegionTotal(1, 2024, ""),
            cell_m=0,
            metric_crs=CRS,
            to_lonlat=transformer_to_lonlat(CRS),
        )
