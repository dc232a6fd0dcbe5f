"""The seeded history of tests/reports, with its figures computed by hand in test_period_report.py's docstring."""

from __future__ import annotations

import pytest
from factories.reports import seed_history

from fleet.models import AgencyKind
from gis_core.models import Kecamatan


@pytest.fixture
def history(jambi_kecamatan):
    """Kota Jambi with the seeded history (:func:`seed_history`)."""
    return seed_history(jambi_kecamatan)


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
