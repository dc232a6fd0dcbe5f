"""Fleet fixtures for the fleet and incidents tests (a plugin of tests/conftest.py): the ``fleet``
namespace of factories (tests/factories/fleet.py), fresh region envelopes per test, and Kota
Jambi with its real kecamatan and main roads."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from factories.fleet import (
    make_agency,
    make_capability,
    make_device,
    make_fix,
    make_incident,
    make_incident_type,
    make_station,
    make_unit,
    make_unit_type,
)
from factories.gis_core import make_region


@pytest.fixture
def fleet(db):
    """The factories above as one namespace, with the database enabled."""
    return SimpleNamespace(
        make_region=make_region,
        make_capability=make_capability,
        make_agency=make_agency,
        make_station=make_station,
        make_unit_type=make_unit_type,
        make_unit=make_unit,
        make_device=make_device,
        make_fix=make_fix,
        make_incident_type=make_incident_type,
        make_incident=make_incident,
    )


@pytest.fixture(autouse=True)
def _fresh_region_envelopes():
    """GPS validation caches each region's outline per process: no test sees another's."""
    from fleet.services.positions import region_envelope_cache_clear

    region_envelope_cache_clear()
    yield
    region_envelope_cache_clear()


@pytest.fixture
def jambi_kecamatan(jambi_region, data_dir):
    """Kota Jambi (15.71) with its real kecamatan boundaries (fixes outside them are flagged)."""
    from gis_core.importers.boundaries import import_boundaries

    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    return jambi_region


@pytest.fixture
def jambi_network(jambi_region, data_dir):
    """Kota Jambi (15.71) with its real main-road network (roads_main_jambi_osm.graphml) active."""
    from gis_core.importers.roads import import_roads
    from gis_core.routing.registry import clear_engines

    clear_engines()
    import_roads(region=jambi_region, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    yield jambi_region
    clear_engines()
