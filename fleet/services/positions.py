"""Recording crews' GPS fixes: store everything, then validate and flag, then move the unit forward.

Order of work for one request (``position_record``):

1. The raw payload is already stored as an ``InboundMessage`` (``inbound_message_store``, its own
   commit, before authentication or parsing can fail).
2. In one transaction: the unit's row is locked (concurrent requests for one unit queue, so their
   checks see each other's fixes), every fix is inserted as sent, marked ``unvalidated``.
3. In a savepoint: the fixes are validated (one query for the unit's previous valid fix of each,
   one for duplicates) and get their ``flags`` and ``is_valid``; the unit's ``last_fix`` moves to
   the newest valid fix if, and only if, it is newer by ``recorded_at`` than the current one. Late
   and out-of-order bursts therefore fill in history without moving a unit backwards. Should
   validation fail (a bug, broken boundaries), the savepoint rolls back, the fixes stay stored and
   flagged ``unvalidated``, and the error is logged: a fix is never lost.
4. After commit: ``fleet.services.dispatch.assignment_eta_refresh(unit=...)`` when the last fix changed.

Flags (a fix is stored whatever they say):

=====================  ==========================================================================
zero_position          (0, 0): a receiver with no fix reporting its default
out_of_range           latitude outside [-90, 90], longitude outside [-180, 180], or not finite
missing_position       no coordinates at all (a cell/wifi-only OsmAnd report)
outside_region         farther than ``REGION_MARGIN_M`` from the union of the region's kecamatan
future_timestamp       more than ``SIAGA_FIX_MAX_FUTURE_S`` ahead of the server clock
stale_timestamp        older than ``SIAGA_FIX_MAX_PAST_S``
missing_timestamp      the device sent no time (the time of arrival is never substituted)
poor_accuracy          accuracy radius above ``SIAGA_FIX_MAX_ACCURACY_M``                 (warning)
impossible_speed       implied speed from the unit's previous valid fix by ``recorded_at`` above
                       ``SIAGA_FIX_MAX_SPEED_KPH``; the distance counts only beyond the two fixes'
                       accuracy radii, so GPS jitter between close fixes is not a "jump"
duplicate              same device, same ``recorded_at`` and position as a stored fix (or an
                       earlier one in the same request): a retried delivery
device_invalid         the device itself said the fix is not valid (OsmAnd ``valid=false``)
unvalidated            validation could not run (see 3.)
=====================  ==========================================================================

``is_valid`` is true when no flag other than a *warning* is set. The only warning is
``poor_accuracy``: a fix a few hundred metres wide still places a moving ambulance better than its
previous fix or its home station, and dispatch shows its accuracy; every other flag means the
position or its time cannot be trusted, so the fix never becomes a unit's last known position.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from fleet.ingest.batch import UNIT_ID_ATTRIBUTE
from fleet.ingest.fix import CanonicalFix
from fleet.live import live_unit_changed
from fleet.models import Device, InboundMessage, PositionFix, Unit
from fleet.services.devices import DeviceUnitMismatchError
from gis_core.models import Region
from gis_core.selectors import region_kecamatan_union

logger = logging.getLogger(__name__)

WARNING_FLAGS = frozenset({"poor_accuracy"})
# How far outside its kecamatan a unit may be before a fix is suspect: units do cross the city line
# (to a hospital or a fire in the next kabupaten), a GPS that jumped to another island does not.
REGION_MARGIN_M = float(getattr(settings, "SIAGA_FIX_REGION_MARGIN_M", 5000.0))
_REGION_CACHE_TTL_S = 3600.0
_EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius
_LAST_SEEN_EVERY_S = 60.0


@dataclass
class PositionRecordResult:
    """What ``position_record`` stored: the rows in the order sent, and whether the unit moved."""

    fixes: list[PositionFix]
    last_fix_changed: bool
    last_fix: PositionFix | None


# -- raw messages -------------------------------------------------------------------------------------


def inbound_message_store(
    *, channel: str, body: bytes | str, headers: dict[str, str], remote_addr: str | None
) -> InboundMessage:
    """Store a raw payload as received, in its own commit, before anything about it can fail.

    Parameters
    ----------
    channel
        osmand, traccar_json, owntracks, batch, crew_status.
    body
        The raw body (or the query string of a GET). Bytes that are not UTF-8 are kept as ``\\xNN``
        escapes, and NUL (which PostgreSQL text cannot hold) as ``\\x00``.
    headers
        The headers worth keeping; never a credential (the caller leaves Authorization out and
        masks ``key``).
    remote_addr
        The client's address.
    """
    text = body.decode("utf-8", errors="backslashreplace") if isinstance(body, bytes) else body
    message = InboundMessage(
        channel=channel, body=text.replace("\x00", "\\x00"), headers=headers, remote_addr=remote_addr,
        outcome="received",
    )  # fmt: skip
    message.save()
    return message


def inbound_message_close(
    *, message: InboundMessage, outcome: str, error: str = "", device: Device | None = None
) -> None:
    """Record how a stored message ended: accepted, ignored (no fix in it), rejected (with why)."""
    message.outcome = outcome
    message.error = error
    fields = ["outcome", "error"]
    if device is not None:
        message.device = device
        fields.append("device")
    message.save(update_fields=fields)


# -- recording ----------------------------------------------------------------------------------------


def position_record(
    *,
    device: Device,
    fixes: Sequence[CanonicalFix],
    protocol: str,
    message: InboundMessage | None = None,
    now: datetime | None = None,
) -> PositionRecordResult:
    """Store a device's fixes, flag them, and move its unit's last known position forward.

    Parameters
    ----------
    device
        The authenticated device (with ``unit`` and ``unit.agency`` loaded, as ``device_authenticate``
        returns it). Every fix must be its own.
    fixes
        Parsed fixes in the order sent; may be empty (an OwnTracks ``lwt``), then nothing is written
        but the message's outcome (``ignored``).
    protocol
        Stored on each fix: osmand, traccar_json, owntracks, batch.
    message
        The stored raw message the fixes came from; its outcome is set to ``accepted``.
    now
        The server time validation compares with (default: now).

    Returns
    -------
    PositionRecordResult

    Raises
    ------
    DeviceUnitMismatchError
        A fix names another device, or another unit (batch ``unit_id``): nothing is recorded for the
        request, the raw message stays stored (the caller marks it rejected).
    """
    _check_ownership(device, fixes)
    now = now or timezone.now()
    if not fixes:
        if message is not None:
            inbound_message_close(message=message, outcome="ignored", error="no location in it", device=device)
        return PositionRecordResult(fixes=[], last_fix_changed=False, last_fix=None)
    unit = device.unit
    with transaction.atomic():
        last_fix_id = _lock_unit(unit.pk)
        rows = _insert(device=device, fixes=fixes, protocol=protocol, message=message)
        try:
            with transaction.atomic():
                new_last = _validate(unit=unit, device=device, rows=rows, last_fix_id=last_fix_id, now=now)
                if new_last is not None:
                    Unit.objects.filter(pk=unit.pk).update(last_fix=new_last)
        except Exception:
            logger.exception("validation failed for %d fixes of device %s; stored unvalidated", len(rows), device)
            for row in rows:
                row.flags, row.is_valid = ["unvalidated"], False
            new_last = None
        if message is not None:
            inbound_message_close(message=message, outcome="accepted", device=device)
        _touch_device(device, now)
    if new_last is not None:
        unit.last_fix = new_last
        _eta_refresh(unit)
        live_unit_changed(unit.pk)
    return PositionRecordResult(fixes=rows, last_fix_changed=new_last is not None, last_fix=new_last)


def _check_ownership(device: Device, fixes: Sequence[CanonicalFix]) -> None:
    foreign = []
    for i, fix in enumerate(fixes):
        claimed_unit = fix.attributes.get(UNIT_ID_ATTRIBUTE)
        if fix.device_identifier != device.identifier:
            foreign.append(f"fix {i} names device {fix.device_identifier!r}")
        elif claimed_unit is not None and claimed_unit != device.unit_id:
            foreign.append(f"fix {i} names unit {claimed_unit}")
    if foreign:
        shown = "; ".join(foreign[:10]) + (f"; and {len(foreign) - 10} more" if len(foreign) > 10 else "")
        raise DeviceUnitMismatchError(
            f"device {device.identifier!r} reports only for its own unit (id {device.unit_id}): {shown}. "
            "Nothing in this request was recorded; send each device's fixes with its own credential."
        )


def _lock_unit(unit_id: int) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_fix_id FROM {Unit._meta.db_table} WHERE id = %s FOR UPDATE", [unit_id])
        return cursor.fetchone()[0]


def _insert(
    *, device: Device, fixes: Sequence[CanonicalFix], protocol: str, message: InboundMessage | None
) -> list[PositionFix]:
    rows = [
        PositionFix(
            unit_id=device.unit_id,
            device=device,
            message=message,
            protocol=protocol,
            recorded_at=fix.recorded_at,
            lon=fix.lon,
            lat=fix.lat,
            geom=Point(fix.lon, fix.lat, srid=4326) if _in_range(fix.lon, fix.lat) else None,
            speed_kph=fix.speed_kph,
            heading_deg=fix.heading_deg,
            accuracy_m=fix.accuracy_m,
            altitude_m=fix.altitude_m,
            battery_pct=fix.battery_pct,
            attributes=dict(fix.attributes),
            flags=["unvalidated"],
            is_valid=False,
        )
        for fix in fixes
    ]
    return PositionFix.objects.bulk_create(rows)


def _touch_device(device: Device, now: datetime) -> None:
    # Written at most once a minute per device: the fixes themselves say when it was last heard.
    if device.last_seen_at is None or (now - device.last_seen_at).total_seconds() >= _LAST_SEEN_EVERY_S:
        device.last_seen_at = now
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)


def _eta_refresh(unit: Unit) -> None:
    try:
        from fleet.services.dispatch import assignment_eta_refresh
    except ImportError:
        return
    try:
        assignment_eta_refresh(unit=unit)
    except Exception:
        # The fix is stored and the unit moved; a failed ETA refresh must not make the device resend.
        logger.exception("assignment_eta_refresh failed for unit %s", unit.pk)


# -- validation ---------------------------------------------------------------------------------------


@dataclass
class _Prev:
    recorded_at: datetime
    lon: float
    lat: float
    accuracy_m: float | None


def _validate(
    *, unit: Unit, device: Device, rows: list[PositionFix], last_fix_id: int | None, now: datetime
) -> PositionFix | None:
    """Set flags and is_valid on ``rows`` (two queries and one update); the new last fix or None."""
    times = sorted({row.recorded_at for row in rows if row.recorded_at is not None})
    previous, last_recorded_at = _previous_valid(unit.pk, times, last_fix_id)
    stored = _stored_duplicates(unit.pk, device.pk, times, [row.pk for row in rows])
    outside = _outside_region(unit.agency.region_id, rows)
    for row, is_outside in zip(rows, outside, strict=True):
        row.flags = _static_flags(row, is_outside, now)
    seen: set[tuple] = set(stored)
    for row in rows:  # in the order sent: the first copy is the original, the next ones duplicates
        key = (row.recorded_at, row.lon, row.lat)
        if row.recorded_at is not None and key in seen:
            row.flags.append("duplicate")
        seen.add(key)
    batch_prev: _Prev | None = None
    for row in sorted((r for r in rows if r.recorded_at is not None), key=lambda r: r.recorded_at):
        if _blocking(row.flags):
            continue
        prev = _newer(previous.get(row.recorded_at), batch_prev, before=row.recorded_at)
        if prev is not None and _implied_speed_kph(prev, row) > settings.SIAGA_FIX_MAX_SPEED_KPH:
            row.flags.append("impossible_speed")
            continue
        batch_prev = _Prev(row.recorded_at, row.lon, row.lat, row.accuracy_m)
    for row in rows:
        row.is_valid = not _blocking(row.flags)
    PositionFix.objects.bulk_update(rows, ["flags", "is_valid"])
    valid = [row for row in rows if row.is_valid]
    if not valid:
        return None
    newest = max(valid, key=lambda r: (r.recorded_at, r.pk))
    if last_recorded_at is not None and newest.recorded_at <= last_recorded_at:
        return None
    return newest


def _newer(stored: _Prev | None, in_request: _Prev | None, *, before: datetime) -> _Prev | None:
    """The later of the stored previous fix and the request's own previous valid fix, if before ``before``."""
    if in_request is None or in_request.recorded_at >= before:
        return stored
    if stored is None or in_request.recorded_at > stored.recorded_at:
        return in_request
    return stored


