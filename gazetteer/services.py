"""Write the gazetteer: an import replaces a region's imported names atomically; local names stay."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import shapely
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import connection, transaction

from gazetteer import sources
from gazetteer.models import EntryKind, GazetteerEntry, GazetteerImport, search_texts
from gis_core.importers.errors import ImportValidationError
from gis_core.importers.osm import read_place, read_road_file, source_kind_of
from gis_core.models import Facility, Kecamatan, Kelurahan, Region, RoadEdge
from gis_core.selectors import admin_areas_containing, region_area_lonlat

# Keep the names within this distance of the region's kecamatan when reading an extract.
CLIP_BUFFER_M = 1000.0
_BATCH = 5000


def gazetteer_import(
    *,
    region: Region,
    path: Path | None = None,
    place: str | None = None,
    progress: bool = False,
    say: Callable[[str], None] = lambda _line: None,
) -> GazetteerImport:
    """Import a region's gazetteer from an OSM file, an osmnx GraphML or by place name; make it active.

    Parameters
    ----------
    region
        The region; its kecamatan, kelurahan and facilities (already imported) join the names.
    path
        ``.osm.pbf`` / ``.osm`` (streets, their alternative names and landmarks) or ``.graphml`` (streets).
    place
        Instead of ``path``: streets and landmarks downloaded through osmnx (needs internet).
    progress, say
        Progress bars on the long steps; where progress lines go.

    Returns
    -------
    GazetteerImport
        The new, active import with its ``counts`` per kind.
    """
    if (path is None) == (place is None):
        raise ImportValidationError("give exactly one of a file path or a --place name")
    landmarks: list[sources.Candidate] = []
    alt_by_way: dict[int, list[str]] = {}
    if path is not None:
        kind = source_kind_of(Path(path))
        clip = region_area_lonlat(region=region, buffer_m=CLIP_BUFFER_M) if kind != "graphml" else None
        say(f"reading streets from {path}")
        graph = read_road_file(Path(path), clip=clip, progress=progress)
        if kind != "graphml":
            say(f"reading landmarks from {path}")
            landmarks, alt_by_way = sources.osm_file_names(Path(path), clip=clip, progress=progress)
        source = str(path)
    else:
        kind, source = "place", str(place)
        say(f"downloading streets and landmarks of {place}")
        graph = read_place(str(place))
        landmarks = sources.place_landmarks(str(place))
    say("merging street segments by name")
    streets = sources.streets(sources.graph_named_edges(graph), metric_srid=region.metric_srid,
                              alt_names_by_way=alt_by_way)  # fmt: skip
    return gazetteer_store(region=region, source=source, source_kind=kind, candidates=streets + landmarks)


def gazetteer_build_from_region(*, region: Region) -> GazetteerImport:
    """The gazetteer from what the region already stores: named roads of the active network, facilities,
    kecamatan and kelurahan (the demo's path; nothing is downloaded)."""
    rows = (
        RoadEdge.objects.filter(version__region=region, version__is_active=True)
        .exclude(name="")
        .values_list("name", "geom", "osm_way_id")
        .iterator(chunk_size=_BATCH)
    )
    # A stored edge of several names holds them joined by "; " (gis_core.importers.osm).
    named = ((n, _shapely(geom), way) for names, geom, way in rows for n in names.split("; "))
    streets = sources.streets(named, metric_srid=region.metric_srid)
    return gazetteer_store(region=region, source="database", source_kind="database", candidates=streets)


def _shapely(geom: GEOSGeometry) -> shapely.Geometry:
    return shapely.from_wkb(bytes(geom.wkb))


def _area_and_facility_candidates(region: Region, taken_refs: set[str]) -> list[sources.Candidate]:
    out = []
    for model, kind in ((Kecamatan, EntryKind.KECAMATAN), (Kelurahan, EntryKind.KELURAHAN)):
        rows = model.objects.filter(**({"region": region} if model is Kecamatan else {"kecamatan__region": region}))
        for area in rows:
            geom = _shapely(area.geom)
            out.append(sources.Candidate(kind=kind, name=area.name, geom=geom, point=geom.point_on_surface(),
                                         category=kind, osm_ref=f"kemendagri:{area.code}"))  # fmt: skip
    for facility in Facility.objects.filter(region=region):
        if facility.ref in taken_refs:
            continue
        point = _shapely(facility.geom)
        out.append(sources.Candidate(kind=EntryKind.LANDMARK, name=facility.name, geom=point, point=point,
                                     category=f"facility={facility.kind}", osm_ref=facility.ref))  # fmt: skip
    return out


def gazetteer_store(
    *, region: Region, source: str, source_kind: str, candidates: list[sources.Candidate]
) -> GazetteerImport:
    """Store names as the region's new active import, with its kecamatan, kelurahan and facilities.

    One transaction: the previous import's entries are deleted and the new ones written, so a reader
    sees one set or the other; local names (no import) stay. Returns the import with ``counts`` per kind.
    """
    candidates = candidates + _area_and_facility_candidates(region, {c.osm_ref for c in candidates if c.osm_ref})
    with transaction.atomic():
        # Lock the region's imports so two imports cannot both believe they are the newest.
        list(GazetteerImport.objects.select_for_update().filter(region=region).values_list("pk"))
        counts = Counter(c.kind for c in candidates)
        record = GazetteerImport.objects.create(region=region, source=source, source_kind=source_kind,
                                                counts={k: counts.get(k, 0) for k in EntryKind.values})  # fmt: skip
        GazetteerEntry.objects.filter(region=region, source_import__isnull=False).delete()
        GazetteerEntry.objects.bulk_create((_entry(region, record, c) for c in candidates), batch_size=_BATCH)
        _areas_set(region)
        record.common_words = _common_words(region)
        record.save(update_fields=["common_words"])
        GazetteerImport.objects.filter(region=region, is_active=True).update(is_active=False)
        GazetteerImport.objects.filter(pk=record.pk).update(is_active=True)
        record.is_active = True
    return record


def _entry(region: Region, record: GazetteerImport, c: sources.Candidate) -> GazetteerEntry:
    name_norm, search_text = search_texts(c.name, c.alt_names)
    return GazetteerEntry(
        region=region, source_import=record, kind=c.kind, category=c.category, name=c.name, alt_names=c.alt_names,
        name_norm=name_norm, search_text=search_text, osm_ref=c.osm_ref[:64],
        geom=GEOSGeometry(memoryview(c.geom.wkb), srid=4326), point=Point(c.point.x, c.point.y, srid=4326),
    )  # fmt: skip


COMMON_WORD_SHARE = 0.01
COMMON_WORD_MIN = 20


def _common_words(region: Region) -> list[str]:
    """The words in more than 1% (and at least 20) of the region's names: they rank but do not select."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""WITH w AS (SELECT DISTINCT id, unnest(string_to_array(name_norm, ' ')) AS word
                           FROM {GazetteerEntry._meta.db_table} WHERE region_id = %s)
                SELECT word FROM w GROUP BY word
                HAVING count(*) > greatest(%s, %s * (SELECT count(DISTINCT id) FROM w)) ORDER BY count(*) DESC""",
            [region.pk, COMMON_WORD_MIN, COMMON_WORD_SHARE],
        )
        return [row[0] for row in cursor.fetchall()]


def _areas_set(region: Region) -> None:
    """Give every entry of the region the kelurahan and kecamatan that cover its point (lowest code wins)."""
    entry = GazetteerEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {entry} e SET
              kecamatan_id = (SELECT k.id FROM {Kecamatan._meta.db_table} k
                              WHERE k.region_id = e.region_id AND ST_Covers(k.geom, e.point) ORDER BY k.code LIMIT 1),
              kelurahan_id = (SELECT l.id FROM {Kelurahan._meta.db_table} l
                              JOIN {Kecamatan._meta.db_table} k ON k.id = l.kecamatan_id
                              WHERE k.region_id = e.region_id AND ST_Covers(l.geom, e.point) ORDER BY l.code LIMIT 1)
            WHERE e.region_id = %s AND e.source_import_id IS NOT NULL
            """,
            [region.pk],
        )


def entry_areas_set(*, entry: GazetteerEntry) -> None:
    """Set one (local) entry's kelurahan and kecamatan from its point; not saved."""
    kecamatan, kelurahan = admin_areas_containing(region=entry.region, lon=entry.point.x, lat=entry.point.y)
    entry.kecamatan, entry.kelurahan = kecamatan, kelurahan
