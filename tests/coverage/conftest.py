"""Coverage fixtures: a tiny two-kecamatan region on a generated street grid, and small fleet factories."""

from __future__ import annotations

import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from factories.gis_core import make_region

from bench.grid import city_grid
from coverage.context import clear_contexts
from gis_core.crs import transform_geometries, transformer_to_lonlat
from gis_core.demo import region_load
from gis_core.importers.roads import import_road_graph
from gis_core.models import Kecamatan, Kelurahan, PopulationKind
from gis_core.routing.registry import clear_engines, engine_for

# The grid of bench/grid.py starts at (103.55, -1.66); 11 x 11 nodes 100 m apart span about 1 km.
GRID_SIDE, SPACING_M = 11, 100.0


def _multipolygon_lonlat(box_m: shapely.Polygon) -> MultiPolygon:
    lonlat = transform_geometries(box_m, transformer_to_lonlat("EPSG:32748"))
    return MultiPolygon(GEOSGeometry(lonlat.wkt, srid=4326), srid=4326)


def _area(model, **fields):
    area = model(**fields)
    area.full_clean()
    area.save()
    return area


@pytest.fixture
def tiny_region(db):
    """Region "tiny" (99.01): kecamatan West (1,000 people, official 2021) and East (no figure), one kelurahan
    each, a city total of 3,000 (2024), and the 11 x 11 street grid as its active network."""
    clear_engines()
    clear_contexts()
    region = make_region(code="99.01", slug="tiny", name="Tiny")
    region.population, region.population_year, region.population_source = 3000, 2024, "test total"
    region.save()
    import_road_graph(
        region=region, graph=city_grid(GRID_SIDE, seed=3, missing_share=0.0), source="grid", source_kind="graph"
    )
    xy = engine_for(region).graph.node_xy_m
    (x0, y0), (x1, y1) = xy.min(axis=0) - 60, xy.max(axis=0) + 60
    xm = (x0 + x1) / 2
    halves = {"west": shapely.box(x0, y0, xm, y1), "east": shapely.box(xm, y0, x1, y1)}
    figures = {"west": (1000, 2021, "BPS test", PopulationKind.OFFICIAL), "east": (None, None, "", "")}
    for n, (name, box) in enumerate(halves.items(), start=1):
        population, year, source, kind = figures[name]
        kec = _area(
            Kecamatan,
            region=region,
            code=f"99.01.0{n}",
            name=name.title(),
            geom=_multipolygon_lonlat(box),
            area_m2=box.area,
            population=population,
            population_year=year,
            population_source=source,
            population_kind=kind,
        )
        _area(
            Kelurahan,
            kecamatan=kec,
            code=f"99.01.0{n}.1001",
            name=f"{name.title()} Satu",
            geom=_multipolygon_lonlat(box),
            area_m2=box.area,
        )
    yield region
    clear_engines()
    clear_contexts()


@pytest.fixture
def jambi(data_dir, settings):
    """Kota Jambi as the demo loads it: boundaries, population, facilities and its main-road network."""
    settings.SIAGA_DATA_DIR = data_dir
    clear_engines()
    clear_contexts()
    region = region_load(slug="kota-jambi", say=lambda line: None)
    yield region
    clear_engines()
    clear_contexts()