def _blocking(flags: list[str]) -> bool:
    return any(flag not in WARNING_FLAGS for flag in flags)


def _static_flags(row: PositionFix, is_outside: bool, now: datetime) -> list[str]:
    flags = []
    if row.lon is None or row.lat is None:
        flags.append("missing_position")
    elif not _in_range(row.lon, row.lat):
        flags.append("out_of_range")
    elif row.lon == 0 and row.lat == 0:
        flags.append("zero_position")
    elif is_outside:
        flags.append("outside_region")
    if row.recorded_at is None:
        flags.append("missing_timestamp")
    elif row.recorded_at > now + timedelta(seconds=settings.SIAGA_FIX_MAX_FUTURE_S):
        flags.append("future_timestamp")
    elif row.recorded_at < now - timedelta(seconds=settings.SIAGA_FIX_MAX_PAST_S):
        flags.append("stale_timestamp")
    if row.accuracy_m is not None and row.accuracy_m > settings.SIAGA_FIX_MAX_ACCURACY_M:
        flags.append("poor_accuracy")
    if row.attributes.get("valid") is False:
        flags.append("device_invalid")
    return flags


def _in_range(lon: float | None, lat: float | None) -> bool:
    return (
        lon is not None
        and lat is not None
        and math.isfinite(lon)
        and math.isfinite(lat)
        and -180.0 <= lon <= 180.0
        and -90.0 <= lat <= 90.0
    )


