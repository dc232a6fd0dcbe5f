"""Reads for coverage: a region's areas with their population, the sources (stations, units), stored runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from django.db.models import QuerySet
from django.utils import timezone

from access.selectors import regions_for_user
from coverage.errors import CoverageInputError
from coverage.models import CoverageRun
from coverage.population import AreaRow, RegionTotal
from fleet.models import Agency, Station, Unit, UnitStatus
from fleet.selectors.units import unit_position
from gis_core.crs import transform_geometries, transformer_to_lonlat, transformer_to_metric
from gis_core.models import Kecamatan, Kelurahan, Region
from gis_core.routing.profiles import CAR, FIRE_ENGINE, MOTORBIKE


@dataclass(frozen=True)
class SourcePoint:
    """A place units leave from: a station, or a unit where it is now (or at its home station)."""

    kind: str  # station, unit or point
    ref: str  # station or unit code, or "point #i"
    label: str
    agency: str
    lon: float
    lat: float
    position: str  # station, gps, home_station or given


@dataclass(frozen=True)
class SourceSpec:
    """Which sources to search from.

    Attributes
    ----------
    agencies : tuple of str
        Agency codes: their stations (when ``stations``), and limits the units to these agencies.
    unit_types : tuple of str
        Unit type codes: units of these types (any agency of the region unless ``agencies`` is given).
    units : bool
        Include every unit of ``agencies`` whatever its type (``unit_types`` narrows it when given).
    stations : bool
        Include the stations of ``agencies``.
    available_only : bool
        Only units whose status is ``available`` right now.
    points : tuple of (lon, lat)
        Extra source points (a proposed station), EPSG:4326.
    """

    agencies: tuple[str, ...] = ()
    unit_types: tuple[str, ...] = ()
    units: bool = False
    stations: bool = True
    available_only: bool = False
    points: tuple[tuple[float, float], ...] = ()


def admin_area_rows(*, region: Region) -> tuple[list[AreaRow], list[AreaRow], RegionTotal]:
    """The region's kecamatan and kelurahan with polygons in its metric CRS, and its city total. Two queries."""
    to_metric = transformer_to_metric(f"EPSG:{region.metric_srid}")

    def rows(queryset, parent: bool) -> list[AreaRow]:
        items = list(queryset)
        geoms = transform_geometries(shapely.from_wkb([bytes(a.geom.wkb) for a in items]), to_metric)
        return [
            AreaRow(
                a.code,
                a.name,
                g,
                a.population,
                a.population_year,
                a.population_source,
                a.population_kind,
                a.kecamatan.code if parent else None,
            )
            for a, g in zip(items, geoms, strict=True)
        ]

    kecamatan = rows(Kecamatan.objects.filter(region=region).order_by("code"), parent=False)
    kelurahan = rows(
        Kelurahan.objects.filter(kecamatan__region=region).select_related("kecamatan").order_by("code"), parent=True
    )
    total = RegionTotal(region.population, region.population_year, region.population_source)
    return kecamatan, kelurahan, total


def population_fingerprint(*, region: Region) -> tuple:
    """What the demand points depend on besides geometry: every population figure of the region. Two queries."""
    fields = ("code", "population", "population_year", "population_kind")
    return (
        (region.population, region.population_year),
        tuple(Kecamatan.objects.filter(region=region).order_by("code").values_list(*fields)),
        tuple(Kelurahan.objects.filter(kecamatan__region=region).order_by("code").values_list(*fields)),
    )


def coverage_sources(*, region: Region, spec: SourceSpec, now: dt.datetime | None = None) -> list[SourcePoint]:
    """The source points a spec names, in a stable order (stations, units, given points).

    A unit is placed at its newest valid GPS fix when that fix is younger than
    ``SIAGA_POSITION_MAX_AGE_S``, otherwise at its home station; a unit with neither is left out.

    Raises
    ------
    CoverageInputError
        An agency or unit-type code the region does not have (the message lists the known ones).
    """
    agencies = _agencies(region, spec.agencies)
    out: list[SourcePoint] = []
    if spec.stations and agencies:
        stations = Station.objects.filter(agency__in=agencies).select_related("agency").order_by("agency__code", "code")
        out += [SourcePoint("station", s.code, s.name, s.agency.code, s.geom.x, s.geom.y, "station") for s in stations]
    if spec.unit_types or (spec.units and agencies):
        out += _units(region, spec, agencies, now or timezone.now())
    out += [
        SourcePoint("point", f"point #{i}", f"proposed site #{i + 1}", "", lon, lat, "given")
        for i, (lon, lat) in enumerate(spec.points)
    ]
    return out


# Of profiles equally many units share, the most restricted vehicle is planned for (the one whose time is
# the worst case of its agency's response).
_PROFILE_TIE_ORDER = (FIRE_ENGINE, CAR, MOTORBIKE)


