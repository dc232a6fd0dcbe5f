"""The JSON body Traccar Client 9+ POSTs (the background-geolocation SDK's own format).

::

    {"device_id": "48241179",
     "location": {"timestamp": "2025-06-15T13:45:12.862Z",
                  "coords": {"latitude": ..., "longitude": ..., "accuracy": 5, "speed": 0,
                             "heading": -1, "altitude": 5},
                  "is_moving": false, "odometer": 0, "event": "motionchange",
                  "battery": {"level": 0.79, "is_charging": false},
                  "activity": {"type": "still"}, "extras": {}}}

Units differ from the query form: ``speed`` is **metres per second** (x 3.6 to km/h) and the
battery ``level`` a fraction 0..1 (x 100 to percent). The SDK reports "unknown" as -1 (speed,
heading, accuracy, battery level on iOS simulators): those become None, not a value. A timestamp
without a zone (the SDK always sends ``Z``) is read as UTC, as in the query form. ``location``
may also be a list of such objects (the SDK's batch sync), giving several fixes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleet.ingest.fix import (
    MPS_TO_KPH,
    CanonicalFix,
    PayloadError,
    as_float,
    device_identifier,
    from_iso,
    heading,
    known_or_none,
    optional_float,
)

_COORD_KEYS = frozenset({"latitude", "longitude", "accuracy", "speed", "heading", "altitude"})
_LOCATION_KEYS = frozenset({"timestamp", "coords", "battery"})


def identifier_of(payload: Any) -> str:
    """The ``device_id`` of a decoded body, read before anything else so the device can be authenticated."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"expected a JSON object with device_id and location, got {type(payload).__name__}")
    return device_identifier("device_id", payload.get("device_id"))


def parse_traccar_json(payload: Any) -> list[CanonicalFix]:
    """Parse a decoded Traccar Client JSON body into its fixes.

    Parameters
    ----------
    payload
        The decoded JSON body.

    Returns
    -------
    list of CanonicalFix
        One fix per location object; speed converted from m/s to km/h, battery from 0..1 to %.

    Raises
    ------
    PayloadError
        No ``device_id``, no ``location``, or a field that is not what the SDK sends.
    """
    identifier = identifier_of(payload)
    locations = payload.get("location")
    if isinstance(locations, Mapping):
        locations = [locations]
    if not isinstance(locations, list) or not locations:
        raise PayloadError("location: expected an object (or a list of objects) with timestamp and coords")
    several = len(locations) > 1
    return [_fix(identifier, item, f"location[{i}]" if several else "location") for i, item in enumerate(locations)]


def _fix(identifier: str, location: Any, where: str) -> CanonicalFix:
    if not isinstance(location, Mapping):
        raise PayloadError(f"{where}: expected an object, got {location!r}")
    coords = location.get("coords")
    if not isinstance(coords, Mapping):
        raise PayloadError(f"{where}.coords: expected an object with latitude and longitude")
    for name in ("latitude", "longitude"):
        if coords.get(name) is None:
            raise PayloadError(f"{where}.coords.{name} is missing")
    attributes: dict[str, Any] = {k: v for k, v in location.items() if k not in _LOCATION_KEYS}
    recorded_at = None
    if location.get("timestamp") not in (None, ""):
        if not isinstance(location["timestamp"], str):
            raise PayloadError(f"{where}.timestamp: expected an ISO 8601 text, got {location['timestamp']!r}")
        recorded_at, zone_assumed = from_iso(f"{where}.timestamp", location["timestamp"], naive_is_utc=True)
        if zone_assumed:
            attributes["timestamp_zone_assumed"] = "UTC"
    speed_mps = known_or_none(optional_float(f"{where}.coords.speed", coords.get("speed")))
    raw_battery = location.get("battery")
    battery: Mapping[str, Any] = raw_battery if isinstance(raw_battery, Mapping) else {}
    level = known_or_none(optional_float(f"{where}.battery.level", battery.get("level")))
    attributes.update({f"coords.{k}": v for k, v in coords.items() if k not in _COORD_KEYS})
    if "is_charging" in battery:
        attributes["is_charging"] = battery["is_charging"]
    return CanonicalFix(
        device_identifier=identifier,
        lon=as_float(f"{where}.coords.longitude", coords["longitude"]),
        lat=as_float(f"{where}.coords.latitude", coords["latitude"]),
        recorded_at=recorded_at,
        speed_kph=None if speed_mps is None else speed_mps * MPS_TO_KPH,
        heading_deg=heading(optional_float(f"{where}.coords.heading", coords.get("heading"))),
        accuracy_m=known_or_none(optional_float(f"{where}.coords.accuracy", coords.get("accuracy"))),
        altitude_m=optional_float(f"{where}.coords.altitude", coords.get("altitude")),
        battery_pct=None if level is None else level * 100.0,
        attributes=attributes,
    )
