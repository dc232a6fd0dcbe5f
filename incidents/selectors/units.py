"""Reads of a unit's current state for the map and the live messages: one query, named rows.

The REST map layer (``GET /api/units/``) and the live unit message (``incidents.live``) both read units
through :func:`unit_states` and draw them through ``incidents.representations.unit_public``, so a unit
is in the same place, with the same fields, wherever a console looks. Where a unit is comes from
``fleet.selectors.units.position_of``, the rule recommendation and dispatch rank from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from fleet.models import Agency, Capability, PositionFix, Station, Unit, UnitType
from fleet.selectors.units import UnitPosition, position_of
from incidents.models import Assignment, AssignmentStatus, Incident


@dataclass(frozen=True, slots=True)
class ActiveAssignment:
    """A unit's active assignment (the newest dispatched), with its report's reference."""

    id: int
    incident_id: int
    incident_reference: str
    current_eta_s: float | None
    eta_updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class StationRef:
    id: int
    code: str
    name: str
    lonlat: tuple[float, float]


@dataclass(frozen=True, slots=True)
class LastFix:
    """The unit's newest valid fix (``last_fix``), whatever its age; coordinates EPSG:4326."""

    lonlat: tuple[float, float]
    recorded_at: datetime | None
    accuracy_m: float | None
    speed_kph: float | None
    heading_deg: float | None


@dataclass(frozen=True, slots=True)
class UnitState:
    """A unit as the map and the live messages show it; ``position`` is where it is taken to be at ``now``."""

    id: int
    call_sign: str
    status: str
    status_changed_at: datetime | None
    is_demo: bool
    revision: int
    region_id: int
    agency: str
    agency_name: str
    agency_kind: str
    unit_type: str
    capabilities: tuple[str, ...]
    station: StationRef | None
    fix: LastFix | None
    assignment: ActiveAssignment | None
    position: UnitPosition


def unit_states(
    *,
    now: datetime,
    region_id: int | None = None,
    region_ids: Sequence[int] | None = None,
    unit_ids: Sequence[int] | None = None,
    agency_ids: Sequence[int] | None = None,
) -> list[UnitState]:
    """Units with their agency, type, capabilities, home station, last valid fix and active assignment.

    One query whatever the number of units (hand-written: every fix that moves a unit runs it for
    that unit, and the ORM's select_related chains cost several times more CPU to build than
    PostgreSQL needs to answer them).

    Parameters
    ----------
    now
        Reference time for the fix's age, which decides between the fix and the home station.
    region_id
        Only units of agencies of this region; every region when None.
    region_ids
        Only units of agencies of these regions (e.g. the ones a user may see); no filter when None.
    unit_ids
        Only these units; no filter when None.
    agency_ids
        Only units of these agencies (a user limited to agencies: ``fleet.selectors.units.agency_ids_for_user``);
        no filter when None.

    Returns
    -------
    list of UnitState
        Ordered by agency code, then call sign.
    """
    where: list[str] = []
    params: dict[str, Any] = {"active": str(AssignmentStatus.ACTIVE)}
    if region_id is not None:
        where.append("a.region_id = %(region)s")
        params["region"] = region_id
    if region_ids is not None:
        where.append("a.region_id = ANY(%(regions)s)")
        params["regions"] = list(region_ids)
    if unit_ids is not None:
        where.append("u.id = ANY(%(units)s)")
        params["units"] = list(unit_ids)
    if agency_ids is not None:
        where.append("a.id = ANY(%(agencies)s)")
        params["agencies"] = list(agency_ids)
    sql = _UNITS_SQL + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY a.code, u.call_sign, u.id"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_state(row, now) for row in cursor.fetchall()]


def unit_state(*, unit_id: int, now: datetime) -> UnitState | None:
    """One unit's state (see :func:`unit_states`); None when there is no such unit."""
    found = unit_states(now=now, unit_ids=[unit_id])
    return found[0] if found else None


def _state(row: tuple, now: datetime) -> UnitState:
    (
        pk, call_sign, status, status_changed_at, is_demo, revision, region_id, agency_code, agency_name, agency_kind,
        unit_type_code, capabilities,
        station_id, station_code, station_name, station_lon, station_lat,
        fix_lon, fix_lat, recorded_at, accuracy_m, speed_kph, heading_deg,
        assignment_id, incident_id, incident_reference, current_eta_s, eta_updated_at,
    ) = row  # fmt: skip
    station = (
        None if station_id is None else StationRef(station_id, station_code, station_name, (station_lon, station_lat))
    )
    fix = None if fix_lon is None else LastFix((fix_lon, fix_lat), recorded_at, accuracy_m, speed_kph, heading_deg)
    assignment = (
        None
        if assignment_id is None
        else ActiveAssignment(assignment_id, incident_id, incident_reference, current_eta_s, eta_updated_at)
    )
    position = position_of(
        fix_lonlat=fix.lonlat if fix is not None else None,
        fix_recorded_at=fix.recorded_at if fix is not None else None,
        station_lonlat=station.lonlat if station is not None else None,
        now=now,
    )
    return UnitState(
        pk, call_sign, status, status_changed_at, is_demo, revision, region_id, agency_code, agency_name, agency_kind,
        unit_type_code, tuple(capabilities), station, fix, assignment, position,
    )  # fmt: skip


# The unit (with its revision, read in the same snapshot as what it versions), its agency and type, its type's
# capability codes, its home station, its valid last fix
# (valid and with a geometry, as unit_position and the recommendation's candidates take it) and its
# active assignment (the newest dispatched, as Assignment's ordering has it) with the report's reference.
_UNITS_SQL = f"""
    SELECT u.id, u.call_sign, u.status, u.status_changed_at, u.is_demo, u.revision,
        a.region_id, a.code, a.name, a.kind, t.code,
        ARRAY(
            SELECT c.code FROM {UnitType.capabilities.through._meta.db_table} tc
            JOIN {Capability._meta.db_table} c ON c.id = tc.capability_id
            WHERE tc.unittype_id = u.unit_type_id ORDER BY c.code
        ),
        s.id, s.code, s.name, ST_X(s.geom), ST_Y(s.geom),
        ST_X(f.geom), ST_Y(f.geom), f.recorded_at, f.accuracy_m, f.speed_kph, f.heading_deg,
        asg.id, asg.incident_id, i.reference, asg.current_eta_s, asg.eta_updated_at
    FROM {Unit._meta.db_table} u
    JOIN {Agency._meta.db_table} a ON a.id = u.agency_id
    JOIN {UnitType._meta.db_table} t ON t.id = u.unit_type_id
    LEFT JOIN {Station._meta.db_table} s ON s.id = u.home_station_id
    LEFT JOIN LATERAL (
        -- LATERAL: one primary-key probe per partition for each unit (fleet_positionfix is partitioned by
        -- received_at, fleet.services.partitions); a plain join may hash the whole table instead.
        SELECT x.geom, x.recorded_at, x.accuracy_m, x.speed_kph, x.heading_deg FROM {PositionFix._meta.db_table} x
        WHERE x.id = u.last_fix_id AND x.is_valid AND x.geom IS NOT NULL LIMIT 1
    ) f ON true
    LEFT JOIN LATERAL (
        SELECT x.id, x.incident_id, x.current_eta_s, x.eta_updated_at FROM {Assignment._meta.db_table} x
        WHERE x.unit_id = u.id AND x.status = %(active)s ORDER BY x.dispatched_at DESC, x.id DESC LIMIT 1
    ) asg ON true
    LEFT JOIN {Incident._meta.db_table} i ON i.id = asg.incident_id
"""
