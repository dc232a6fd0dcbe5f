"""Search the gazetteer as a caller speaks, and name the place at a point (reverse geocoding).

Ranking (``places_search``): pg_trgm's ``word_similarity(query, search_text)`` (how well the typed words
appear in the name, typo-tolerant; the GIN trigram index answers ``search_text %> query``) weighted 0.75,
plus ``similarity(query, name)`` 0.25 (prefers the name that says no more than was typed). When part of
the query names a kelurahan or kecamatan ("gang melati talang banjar"), the rest is searched and an
entry inside that area gains ``AREA_BOOST``; a ``near`` point adds up to ``NEAR_BOOST``, decaying over
``NEAR_SCALE_M``. Distances are metres on the geography type, never degrees.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

from django.db import connection

from gazetteer.errors import PointOutsideRegionError
from gazetteer.models import EntryKind, GazetteerEntry, GazetteerImport
from gazetteer.normalize import normalize
from gis_core.models import Kecamatan, Kelurahan, Region
from gis_core.selectors import admin_areas_containing

WORD_SIMILARITY_THRESHOLDS = (0.7, 0.5)
GOOD_MATCH = 0.85
AREA_MATCH = 0.8
AREA_BOOST = 0.25
NEAR_BOOST = 0.1
NEAR_SCALE_M = 3000.0
CANDIDATES = 60
LANDMARK_RADIUS_M = 300.0
STREET_RADIUS_M = 1000.0
OUTSIDE_TOLERANCE_M = 2000.0
# Words that place a name rather than name it: dropped before an area is looked for.
_CONTEXT_WORDS = frozenset({"kelurahan", "kecamatan", "desa", "kota", "di", "ke", "dekat", "depan", "belakang",
                            "samping", "sebelah", "seberang", "ujung", "masuk", "arah", "rt", "rw"})  # fmt: skip

# A query's distinctive part must be this long to pick candidates alone.
MIN_CORE_CHARS = 4

_ENTRY = GazetteerEntry._meta.db_table
_KEL = Kelurahan._meta.db_table
_KEC = Kecamatan._meta.db_table


@dataclass(frozen=True)
class Suggestion:
    id: int
    name: str
    kind: str
    kelurahan: str | None
    kecamatan: str | None
    lon: float
    lat: float
    confidence: float
    score: float


def places_search(
    *, region: Region, query: str, near: tuple[float, float] | None = None, limit: int = 10
) -> list[Suggestion]:
    """Ranked suggestions for what a caller said.

    Parameters
    ----------
    region
        Only this region's names.
    query
        As typed; normalised here (``gazetteer.normalize``).
    near
        ``(lon, lat)`` EPSG:4326 of a bias point (the caller's last known position or area).
    limit
        At most this many suggestions.

    Returns
    -------
    list of Suggestion
        Best first. A street's point is its point nearest to ``near``, else its middle.
    """
    text = normalize(query)
    if not text:
        return []
    area = _area_named_in(region, text)
    searched = text
    if area is not None:
        rest = _without_area_words(text, area[1])
        searched = rest or text
    rows = _candidates(region=region, text=searched, near=near, area_id=area[0] if area else None, limit=limit)
    ranked = []
    for row in rows:
        entry_id, name, kind, kel, kec, lon, lat, ws, sim, inside, distance_m = row
        base = 0.75 * ws + 0.25 * sim
        boost = AREA_BOOST if inside else 0.0
        bias = NEAR_BOOST * math.exp(-distance_m / NEAR_SCALE_M) if distance_m is not None else 0.0
        ranked.append(Suggestion(id=entry_id, name=name, kind=kind, kelurahan=kel, kecamatan=kec, lon=lon, lat=lat,
                                 confidence=round(min(1.0, base + boost), 3), score=base + boost + bias))  # fmt: skip
    ranked.sort(key=lambda s: (-s.score, s.name, s.id))
    return ranked[:limit]


def _area_named_in(region: Region, text: str) -> tuple[int, str] | None:
    """The kelurahan or kecamatan entry whose name appears in a query of two or more words besides it."""
    words = [w for w in text.split() if w not in _CONTEXT_WORDS]
    if len(words) < 3:
        return None
    stripped = " ".join(words)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT id, name_norm FROM {_ENTRY}
                WHERE region_id = %s AND kind IN ('kelurahan', 'kecamatan')
                  AND word_similarity(name_norm, %s) >= %s
                ORDER BY word_similarity(name_norm, %s) DESC, length(name_norm) DESC, kind = 'kecamatan' LIMIT 1""",
            [region.pk, stripped, AREA_MATCH, stripped],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _without_area_words(text: str, area_name: str) -> str:
    area_words = area_name.split()
    kept = [
        w for w in text.split()
        if w not in _CONTEXT_WORDS and not difflib.get_close_matches(w, area_words, n=1, cutoff=0.75)
    ]  # fmt: skip
    return " ".join(kept)


def _distinctive(region: Region, text: str) -> str:
    """The query without the region's common words (``GazetteerImport.common_words``: "jalan", "gang", ...).

    Those still rank (the whole query is scored) but do not pick the candidates, or every street would be one.
    """
    common = (
        GazetteerImport.objects.filter(region=region, is_active=True).values_list("common_words", flat=True).first()
    )
    core = " ".join(w for w in text.split() if w not in set(common or ()))
    return core if len(core.replace(" ", "")) >= MIN_CORE_CHARS else text


def _candidates(
    *, region: Region, text: str, near: tuple[float, float] | None, area_id: int | None, limit: int
) -> list:
    """Candidates at a strict similarity first, looser only when too few came back: a loose threshold over a
    common word would make thousands of rows candidates (the 100,000-name benchmark's slow tail)."""
    near_sql = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
    point_sql = f"ST_ClosestPoint(e.geom, {near_sql})" if near else "e.point"
    distance_sql = f"ST_Distance(e.geom::geography, {near_sql}::geography)" if near else "NULL::float"
    inside_sql = "ST_Intersects(e.geom, a.geom)" if area_id else "false"
    core = _distinctive(region, text)
    params = {"region": region.pk, "q": text, "core": core, "limit": CANDIDATES, "area": area_id,
              "lon": near[0] if near else None, "lat": near[1] if near else None}  # fmt: skip
    rows: list = []
    with connection.cursor() as cursor:
        for threshold in WORD_SIMILARITY_THRESHOLDS:
            rows = _candidates_at(cursor, threshold, params, point_sql, inside_sql, distance_sql)
            if len(rows) >= limit or (rows and max(r[7] for r in rows) >= GOOD_MATCH):
                break
    return rows


def _candidates_at(cursor, threshold: float, params: dict, point_sql: str, inside_sql: str, distance_sql: str) -> list:
    """The candidates whose search text holds the query's distinctive words with at least this word similarity."""
    cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [str(threshold)])
    cursor.execute(
        f"""
        WITH c AS (
          SELECT id, word_similarity(%(q)s, search_text) AS ws, similarity(%(q)s, name_norm) AS sim
          FROM {_ENTRY}
          WHERE region_id = %(region)s AND search_text %%> %(core)s
          ORDER BY ws DESC, sim DESC
          LIMIT %(limit)s
        )
        SELECT e.id, e.name, e.kind, l.name, k.name, ST_X({point_sql}), ST_Y({point_sql}),
               c.ws, c.sim, {inside_sql}, {distance_sql}
        FROM c JOIN {_ENTRY} e ON e.id = c.id
        LEFT JOIN {_KEL} l ON l.id = e.kelurahan_id
        LEFT JOIN {_KEC} k ON k.id = e.kecamatan_id
        LEFT JOIN {_ENTRY} a ON a.id = %(area)s
        """,
        params,
    )
    return cursor.fetchall()


