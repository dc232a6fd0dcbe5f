"""OwnTracks in HTTP mode: one JSON object per POST, ``_type`` saying what it is.

Only ``_type: "location"`` carries a fix::

    {"_type": "location", "lat": -1.6101, "lon": 103.6131, "tst": 1767225600, "acc": 12,
     "alt": 21, "vel": 38, "cog": 270, "batt": 81, "bs": 1, "tid": "a1", "t": "u",
     "conn": "m", "created_at": 1767225605, "m": 1}

- ``tst``: Unix seconds of the fix; ``created_at``: when the message was built (later than ``tst``
  for a buffered fix), kept in ``attributes``.
- ``vel`` is **km/h** already (unlike Traccar's knots and m/s); ``cog`` degrees; ``acc``, ``alt`` metres;
  ``batt`` percent.
- The app leaves out ``acc``, ``alt``, ``cog``, ``vac`` and ``vel`` when they are zero. A missing ``vel``
  and ``alt`` therefore mean 0 and are stored as 0. A missing ``acc`` is stored as None: an accuracy of
  0 m is not a measurement, and reading it as "perfect" would hide a fix of unknown quality. A missing
  ``cog`` is stored as None: a course is meaningless at speed 0, which is when it is omitted.
- Every other ``_type`` (``transition``, ``lwt``, ``waypoint``, ``status``, ``encrypted``, ...) and the
  empty body the app sends when a friend is removed carry no fix: they give an empty list, never an
  error (the caller has stored the raw body already).

The device is who authenticated (HTTP Basic user, ``X-Limit-D`` device), not something in the body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleet.ingest.fix import (
    CanonicalFix,
    PayloadError,
    as_float,
    from_unix,
    heading,
    known_or_none,
    optional_float,
)

_HANDLED = frozenset({"_type", "lat", "lon", "tst", "acc", "alt", "vel", "cog", "batt"})


def parse_owntracks(payload: Any, *, device_identifier: str) -> list[CanonicalFix]:
    """Parse a decoded OwnTracks HTTP body into its fixes.

    Parameters
    ----------
    payload
        The decoded JSON: one message object (or, from some bridges, a list of them); None for an
        empty body.
    device_identifier
        ``user/device`` as authenticated (see ``fleet.api.ingest_views``).

    Returns
    -------
    list of CanonicalFix
        One per ``location`` message; other message types give nothing.

    Raises
    ------
    PayloadError
        A ``location`` without ``lat``/``lon`` or with values that are not numbers.
    """
    if payload is None:
        return []
    items = payload if isinstance(payload, list) else [payload]
    fixes = []
    for i, item in enumerate(items):
        where = f"[{i}]" if isinstance(payload, list) else "body"
        if not isinstance(item, Mapping):
            raise PayloadError(f"{where}: expected a JSON object with _type, got {item!r}")
        if item.get("_type") == "location":
            fixes.append(_fix(item, device_identifier, where))
    return fixes


def _fix(item: Mapping[str, Any], identifier: str, where: str) -> CanonicalFix:
    for name in ("lat", "lon"):
        if item.get(name) is None:
            raise PayloadError(f"{where}: a location message needs {name}")
    tst = optional_float(f"{where}.tst", item.get("tst"))
    return CanonicalFix(
        device_identifier=identifier,
        lon=as_float(f"{where}.lon", item["lon"]),
        lat=as_float(f"{where}.lat", item["lat"]),
        recorded_at=None if tst is None else from_unix(f"{where}.tst", tst, millis_rule=False),
        speed_kph=known_or_none(optional_float(f"{where}.vel", item.get("vel", 0))),
        heading_deg=heading(optional_float(f"{where}.cog", item.get("cog"))),
        accuracy_m=known_or_none(optional_float(f"{where}.acc", item.get("acc"))),
        altitude_m=optional_float(f"{where}.alt", item.get("alt", 0)),
        battery_pct=known_or_none(optional_float(f"{where}.batt", item.get("batt"))),
        attributes={k: v for k, v in item.items() if k not in _HANDLED},
    )
