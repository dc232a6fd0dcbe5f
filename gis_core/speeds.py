"""Travel speeds for road edges: the OSM ``maxspeed`` where tagged, else a table per highway class.

The default table is for Indonesian cities. Its ceilings come from the national speed-limit rule,
Permenhub PM 111/2015 (Tata Cara Penetapan Batas Kecepatan): 100 km/h on toll roads, 80 km/h on
intercity roads, 50 km/h in urban areas and 30 km/h in residential areas (kawasan permukiman).
Urban trunk and primary roads take the 50 km/h urban ceiling; lower classes sit below it because
narrow carriageways, parked vehicles and mixed motorbike traffic keep speeds down (the PKJI 2023
road-capacity guideline gives free-flow speeds of 40-57 km/h for urban roads of two to four lanes,
lower on two-lane undivided streets). Residential streets take the 30 km/h settlement ceiling;
living streets (gang) are walking-pace shared space. Override the table per deployment with the
``SIAGA_SPEEDS_KPH`` setting or ``import_roads --speeds FILE.json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# The vehicle profile of a unit type that names none (gis_core.routing.profiles; UnitType.routing_profile).
DEFAULT_PROFILE = "car"

DEFAULT_SPEEDS_KPH: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 50.0,
    "trunk": 50.0,
    "trunk_link": 40.0,
    "primary": 50.0,
    "primary_link": 40.0,
    "secondary": 45.0,
    "secondary_link": 35.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "busway": 30.0,
    "living_street": 15.0,
    "service": 15.0,
}
# Any class missing from the table (a new or local tag) is driven at this speed and counted in the
# import report, so a planner can see which classes fell back.
FALLBACK_SPEED_KPH = 25.0

_MPH_TO_KPH = 1.609344
# Implicit limits written as "<country>:<zone>": Indonesian zones follow PM 111/2015.
_IMPLICIT_KPH = {"urban": 50.0, "rural": 80.0, "motorway": 100.0, "living_street": 15.0, "zone30": 30.0}
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph|knots)?\s*$")


def parse_maxspeed_kph(value: object) -> float | None:
    """Parse an OSM ``maxspeed`` value.

    Parameters
    ----------
    value
        The tag as osmnx gives it: a string such as ``"50"``, ``"30 mph"``, ``"ID:urban"``,
        ``"40;60"``, or a list of such strings for a merged edge.

    Returns
    -------
    float or None
        The speed in km/h (the lowest where several are given, so an ETA is never optimistic),
        or None where the tag is absent, ``none``, ``signals`` or otherwise not a number.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value > 0 else None
    parts: Iterable[str] = value if isinstance(value, list) else re.split(r"[;|]", str(value))
    speeds = [s for s in (_parse_one(str(p)) for p in parts) if s is not None]
    return min(speeds) if speeds else None


def _parse_one(text: str) -> float | None:
    text = text.strip().lower()
    if ":" in text:
        return _IMPLICIT_KPH.get(text.split(":", 1)[1])
    match = _NUMBER.match(text)
    if not match:
        return None
    number = float(match.group(1))
    if number <= 0:
        return None
    unit = match.group(2)
    if unit == "mph":
        return number * _MPH_TO_KPH
    if unit == "knots":
        return number * 1.852
    return number


def highway_classes(value: object) -> list[str]:
    """The highway classes of an edge: osmnx gives a string, a list, or ``"a;b"`` after export."""
    if value is None:
        return []
    items = value if isinstance(value, list) else re.split(r"[;|]", str(value))
    return [str(item).strip() for item in items if str(item).strip()]


def table_speed_kph(highway: object, table: Mapping[str, float]) -> tuple[float, bool]:
    """Speed for an untagged edge from the class table.

    Returns
    -------
    (speed_kph, known)
        The lowest table speed over the edge's classes, and False where no class was in the
        table and ``FALLBACK_SPEED_KPH`` was used.
    """
    known = [table[c] for c in highway_classes(highway) if c in table]
    if known:
        return min(known), True
    return FALLBACK_SPEED_KPH, False


def speed_table(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The default table with a deployment's overrides applied; every speed must be positive."""
    table = dict(DEFAULT_SPEEDS_KPH)
    for key, speed in (overrides or {}).items():
        # bool is an int to Python, and "fast" or None are not speeds: refuse them by name, not with a TypeError.
        try:
            speed_kph = float(speed) if not isinstance(speed, bool) else float("nan")
        except (TypeError, ValueError):
            speed_kph = float("nan")
        if not speed_kph > 0 or speed_kph == float("inf"):
            raise ValueError(f"speed for highway class {key!r} must be a positive km/h figure, got {speed!r}")
        table[str(key)] = speed_kph
    return table
