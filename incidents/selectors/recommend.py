"""Reads for dispatch: where a unit is, and which units to send to a report (KPIs: ``incidents.selectors.kpis``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from shapely.geometry import mapping

from fleet.ingest.checks import haversine_m
from fleet.models import Agency, Capability, PositionFix, Station, Unit, UnitStatus, UnitType
from fleet.selectors.units import UnitPosition, position_by_age
from gis_core.api.fields import iso
from gis_core.models import Region
from gis_core.routing.engine import Reach, RoutingEngine, Snap, TravelTime
from gis_core.routing.errors import OutsideNetworkError, RoutingError
from gis_core.routing.hour_band_engines import engine_for_now
from gis_core.routing.profiles import CAR
from incidents.errors import IncidentLocationMissingError, IncidentTypeMissingError, RecommendationInputError
from incidents.models import Incident
from incidents.selectors.incident_types import incident_type_needs

logger = logging.getLogger(__name__)

# Route geometries are computed (on request) for this many of the best suggestions of each need.
ROUTES_PER_NEED = 3

# Why a unit has no eta_s (``reason_code``; ``reason`` says it in words).
NO_POSITION = "no_position"  # no valid fix and no home station
NOT_ROUTABLE = "not_routable"  # its position is not a point, or too far from every road
NO_ROAD_PATH = "no_road_path"
PROFILE_CANNOT_REACH = "profile_cannot_reach"  # its vehicle cannot get near the report
BEYOND_MAX_ETA = "beyond_max_eta"  # not reached within SIAGA_RECOMMEND_MAX_ETA_S (no path, or farther)


# --- recommendation -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Need:
    agency_kind: str | None
    capability: str
    count: int
    optional: bool = False


def incident_needs(*, incident: Incident, capabilities: Sequence[str] | None = None) -> list[Need]:
    """What the report needs: explicit capability codes (any agency), else its type's needs in the report's
    region (the region's override, else the shared table: ``incidents.selectors.incident_types``)."""
    if capabilities:
        _check_codes(Capability.objects.all(), capabilities, "capability")
        return [Need(None, code, 1) for code in dict.fromkeys(capabilities)]
    if incident.incident_type_id is None:
        raise IncidentTypeMissingError(
            f"report {incident.reference} has no incident type; set one or ask for capabilities explicitly "
            "(e.g. ?capabilities=als,fire_engine)"
        )
    rows = incident_type_needs(incident_type_id=incident.incident_type_id, region_id=incident.region_id)
    needs = [Need(row.agency_kind, row.capability, row.count, row.optional) for row in rows]
    if not needs:
        raise RecommendationInputError(
            f"incident type {incident.incident_type_id} of report {incident.reference} lists no needs; "
            "add them in the admin or ask for capabilities explicitly"
        )
    return needs


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An available unit as the ranking needs it: plain values, no model instances."""

    pk: int
    call_sign: str
    agency: str
    agency_name: str
    agency_kind: str
    unit_type: str
    capabilities: frozenset[str]  # the asked-for capabilities it has (all of its type's when none were asked for)
    position: UnitPosition
    status: str
    profile: str  # its type's routing profile: the roads and speeds it is timed on


class UnitTiming(TypedDict):
    """A unit timed to a point: what a suggestion and an ETA row share (EPSG:4326, seconds, metres)."""

    unit: int
    call_sign: str
    agency: str
    agency_name: str
    agency_kind: str
    unit_type: str
    eta_s: float | None  # driving, plus access_on_foot_s where the vehicle cannot drive to the point
    distance_m: float | None  # along the network
    access_s: float | None  # the off-road legs at both ends
    access_m: float | None
    profile: str  # the vehicle profile the ETA was computed on (car, fire_engine, motorbike)
    access_on_foot_s: float | None  # the walk or hose lay from reachable_point, 0 when the vehicle drives there
    access_on_foot_m: float | None
    reachable_point: list[float] | None  # (lon, lat) where the vehicle stops, when the rest is on foot
    position_age_s: float | None
    position_recorded_at: str | None
    position_source: str | None
    ranked_from: str | None  # gps or home_station: what eta_s was computed from
    origin: list[float] | None  # (lon, lat)
    straight_line_m: float | None  # from origin to the destination as the crow flies
    reason: str | None  # why eta_s is None
    reason_code: str | None  # the same as a code: NO_POSITION, NOT_ROUTABLE, NO_ROAD_PATH, BEYOND_MAX_ETA, ...


class Suggestion(UnitTiming):
    """A unit suggested for one need of a report."""

    capability: str
    route: NotRequired[dict | None]  # GeoJSON LineString, when asked for


class NeedResult(TypedDict):
    agency_kind: str | None
    capability: str
    count: int
    optional: bool
    suggestions: list[Suggestion]  # by eta_s, those without one last


class Recommendation(TypedDict):
    """What :func:`units_recommend` returns (and the recommendations endpoint answers)."""

    incident: int
    reference: str
    destination: list[float]
    position_max_age_s: float
    max_eta_s: float | None  # the bound the search stopped at (SIAGA_RECOMMEND_MAX_ETA_S); None: unbounded
    needs: list[NeedResult]


class EtaRow(UnitTiming):
    status: str
    capabilities: list[str]


class UnitsEta(TypedDict):
    """What :func:`units_eta` returns (and ``POST /api/units/eta/`` answers)."""

    region: str
    destination: list[float]
    position_max_age_s: float
    results: list[EtaRow]


def _candidates_sql(*, statuses: bool, codes: bool, unit_ids: bool, agencies: bool, agency_ids: bool = False) -> str:
    """One row per (unit, capability it has) of a region, filtered by what is given; the models' table names.

    Parameters in order: now, region id, then the status list, capability codes, unit ids and agency
    codes, agency ids for each filter that is on. A unit whose type has no capability comes once, with a null code,
    when no codes are asked for.
    """
    unit, agency, unit_type = Unit._meta.db_table, Agency._meta.db_table, UnitType._meta.db_table
    type_caps, cap = UnitType.capabilities.through._meta.db_table, Capability._meta.db_table
    station, fix = Station._meta.db_table, PositionFix._meta.db_table
    where = ["a.region_id = %s"]
    where += ["u.status = ANY(%s)"] if statuses else []
    where += ["c.code = ANY(%s)"] if codes else []
    where += ["u.id = ANY(%s)"] if unit_ids else []
    where += ["a.code = ANY(%s)"] if agencies else []
    where += ["a.id = ANY(%s)"] if agency_ids else []
    return (
        f"SELECT u.id, u.call_sign, a.code, a.name, a.kind, t.code, ST_X(f.geom), ST_Y(f.geom), "
        # The fix's age in seconds, computed here: no timestamp to parse per row.
        f"GREATEST(0, EXTRACT(EPOCH FROM (%s - f.recorded_at)))::float8, ST_X(s.geom), ST_Y(s.geom), c.code, "
        f"u.status, f.recorded_at, t.routing_profile "
        f"FROM {unit} u JOIN {agency} a ON a.id = u.agency_id JOIN {unit_type} t ON t.id = u.unit_type_id "
        f"LEFT JOIN {type_caps} tc ON tc.unittype_id = u.unit_type_id LEFT JOIN {cap} c ON c.id = tc.capability_id "
        f"LEFT JOIN {station} s ON s.id = u.home_station_id "
        # The same valid fix as incidents.selectors.units and unit_position: valid, with a geometry. LATERAL,
        # so each unit's fix is one primary-key probe per partition, never a scan of the partitioned table.
        f"LEFT JOIN LATERAL (SELECT x.geom, x.recorded_at FROM {fix} x WHERE x.id = u.last_fix_id AND x.is_valid "
        f"AND x.geom IS NOT NULL LIMIT 1) f ON true "
        f"WHERE {' AND '.join(where)} ORDER BY u.id"
    )


def _candidates(
    region_id: int,
    now: datetime,
    *,
    statuses: Sequence[str] | None = (UnitStatus.AVAILABLE,),
    codes: Sequence[str] | None = None,
    unit_ids: Sequence[int] | None = None,
    agencies: Sequence[str] | None = None,
    agency_ids: Sequence[int] | None = None,
) -> list[_Candidate]:
    """Units of a region with their positions, one query and plain rows; each filter applies when given.

    By default the available units; ``codes`` keeps units having any of these capabilities; ``agency_ids``
    (a user limited to agencies; an empty list: none) keeps those agencies' units.
    Raw SQL rather than the ORM: this runs on every recommendation, and the ORM's query building and
    model machinery cost more than the query itself (200 units: ~2 ms of PostgreSQL, plain tuples).
    """
    if agency_ids is not None and not agency_ids:
        return []
    filters = {
        "statuses": statuses,
        "codes": codes,
        "unit_ids": unit_ids,
        "agencies": agencies,
        "agency_ids": agency_ids,
    }
    on = {name: bool(values) for name, values in filters.items()}
    params: list[Any] = [now, region_id, *(list(values) for values in filters.values() if values)]
    with connection.cursor() as cursor:
        cursor.execute(_candidates_sql(**on), params)
        rows = cursor.fetchall()
    max_age_s = settings.SIAGA_POSITION_MAX_AGE_S
    caps: dict[int, set[str]] = {}
    first: dict[int, tuple] = {}
    for row in rows:  # a unit whose type has several capabilities comes once per capability
        caps.setdefault(row[0], set()).update([row[11]] if row[11] is not None else [])
        first.setdefault(row[0], row)
    out = []
    for pk, row in first.items():
        _, call_sign, a_code, a_name, a_kind, type_code, lon, lat, age_s, s_lon, s_lat, _, status, recorded_at, pr = row
        fix_lonlat = (lon, lat) if lon is not None else None
        station_lonlat = (s_lon, s_lat) if s_lon is not None else None
        position = position_by_age(fix_lonlat, age_s, station_lonlat, max_age_s, recorded_at=recorded_at)
        out.append(
            _Candidate(
                pk, call_sign, a_code, a_name, a_kind, type_code, frozenset(caps[pk]), position, status, pr or CAR
            )
        )
    return out


def units_recommend(
    *,
    incident: Incident,
    include_route: bool = False,
    now: datetime | None = None,
    capabilities: Sequence[str] | None = None,
    limit: int | None = None,
    route_units: Sequence[int] = (),
    agency_ids: Sequence[int] | None = None,
    max_eta_s: float | None = None,
) -> Recommendation:
    """Available units for each need of a report, ranked by road ETA to its location.

    Three queries (the needs, the candidates with their positions, the active network version) and
    one engine call per vehicle profile for all candidate units of all needs (``travel_times_to``: one
    reverse search from the report, bounded at ``max_eta_s``, the units' points snapped in one batch).
    A unit is timed from its newest valid fix, or from its home station when that fix is older than
    ``settings.SIAGA_POSITION_MAX_AGE_S`` or missing (see :func:`unit_position`).

    A unit not reached within ``max_eta_s`` is listed after the reached ones (nearest in a straight
    line first) with ``reason_code`` ``beyond_max_eta``; a need with fewer units reached within it than it
    asks for (``count``) has those units timed again with the bound doubled (x2, x4, x8, then unbounded), so
    its nearest reachable units still come with their ETAs.
    The reached units' ETAs and order are those of an unbounded search (the bounded search is exact).

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
    route_units
        Unit ids whose route to add too, wherever they rank (the dispatcher looks at a unit further
        down the list); with or without ``include_route``. Ids that are not among the suggestions
        get nothing.
    agency_ids
        Suggest only units of these agencies (the asking user's limit,
        ``fleet.selectors.units.agency_ids_for_user``); every agency of the region when None.
    max_eta_s
        The longest useful ETA, seconds (walk included); ``settings.SIAGA_RECOMMEND_MAX_ETA_S`` when None,
        ``inf`` for an unbounded search.

    Returns
    -------
    Recommendation
        The report, its destination and one :class:`NeedResult` per need, each with its
        :class:`Suggestion` rows sorted by ``eta_s`` (those without one last; ``route`` on request).

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
    units = _candidates(incident.region_id, now, codes=sorted({n.capability for n in needs}), agency_ids=agency_ids)
    # No road network is the 409 that says so, even with no unit to time. One version lookup per profile.
    engines = _Engines(incident.region, at=now)
    bound_s = settings.SIAGA_RECOMMEND_MAX_ETA_S if max_eta_s is None else max_eta_s
    timed, reaches = _time_units(engines, units, destination, max_eta_s=bound_s)
    if bound_s < float("inf"):
        timed = _time_unreached_needs_again(engines, needs, timed, destination, bound_s)
    result_needs: list[NeedResult] = []
    for need in needs:
        rows: list[Suggestion] = [
            Suggestion(**row, capability=need.capability) for unit, row in timed if _meets(need, unit)
        ]
        rows.sort(key=_rank)
        rows = rows[:limit] if limit is not None else rows
        result_needs.append(
            {
                "agency_kind": need.agency_kind,
                "capability": need.capability,
                "count": need.count,
                "optional": need.optional,
                "suggestions": rows,
            }
        )
    wanted = set(route_units)
    to_route = [
        row
        for need in result_needs
        for rank, row in enumerate(need["suggestions"])
        if (include_route and rank < ROUTES_PER_NEED) or row["unit"] in wanted
    ]
    if to_route:
        _add_routes(engines, to_route, reaches)
    return {
        "incident": incident.pk,
        "reference": incident.reference,
        "destination": list(destination),
        "position_max_age_s": settings.SIAGA_POSITION_MAX_AGE_S,
        "max_eta_s": bound_s if bound_s < float("inf") else None,
        "needs": result_needs,
    }


def _meets(need: Need, unit: _Candidate) -> bool:
    return need.capability in unit.capabilities and need.agency_kind in (None, unit.agency_kind)


def _rank(row: UnitTiming) -> tuple[int, float, str]:
    """By ETA; then the units beyond the longest useful ETA, nearest in a straight line first; then the rest."""
    if row["eta_s"] is not None:
        return 0, row["eta_s"], row["call_sign"]
    if row["reason_code"] == BEYOND_MAX_ETA:
        return 1, row["straight_line_m"] or 0.0, row["call_sign"]
    return 2, 0.0, row["call_sign"]


# A need short of ETAs is searched again with the bound doubled this many times (x2, x4, x8), then unbounded.
_WIDENINGS = 3


def _time_unreached_needs_again(
    engines: _Engines,
    needs: Sequence[Need],
    timed: list[tuple[_Candidate, UnitTiming]],
    destination: tuple[float, float],
    max_eta_s: float,
) -> list[tuple[_Candidate, UnitTiming]]:
    """``timed`` with the units beyond the bound of each need that has fewer than ``count`` within it timed
    again with the bound doubled, up to ``_WIDENINGS`` times, then without one.

    A dispatcher never gets a need short of ETAs while its units can reach the report: a flood that cuts
    the city in two, or a rural report, puts every unit farther than the longest useful ETA. Doubling
    costs far less than one unbounded search to the farthest unit of a province (a bounded search's cost
    grows with the area its bound covers: the doublings together cost about a third more than the last).
    """
    out = list(timed)
    for widening in range(_WIDENINGS + 1):
        again: set[int] = set()
        for need in needs:
            rows = [(i, row) for i, (unit, row) in enumerate(out) if _meets(need, unit)]
            if sum(row["eta_s"] is not None for _, row in rows) < need.count:
                again.update(i for i, row in rows if row["reason_code"] == BEYOND_MAX_ETA)
        if not again:
            break
        bound_s = max_eta_s * 2 ** (widening + 1) if widening < _WIDENINGS else None
        order = sorted(again)
        retimed, _ = _time_units(engines, [out[i][0] for i in order], destination, max_eta_s=bound_s)
        for i, pair in zip(order, retimed, strict=True):
            out[i] = pair
    return out


def units_eta(
    *,
    region: Region,
    destination: tuple[float, float],
    unit_ids: Sequence[int] | None = None,
    agencies: Sequence[str] | None = None,
    capabilities: Sequence[str] | None = None,
    available_only: bool = False,
    limit: int | None = None,
    now: datetime | None = None,
    agency_ids: Sequence[int] | None = None,
) -> UnitsEta:
    """Road ETAs of a region's units to a point, for other systems and for "who is nearest" questions.

    Units are placed as for a recommendation (:func:`unit_position`: a fresh valid fix, else the home
    station) and timed with one engine call. Whatever their status, unless ``available_only``.

    Parameters
    ----------
    region
        The region whose units and road network are used.
    destination
        (lon, lat), EPSG:4326.
    unit_ids, agencies, capabilities
        Keep only these units, units of these agency codes, units having any of these capability codes.
    available_only
        Keep only units whose status is ``available``.
    limit
        At most this many results (the nearest).
    now
        Reference time for position ages; now by default.
    agency_ids
        Only units of these agencies (the asking user's limit); others are as unknown as another
        region's. Every agency of the region when None.

    Returns
    -------
    UnitsEta
        The region, the destination and one :class:`EtaRow` per unit (a :class:`UnitTiming` plus
        ``status`` and ``capabilities``), sorted by ``eta_s``, those without one last.

    Raises
    ------
    RecommendationInputError
        Unit ids that are not units of the region, or unknown agency or capability codes.
    gis_core.routing.errors.RoutingError
        The destination is not a valid point or lies outside the road network.
    """
    now = now or timezone.now()
    region_agencies = Agency.objects.filter(region=region)
    if agency_ids is not None:
        region_agencies = region_agencies.filter(pk__in=agency_ids)
    _check_codes(region_agencies, agencies, "agency")
    _check_codes(Capability.objects.all(), capabilities, "capability")
    units = _candidates(
        region.pk,
        now,
        statuses=(UnitStatus.AVAILABLE,) if available_only else None,
        codes=capabilities,
        unit_ids=unit_ids,
        agencies=agencies,
        agency_ids=agency_ids,
    )
    if unit_ids:
        known = Unit.objects.filter(pk__in=unit_ids, agency__in=region_agencies).values_list("pk", flat=True)
        missing = sorted(set(unit_ids) - set(known))
        if missing:
            raise RecommendationInputError(f"no unit {', '.join(map(str, missing))} in region {region.slug}")
    engines = _Engines(region, at=now)
    _snap_destination(engines[CAR], destination)
    timed, _ = _time_units(engines, units, destination)
    rows: list[EtaRow] = [
        EtaRow(**row, status=unit.status, capabilities=sorted(unit.capabilities)) for unit, row in timed
    ]
    rows.sort(key=_rank)
    return {
        "region": region.slug,
        "destination": list(destination),
        "position_max_age_s": settings.SIAGA_POSITION_MAX_AGE_S,
        "results": rows[:limit] if limit is not None else rows,
    }


def _snap_destination(engine: RoutingEngine, destination: tuple[float, float]) -> Snap:
    """The destination on the network; off it, an error even with no unit, named as the route endpoint names it.

    ``snap`` names a point by its index in the sequence ("point #0"), which reads as the first origin.
    """
    try:
        return engine.snap([destination])[0]
    except OutsideNetworkError as exc:
        raise OutsideNetworkError(
            label="destination", lon=exc.lon, lat=exc.lat, offset_m=exc.offset_m, max_access_m=exc.max_access_m
        ) from None


def _check_codes(queryset: QuerySet, codes: Sequence[str] | None, label: str) -> None:
    """Refuse codes that ``queryset`` (of rows with a ``code``) does not hold, listing the known ones."""
    if not codes:
        return
    known = set(queryset.values_list("code", flat=True))
    unknown = [code for code in codes if code not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none loaded"
        raise RecommendationInputError(f"unknown {label} {', '.join(unknown)}; known: {listed}")


# What a suggestion's ``eta_s`` was computed from: the unit's GPS fix (fresh, or stale without a
# home station to fall back on) or its home station; None when the unit could not be placed.
_RANKED_FROM = {"gps": "gps", "stale_gps": "gps", "home_station": "home_station"}


def _routable(lonlat: tuple[float, float] | None) -> bool:
    return lonlat is not None and abs(lonlat[0]) <= 180.0 and abs(lonlat[1]) <= 90.0  # NaN compares False


class _Engines(dict[str, RoutingEngine]):
    """The region's engine of each vehicle profile in the hour band of ``at``, looked up once per request
    (the car's at once)."""

    def __init__(self, region: Region, *, at: datetime):
        super().__init__()
        self.region, self.at = region, at
        self[CAR] = engine_for_now(region, at=at)

    def __missing__(self, profile: str) -> RoutingEngine:
        self[profile] = engine_for_now(self.region, profile, at=self.at)
        return self[profile]


def _reach(engines: _Engines, profile: str, destination: tuple[float, float]) -> tuple[RoutingEngine, Reach]:
    """The profile's engine and where its vehicle stops for the destination; a car that cannot is the
    destination's own error (as the route endpoint names it), raised."""
    engine = engines[profile]
    try:
        return engine, engine.reach(destination)
    except OutsideNetworkError as exc:
        if profile != CAR:
            raise
        raise OutsideNetworkError(
            label="destination", lon=exc.lon, lat=exc.lat, offset_m=exc.offset_m, max_access_m=exc.max_access_m
        ) from None


def _time_units(
    engines: _Engines,
    units: list[_Candidate],
    destination: tuple[float, float],
    *,
    max_eta_s: float | None = None,
) -> tuple[list[tuple[_Candidate, UnitTiming]], dict[str, Reach]]:
    """Each unit with its suggestion row (no ``capability`` yet), timed with ONE engine call per vehicle profile.

    Each profile's vehicle drives to where it can reach the destination (``RoutingEngine.reach``), and
    the walk from there is added to its ``eta_s`` and shown apart. The origins go to ``travel_times_to`` as
    plain points, snapped there in one vectorised batch; only the rare units it cannot time are snapped
    again (``try_snap``), to say why. With ``max_eta_s`` (seconds, walk included; None or ``inf``: no bound)
    the search stops there and a unit it does not reach gets ``reason_code`` ``beyond_max_eta``. Returns the
    rows and, per profile timed, its :class:`Reach`.
    """
    by_profile: dict[str, list[int]] = {}
    for i, unit in enumerate(units):
        by_profile.setdefault(unit.profile, []).append(i)
    rows: dict[int, UnitTiming] = {}
    reaches: dict[str, Reach] = {}
    for profile, indices in by_profile.items():
        group = [units[i] for i in indices]
        try:
            engine, reach = _reach(engines, profile, destination)
        except RoutingError as exc:
            if profile == CAR:
                raise
            for i, unit in zip(indices, group, strict=True):
                rows[i] = _timing_row(unit, None, None, destination)
                rows[i]["reason"] = f"the report cannot be reached by a {profile} vehicle: {exc}"
                rows[i]["reason_code"] = PROFILE_CANNOT_REACH
            continue
        reaches[profile] = reach
        for i, row in zip(indices, _time_group(engine, group, reach, destination, max_eta_s), strict=True):
            rows[i] = row
    return [(unit, rows[i]) for i, unit in enumerate(units)], reaches


def _time_group(
    engine: RoutingEngine,
    units: list[_Candidate],
    reach: Reach,
    destination: tuple[float, float],
    max_eta_s: float | None,
) -> list[UnitTiming]:
    origins = {i: u.position.lonlat for i, u in enumerate(units) if u.position.lonlat and _routable(u.position.lonlat)}
    placed = list(origins)
    bounded = max_eta_s is not None and max_eta_s < float("inf")
    # The walk from where the vehicle stops is part of eta_s: the drive gets what the bound leaves of it.
    cutoff_s = max(0.0, max_eta_s - reach.on_foot_s) if bounded and max_eta_s is not None else None
    times = engine.travel_times_to(list(origins.values()), reach.snap, cutoff_s=cutoff_s) if placed else []
    by_index = dict(zip(placed, times, strict=True))
    failed = [i for i, tt in by_index.items() if tt is None]
    why = engine.try_snap([origins[i] for i in failed]) if failed else []
    snaps = dict(zip(failed, why, strict=True))
    out = []
    for i, unit in enumerate(units):
        pos = unit.position
        tt = by_index.get(i)
        row = _timing_row(unit, tt, reach, destination)
        if tt is not None:
            out.append(row)
            continue
        if pos.lonlat is None:
            row["reason"], row["reason_code"] = "no valid GPS fix and no home station", NO_POSITION
        elif i not in by_index:
            row["reason"] = f"position not routable: {pos.lonlat} is not a (lon, lat) pair"
            row["reason_code"] = NOT_ROUTABLE
        elif not isinstance(snaps.get(i), Snap):
            row["reason"], row["reason_code"] = f"position not routable: {snaps.get(i)}", NOT_ROUTABLE
        elif bounded:
            row["reason"] = (
                f"not reached by road within the longest useful ETA ({max_eta_s:.0f} s, "
                f"SIAGA_RECOMMEND_MAX_ETA_S); {row['straight_line_m']:.0f} m away in a straight line"
            )
            row["reason_code"] = BEYOND_MAX_ETA
        else:
            row["reason"], row["reason_code"] = "no road path from the unit to the report", NO_ROAD_PATH
        out.append(row)
    return out


def _timing_row(
    unit: _Candidate, tt: TravelTime | None, reach: Reach | None, destination: tuple[float, float]
) -> UnitTiming:
    pos = unit.position
    on_foot = tt is not None and reach is not None and reach.on_foot_m > 0
    stop = reach.reachable_point if on_foot and reach is not None else None
    row: UnitTiming = {
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
        "profile": unit.profile,
        "access_on_foot_s": None,
        "access_on_foot_m": None,
        "reachable_point": None if stop is None else [round(stop[0], 7), round(stop[1], 7)],
        "position_age_s": None if pos.age_s is None else round(pos.age_s, 1),
        "position_recorded_at": iso(pos.recorded_at),
        "position_source": pos.source,
        "ranked_from": _RANKED_FROM.get(pos.source or ""),
        "origin": list(pos.lonlat) if pos.lonlat else None,
        "straight_line_m": None,
        "reason": None,
        "reason_code": None,
    }
    if pos.lonlat and _routable(pos.lonlat):
        row["straight_line_m"] = round(haversine_m(pos.lonlat[0], pos.lonlat[1], destination[0], destination[1]), 1)
    if tt is not None and reach is not None:
        row["eta_s"] = round(tt.eta_s + reach.on_foot_s, 1)
        row["distance_m"] = round(tt.distance_m, 1)
        row["access_s"] = round(tt.access_s, 1)
        row["access_m"] = round(tt.access_m, 1)
        row["access_on_foot_s"] = round(reach.on_foot_s, 1)
        row["access_on_foot_m"] = round(reach.on_foot_m, 1)
    return row


def _add_routes(engines: _Engines, rows: list[Suggestion], reaches: dict[str, Reach]) -> None:
    """Set ``route`` (GeoJSON LineString or None) on each row: per vehicle profile the origins snapped in one
    call, each unit's route (to where its vehicle stops) computed once even when among the best of several needs."""
    for row in rows:
        row["route"] = None
    routes: dict[int, dict | None] = {}
    for profile, reach in reaches.items():
        timed = {
            row["unit"]: (row["origin"][0], row["origin"][1])
            for row in rows
            if row["profile"] == profile and row["eta_s"] is not None and row["origin"]
        }
        if not timed:
            continue
        engine = engines[profile]
        origins = engine.try_snap(list(timed.values()))
        for unit, origin in zip(timed, origins, strict=True):
            try:
                if not isinstance(origin, Snap):  # cannot happen: the unit has an ETA
                    raise origin
                routes[unit] = mapping(engine.route(origin, reach.snap).geometry_lonlat)
            except RoutingError as exc:
                logger.warning("no route for unit %s: %s", unit, exc)
                routes[unit] = None
    for row in rows:
        row["route"] = routes.get(row["unit"])


def recommendation_public(result: Recommendation) -> Recommendation:
    """The recommendation ready to serialise (it holds plain values only; kept for callers)."""
    return result
