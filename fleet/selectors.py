"""Reads for dispatch: where a unit is, and which units to send to a report (KPIs: ``fleet.selectors_kpis``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, F, FloatField, Func, OuterRef, QuerySet
from django.utils import timezone
from shapely.geometry import mapping

from fleet.models import (
    Capability,
    Incident,
    IncidentTypeNeed,
    Station,
    Unit,
    UnitStatus,
    UnitType,
)
from gis_core.models import Region
from gis_core.routing.engine import Snap
from gis_core.routing.errors import RoutingError
from gis_core.routing.registry import engine_for

logger = logging.getLogger(__name__)

# Route geometries are computed (on request) for this many of the best suggestions of each need.
ROUTES_PER_NEED = 3


class IncidentLocationMissingError(Exception):
    """The report has no location yet, so nothing can be ranked by road time to it."""


class RecommendationInputError(ValueError):
    """Nothing to recommend for: no incident type with needs and no capabilities given, or unknown codes."""


# --- positions ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitPosition:
    """Where a unit is taken to be.

    Attributes
    ----------
    lonlat : (float, float) or None
        EPSG:4326; None when the unit has neither a valid fix nor a home station.
    source : str
        ``gps`` (newest valid fix, fresh), ``home_station`` (no fix, or older than
        ``SIAGA_POSITION_MAX_AGE_S``), ``stale_gps`` (old fix, no home station) or ``none``.
    age_s : float or None
        Age of the newest valid fix, seconds; None without one.
    """

    lonlat: tuple[float, float] | None
    source: str
    age_s: float | None


def unit_position(unit: Unit, *, now: datetime, max_age_s: float | None = None) -> UnitPosition:
    """The position to rank or draw ``unit`` from (``last_fix`` and ``home_station`` should be loaded)."""
    fix = unit.last_fix if unit.last_fix_id is not None else None
    fix_lonlat = (fix.geom.x, fix.geom.y) if fix is not None and fix.is_valid and fix.geom is not None else None
    station = unit.home_station
    return position_of(
        fix_lonlat=fix_lonlat,
        fix_recorded_at=fix.recorded_at if fix_lonlat is not None else None,
        station_lonlat=(station.geom.x, station.geom.y) if station is not None else None,
        now=now,
        max_age_s=max_age_s,
    )


def position_of(
    *,
    fix_lonlat: tuple[float, float] | None,
    fix_recorded_at: datetime | None,
    station_lonlat: tuple[float, float] | None,
    now: datetime,
    max_age_s: float | None = None,
) -> UnitPosition:
    """Where a unit is taken to be, from its newest valid fix and its home station (EPSG:4326 lon, lat).

    The fix counts when it is at most ``max_age_s`` (default ``SIAGA_POSITION_MAX_AGE_S``) old;
    otherwise the home station does, and without one the old fix (``stale_gps``).
    """
    max_age_s = settings.SIAGA_POSITION_MAX_AGE_S if max_age_s is None else max_age_s
    age_s = None
    if fix_lonlat is not None and fix_recorded_at is not None:
        age_s = max(0.0, (now - fix_recorded_at).total_seconds())
        if age_s <= max_age_s:
            return UnitPosition(fix_lonlat, "gps", age_s)
    else:
        fix_lonlat = None
    if station_lonlat is not None:
        return UnitPosition(station_lonlat, "home_station", age_s)
    if fix_lonlat is not None:
        return UnitPosition(fix_lonlat, "stale_gps", age_s)
    return UnitPosition(None, "none", None)


def units_for_map(*, region: Region | None = None) -> QuerySet[Unit]:
    """Units with everything the map and the unit list show, in two queries (units, capabilities)."""
    qs = Unit.objects.select_related("agency", "unit_type", "home_station", "last_fix").prefetch_related(
        "unit_type__capabilities"
    )
    return qs.filter(agency__region=region) if region is not None else qs


def stations_for_map(*, region: Region | None = None) -> QuerySet[Station]:
    """Stations with their agency and how many units are based there, in one query."""
    qs = Station.objects.select_related("agency").annotate(unit_count=Count("units")).order_by("agency__code", "code")
    return qs.filter(agency__region=region) if region is not None else qs


# --- recommendation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Need:
    agency_kind: str | None
    capability: str
    count: int
    optional: bool = False


def incident_needs(*, incident: Incident, capabilities: Sequence[str] | None = None) -> list[Need]:
    """What the report needs: explicit capability codes (any agency), else its type's needs table."""
    if capabilities:
        known = set(Capability.objects.filter(code__in=capabilities).values_list("code", flat=True))
        unknown = [c for c in capabilities if c not in known]
        if unknown:
            known_codes = ", ".join(Capability.objects.values_list("code", flat=True)) or "none loaded"
            raise RecommendationInputError(f"unknown capability {', '.join(unknown)}; known: {known_codes}")
        return [Need(None, code, 1) for code in dict.fromkeys(capabilities)]
    if incident.incident_type_id is None:
        raise RecommendationInputError(
            f"report {incident.reference} has no incident type; set one or ask for capabilities explicitly "
            "(e.g. ?capabilities=als,fire_engine)"
        )
    rows = IncidentTypeNeed.objects.filter(incident_type_id=incident.incident_type_id).select_related("capability")
    needs = [Need(n.agency_kind, n.capability.code, n.count, n.optional) for n in rows]
    if not needs:
        raise RecommendationInputError(
            f"incident type {incident.incident_type_id} of report {incident.reference} lists no needs; "
            "add them in the admin or ask for capabilities explicitly"
        )
    return needs


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An available unit as the ranking needs it: plain values, no model instances (200 units in ~2 ms)."""

    pk: int
    call_sign: str
    agency: str
    agency_name: str
    agency_kind: str
    unit_type: str
    capabilities: frozenset[str]
    position: UnitPosition


_CANDIDATE_FIELDS = (
    "pk", "call_sign", "agency__code", "agency__name", "agency__kind", "unit_type__code", "last_fix__is_valid",
    "last_fix__lon", "last_fix__lat", "last_fix__recorded_at", "station_lon", "station_lat", "capability_codes",
)  # fmt: skip


def _candidates(incident: Incident, needs: list[Need], now: datetime) -> list[_Candidate]:
    """Available units of the report's region having any needed capability: one query, plain rows."""
    codes = {n.capability for n in needs}
    # A subquery rather than a join + DISTINCT: no duplicate rows, and no DISTINCT over geometry columns.
    types = UnitType.objects.filter(capabilities__code__in=codes).values("pk")
    type_caps = UnitType.capabilities.through.objects.filter(unittype_id=OuterRef("unit_type_id"))
    rows = (
        Unit.objects.filter(agency__region_id=incident.region_id, status=UnitStatus.AVAILABLE, unit_type__in=types)
        .annotate(
            station_lon=Func(F("home_station__geom"), function="ST_X", output_field=FloatField()),
            station_lat=Func(F("home_station__geom"), function="ST_Y", output_field=FloatField()),
            capability_codes=ArraySubquery(type_caps.values("capability__code")),
        )
        .values_list(*_CANDIDATE_FIELDS)
        .order_by("pk")
    )
    out = []
    for pk, call_sign, a_code, a_name, a_kind, type_code, valid, lon, lat, at, s_lon, s_lat, caps in rows:
        fixed = bool(valid) and lon is not None and lat is not None
        position = position_of(
            fix_lonlat=(lon, lat) if fixed else None,
            fix_recorded_at=at if fixed else None,
            station_lonlat=(s_lon, s_lat) if s_lon is not None else None,
            now=now,
        )
        out.append(_Candidate(pk, call_sign, a_code, a_name, a_kind, type_code, frozenset(caps), position))
    return out


