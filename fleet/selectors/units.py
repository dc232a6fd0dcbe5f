"""Reads of the fleet's resources: where a unit is taken to be, the stations on the map, and which agencies'
units a user may see and send.

A member limited to agencies (``access.models.Membership.agencies``: a PSC 119 desk) sees and sends only
those agencies' units in that region: ``agencies_for_user`` is the one place that applies the limit, and
every read of units, stations and positions for a person goes through it (``unit_for_user``,
``stations_for_map``, ``agency_ids_for_user`` for the incidents app's SQL reads and its live channel). The
access app gives the ids only (``access.selectors.agency_limits_for_user``): it does not know this model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from access.selectors import agency_limits_for_user, regions_for_user
from fleet.models import Agency, Station, Unit
from gis_core.models import Region

# --- positions ----------------------------------------------------------------------------------


# What a unit's position was taken from: a fresh valid fix, the home station (no fix, or one older than
# SIAGA_POSITION_MAX_AGE_S), or the old fix when there is no home station to fall back on.
POSITION_SOURCES = ("gps", "home_station", "stale_gps")


@dataclass(frozen=True, slots=True)
class UnitPosition:
    """Where a unit is taken to be: the one rule the map, the live messages, dispatch and coverage use.

    Attributes
    ----------
    lonlat : (float, float) or None
        EPSG:4326; None when the unit has neither a valid fix nor a home station.
    source : str or None
        One of ``POSITION_SOURCES``: ``gps`` (newest valid fix, at most ``SIAGA_POSITION_MAX_AGE_S``
        old), ``home_station`` (no fix, or an older one), ``stale_gps`` (old fix, no home station);
        None when ``lonlat`` is None.
    age_s : float or None
        Age of the newest valid fix, seconds, whichever ``source`` won; None without one.
    recorded_at : datetime or None
        The device's time of that fix; None without one.
    """

    lonlat: tuple[float, float] | None
    source: str | None
    age_s: float | None
    recorded_at: datetime | None = None

    @property
    def from_fix(self) -> bool:
        """Whether ``lonlat`` is the fix's (fresh or stale) rather than the home station's."""
        return self.source in ("gps", "stale_gps")


def unit_position(unit: Unit, *, now: datetime, max_age_s: float | None = None) -> UnitPosition:
    """The position to rank or draw ``unit`` from (``last_fix`` and ``home_station`` should be loaded)."""
    fix = unit.last_fix if unit.last_fix_id is not None else None
    fix_lonlat = (fix.geom.x, fix.geom.y) if fix is not None and fix.is_valid and fix.geom is not None else None
    station = unit.home_station
    return position_of(
        fix_lonlat=fix_lonlat,
        fix_recorded_at=fix.recorded_at if fix is not None and fix_lonlat is not None else None,
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
    otherwise the home station does, and without one the old fix (``stale_gps``). A fix without a
    device time counts as no fix: its age is unknown.
    """
    max_age_s = settings.SIAGA_POSITION_MAX_AGE_S if max_age_s is None else max_age_s
    if fix_lonlat is None or fix_recorded_at is None:
        return position_by_age(None, None, station_lonlat, max_age_s)
    age_s = max(0.0, (now - fix_recorded_at).total_seconds())
    return position_by_age(fix_lonlat, age_s, station_lonlat, max_age_s, recorded_at=fix_recorded_at)


def position_by_age(
    fix_lonlat: tuple[float, float] | None,
    age_s: float | None,
    station_lonlat: tuple[float, float] | None,
    max_age_s: float,
    *,
    recorded_at: datetime | None = None,
) -> UnitPosition:
    """:func:`position_of` once the fix's age is known (for rows whose age SQL computed).

    ``fix_lonlat``, ``age_s`` and ``recorded_at`` are None without a fix.
    """
    if fix_lonlat is None or age_s is None:
        fix_lonlat, age_s, recorded_at = None, None, None
    if fix_lonlat is not None and age_s is not None and age_s <= max_age_s:
        return UnitPosition(fix_lonlat, "gps", age_s, recorded_at)
    if station_lonlat is not None:
        return UnitPosition(station_lonlat, "home_station", age_s, recorded_at)
    if fix_lonlat is not None:
        return UnitPosition(fix_lonlat, "stale_gps", age_s, recorded_at)
    return UnitPosition(None, None, None, None)


# --- what a user may see -------------------------------------------------------------------------


def agencies_for_user(user: Any, capability: str | None = None) -> QuerySet[Agency]:
    """The agencies whose units ``user`` may see (or, given ``capability``, e.g. ``access.roles.DISPATCH``,
    act on): those of the regions where the user holds it, narrowed in each region to the agencies the
    membership there names (none named: all of the region's)."""
    qs = Agency.objects.filter(region__in=regions_for_user(user, capability=capability))
    limits = agency_limits_for_user(user)
    if limits:
        limited = Q(region_id__in=list(limits)) & ~Q(pk__in=[pk for ids in limits.values() for pk in ids])
        qs = qs.exclude(limited)
    return qs


def agency_ids_for_user(user: Any, *, region_ids: list[int] | None = None) -> list[int] | None:
    """The ids of the agencies ``user`` is limited to among ``region_ids`` (all regions when None), for
    readers that filter by agency id (the incidents app's unit SQL, the live channel); None when the user
    is not limited there (every agency of the regions they see)."""
    limits = agency_limits_for_user(user)
    if not any(region_ids is None or region_id in region_ids for region_id in limits):
        return None
    visible = agencies_for_user(user)
    if region_ids is not None:
        visible = visible.filter(region_id__in=region_ids)
    return sorted(visible.values_list("pk", flat=True))


def stations_for_map(*, user: Any, region: Region | None = None) -> QuerySet[Station]:
    """Stations of the agencies ``user`` may see (of ``region`` only, one of the user's, when given) with their
    agency and how many units are based there, in one query."""
    qs = Station.objects.select_related("agency").annotate(unit_count=Count("units")).order_by("agency__code", "code")
    qs = qs.filter(agency__in=agencies_for_user(user))
    return qs.filter(agency__region=region) if region is not None else qs


def unit_for_user(user: Any, *, pk: int, capability: str | None = None) -> Unit | None:
    """The unit ``pk`` if ``user`` may see its agency (and, given ``capability``, e.g. ``access.roles.DISPATCH``,
    do that in its region), else None: as if it did not exist, so a write answers 404."""
    return Unit.objects.select_related("agency").filter(pk=pk, agency__in=agencies_for_user(user, capability)).first()
