"""What one new posko would change in a failing kecamatan, on the 11 x 11 street grid of conftest.py.

With a WMK of 30 s of road from the south-west posko, East (99.02.02) has nobody inside a WMK. Its October
has three fires, none reached: two at East's street nodes, one with no location.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from factories.coverage import node_at
from factories.fleet import make_incident, make_incident_type
from factories.reports import report

from coverage.context import coverage_context
from coverage.models import RunKind
from coverage.selectors import SourceSpec
from coverage.services import coverage_run_create
from gis_core.models import Kecamatan
from gis_core.routing.registry import engine_for
from reports.periods import period_parse
from reports.selectors.spm import spm_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def east_fires(grid_region, settings):
    settings.SIAGA_SPM_WMK_TRAVEL_S = 30
    east = Kecamatan.objects.get(code="99.02.02")
    fire = make_incident_type(code="fire", name="Fire", category="fire")
    at = datetime(2026, 10, 10, 3, 0, tzinfo=UTC)
    for spot in ((1.0, 0.5), (0.75, 0.9)):
        report(grid_region, at, incident_type=fire, kecamatan=east, geom=node_at(grid_region, *spot))
    make_incident(region=grid_region, received_at=at, incident_type=fire, kecamatan=east, geom=None)
    return grid_region


def _spm(region):
    return spm_table(region=region, period=period_parse(time_zone=region.time_zone, period="2026-10"))


def _share_from(region, points, code):
    """The oracle: a stored coverage run from the posko plus ``points``, its share of ``code`` within 30 s."""
    run = coverage_run_create(region=region, spec=SourceSpec(agencies=("damkar",), points=tuple(points)),
                              kind=RunKind.COVERAGE, thresholds_s=[30])  # fmt: skip
    row = next(k for k in run.results["kecamatan"] if k["code"] == code)
    return next(t["population_share"] for t in row["thresholds"] if t["threshold_s"] == 30)


def test_one_new_posko_in_each_failing_kecamatan(east_fires):
    spm = _spm(east_fires)
    assert spm["failing"] == ["99.02.02", "99.02.01"]
    effects = {e["code"]: e for e in spm["new_posko"]}
    assert list(effects) == spm["failing"]  # worst first, as the table ranks them
    east = effects["99.02.02"]
    assert east["wmk_population_share_before"] == 0.0
    site = (east["site"]["lon"], east["site"]["lat"])
    # The site's share after is what a coverage run with that extra point computes.
    assert east["wmk_population_share_after"] == _share_from(east_fires, [site], "99.02.02") > 0
    assert east["population_gained"] == pytest.approx(1000 * east["wmk_population_share_after"], abs=0.2)
    assert 1 <= east["candidates"] <= 16
    assert east["site"]["street"]  # bench/grid.py names its streets
    # Three fires, none reached; both located ones lie within 1.2 km of road of any East node: well within 15 min.
    assert (east["fires"], east["fires_located"], east["fires_within_share_before"]) == (3, 2, 0.0)
    assert east["fires_within_share_after"] == round(2 / 3, 4)


def test_the_site_is_the_best_of_the_kecamatan(east_fires, settings):
    # 500 candidates: every node of East and points along its streets. The site must be at least as good as
    # the best node found by brute force (a point mid-street may do better than any node).
    settings.SIAGA_SPM_POSKO_CANDIDATES = 500
    east = {e["code"]: e for e in _spm(east_fires)["new_posko"]}["99.02.02"]
    context = coverage_context(region=east_fires)
    engine = engine_for(east_fires)
    rows = context.demand.kecamatan == next(
        i for i, a in enumerate(context.demand.kecamatan_areas) if a.code == "99.02.02"
    )
    lon_mid = float(np.median(engine.node_lonlat[:, 0]))
    best = 0.0
    for lon, lat in engine.node_lonlat:
        if lon <= lon_mid:
            continue  # West's half of the grid
        times = context.attachment.point_times_s(engine.node_times_from_sources([(lon, lat)], cutoff_s=30))
        best = max(best, float(context.demand.population[rows][times[rows] <= 30].sum()))
    assert east["population_gained"] >= best - 0.1
    assert east["wmk_population_share_after"] == _share_from(east_fires, [(east["site"]["lon"], east["site"]["lat"])],
                                                             "99.02.02")  # fmt: skip


def test_no_posko_without_a_network(history):
    spm = spm_table(region=history["region"], period=period_parse(time_zone="Asia/Jakarta", period="2026-10"))
    assert spm["failing"] == ["15.71.02"]
    assert spm["new_posko"] == []
    assert spm["new_posko_note"]  # the WMK needs the road network Kota Jambi lacks here


def test_the_exports_print_the_new_posko(east_fires):
    from django.utils import translation

    from reports.exports.spm_tables import spm_export_tables

    with translation.override("id"):
        tables = {t.key: t for t in spm_export_tables([_spm(east_fires)])}
    posko = tables["posko_fire"]
    assert posko.title == "Satu posko baru per kecamatan yang belum memenuhi"
    assert [row[0] for row in posko.rows] == ["East", "West"]
    east = posko.rows[0]
    assert (east[4], east[7], east[8], east[9]) == (0.0, 3, 0.0, 66.7)  # WMK before, fires, within before / after
