"""Recording crews' GPS fixes: store everything, then validate and flag, then move the unit forward.

Order of work for one request (``position_record``):

1. The raw payload is already stored as an ``InboundMessage`` (``fleet.services.inbound``, its own
   commit, before authentication or parsing can fail).
2. In one transaction: the unit's row is locked (concurrent requests for one unit queue, so their
   checks see each other's fixes; the lock query also reads the current last fix's time and the
   unit's status).
3. Still under the lock, the fixes are validated (``fleet.ingest.checks``, pure; one query for the
   unit's previous valid fix of each and for stored duplicates) and get their ``flags`` and
   ``is_valid``. Should validation fail (a bug, broken boundaries), the error is logged, the
   transaction (which has written nothing yet) is rolled back, and 4. and 5. run in a new one with
   every fix flagged ``unvalidated``.
4. Every fix is inserted, as sent and with its flags, in one multi-row INSERT, whatever 3. did: a
   fix is never lost. Storing and validating in one transaction means neither is ever seen without
   the other; validating before the INSERT saves a second pass that would rewrite every row.
5. The unit's ``last_fix`` moves to the newest valid fix if, and only if, it is newer by
   ``recorded_at`` than the current one. Late and out-of-order bursts therefore fill in history
   without moving a unit backwards.
6. When the last fix changed: the ``fleet.signals.unit_moved`` signal, with the unit and its status
   (dispatch refreshes the ETA of its active assignment and the consoles hear of the move: the
   receivers are ``incidents.receivers``; the fleet does not know who listens).

A request costs the same number of queries for 1 fix or 1,000: BEGIN, lock, validation read, INSERT,
one UPDATE statement (last fix, message outcome, device last seen), COMMIT (one more read, each time's
previous fix on its own, only for a backfill into more than ``_SPAN_LIMIT`` stored fixes).

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

import json
import logging
import math
import operator
import struct
import threading
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from fleet.errors import DeviceUnitMismatchError
from fleet.ingest import checks
from fleet.ingest.batch import UNIT_ID_ATTRIBUTE
from fleet.ingest.checks import Prev, flag_fixes, in_range
from fleet.ingest.fix import CanonicalFix
from fleet.metrics import FIXES_FLAGGED, FIXES_RECEIVED, FIXES_STORED
from fleet.models import Device, InboundMessage, PositionFix, Unit
from fleet.services.inbound import inbound_message_close
from fleet.signals import unit_moved
from gis_core.models import Region
from gis_core.selectors import region_area_lonlat
from gis_core.shared_versions import UNKNOWN, Unknown, boundaries_version_name, shared_version

logger = logging.getLogger(__name__)

# A unit in these states has no active assignment, so a new fix has no ETA to refresh.
# How far outside its kecamatan a unit may be before a fix is suspect: units do cross the city line
# (to a hospital or a fire in the next kabupaten), a GPS that jumped to another island does not.
REGION_MARGIN_M = float(getattr(settings, "SIAGA_FIX_REGION_MARGIN_M", 5000.0))
_REGION_CACHE_TTL_S = 3600.0
_LAST_SEEN_EVERY_S = 60.0


@dataclass
class PositionRecordResult:
    """What ``position_record`` stored: the rows in the order sent, and whether the unit moved."""

    fixes: list[PositionFix]
    last_fix_changed: bool
    last_fix: PositionFix | None


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
    FIXES_RECEIVED.labels(protocol).inc(len(fixes))
    rows = _rows(device=device, fixes=fixes, protocol=protocol, message=message)
    try:
        with transaction.atomic():
            locked, new_last = _store(unit=unit, device=device, rows=rows, message=message, now=now, validate=True)
    except _ValidationFailed:
        # Validation runs before anything is written, so the rollback lost nothing: store them unvalidated.
        for row in rows:
            row.flags, row.is_valid = ["unvalidated"], False
        with transaction.atomic():
            locked, new_last = _store(unit=unit, device=device, rows=rows, message=message, now=now, validate=False)
    _count_stored(protocol, rows)
    if message is not None:
        message.outcome, message.error, message.device = "accepted", "", device
    if new_last is not None:
        unit.last_fix = new_last
        unit_moved.send(sender=Unit, unit=unit, status=locked.status)
    return PositionRecordResult(fixes=rows, last_fix_changed=new_last is not None, last_fix=new_last)


def _count_stored(protocol: str, rows: list[PositionFix]) -> None:
    FIXES_STORED.labels(protocol).inc(len(rows))
    for row in rows:
        for flag in row.flags:
            FIXES_FLAGGED.labels(flag).inc()


class _ValidationFailed(Exception):
    """Validation raised (logged); the transaction is rolled back and the fixes stored unvalidated."""


def _store(
    *,
    unit: Unit,
    device: Device,
    rows: list[PositionFix],
    message: InboundMessage | None,
    now: datetime,
    validate: bool,
) -> tuple[_Locked, PositionFix | None]:
    """Lock the unit, validate, then insert, move the last fix and close the message: three statements.

    A failing validation raises ``_ValidationFailed`` so the caller rolls back and stores the fixes
    unvalidated in a new transaction. (A savepoint around validation would do the same for two more
    round trips on every request, where a failure is a bug that should never happen.)
    """
    last_recorded_at = None
    if validate:
        try:
            locked, last_recorded_at = _validate(unit=unit, device=device, rows=rows, now=now)
        except Exception as exc:
            logger.exception("validation failed for %d fixes of device %s; stored unvalidated", len(rows), device)
            raise _ValidationFailed from exc
    else:
        locked = _lock_unit(unit.pk)
    last_index = _new_last(rows, last_recorded_at)
    touch = device.last_seen_at is None or (now - device.last_seen_at).total_seconds() >= _LAST_SEEN_EVERY_S
    _insert(rows, last_index=last_index, touch=touch, now=now)
    if touch:
        device.last_seen_at = now
    return locked, None if last_index is None else rows[last_index]


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


@dataclass(frozen=True)
class _Locked:
    """The unit's row as read under its lock: what validation and the ETA refresh need."""

    last_fix_id: int | None
    status: str


