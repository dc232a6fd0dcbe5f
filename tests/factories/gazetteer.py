"""Gazetteer rows for tests: a hand-made town of two kecamatan, one kelurahan each, two streets of one name."""

from __future__ import annotations

from django.contrib.gis.geos import MultiPolygon, Polygon
from shapely.geometry import LineString, MultiLineString, Point

from gazetteer.sources import Candidate


def square(west: float, south: float, east: float, north: float) -> MultiPolygon:
    ring = ((west, south), (east, south), (east, north), (west, north), (west, south))
    return MultiPolygon(Polygon(ring, srid=4326), srid=4326)


def street(name: str, coords: list[tuple[float, float]], ref: str = "", **kw) -> Candidate:
    line = LineString(coords)
    middle = line.interpolate(0.5, normalized=True)
    return Candidate(kind="street", name=name, geom=MultiLineString([line]), point=middle, osm_ref=ref, **kw)


def landmark(name: str, lon: float, lat: float, ref: str = "") -> Candidate:
    return Candidate(kind="landmark", name=name, geom=Point(lon, lat), point=Point(lon, lat), osm_ref=ref)


def make_area(model, **fields):
    area = model(**fields, area_m2=fields["geom"].transform(32748, clone=True).area)
    area.full_clean()
    area.save()
    return area


# East half: Kecamatan Jambi Timur / Kelurahan Talang Banjar; west half: Telanaipura / Sungai Putri.
EAST = (103.61, -1.62, 103.63, -1.60)
WEST = (103.59, -1.62, 103.61, -1.60)
TOWN_CANDIDATES = [
    street("Gang Melati", [(103.592, -1.615), (103.596, -1.615)], "osm:way/1"),  # west: Sungai Putri
    street("Gang Melati", [(103.620, -1.605), (103.624, -1.605)], "osm:way/2"),  # east: Talang Banjar
    street("Jalan Sultan Thaha", [(103.612, -1.610), (103.628, -1.610)], "osm:way/3", alt_names=["Jl. Pasar"]),
    street("Jalan Jenderal Gatot Subroto", [(103.595, -1.605), (103.605, -1.605)], "osm:way/4"),
    street("Lorong Pinang II", [(103.615, -1.618), (103.618, -1.618)], "osm:way/5"),
    landmark("Masjid Al-Ikhlas", 103.6215, -1.6061, "osm:node/10"),
    landmark("SD Negeri 47 Kota Jambi", 103.6000, -1.6100, "osm:node/11"),
    landmark("RSUD Raden Mattaher", 103.5950, -1.6180, "osm:node/12"),
]


def make_town(region):
    """The town above stored for ``region``: its two kecamatan and kelurahan, and its names in the gazetteer."""
    from gazetteer.services import gazetteer_store
    from gis_core.models import Kecamatan, Kelurahan

    east = make_area(Kecamatan, region=region, code="15.71.03", name="Jambi Timur", geom=square(*EAST))
    west = make_area(Kecamatan, region=region, code="15.71.01", name="Telanaipura", geom=square(*WEST))
    make_area(Kelurahan, kecamatan=east, code="15.71.03.1001", name="Talang Banjar", geom=square(*EAST))
    make_area(Kelurahan, kecamatan=west, code="15.71.01.1001", name="Sungai Putri", geom=square(*WEST))
    gazetteer_store(region=region, source="test", source_kind="test", candidates=list(TOWN_CANDIDATES))
    return region
