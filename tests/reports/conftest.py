"""The seeded history of tests/reports, with its figures computed by hand in test_period_report.py's docstring."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories.fleet import make_agency, make_incident_type, make_unit
from factories.reports import assign, report, status_change

from fleet.models import AgencyKind
from gis_core.models import Kecamatan
from incidents.models import Channel, Outcome, ResponseTarget


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def history(jambi_kecamatan):
    """Kota Jambi (WIB, UTC+7) with the reports R1..R11 and the units D1, D2, P1, P2 of the docstring."""
    region = jambi_kecamatan
    k01, k02 = Kecamatan.objects.get(code="15.71.01"), Kecamatan.objects.get(code="15.71.02")
    fire = make_incident_type(code="fire", name="Fire", category="fire")
    medical = make_incident_type(code="medical", name="Medical emergency", category="medical")
    damkar = make_agency(region=region, code="damkar", name="Damkar", kind=AgencyKind.FIRE, response_target_s=None)
    psc = make_agency(region=region, code="psc119", name="PSC 119", kind=AgencyKind.EMS, response_target_s=600)
    ResponseTarget.objects.create(agency=psc, priority=2, target_s=1200)
    d1, d2 = make_unit(agency=damkar, call_sign="D1"), make_unit(agency=damkar, call_sign="D2")
    p1 = make_unit(agency=psc, call_sign="P1")
    p2 = make_unit(agency=psc, call_sign="P2")
    genuine, prank = Outcome.GENUINE, Outcome.PRANK
    wa = Channel.WHATSAPP
    r = {}
    r[1] = report(region, utc(2026, 9, 30, 17, 30), incident_type=fire, kecamatan=k01, priority=1, outcome=genuine)
    r[2] = report(region, utc(2026, 10, 10, 16, 55), incident_type=fire, kecamatan=k01, priority=1, outcome=genuine)
    r[3] = report(region, utc(2026, 10, 31, 16, 50), incident_type=fire, kecamatan=k02, priority=1, outcome=genuine,
                  channel=wa, caller_phone="+6281100000003")  # fmt: skip
    r[4] = report(region, utc(2026, 10, 31, 17, 10), kecamatan=k01, priority=3, outcome=prank)
    r[5] = report(region, utc(2026, 9, 30, 16, 50), incident_type=fire, kecamatan=k01, priority=1, outcome=genuine)
    r[6] = report(region, utc(2026, 10, 5, 3, 0), priority=2, outcome=prank, channel=wa, caller_phone="+6281100000006")
    r[7] = report(region, utc(2026, 10, 12, 7, 0), incident_type=medical, kecamatan=k02, priority=2, outcome=genuine,
                  caller_phone="+6281100000007")  # fmt: skip
    r[8] = report(region, utc(2026, 10, 19, 20, 0), priority=3, outcome=Outcome.SILENT)
    r[9] = report(region, utc(2026, 10, 15, 7, 0), incident_type=fire, kecamatan=k02, priority=2,
                  outcome=Outcome.FALSE_ALARM)  # fmt: skip
    r[10] = report(region, utc(2026, 10, 2, 1, 0), kecamatan=k01, priority=3, outcome=prank)
    r[11] = report(region, utc(2026, 11, 3, 3, 0), priority=3, outcome=prank)
    assign(r[1], d1, 60, 600)
    assign(r[1], p1, 30, 480)
    assign(r[2], d1, 120, 840)
    assign(r[3], d2, 60, 1200)
    assign(r[7], p1, 30, cancelled=True)
    assign(r[7], p2, 120, 900)
    assign(r[9], d1, 60, en_route_s=120)
    assign(r[5], d1, 60, 300)
    # D1's status history; D2 has none (available throughout); P1 changes only after October.
    status_change(d1, utc(2026, 9, 30, 10, 0), "available", "out_of_service")
    status_change(d1, utc(2026, 10, 1, 0, 0), "out_of_service", "available")
    status_change(d1, utc(2026, 10, 1, 1, 0), "available", "dispatched")
    status_change(d1, utc(2026, 10, 1, 1, 10), "dispatched", "en_route")
    status_change(d1, utc(2026, 10, 1, 1, 30), "en_route", "on_scene")
    status_change(d1, utc(2026, 10, 1, 2, 30), "on_scene", "available")
    status_change(p1, utc(2026, 11, 5, 0, 0), "out_of_service", "available")
    return {"region": region, "reports": r, "units": {"D1": d1, "D2": d2, "P1": p1, "P2": p2}}


@pytest.fixture
def grid_region(db):
    """Region "grid" (99.02) on bench/grid.py's 11 x 11 street grid (100 m blocks), split into kecamatan West
    and East of 1,000 people each, with a Damkar posko at the grid's south-west corner."""
    import shapely
    from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
    from factories.coverage import make_agency as make_coverage_agency
    from factories.coverage import make_station, node_at
    from factories.gis_core import make_region

    from bench.grid import city_grid
    from coverage.context import clear_contexts
    from gis_core.crs import transform_geometries, transformer_to_lonlat
    from gis_core.importers.roads import import_road_graph
    from gis_core.models import PopulationKind
    from gis_core.routing.registry import clear_engines, engine_for

    clear_engines()
    clear_contexts()
    region = make_region(code="99.02", slug="grid", name="Grid")
    import_road_graph(region=region, graph=city_grid(11, seed=3, missing_share=0.0), source="grid", source_kind="graph")
    xy = engine_for(region).graph.node_xy_m
    (x0, y0), (x1, y1) = xy.min(axis=0) - 60, xy.max(axis=0) + 60
    xm = (x0 + x1) / 2
    to_lonlat = transformer_to_lonlat("EPSG:32748")
    for n, (name, box) in enumerate({"West": shapely.box(x0, y0, xm, y1), "East": shapely.box(xm, y0, x1, y1)}.items()):
        geom = MultiPolygon(GEOSGeometry(transform_geometries(box, to_lonlat).wkt, srid=4326), srid=4326)
        kec = Kecamatan(region=region, code=f"99.02.0{n + 1}", name=name, geom=geom, area_m2=box.area,
                        population=1000, population_year=2024, population_kind=PopulationKind.OFFICIAL)  # fmt: skip
        kec.full_clean()
        kec.save()
    damkar = make_coverage_agency(region, code="damkar", kind=AgencyKind.FIRE)
    lon, lat = node_at(region, 0.0, 0.0)
    make_station(damkar, code="posko-sw", lon=lon, lat=lat)
    yield region
    clear_engines()
    clear_contexts()