_LOCK_SQL = f"SELECT last_fix_id, status FROM {Unit._meta.db_table} WHERE id = %(unit)s FOR UPDATE"


def _lock_unit(unit_id: int) -> _Locked:
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL, {"unit": unit_id})
        return _Locked(*cursor.fetchone())


_ROW_FIELDS = tuple(field.attname for field in PositionFix._meta.concrete_fields)
_row_values = operator.itemgetter(*_ROW_FIELDS)  # a row's values in field order: the fast way to build a model
_EWKB_POINT = struct.Struct("<BIIdd")  # little-endian EWKB Point with its SRID: order, type | SRID flag, SRID, x, y


def _point_ewkb(lon: float, lat: float) -> str:
    """An EPSG:4326 point as hex EWKB: the geometry field builds the Point from it when it is first read."""
    return _EWKB_POINT.pack(1, 0x20000001, 4326, lon, lat).hex()


def _rows(
    *, device: Device, fixes: Sequence[CanonicalFix], protocol: str, message: InboundMessage | None
) -> list[PositionFix]:
    """The unsaved rows, in the order sent.

    Built from their values in field order (``Model.__init__`` with keywords costs twice as much) and with the
    geometry as hex EWKB, which the field turns into a Point only when somebody reads it: building a GEOS Point
    for each of a batch's 1,000 fixes cost more than validating and storing them.
    """
    received_at = timezone.now()
    common = {
        "id": None, "unit_id": device.unit_id, "device_id": device.pk, "protocol": protocol,
        "message_id": None if message is None else message.pk, "received_at": received_at,
    }  # fmt: skip
    return [
        PositionFix(
            *_row_values(
                common
                | {
                    "recorded_at": fix.recorded_at,
                    "lon": fix.lon,
                    "lat": fix.lat,
                    "geom": _point_ewkb(fix.lon, fix.lat) if in_range(fix.lon, fix.lat) else None,  # type: ignore[arg-type]
                    "speed_kph": fix.speed_kph,
                    "heading_deg": fix.heading_deg,
                    "accuracy_m": fix.accuracy_m,
                    "altitude_m": fix.altitude_m,
                    "battery_pct": fix.battery_pct,
                    "attributes": dict(fix.attributes),
                    "flags": ["unvalidated"],
                    "is_valid": False,
                }
            )
        )
        for fix in fixes
    ]


