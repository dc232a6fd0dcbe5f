"""A region's time zone: the IANA name it is stored as, its check, and Indonesia's zones by province.

Times are stored in UTC; a region's zone only decides how they are shown and which local day a time
falls on. Indonesia has three zones and no daylight saving (Keppres 41/1987): WIB (UTC+7: Sumatra,
Java, West and Central Kalimantan), WITA (UTC+8: Bali, Nusa Tenggara, the rest of Kalimantan,
Sulawesi) and WIT (UTC+9: Maluku, Papua). Pure: no Django, no database.
"""

from __future__ import annotations

import difflib
import functools
import zoneinfo
from datetime import datetime, timedelta

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"

# Kemendagri province code (the first two digits of every regional code) -> the province's zone.
# West and Central Kalimantan are WIB under the zone Asia/Pontianak (same offset, same abbreviation).
PROVINCE_ZONES: dict[str, str] = {
    **dict.fromkeys(("11", "12", "13", "14", "15", "16", "17", "18", "19", "21"), WIB),  # Sumatra, Riau Is.
    **dict.fromkeys(("31", "32", "33", "34", "35", "36"), WIB),  # Java
    **dict.fromkeys(("61", "62"), "Asia/Pontianak"),  # West and Central Kalimantan
    **dict.fromkeys(("51", "52", "53"), WITA),  # Bali, Nusa Tenggara
    **dict.fromkeys(("63", "64", "65"), WITA),  # South, East and North Kalimantan
    **dict.fromkeys(("71", "72", "73", "74", "75", "76"), WITA),  # Sulawesi
    **dict.fromkeys(("81", "82"), WIT),  # Maluku, North Maluku
    **dict.fromkeys(("91", "92", "93", "94", "95", "96"), WIT),  # the Papua provinces
}


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_problems(name: str) -> list[str]:
    """Why ``name`` is not an IANA time zone this server knows (empty list: it is one).

    Parameters
    ----------
    name
        An IANA zone name, e.g. ``Asia/Jayapura``; case matters, as in the tz database.
    """
    if name in _known_zones():
        return []
    close = difflib.get_close_matches(name, sorted(_known_zones()), n=3, cutoff=0.6)
    close += [zone for zone in sorted(_known_zones()) if zone.lower() == name.lower() and zone not in close]
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return [f"{name!r} is not an IANA time zone{hint} Indonesia's are {WIB} (WIB), {WITA} (WITA) and {WIT} (WIT)"]


def zone_for_code(code: str) -> str | None:
    """The zone of the Indonesian province a Kemendagri code lies in (``81.71`` -> ``Asia/Jayapura``), or None."""
    return PROVINCE_ZONES.get(code.strip()[:2]) if code.strip()[2:3] in ("", ".") else None


def zone_label(name: str, *, at: datetime) -> dict:
    """``{name, abbreviation, utc_offset}`` of a zone at an aware time: ``Asia/Jayapura`` -> ``WIT``, ``+09:00``."""
    local = at.astimezone(zoneinfo.ZoneInfo(name))
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    abbreviation = local.tzname() or ""
    if abbreviation[:1] in "+-":  # zones the tz database gives no letters to: show the offset as UTC+hh
        abbreviation = f"UTC{sign}{minutes // 60:02d}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return {"name": name, "abbreviation": abbreviation, "utc_offset": f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"}
