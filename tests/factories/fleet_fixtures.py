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


# A kampung square near Kota Jambi for the vehicle profiles (lat, lon; 0.005 deg is about 555 m):
# A(-1.600, 103.600) B(-1.600, 103.605) C(-1.605, 103.605) D(-1.605, 103.600), E 222 m south of D, F a dead
# end north of A and H one west of D (so simplification keeps A and D). A-B, B-C, C-D are wide residential
# streets; A-D is a gang 2.5 m wide (a car's shortcut, too narrow for a fire engine); D-E a footway open to
# motorbikes (kept for them alone); E-G a plain footway (not kept at all).
KAMPUNG_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="-1.6000" lon="103.6000"/>
  <node id="2" lat="-1.6000" lon="103.6050"/>
  <node id="3" lat="-1.6050" lon="103.6050"/>
  <node id="4" lat="-1.6050" lon="103.6000"/>
  <node id="5" lat="-1.6070" lon="103.6000"/>
  <node id="6" lat="-1.5980" lon="103.6000"/>
  <node id="7" lat="-1.6070" lon="103.6020"/>
  <node id="8" lat="-1.6050" lon="103.5980"/>
  <way id="20"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/><tag k="name" v="Jalan Utara"/></way>
  <way id="21"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="name" v="Jalan Timur"/></way>
  <way id="22"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/><tag k="name" v="Jalan Selatan"/></way>
  <way id="23"><nd ref="1"/><nd ref="4"/><tag k="highway" v="residential"/><tag k="name" v="Gang Sempit"/>
    <tag k="width" v="2.5"/></way>
  <way id="24"><nd ref="4"/><nd ref="5"/><tag k="highway" v="footway"/><tag k="motorcycle" v="yes"/>
    <tag k="name" v="Gang Motor"/></way>
  <way id="25"><nd ref="5"/><nd ref="7"/><tag k="highway" v="footway"/></way>
  <way id="26"><nd ref="1"/><nd ref="6"/><tag k="highway" v="residential"/><tag k="name" v="Jalan Buntu"/></way>
  <way id="27"><nd ref="4"/><nd ref="8"/><tag k="highway" v="residential"/><tag k="name" v="Jalan Barat"/></way>
</osm>
"""
KAMPUNG_A = (103.6000, -1.6000)  # the station: the gang's north end
KAMPUNG_D = (103.6000, -1.6050)  # the gang's south end, where the footway starts
KAMPUNG_E = (103.6000, -1.6070)  # the caller, at the footway's end


@pytest.fixture
def kampung_network(jambi_region, tmp_path):
    """Kota Jambi with the kampung square above as its active road network."""
    from gis_core.importers.roads import import_roads
    from gis_core.routing.registry import clear_engines

    path = tmp_path / "kampung.osm"
    path.write_text(KAMPUNG_OSM, encoding="utf-8")
    clear_engines()
    import_roads(region=jambi_region, path=path)
    yield jambi_region
    clear_engines()