_FIX_COLUMNS = (
    "recorded_at", "lon", "lat", "speed_kph", "heading_deg", "accuracy_m", "altitude_m", "battery_pct",
)  # fmt: skip
# Each row is a JSON array: the columns above, then has_geom, attributes, flags (comma-joined), is_valid.
_COLUMN_VALUES = ", ".join(
    f"(r->>{i})::{'timestamptz' if c == 'recorded_at' else 'float8'}" for i, c in enumerate(_FIX_COLUMNS)
)
_N = len(_FIX_COLUMNS)
_INSERT_SQL = f"""
    INSERT INTO {PositionFix._meta.db_table} (
        unit_id, device_id, message_id, protocol, received_at, {", ".join(_FIX_COLUMNS)},
        geom, attributes, flags, is_valid
    )
    SELECT %(unit)s, %(device)s, %(message)s, %(protocol)s, %(received_at)s, {_COLUMN_VALUES},
        CASE WHEN (r->>{_N})::bool THEN ST_SetSRID(ST_MakePoint((r->>1)::float8, (r->>2)::float8), 4326) END,
        r->{_N + 1}, string_to_array(r->>{_N + 2}, ',')::varchar(32)[], (r->>{_N + 3})::bool
    FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS t(r, n)
    ORDER BY t.n
    RETURNING id
"""
# The INSERT and the writes that follow it in one statement: the unit's last fix (the row at
# ``last_index`` in the order sent, if it moved), the raw message's outcome, and the device's
# last_seen_at (at most once a minute: the fixes themselves say when it was heard).
_WRITE_SQL = f"""
    WITH ins AS ({_INSERT_SQL}), moved AS (
        UPDATE {Unit._meta.db_table} SET last_fix_id = (SELECT id FROM ins ORDER BY id OFFSET %(last_index)s LIMIT 1)
        WHERE id = %(unit)s AND %(last_index)s::int IS NOT NULL
    ), message AS (
        UPDATE {InboundMessage._meta.db_table} SET outcome = 'accepted', error = '', device_id = %(device)s
        WHERE id = %(message)s
    ), device AS (
        UPDATE {Device._meta.db_table} SET last_seen_at = %(now)s WHERE id = %(device)s AND %(touch)s
    )
    SELECT id FROM ins ORDER BY id
"""


def _rows_json(rows: list[PositionFix]) -> str:
    """The rows as the one JSON document ``_INSERT_SQL`` reads: a time as ``str(datetime)`` (what psycopg sends
    for one), a float as Python writes it (the shortest text that reads back as the same float8), None as null."""
    doc = [
        [
            None if row.recorded_at is None else str(row.recorded_at),
            row.lon, row.lat, row.speed_kph, row.heading_deg, row.accuracy_m, row.altitude_m, row.battery_pct,
            in_range(row.lon, row.lat), row.attributes, ",".join(row.flags), row.is_valid,
        ]
        for row in rows
    ]  # fmt: skip
    try:
        return json.dumps(doc, cls=DjangoJSONEncoder, allow_nan=False, separators=(",", ":"))
    except ValueError:
        # NaN or infinity (stored, flagged out_of_range) is no JSON number: as text, which float8 reads.
        for values in doc:
            values[1:_N] = [_float_text(v) for v in values[1:_N]]
        return json.dumps(doc, cls=DjangoJSONEncoder, separators=(",", ":"))


def _float_text(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def _insert(rows: list[PositionFix], *, last_index: int | None, touch: bool, now: datetime) -> None:
    """Insert ``rows`` (one unit, device, message and protocol) in one statement and set their ``pk``.

    ``INSERT ... SELECT FROM jsonb_array_elements(one document)``: one parameter whatever the number of rows,
    so the statement text never changes (what ``bulk_create`` builds grows with the rows and costs more to
    build and to parse than to run), and one ``json.dumps`` in C where a parameter per column cost psycopg a
    Python call per value. ``ORDER BY`` the ordinality inserts them in the order sent, so their ids (from one
    sequence, in one statement) ascend in that order. The same statement moves the unit's last fix, closes the
    message and touches the device (``_WRITE_SQL``).
    """
    first = rows[0]
    params: dict[str, Any] = {
        "rows": _rows_json(rows),
        "unit": first.unit_id,
        "device": first.device_id,
        "message": first.message_id,
        "protocol": first.protocol,
        "received_at": first.received_at,
        "last_index": last_index,
        "now": now,
        "touch": touch,
    }
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_SQL, params)
        ids = [pk for (pk,) in cursor.fetchall()]
    for row, pk in zip(rows, ids, strict=True):
        row.pk = pk
        row._state.adding = False
        row._state.db = connection.alias


def _new_last(rows: list[PositionFix], last_recorded_at: datetime | None) -> int | None:
    """The index of the newest valid row if it is newer than the unit's last fix (the later sent wins a tie)."""
    # A valid fix always has its time (a missing one is a blocking flag).
    valid = [(row.recorded_at, i) for i, row in enumerate(rows) if row.is_valid and row.recorded_at is not None]
    if not valid:
        return None
    recorded_at, i = max(valid)
    if last_recorded_at is not None and recorded_at <= last_recorded_at:
        return None
    return i