def coverage_profile(*, region: Region, spec: SourceSpec) -> tuple[str, str]:
    """The vehicle profile a run of ``spec`` routes on, and why (said in the run's inputs).

    The units the spec's stations and units send: those of ``spec.agencies`` (of ``spec.unit_types`` when
    given), each with its type's ``routing_profile``. The profile most of them share wins (Damkar's engines
    and tankers: ``fire_engine``, though it has a rescue car); a tie goes to the most restricted vehicle
    (fire engine, car, motorbike). No such unit (only points, an empty spec): ``car``. One query.

    Raises
    ------
    CoverageInputError
        An agency code the region does not have.
    """
    agencies = _agencies(region, spec.agencies)
    units = Unit.objects.filter(agency__region=region)
    if spec.unit_types:
        units = units.filter(unit_type__code__in=spec.unit_types)
    if agencies:
        units = units.filter(agency__in=agencies)
    elif not spec.unit_types:
        return CAR, "no agency or unit type named: car"
    counts: dict[str, int] = {}
    for profile in units.values_list("unit_type__routing_profile", flat=True):
        counts[profile] = counts.get(profile, 0) + 1
    if not counts:
        return CAR, "no unit of the agencies or unit types named: car"
    best = max(counts, key=lambda p: (counts[p], -_PROFILE_TIE_ORDER.index(p) if p in _PROFILE_TIE_ORDER else -99))
    shares = ", ".join(f"{p} {n}" for p, n in sorted(counts.items(), key=lambda item: -item[1]))
    return best, f"the units' profiles ({shares})"


def _agencies(region: Region, codes: tuple[str, ...]) -> list[Agency]:
    if not codes:
        return []
    found = list(Agency.objects.filter(region=region, code__in=codes).order_by("code"))
    missing = sorted(set(codes) - {a.code for a in found})
    if missing:
        known = ", ".join(Agency.objects.filter(region=region).values_list("code", flat=True)) or "none yet"
        raise CoverageInputError(f"unknown agency {', '.join(missing)} in {region.name}; known agencies: {known}")
    return found


def _units(region: Region, spec: SourceSpec, agencies: list[Agency], now: dt.datetime) -> list[SourcePoint]:
    units: QuerySet[Unit] = Unit.objects.filter(agency__region=region)
    if spec.unit_types:
        units = units.filter(unit_type__code__in=spec.unit_types)
        missing = sorted(set(spec.unit_types) - set(units.values_list("unit_type__code", flat=True)))
        if missing:
            raise CoverageInputError(f"no unit of type {', '.join(missing)} in {region.name}")
    if agencies:
        units = units.filter(agency__in=agencies)
    if spec.available_only:
        units = units.filter(status=UnitStatus.AVAILABLE)
    out = []
    for unit in units.select_related("agency", "home_station", "last_fix").order_by("agency__code", "call_sign"):
        # Where dispatch and the map place the unit; an old fix without a home station to fall back
        # on (stale_gps) is no place to plan from.
        where = unit_position(unit, now=now)
        if where.lonlat is None or where.source not in ("gps", "home_station"):
            continue
        (lon, lat), position = where.lonlat, where.source
        out.append(SourcePoint("unit", unit.call_sign, unit.call_sign, unit.agency.code, lon, lat, position))
    return out


def coverage_runs(*, user: Any, region: Region | None = None, kind: str | None = None) -> QuerySet[CoverageRun]:
    """Stored runs of the regions ``user`` may see (of ``region`` only, one of them, when given), newest
    first, without their (large) results column."""
    runs = CoverageRun.objects.select_related("region", "job").defer("results").order_by("-created_at", "-pk")
    runs = runs.filter(region__in=regions_for_user(user))
    if region is not None:
        runs = runs.filter(region=region)
    if kind:
        runs = runs.filter(kind=kind)
    return runs


def coverage_run_for_user(user: Any, *, pk: int) -> CoverageRun | None:
    """The stored run ``pk`` if ``user`` may see its region, else None (as if it did not exist)."""
    return CoverageRun.objects.select_related("region", "job").filter(pk=pk, region__in=regions_for_user(user)).first()


def kelurahan_shapes_lonlat(*, region: Region, tolerance_m: float = 10.0) -> dict[str, shapely.Geometry]:
    """Kelurahan polygons by code, simplified by ``tolerance_m`` metres in the metric CRS, back in EPSG:4326."""
    crs = f"EPSG:{region.metric_srid}"
    items = list(Kelurahan.objects.filter(kecamatan__region=region).order_by("code").only("code", "geom"))
    metric = transform_geometries(shapely.from_wkb([bytes(k.geom.wkb) for k in items]), transformer_to_metric(crs))
    simple = shapely.simplify(metric, tolerance_m, preserve_topology=True)
    lonlat = transform_geometries(simple, transformer_to_lonlat(crs))
    return {k.code: g for k, g in zip(items, lonlat, strict=True)}
