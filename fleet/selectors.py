"""Reads for dispatch: where a unit is, which units to send to a report, and response-time KPIs."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from shapely.geometry import mapping

from fleet.models import (
    AgencyKind,
    Assignment,
    AssignmentStatus,
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

# Response targets when an agency sets none, seconds (DOMAIN.md: SPM fire 15 min; PSC 119 services
# locally quote 15 min). Other kinds have no published target: their share within target is null.
DEFAULT_TARGET_S: dict[str, int] = {AgencyKind.FIRE: 900, AgencyKind.EMS: 900}


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
    max_age_s = settings.SIAGA_POSITION_MAX_AGE_S if max_age_s is None else max_age_s
    fix = unit.last_fix if unit.last_fix_id is not None else None
    age_s = None
    if fix is not None and fix.is_valid and fix.geom is not None and fix.recorded_at is not None:
        age_s = max(0.0, (now - fix.recorded_at).total_seconds())
        if age_s <= max_age_s:
            return UnitPosition((fix.geom.x, fix.geom.y), "gps", age_s)
    else:
        fix = None
    station = unit.home_station
    if station is not None:
        return UnitPosition((station.geom.x, station.geom.y), "home_station", age_s)
    if fix is not None:
        return UnitPosition((fix.geom.x, fix.geom.y), "stale_gps", age_s)
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


def _candidates(incident: Incident, needs: list[Need]) -> list[Unit]:
    # A subquery rather than a join + DISTINCT: no duplicate rows, and no DISTINCT over geometry columns.
    types = UnitType.objects.filter(capabilities__code__in={n.capability for n in needs}).values("pk")
    return list(
        units_for_map(region=None)
        .filter(agency__region_id=incident.region_id, status=UnitStatus.AVAILABLE, unit_type__in=types)
        .order_by("pk")
    )


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
        ``origin`` (lon, lat), ``reason`` (why ``eta_s`` is null) and, on request, ``route``.
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
    units = _candidates(incident, needs)
    engine = engine_for(incident.region)
    timed = _time_units(engine, units, destination, now)
    caps = {u.pk: {c.code for c in u.unit_type.capabilities.all()} for u in units}
    result_needs = []
    for need in needs:
        rows = [
            {**row, "capability": need.capability}
            for unit, row in timed
            if need.capability in caps[unit.pk] and (need.agency_kind is None or unit.agency.kind == need.agency_kind)
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


def _time_units(engine, units: list[Unit], destination: tuple[float, float], now: datetime) -> list[tuple[Unit, dict]]:
    positions = [unit_position(u, now=now) for u in units]
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
            "agency": unit.agency.code,
            "agency_name": unit.agency.name,
            "agency_kind": unit.agency.kind,
            "unit_type": unit.unit_type.code,
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


# --- KPIs ------------------------------------------------------------------------------------------

GROUP_BY = ("agency", "priority", "kecamatan")
PHASES = ("received_to_dispatched_s", "dispatched_to_en_route_s", "en_route_to_on_scene_s")


def percentile_linear(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks.

    Same as numpy's default method and PostgreSQL's ``percentile_cont(q / 100)``: sorted values
    v[0..n-1], position h = (n - 1) q / 100, result v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h]).
    """
    arr = np.asarray(list(values), dtype=float)
    return None if arr.size == 0 else float(np.percentile(arr, q))