def _previous_valid(
    unit_id: int, times: list[datetime], last_fix_id: int | None
) -> tuple[dict[datetime, _Prev], datetime | None]:
    """For each time, the unit's newest stored valid fix strictly before it; and the last fix's time."""
    table = PositionFix._meta.db_table
    sql = f"""
        SELECT t.ts, p.recorded_at, p.lon, p.lat, p.accuracy_m
        FROM unnest(%s::timestamptz[]) AS t(ts)
        CROSS JOIN LATERAL (
            SELECT f.recorded_at, f.lon, f.lat, f.accuracy_m FROM {table} f
            WHERE f.unit_id = %s AND f.is_valid AND f.recorded_at < t.ts
            ORDER BY f.recorded_at DESC LIMIT 1
        ) p
        UNION ALL
        SELECT NULL, f.recorded_at, f.lon, f.lat, f.accuracy_m FROM {table} f WHERE f.id = %s
    """
    previous: dict[datetime, _Prev] = {}
    last_recorded_at = None
    with connection.cursor() as cursor:
        cursor.execute(sql, [times, unit_id, last_fix_id])
        for ts, recorded_at, lon, lat, accuracy_m in cursor.fetchall():
            if ts is None:
                last_recorded_at = recorded_at
            else:
                previous[ts] = _Prev(recorded_at, lon, lat, accuracy_m)
    return previous, last_recorded_at


