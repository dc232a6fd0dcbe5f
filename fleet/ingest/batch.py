"""Siaga's native batch format: many fixes in one POST, for trackers, bridges and buffered phones.

Schema (every quantity carries its unit in its name; there is no field without one)::

    {
      "device": "psc119-amb-01",                  # optional; defaults to the authenticated device
      "fixes": [                                  # 1 .. MAX_FIXES items
        {
          "recorded_at": "2026-03-01T08:15:30+07:00",  # ISO 8601 WITH a zone (Z or an offset),
                                                       # or a number of Unix seconds (never ms);
                                                       # null or absent: stored, flagged missing_timestamp
          "lon": 103.6131, "lat": -1.6101,             # EPSG:4326 degrees (required)
          "speed_kph": 42.5,                           # km/h
          "heading_deg": 270,                          # degrees clockwise from north
          "accuracy_m": 8, "altitude_m": 21,           # metres
          "battery_pct": 87,                           # percent 0..100
          "device": "psc119-amb-01",                   # optional, overrides the top-level device
          "unit_id": 3,                                # optional; when given it must be the device's unit
          "attributes": {"odometer_m": 120345}         # optional, free-form JSON object
        }
      ]
    }

An unknown key is an error that names the key, so ``"speed": 12`` (which unit?) is refused rather
than guessed. A device may send only its own fixes: a fix naming another device or unit is refused
by ``fleet.services.positions.position_record`` with the whole request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fleet.ingest.fix import (
    CanonicalFix,
    PayloadError,
    as_float,
    device_identifier,
    from_iso,
    from_unix,
    optional_float,
)

MAX_FIXES = 1000
UNIT_ID_ATTRIBUTE = "unit_id"  # where a fix's claimed unit travels to the service that checks it
_FIX_KEYS = frozenset(
    {"recorded_at", "lon", "lat", "speed_kph", "heading_deg", "accuracy_m", "altitude_m", "battery_pct"}
    | {"device", "unit_id", "attributes"}
)
_TOP_KEYS = frozenset({"device", "fixes"})
# A Unix time in seconds above this is far past 5000 AD: it is milliseconds sent by mistake.
_MAX_UNIX_S = 1e11
_MAX_PROBLEMS = 10


def identifier_of(payload: Any) -> str | None:
    """The top-level ``device`` of a decoded batch (None when it names none), read first to authenticate."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"expected a JSON object with 'fixes', got {type(payload).__name__}")
    return None if payload.get("device") is None else device_identifier("device", payload["device"])


def parse_batch(payload: Any, *, device_identifier_default: str) -> list[CanonicalFix]:
    """Parse a decoded batch body into its fixes, checking every fix before returning any.

    Parameters
    ----------
    payload
        The decoded JSON body (schema above).
    device_identifier_default
        The authenticated device's identifier, used where neither the fix nor the batch names one.

    Returns
    -------
    list of CanonicalFix
        In the order sent. A claimed ``unit_id`` is kept in ``attributes["unit_id"]``.

    Raises
    ------
    PayloadError
        The body is not a batch, or a fix is malformed; the message lists up to ten problems with
        their index (``fixes[3].lat: expected a number``).
    """
    if not isinstance(payload, Mapping):
        raise PayloadError(f"expected a JSON object with 'fixes', got {type(payload).__name__}")
    unknown = sorted(set(payload) - _TOP_KEYS)
    if unknown:
        raise PayloadError(f"unknown top-level key(s) {', '.join(unknown)}; a batch has 'device' and 'fixes'")
    items = payload.get("fixes")
    if not isinstance(items, list) or not items:
        raise PayloadError("fixes: expected a non-empty list of fix objects")
    if len(items) > MAX_FIXES:
        raise PayloadError(f"fixes: {len(items)} fixes in one request; send at most {MAX_FIXES} per request")
    default = device_identifier_default
    if payload.get("device") is not None:
        default = device_identifier("device", payload["device"])
    fixes, problems = [], []
    for i, item in enumerate(items):
        try:
            fixes.append(_fix(item, default, f"fixes[{i}]"))
        except PayloadError as exc:
            problems.append(str(exc))
    if problems:
        shown = "; ".join(problems[:_MAX_PROBLEMS])
        more = f"; and {len(problems) - _MAX_PROBLEMS} more" if len(problems) > _MAX_PROBLEMS else ""
        raise PayloadError(f"{len(problems)} of {len(items)} fixes cannot be read: {shown}{more}")
    return fixes


def _fix(item: Any, default_identifier: str, where: str) -> CanonicalFix:
    if not isinstance(item, Mapping):
        raise PayloadError(f"{where}: expected an object, got {item!r}")
    unknown = sorted(set(item) - _FIX_KEYS)
    if unknown:
        raise PayloadError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_FIX_KEYS))})")
    for name in ("lon", "lat"):
        if item.get(name) is None:
            raise PayloadError(f"{where}.{name} is missing")
    attributes = item.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise PayloadError(f"{where}.attributes: expected an object")
    attributes = dict(attributes)
    if item.get("unit_id") is not None:
        unit_id = item["unit_id"]
        if isinstance(unit_id, bool) or not isinstance(unit_id, int):
            raise PayloadError(f"{where}.unit_id: expected an integer unit id, got {unit_id!r}")
        attributes[UNIT_ID_ATTRIBUTE] = unit_id
    identifier = default_identifier
    if item.get("device") is not None:
        identifier = device_identifier(f"{where}.device", item["device"])
    return CanonicalFix(
        device_identifier=identifier,
        lon=as_float(f"{where}.lon", item["lon"]),
        lat=as_float(f"{where}.lat", item["lat"]),
        recorded_at=_recorded_at(item.get("recorded_at"), f"{where}.recorded_at"),
        speed_kph=optional_float(f"{where}.speed_kph", item.get("speed_kph")),
        heading_deg=optional_float(f"{where}.heading_deg", item.get("heading_deg")),
        accuracy_m=optional_float(f"{where}.accuracy_m", item.get("accuracy_m")),
        altitude_m=optional_float(f"{where}.altitude_m", item.get("altitude_m")),
        battery_pct=optional_float(f"{where}.battery_pct", item.get("battery_pct")),
        attributes=attributes,
    )


def _recorded_at(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return from_iso(where, value, naive_is_utc=False)[0]
    seconds = as_float(where, value)
    if abs(seconds) > _MAX_UNIX_S:
        raise PayloadError(f"{where}: {value!r} is too large for Unix seconds; milliseconds are not accepted")
    return from_unix(where, seconds, millis_rule=False)