# -- validation ---------------------------------------------------------------------------------------


def _validate(*, unit: Unit, device: Device, rows: list[PositionFix], now: datetime) -> tuple[_Locked, datetime | None]:
    """Lock the unit, set ``flags`` and ``is_valid`` on the unsaved ``rows`` (``fleet.ingest.checks``);
    return the locked row and the unit's last fix's time.

    One round trip to the database (see ``_lock_and_history``; the region envelope is cached).
    """
    times = sorted({row.recorded_at for row in rows if row.recorded_at is not None})
    locked, (previous, stored, last_recorded_at) = _lock_and_history(unit.pk, device.pk, times)
    outside = _outside_region(unit.agency.region_id, rows)
    flag_fixes(rows, previous=previous, stored=stored, outside=outside, now=now, limits=_limits())
    return locked, last_recorded_at


def _limits() -> checks.Limits:
    return checks.Limits(
        max_future_s=settings.SIAGA_FIX_MAX_FUTURE_S,
        max_past_s=settings.SIAGA_FIX_MAX_PAST_S,
        max_accuracy_m=settings.SIAGA_FIX_MAX_ACCURACY_M,
        max_speed_kph=settings.SIAGA_FIX_MAX_SPEED_KPH,
    )


def _lock_and_history(
    unit_id: int, device_id: int, times: list[datetime]
) -> tuple[_Locked, tuple[dict[datetime, Prev], set[tuple], datetime | None]]:
    """Lock the unit's row, then read what validation needs (``_HISTORY_SQL``), in one round trip.

    Two statements sent together (the simple query protocol runs them in order, each with its own
    snapshot): the history is read after the lock is granted, so it sees every fix a concurrent request
    for the unit committed while this one waited. (One statement joining both could not: under READ
    COMMITTED, waiting for a row lock re-reads that row only.) With server-side parameter binding,
    which takes one statement at a time, they go one after the other.

    ``times`` are sorted. When the unit has more than ``_SPAN_LIMIT`` valid fixes between the first and the
    last of them (a backfill into a dense history), each time's previous fix is read on its own
    (``_PREVIOUS_EACH_SQL``), still under the lock.
    """
    params = history_params(unit_id, device_id, times)
    with connection.cursor() as cursor:
        if connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"):
            cursor.execute(_LOCK_SQL, params)
            locked = _Locked(*cursor.fetchone())
            cursor.execute(_HISTORY_SQL, params)
        else:
            cursor.execute(f"{_LOCK_SQL};\n{_HISTORY_SQL}", params)
            locked = _Locked(*cursor.fetchone())
            cursor.nextset()
        previous, stored, last_recorded_at, complete = _history_rows(cursor.fetchall(), times)
        if not complete:
            cursor.execute(_PREVIOUS_EACH_SQL, params)
            previous = {ts: Prev(*values) for ts, *values in cursor.fetchall()}
        return locked, (previous, stored, last_recorded_at)


def history_params(unit_id: int, device_id: int, times: list[datetime]) -> dict[str, Any]:
    """The parameters of ``_HISTORY_SQL`` (and ``_PREVIOUS_EACH_SQL``) for a request's sorted ``times``."""
    first, last = (times[0], times[-1]) if times else (None, None)
    # The times as one array literal (cast in the SQL): psycopg dumps a list value by value, in Python.
    literal = "{" + ",".join(f'"{ts}"' for ts in times) + "}"
    return {"times": literal, "first": first, "last": last, "span_limit": _SPAN_LIMIT, "unit": unit_id,
            "device": device_id}  # fmt: skip


def _history_rows(
    rows: list[tuple], times: list[datetime]
) -> tuple[dict[datetime, Prev], set[tuple], datetime | None, bool]:
    """What ``_HISTORY_SQL`` read, per time; the last item is False when the span was cut at ``_SPAN_LIMIT``."""
    valid: list[Prev] = []  # the newest before the first time and those up to the last time
    stored: set[tuple] = set()
    last_recorded_at = None
    spanned = 0
    for kind, recorded_at, lon, lat, accuracy_m in rows:
        if kind in ("before", "span"):
            valid.append(Prev(recorded_at, lon, lat, accuracy_m))
            spanned += kind == "span"
        elif kind == "stored":
            stored.add((recorded_at, lon, lat))
        else:
            last_recorded_at = recorded_at
    valid.sort(key=lambda prev: prev.recorded_at)  # stable: of equal times, the order read
    keys = [prev.recorded_at for prev in valid]
    previous: dict[datetime, Prev] = {}
    for ts in times:
        i = bisect_left(keys, ts)  # valid[i - 1] is the newest strictly before ts
        if i:
            previous[ts] = valid[i - 1]
    return previous, stored, last_recorded_at, spanned < _SPAN_LIMIT


