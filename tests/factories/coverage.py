"""Coverage rows for tests: small fleet factories taking the agency or region first, and network nodes."""

from __future__ import annotations

from django.contrib.gis.geos import Point

from fleet.models import Agency, AgencyKind, Station, StationKind, Unit, UnitType
from gis_core.routing.registry import engine_for


def make_agency(region, *, code: str = "damkar", kind: str = AgencyKind.FIRE, response_target_s: int | None = None):
    agency = Agency(region=region, code=code, name=code.title(), kind=kind, response_target_s=response_target_s)
    agency.full_clean()
    agency.save()
    return agency


def make_station(agency, *, code: str, lon: float, lat: float, kind: str = StationKind.POSKO):
    station = Station(agency=agency, code=code, name=f"Pos {code}", kind=kind, geom=Point(lon, lat, srid=4326))
    station.full_clean()
    station.save()
    return station


def make_unit(
    agency, *, call_sign: str, station=None, status: str = "available", type_code: str = "ambulance", profile="car"
):
    """A unit of type ``type_code`` (made on first use, routed with ``profile``)."""
    unit_type = UnitType.objects.filter(code=type_code).first()
    if unit_type is None:
        unit_type = UnitType(code=type_code, name=type_code.title(), routing_profile=profile)
        unit_type.full_clean()
        unit_type.save()
    unit = Unit(agency=agency, call_sign=call_sign, unit_type=unit_type, home_station=station, status=status)
    unit.full_clean()
    unit.save()
    return unit


def node_point(region, index: int) -> tuple[float, float]:
    """A network node of the region's engine, as (lon, lat)."""
    lon, lat = engine_for(region).graph.node_lonlat[index]
    return float(lon), float(lat)


def node_at(region, fx: float, fy: float) -> tuple[float, float]:
    """The network node nearest the spot at fractions (fx, fy) of the network's extent (0, 0 = south-west)."""
    graph = engine_for(region).graph
    xy = graph.node_xy_m
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    index = int(((xy - (lo + (hi - lo) * [fx, fy])) ** 2).sum(axis=1).argmin())
    lon, lat = graph.node_lonlat[index]
    return float(lon), float(lat)