def units_recommend(
    *,
    incident: Incident,
    include_route: bool = False,
    now: datetime | None = None,
    capabilities: Sequence[str] | None = None,
    limit: int | None = None,
) -> dict:
    """Available units for each need of a report, ranked by road ETA to its location.

    All candidate units are timed with one engine call (``travel_times_to``: one reverse search from
    the report to every unit). A unit is timed from its newest valid fix, or from its home station
    when that fix is older than ``settings.SIAGA_POSITION_MAX_AGE_S`` or missing (see
    :func:`unit_position`).

    Parameters
    ----------
    incident
        The report; it needs a location (``geom``, EPSG:4326).
    include_route
        Add each of the best ``ROUTES_PER_NEED`` suggestions' route as a GeoJSON LineString.
    now
        Reference time for position ages; now by default.
    capabilities
        Capability codes to look for (one unit each, any agency) instead of the type's needs.
    limit
        Keep at most this many suggestions per need.

    Returns
    -------
    dict
        ``incident``, ``reference``, ``destination`` (lon, lat), ``needs``: a list of
        ``{agency_kind, capability, count, optional, suggestions}``. A suggestion holds ``unit``,
        ``call_sign``, ``agency``, ``agency_kind``, ``unit_type``, ``capability``, ``eta_s``,
        ``distance_m`` (network), ``access_s``, ``access_m``, ``position_age_s``, ``position_source``,
        ``ranked_from`` (``gps`` or ``home_station``: what ``eta_s`` was computed from), ``origin``
        (lon, lat), ``reason`` (why ``eta_s`` is null) and, on request, ``route``.
        Suggestions are sorted by ``eta_s``; those without one come last.

    Raises
    ------
    IncidentLocationMissingError
        The report has no location.
    RecommendationInputError
        Nothing to look for (no type, a type without needs, unknown capability codes).
    gis_core.routing.errors.RoutingError
        The report's location is outside the road network; ``NoNetworkError`` without a network.
    """
    if incident.geom is None:
        raise IncidentLocationMissingError(
            f"report {incident.reference} has no location yet; set one before asking for units"
        )
    now = now or timezone.now()
    needs = incident_needs(incident=incident, capabilities=capabilities)
    destination = (incident.geom.x, incident.geom.y)
    units = _candidates(incident, needs, now)
    engine = engine_for(incident.region)
    timed = _time_units(engine, units, destination)
    result_needs = []
    for need in needs:
        rows = [
            {**row, "capability": need.capability}
            for unit, row in timed
            if need.capability in unit.capabilities and need.agency_kind in (None, unit.agency_kind)
        ]
        rows.sort(key=lambda r: (r["eta_s"] is None, r["eta_s"] or 0.0, r["call_sign"]))
        rows = rows[:limit] if limit is not None else rows
        if include_route:
            _add_routes(engine, rows[:ROUTES_PER_NEED], destination)
        result_needs.append(
            {
                "agency_kind": need.agency_kind,
                "capability": need.capability,
                "count": need.count,
                "optional": need.optional,
                "suggestions": rows,
            }
        )
    return {
        "incident": incident.pk,
        "reference": incident.reference,
        "destination": list(destination),
        "position_max_age_s": settings.SIAGA_POSITION_MAX_AGE_S,
        "needs": result_needs,
    }