# How many of the unit's valid fixes between a request's first and last time are read in one go.
_SPAN_LIMIT = 5000


def _history_sql() -> str:
    """The unit's newest stored valid fix before the request's first time and those from it to its last time
    (the previous fix of every time is among them); the ``(recorded_at, lon, lat)`` of the device's stored
    fixes at those times (to find duplicates); and the time of the unit's last fix.

    A request's times are mostly newer than anything stored, so the span holds nothing: two index probes
    (per partition) where one probe per time cost a batch of 1,000 fixes 1,000 of them."""
    table = PositionFix._meta.db_table
    return f"""
        (SELECT 'before', f.recorded_at, f.lon, f.lat, f.accuracy_m FROM {table} f
         WHERE f.unit_id = %(unit)s AND f.is_valid AND f.recorded_at < %(first)s
         ORDER BY f.recorded_at DESC LIMIT 1)
        UNION ALL
        (SELECT 'span', f.recorded_at, f.lon, f.lat, f.accuracy_m FROM {table} f
         WHERE f.unit_id = %(unit)s AND f.is_valid AND f.recorded_at >= %(first)s AND f.recorded_at < %(last)s
         ORDER BY f.recorded_at LIMIT %(span_limit)s)
        UNION ALL
        SELECT 'stored', f.recorded_at, f.lon, f.lat, NULL FROM {table} f
        WHERE f.unit_id = %(unit)s AND f.device_id = %(device)s AND f.recorded_at = ANY(%(times)s::timestamptz[])
        UNION ALL
        SELECT 'last', f.recorded_at, NULL, NULL, NULL FROM {table} f
        WHERE f.id = (SELECT u.last_fix_id FROM {Unit._meta.db_table} u WHERE u.id = %(unit)s)
    """


_HISTORY_SQL = _history_sql()
# For each time, the unit's newest stored valid fix strictly before it: one index probe per time.
_PREVIOUS_EACH_SQL = f"""
    SELECT t.ts, p.recorded_at, p.lon, p.lat, p.accuracy_m
    FROM unnest(%(times)s::timestamptz[]) AS t(ts)
    CROSS JOIN LATERAL (
        SELECT f.recorded_at, f.lon, f.lat, f.accuracy_m FROM {PositionFix._meta.db_table} f
        WHERE f.unit_id = %(unit)s AND f.is_valid AND f.recorded_at < t.ts
        ORDER BY f.recorded_at DESC LIMIT 1
    ) p
"""


# -- region envelope ----------------------------------------------------------------------------------


@dataclass
class _Envelope:
    geometry: Any  # shapely geometry, prepared; None when the region has no kecamatan yet
    loaded_at: float
    lock: threading.Lock
    version: str | Unknown | None = None  # of the region's boundaries when it was read (gis_core.shared_versions)


_ENVELOPES: dict[int, _Envelope] = {}


def region_envelope_cache_clear() -> None:
    """Forget this process's cached region envelopes (tests; a boundary change reaches every process by itself)."""
    _ENVELOPES.clear()


def _envelope(region_id: int) -> _Envelope:
    # Kept per process, checked on each use against the boundaries' shared version (one Redis GET), so a boundary
    # import or an admin edit in any process is used by the next fix everywhere; the TTL only bounds the wait when
    # Redis cannot be read.
    version = shared_version(boundaries_version_name(region_id))
    cached = _ENVELOPES.get(region_id)
    if (
        cached is not None
        and (version is UNKNOWN or version == cached.version)
        and time.monotonic() - cached.loaded_at < _REGION_CACHE_TTL_S
    ):
        return cached
    region = Region.objects.get(pk=region_id)
    geometry = region_area_lonlat(region=region, buffer_m=REGION_MARGIN_M)
    if geometry is None:
        logger.warning("region %s has no kecamatan boundaries: fixes cannot be checked for outside_region", region)
    else:
        shapely.prepare(geometry)
    entry = _Envelope(geometry=geometry, loaded_at=time.monotonic(), lock=threading.Lock(), version=version)
    _ENVELOPES[region_id] = entry
    return entry


def _outside_region(region_id: int, rows: list[PositionFix]) -> list[bool]:
    checkable = [i for i, row in enumerate(rows) if in_range(row.lon, row.lat)]
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
