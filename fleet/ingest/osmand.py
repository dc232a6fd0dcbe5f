"""The OsmAnd protocol as Traccar Client and many trackers speak it: query string or form body.

One fix per request, keys as Traccar's ``OsmAndProtocolDecoder`` reads them:

- ``id`` or ``deviceid``: the device identifier (required).
- ``lat`` and ``lon``, or ``location=lat,lon`` (note the order).
- ``timestamp``: Unix seconds, or milliseconds (an integer of 2^31 - 1 or more), or ISO 8601, or
  ``yyyy-MM-dd HH:mm:ss``. A time without a zone is read as UTC, as a Traccar server does; a device
  sending local time (WIB, UTC+7) then shows seven hours in the future and gets the
  ``future_timestamp`` flag instead of silently moving. No ``timestamp`` means no time: the fix is
  stored with ``recorded_at=None``, never stamped with the time of arrival.
- ``speed`` in **knots** (the Android client sends m/s x 1.943844); converted to km/h here.
- ``bearing`` or ``heading`` (degrees), ``altitude`` (m), ``accuracy`` (m), ``batt`` (%).
- ``valid`` (``true``/``false``/``1``/``0``), ``hdop``, ``charge``, ``driverUniqueId``, ``cell`` and
  ``wifi`` (repeatable) and any other key: kept in ``attributes``.

``key`` (the device secret, when it is not sent as HTTP Basic auth) is never part of a fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fleet.ingest.fix import (
    KNOTS_TO_KPH,
    CanonicalFix,
    PayloadError,
    as_float,
    device_identifier,
    from_iso,
    from_unix,
    heading,
    known_or_none,
    optional_float,
)
from fleet.ingest.masking import SECRET_NAMES

# key, and any other secret-named field a client might add: never stored with a fix.
CREDENTIAL_KEYS = SECRET_NAMES
_REPEATABLE = frozenset({"cell", "wifi"})
_HANDLED = frozenset(
    {"id", "deviceid", "lat", "lon", "location", "timestamp", "speed", "bearing", "heading", "altitude", "accuracy"}
    | {"batt"}
)


def identifier_of(pairs: Iterable[tuple[str, str]]) -> str:
    """The device identifier (``id``, else ``deviceid``) of a request, before anything else is read."""
    values = dict(pairs)
    raw = values.get("id") or values.get("deviceid")
    return device_identifier("id", raw)


def parse_osmand(pairs: Iterable[tuple[str, str]]) -> list[CanonicalFix]:
    """Parse one OsmAnd request into its fix.

    Parameters
    ----------
    pairs
        The decoded ``(key, value)`` pairs of the query string and/or form body, in order; a key may
        repeat (``cell``, ``wifi``).

    Returns
    -------
    list of CanonicalFix
        Exactly one fix; speed converted from knots to km/h.

    Raises
    ------
    PayloadError
        A required key is missing or a value is not what its key says (a number, a time).
    """
    values: dict[str, str] = {}
    attributes: dict[str, Any] = {}
    for key, value in pairs:
        if key in CREDENTIAL_KEYS:
            continue
        if key in _REPEATABLE:
            attributes.setdefault(key, []).append(value)
        else:
            values[key] = value
    identifier = device_identifier("id", values.get("id") or values.get("deviceid"))
    lon, lat = _position(values)
    recorded_at, zone_assumed = _timestamp(values.get("timestamp"))
    if zone_assumed:
        attributes["timestamp_zone_assumed"] = "UTC"
    speed_kn = known_or_none(optional_float("speed", values.get("speed")))
    bearing = values.get("bearing") if values.get("bearing") not in (None, "") else values.get("heading")
    for key, value in values.items():
        if key not in _HANDLED:
            attributes[key] = _attribute(key, value)
    return [
        CanonicalFix(
            device_identifier=identifier,
            lon=lon,
            lat=lat,
            recorded_at=recorded_at,
            speed_kph=None if speed_kn is None else speed_kn * KNOTS_TO_KPH,
            heading_deg=heading(optional_float("bearing", bearing)),
            accuracy_m=known_or_none(optional_float("accuracy", values.get("accuracy"))),
            altitude_m=optional_float("altitude", values.get("altitude")),
            battery_pct=known_or_none(optional_float("batt", values.get("batt"))),
            attributes=attributes,
        )
    ]


def _position(values: dict[str, str]) -> tuple[float | None, float | None]:
    if values.get("lat") not in (None, "") or values.get("lon") not in (None, ""):
        if values.get("lat") in (None, "") or values.get("lon") in (None, ""):
            raise PayloadError("lat and lon must be sent together")
        return as_float("lon", values["lon"]), as_float("lat", values["lat"])
    location = values.get("location")
    if location:
        parts = location.split(",")
        if len(parts) != 2:
            raise PayloadError(f"location: expected 'lat,lon', got {location!r}")
        return as_float("location longitude", parts[1]), as_float("location latitude", parts[0])
    return None, None  # a cell/wifi-only report: stored and flagged missing_position


def _timestamp(raw: str | None) -> tuple[datetime | None, bool]:
    if raw is None or not raw.strip():
        return None, False
    text = raw.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return from_unix("timestamp", number), False
    try:
        return from_iso("timestamp", text, naive_is_utc=True)
    except PayloadError as exc:
        raise PayloadError(
            f"timestamp: {raw!r} is not a time; send Unix seconds or milliseconds, ISO 8601, or yyyy-MM-dd HH:mm:ss"
        ) from exc


def _attribute(key: str, value: str) -> Any:
    """Traccar's rule for extra keys: a number if it reads as one, a boolean for true/false, else text."""
    if key == "valid":
        return value.lower() in {"true", "1"}
    if key == "driverUniqueId":
        return value  # an identifier, even when it is all digits
    if value in {"true", "false"}:
        return value == "true"
    try:
        number = float(value)
    except ValueError:
        return value
    return number if number == number and abs(number) != float("inf") else value