@dataclass(frozen=True)
class NamedPlace:
    name: str
    distance_m: float


@dataclass(frozen=True)
class ReversePlace:
    street: NamedPlace | None
    landmark: NamedPlace | None
    kelurahan: Kelurahan | None
    kecamatan: Kecamatan | None
    display: str


def place_at(*, region: Region, lon: float, lat: float) -> ReversePlace:
    """The nearest named street (within ``STREET_RADIUS_M``), the nearest landmark or local name (within
    ``LANDMARK_RADIUS_M``), and the kelurahan and kecamatan of a point (EPSG:4326), with a display text.

    Raises PointOutsideRegionError for a point farther than ``OUTSIDE_TOLERANCE_M`` from every kecamatan.
    """
    kecamatan, kelurahan = admin_areas_containing(region=region, lon=lon, lat=lat)
    if kecamatan is None and _distance_to_region_m(region, lon, lat) > OUTSIDE_TOLERANCE_M:
        raise PointOutsideRegionError(
            f"point ({lon}, {lat}) is more than {OUTSIDE_TOLERANCE_M:.0f} m outside {region.name}: "
            "check the order (lon, lat) and the region"
        )
    street = _nearest(region, lon, lat, kinds=(EntryKind.STREET,), radius_m=STREET_RADIUS_M)
    landmark = _nearest(region, lon, lat, kinds=(EntryKind.LANDMARK, EntryKind.LOCAL), radius_m=LANDMARK_RADIUS_M)
    parts = []
    if street:
        parts.append(street.name)
    if landmark:
        parts.append(f"{_rounded_m(landmark.distance_m)} m dari {landmark.name}")
    if kelurahan:
        parts.append(kelurahan.name)
    elif kecamatan:
        parts.append(f"Kecamatan {kecamatan.name}")
    return ReversePlace(street=street, landmark=landmark, kelurahan=kelurahan, kecamatan=kecamatan,
                        display=", ".join(parts))  # fmt: skip


def place_description(*, region: Region, lon: float, lat: float) -> str:
    """The display text of :func:`place_at` for a report's address; empty for a point outside the region.

    Reports store it as their address when nobody typed one (``incidents.services.places``).
    """
    try:
        return place_at(region=region, lon=lon, lat=lat).display
    except PointOutsideRegionError:
        return ""


def _rounded_m(distance_m: float) -> int:
    return int(round(distance_m / 10.0) * 10) if distance_m >= 10 else round(distance_m)


def _nearest(region: Region, lon: float, lat: float, *, kinds: tuple[str, ...], radius_m: float) -> NamedPlace | None:
    # The GiST index narrows to the nearest few by the <-> operator; metres decide among them.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS g),
            near AS (
              SELECT e.name, e.geom FROM {_ENTRY} e, p
              WHERE e.region_id = %(region)s AND e.kind = ANY(%(kinds)s)
              ORDER BY e.geom <-> p.g LIMIT 16
            )
            SELECT near.name, ST_Distance(near.geom::geography, p.g::geography) AS d
            FROM near, p ORDER BY d, near.name LIMIT 1
            """,
            {"lon": lon, "lat": lat, "region": region.pk, "kinds": list(kinds)},
        )
        row = cursor.fetchone()
    if row is None or row[1] > radius_m:
        return None
    return NamedPlace(name=row[0], distance_m=float(row[1]))


def _distance_to_region_m(region: Region, lon: float, lat: float) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT min(ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography))
                FROM {_KEC} WHERE region_id = %s""",
            [lon, lat, region.pk],
        )
        value = cursor.fetchone()[0]
    return math.inf if value is None else float(value)