# What a suggestion's ``eta_s`` was computed from: the unit's GPS fix (fresh, or stale without a
# home station to fall back on) or its home station; None when the unit could not be placed.
_RANKED_FROM = {"gps": "gps", "stale_gps": "gps", "home_station": "home_station"}


def _time_units(engine, units: list[_Candidate], destination: tuple[float, float]) -> list[tuple[_Candidate, dict]]:
    positions = [u.position for u in units]
    placed = [i for i, p in enumerate(positions) if p.lonlat is not None]
    snaps = engine.try_snap([positions[i].lonlat for i in placed]) if placed else []
    routable = [(i, s) for i, s in zip(placed, snaps, strict=True) if isinstance(s, Snap)]
    times = engine.travel_times_to([s for _, s in routable], destination) if routable else []
    by_index: dict[int, tuple[Snap | RoutingError, object]] = {i: (s, None) for i, s in zip(placed, snaps, strict=True)}
    by_index.update({i: (s, tt) for (i, s), tt in zip(routable, times, strict=True)})
    out = []
    for i, (unit, pos) in enumerate(zip(units, positions, strict=True)):
        snap, tt = by_index.get(i, (None, None))
        row = {
            "unit": unit.pk,
            "call_sign": unit.call_sign,
            "agency": unit.agency,
            "agency_name": unit.agency_name,
            "agency_kind": unit.agency_kind,
            "unit_type": unit.unit_type,
            "eta_s": None,
            "distance_m": None,
            "access_s": None,
            "access_m": None,
            "position_age_s": None if pos.age_s is None else round(pos.age_s, 1),
            "position_source": pos.source,
            "ranked_from": _RANKED_FROM.get(pos.source),
            "origin": list(pos.lonlat) if pos.lonlat else None,
            "reason": None,
        }
        if pos.lonlat is None:
            row["reason"] = "no valid GPS fix and no home station"
        elif not isinstance(snap, Snap):
            row["reason"] = f"position not routable: {snap}"
        elif tt is None:
            row["reason"] = "no road path from the unit to the report"
        else:
            row.update(
                eta_s=round(tt.eta_s, 1),
                distance_m=round(tt.distance_m, 1),
                access_s=round(tt.access_s, 1),
                access_m=round(tt.access_m, 1),
            )
            row["_snap"] = snap
        out.append((unit, row))
    return out


def _add_routes(engine, rows: list[dict], destination: tuple[float, float]) -> None:
    for row in rows:
        snap = row.get("_snap")
        if snap is None:
            row["route"] = None
            continue
        try:
            route = engine.route(snap, destination)
        except RoutingError as exc:
            logger.warning("no route for unit %s: %s", row["call_sign"], exc)
            row["route"] = None
        else:
            row["route"] = mapping(route.geometry_lonlat)


def recommendation_public(result: dict) -> dict:
    """The recommendation without internal fields (engine snaps), ready to serialise."""
    for need in result["needs"]:
        for row in need["suggestions"]:
            row.pop("_snap", None)
    return result