def response_kpis(*, region: Region, since: datetime, until: datetime, group_by: str = "agency") -> dict:
    """Response times of the reports received in [since, until), grouped.

    A report's response time is ``received_at`` to the first unit's ``on_scene_at``; grouped by
    agency, it is to that agency's first unit on scene (so each agency is judged on its own units).
    The phases are those of the same first-arriving assignment: received -> dispatched,
    dispatched -> en route, en route -> on scene (a phase with a missing timestamp is left out of
    that phase's figures). Reports no unit reached are counted but have no response time.

    The 90th percentile is the linear-interpolation percentile (:func:`percentile_linear`, as
    PostgreSQL ``percentile_cont(0.9)``). ``share_within_target`` is the share of responded reports
    at or under the target: the agency's ``response_target_s`` (or :data:`DEFAULT_TARGET_S` for its
    kind); grouped by priority or kecamatan each report is judged on the target of the agency that
    arrived first. Reports with no applicable target are left out of the share.

    Parameters
    ----------
    region
        The region whose reports count.
    since, until
        Window on ``Incident.received_at``, timezone-aware; ``until`` excluded.
    group_by
        ``agency``, ``priority`` or ``kecamatan``.

    Returns
    -------
    dict
        ``group_by``, ``since``, ``until``, ``percentile_method`` and ``groups``: per group ``key``,
        ``label``, ``target_s``, ``reports``, ``responded``, ``response_s`` and each phase as
        ``{mean, p90, n}`` in seconds, and ``share_within_target``.
    """
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BY)}, not {group_by!r}")
    if since >= until:
        raise ValueError(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
    incidents = list(
        Incident.objects.filter(region=region, received_at__gte=since, received_at__lt=until)
        .select_related("kecamatan")
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.exclude(status=AssignmentStatus.CANCELLED, on_scene_at__isnull=True)
                .select_related("unit__agency")
                .order_by("on_scene_at", "dispatched_at", "pk"),
            )
        )
    )
    samples: dict[tuple, list[dict]] = defaultdict(list)
    labels: dict[tuple, tuple[str, int | None]] = {}
    for incident in incidents:
        for key, label, sample in _report_samples(incident, group_by):
            samples[key].append(sample)
            labels.setdefault(key, label)
    groups = [_summary(key, labels[key], rows) for key, rows in samples.items()]
    groups.sort(key=lambda g: (g["key"] is None, str(g["key"])))
    return {
        "region": region.slug,
        "group_by": group_by,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "percentile_method": "linear interpolation (numpy default, PostgreSQL percentile_cont)",
        "groups": groups,
    }


def _target_s(agency) -> int | None:
    return agency.response_target_s if agency.response_target_s is not None else DEFAULT_TARGET_S.get(agency.kind)


def _sample(incident: Incident, first: Assignment | None) -> dict:
    if first is None or first.on_scene_at is None:
        return {"response_s": None, "target_s": None}
    received = incident.received_at

    def span(a, b):
        return None if a is None or b is None else (b - a).total_seconds()

    return {
        "response_s": span(received, first.on_scene_at),
        "received_to_dispatched_s": span(received, first.dispatched_at),
        "dispatched_to_en_route_s": span(first.dispatched_at, first.en_route_at),
        "en_route_to_on_scene_s": span(first.en_route_at, first.on_scene_at),
        "target_s": _target_s(first.unit.agency),
    }


def _report_samples(incident: Incident, group_by: str):
    assignments = list(incident.assignments.all())  # on_scene_at ascending, nulls last
    if group_by == "agency":
        by_agency: dict[int, list[Assignment]] = defaultdict(list)
        for a in assignments:
            by_agency[a.unit.agency_id].append(a)
        for rows in by_agency.values():
            agency = rows[0].unit.agency
            yield (agency.code,), (agency.name, _target_s(agency)), _sample(incident, rows[0])
        return
    sample = _sample(incident, assignments[0] if assignments else None)
    if group_by == "priority":
        yield (incident.priority,), (incident.get_priority_display(), None), sample
    else:
        kec = incident.kecamatan
        yield (kec.code if kec else None,), (kec.name if kec else "no kecamatan", None), sample


def _stats(values: list[float]) -> dict:
    return {
        "n": len(values),
        "mean": round(float(np.mean(values)), 1) if values else None,
        "p90": round(percentile_linear(values, 90), 1) if values else None,
    }


def _summary(key: tuple, label: tuple[str, int | None], rows: list[dict]) -> dict:
    responded = [r for r in rows if r["response_s"] is not None]
    judged = [r for r in responded if r["target_s"] is not None]
    within = sum(1 for r in judged if r["response_s"] <= r["target_s"])
    out = {
        "key": key[0],
        "label": label[0],
        "target_s": label[1],
        "reports": len(rows),
        "responded": len(responded),
        "response_s": _stats([r["response_s"] for r in responded]),
        "share_within_target": round(within / len(judged), 4) if judged else None,
        "judged_against_target": len(judged),
    }
    for phase in PHASES:
        out[phase] = _stats([r[phase] for r in responded if r.get(phase) is not None])
    return out