def _stored_duplicates(unit_id: int, device_id: int, times: list[datetime], new_ids: list[int]) -> set[tuple]:
    if not times:
        return set()
    return set(
        PositionFix.objects.filter(unit_id=unit_id, device_id=device_id, recorded_at__in=times)
        .exclude(pk__in=new_ids)
        .values_list("recorded_at", "lon", "lat")
    )


def _implied_speed_kph(prev: _Prev, row: PositionFix) -> float:
    dt_s = (row.recorded_at - prev.recorded_at).total_seconds()
    distance_m = haversine_m(prev.lon, prev.lat, row.lon, row.lat)
    distance_m = max(0.0, distance_m - (prev.accuracy_m or 0.0) - (row.accuracy_m or 0.0))
    return distance_m / dt_s * 3.6


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two EPSG:4326 points (spherical Earth, mean radius)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


# -- region envelope ----------------------------------------------------------------------------------


@dataclass
class _Envelope:
    geometry: Any  # shapely geometry, prepared; None when the region has no kecamatan yet
    loaded_at: float
    lock: threading.Lock


_ENVELOPES: dict[int, _Envelope] = {}


def region_envelope_cache_clear() -> None:
    """Forget the cached region envelopes (after importing boundaries, and between tests)."""
    _ENVELOPES.clear()


def _envelope(region_id: int) -> _Envelope:
    cached = _ENVELOPES.get(region_id)
    if cached is not None and time.monotonic() - cached.loaded_at < _REGION_CACHE_TTL_S:
        return cached
    region = Region.objects.get(pk=region_id)
    union = region_kecamatan_union(region=region)
    geometry = None
    if union is None:
        logger.warning("region %s has no kecamatan boundaries: fixes cannot be checked for outside_region", region)
    else:
        # Buffer in the region's metric CRS (metres), then back to EPSG:4326 to test raw lon/lat.
        buffered = union.transform(region.metric_srid, clone=True).buffer(REGION_MARGIN_M, quadsegs=4)
        buffered.transform(4326)
        geometry = shapely.from_wkb(bytes(buffered.wkb))
        shapely.prepare(geometry)
    entry = _Envelope(geometry=geometry, loaded_at=time.monotonic(), lock=threading.Lock())
    _ENVELOPES[region_id] = entry
    return entry


def _outside_region(region_id: int, rows: list[PositionFix]) -> list[bool]:
    checkable = [i for i, row in enumerate(rows) if _in_range(row.lon, row.lat)]
    outside = [False] * len(rows)
    if not checkable:
        return outside
    envelope = _envelope(region_id)
    if envelope.geometry is None:
        return outside
    lons = np.array([rows[i].lon for i in checkable])
    lats = np.array([rows[i].lat for i in checkable])
    with envelope.lock:  # a prepared GEOS geometry is not safe to query from two threads at once
        inside = shapely.intersects_xy(envelope.geometry, lons, lats)
    for i, is_inside in zip(checkable, inside, strict=True):
        outside[i] = not bool(is_inside)
    return outside
