"""The canonical GPS fix every protocol parser produces, and the helpers the parsers share.

Pure Python: no Django, no database. Units are converted here, at the edge, and nowhere else:
after parsing, a speed is km/h, a heading degrees clockwise from north, an accuracy and an altitude
metres, a battery level percent, and a time timezone-aware (or None when the device sent none).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gis_core.errors import DomainError

KNOTS_TO_KPH = 1.852  # 1 international knot = 1852 m/h exactly
MPS_TO_KPH = 3.6

# Traccar's rule: an integer timestamp below 2^31 - 1 is seconds, anything larger milliseconds.
_SECONDS_LIMIT = 2**31 - 1


class PayloadError(DomainError, ValueError):
    """The payload cannot be read; the message names the field and what was wrong with it."""

    code = "bad_payload"


@dataclass(frozen=True, slots=True)
class CanonicalFix:
    """One GPS fix as a device reported it, in canonical units.

    Nothing here is validated against the world (range, region, time): that happens when the fix is
    recorded, so that a wrong fix is still stored and flagged rather than lost.

    Attributes
    ----------
    device_identifier
        The identifier the payload named (Traccar ``id``, OwnTracks ``user/device``).
    lon, lat
        EPSG:4326 degrees as sent; None when the payload carried no position (cell/wifi only).
    recorded_at
        When the fix was taken, per the device, timezone-aware; None when the device sent no time
        (never replaced by the time of arrival).
    speed_kph, heading_deg, accuracy_m, altitude_m, battery_pct
        None when not reported (or reported as "unknown", e.g. ``-1``).
    attributes
        Everything else the device sent, JSON-serialisable.
    """

    device_identifier: str
    lon: float | None
    lat: float | None
    recorded_at: datetime | None
    speed_kph: float | None = None
    heading_deg: float | None = None
    accuracy_m: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.recorded_at is not None and self.recorded_at.utcoffset() is None:
            raise ValueError("recorded_at must be timezone-aware (or None when the device sent no time)")
        if not self.device_identifier:
            raise ValueError("device_identifier must not be empty")


def loads_json(body: bytes | str) -> Any:
    """Decode a JSON body, or raise PayloadError saying where it broke.

    Every NUL in its strings (a ``\\u0000`` escape) comes back as U+FFFD: PostgreSQL text and jsonb
    cannot hold NUL, and a fix is kept, not refused, for an odd character in an attribute.
    """
    try:
        value = json.loads(body)
    except UnicodeDecodeError as exc:
        raise PayloadError(f"body is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise PayloadError(f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    # JSON text holds a NUL only as the escape \u0000 (a raw control character is no valid JSON); a UTF-16 or
    # UTF-32 body (json.loads reads those too) holds NUL bytes. Without either there is none to replace.
    maybe_nul = (b"\x00" in body or b"\\u0000" in body) if isinstance(body, bytes) else "\\u0000" in body
    return without_nul(value) if maybe_nul else value


def without_nul(value: Any) -> Any:
    """Decoded JSON with every NUL character in its strings (keys too) replaced by U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def as_float(name: str, value: Any) -> float:
    """A number from a JSON number or a decimal string; PayloadError naming ``name`` otherwise."""
    if isinstance(value, bool) or value is None:
        raise PayloadError(f"{name}: expected a number, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise PayloadError(f"{name}: expected a number, got {value!r}")


def optional_float(name: str, value: Any) -> float | None:
    """Like :func:`as_float`, but None and "" stay None."""
    if value is None or value == "":
        return None
    return as_float(name, value)


def known_or_none(value: float | None) -> float | None:
    """Location APIs report "unknown" as a negative number (-1 for speed, heading, accuracy, battery)."""
    if value is None or not math.isfinite(value) or value < 0:
        return None
    return value


def heading(value: float | None) -> float | None:
    """A heading in [0, 360), or None when unknown (negative); 360 is north again."""
    value = known_or_none(value)
    return None if value is None else value % 360.0


def from_unix(name: str, value: float, *, millis_rule: bool = True) -> datetime:
    """Unix time as aware UTC.

    With ``millis_rule`` (Traccar's), a value of 2^31 - 1 or more is milliseconds; without it the
    value is always seconds.
    """
    if not math.isfinite(value):
        raise PayloadError(f"{name}: {value!r} is not a time")
    seconds = value / 1000.0 if millis_rule and abs(value) >= _SECONDS_LIMIT else value
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise PayloadError(f"{name}: {value!r} is out of range as Unix time") from exc


def from_iso(name: str, value: str, *, naive_is_utc: bool) -> tuple[datetime, bool]:
    """An ISO 8601 time (``Z`` or an offset), or ``yyyy-MM-dd HH:mm:ss``.

    Returns the aware time and whether the zone was assumed (the text carried none). When
    ``naive_is_utc`` is false, a time without a zone is a PayloadError instead.
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PayloadError(f"{name}: {value!r} is not an ISO 8601 time such as 2026-03-01T08:15:30+07:00") from exc
    if parsed.utcoffset() is not None:
        return parsed, False
    if not naive_is_utc:
        raise PayloadError(f"{name}: {value!r} has no time zone; add Z or an offset such as +07:00")
    return parsed.replace(tzinfo=UTC), True


def device_identifier(name: str, value: Any) -> str:
    """A device identifier from a string or a number (Traccar sends both), stripped and non-empty."""
    if isinstance(value, bool) or value is None:
        raise PayloadError(f"{name}: the device identifier is missing")
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise PayloadError(f"{name}: the device identifier is missing or not text: {value!r}")
    if len(value.strip()) > 64:
        raise PayloadError(f"{name}: the device identifier is longer than 64 characters")
    if not value.strip().isprintable():
        raise PayloadError(f"{name}: the device identifier holds control characters: {value!r}")
    return value.strip()
