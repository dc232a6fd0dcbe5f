"""Read place names out of the region's sources: road graphs, OSM extracts, OpenStreetMap by place name.

No ORM: each reader returns :class:`Candidate` names in EPSG:4326; ``gazetteer.services`` stores them.
Streets come from the named edges of a road graph (the same readers as the road import,
``gis_core.importers.osm``), one entry per name and connected stretch, its segments merged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import osmium
import osmnx as ox
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiLineString, Point
from shapely.ops import linemerge
from tqdm import tqdm

from gis_core.importers.errors import ImportValidationError

ALT_NAME_TAGS = ("alt_name", "old_name", "short_name", "official_name", "loc_name")
# OSM keys whose named features a caller would use as a landmark (docs/ADDRESSES.md, "Landmarks callers use").
LANDMARK_KEYS = ("amenity", "shop", "tourism", "leisure", "office", "healthcare", "historic", "building",
                 "man_made", "public_transport", "railway", "aeroway", "place", "bridge", "landuse")  # fmt: skip
_STATIONS = {"station", "halt", "tram_stop"}
_PLACE_VALUES = {"neighbourhood", "hamlet", "quarter", "suburb", "village", "isolated_dwelling", "locality"}
# Segments of one name closer than this belong to one street; farther apart, two same-named streets.
STREET_JOIN_M = 60.0


@dataclass
class Candidate:
    kind: str
    name: str
    geom: shapely.Geometry
    point: Point
    alt_names: list[str] = field(default_factory=list)
    category: str = ""
    osm_ref: str = ""


def alt_names_of(tags) -> list[str]:
    """The alternative names of an OSM object (``alt_name`` may hold several, split on ';')."""
    names: list[str] = []
    for key in ALT_NAME_TAGS:
        value = tags.get(key)
        if value:
            names.extend(part.strip() for part in str(value).split(";") if part.strip())
    return names


def landmark_category(tags) -> str | None:
    """``key=value`` of the tag that makes a named OSM object a landmark, or None."""
    for key in LANDMARK_KEYS:
        value = tags.get(key)
        if not value or value == "no":
            continue
        if (key == "place" and value not in _PLACE_VALUES) or (key == "railway" and value not in _STATIONS):
            continue  # a named railway line or a region's name is not a place to send a unit to
        return f"{key}={value}"[:64]
    return None


def graph_named_edges(graph: nx.MultiDiGraph) -> Iterator[tuple[str, LineString, int | None]]:
    """``(name, line in EPSG:4326, OSM way id)`` of every named edge; an edge of several names gives each."""
    for u, v, data in graph.edges(data=True):
        names = data.get("name")
        if not names or (isinstance(names, float) and names != names):
            continue
        geometry = data.get("geometry")
        if geometry is None:
            a, b = graph.nodes[u], graph.nodes[v]
            geometry = LineString([(a["x"], a["y"]), (b["x"], b["y"])])
        osmid = data.get("osmid")
        way_id = osmid[0] if isinstance(osmid, list) and osmid else osmid
        for name in names if isinstance(names, list) else [names]:
            yield str(name), geometry, int(way_id) if isinstance(way_id, int) else None


def streets(
    edges: Iterable[tuple[str, LineString, int | None]],
    *,
    metric_srid: int,
    alt_names_by_way: dict[int, list[str]] | None = None,
) -> list[Candidate]:
    """One candidate per street name and connected stretch, segments merged.

    Parameters
    ----------
    edges
        ``(name, line, way id)`` in EPSG:4326; both directions of a two-way street may appear.
    metric_srid
        The region's projected CRS: stretches closer than ``STREET_JOIN_M`` metres are one street.
    alt_names_by_way
        OSM way id -> its alternative names (a road graph keeps only ``name``).
    """
    to_metric = Transformer.from_crs(4326, metric_srid, always_xy=True)
    by_name: dict[str, list[tuple[LineString, int | None]]] = defaultdict(list)
    for name, line, way_id in edges:
        if name.strip():
            by_name[name.strip()].append((line, way_id))
    out: list[Candidate] = []
    for name, parts in by_name.items():
        lines = shapely.union_all([line for line, _ in parts])  # drops the reverse duplicates
        pieces = list(getattr(lines, "geoms", [lines]))
        metric = [shapely.transform(p, to_metric.transform, interleaved=False) for p in pieces]
        zones = shapely.union_all([m.buffer(STREET_JOIN_M / 2) for m in metric])
        groups: dict[int, list[LineString]] = defaultdict(list)
        zone_list = list(getattr(zones, "geoms", [zones]))
        for piece, m in zip(pieces, metric, strict=True):
            index = next((i for i, z in enumerate(zone_list) if z.intersects(m)), 0)
            groups[index].append(piece)
        ways = {w for _, w in parts if w is not None}
        alts = sorted({a for w in ways for a in (alt_names_by_way or {}).get(w, [])})
        for group in groups.values():
            merged = linemerge(MultiLineString(group)) if len(group) > 1 else group[0]
            geom = merged if isinstance(merged, MultiLineString) else MultiLineString([merged])
            longest = max(geom.geoms, key=lambda g: g.length)
            out.append(Candidate(kind="street", name=name[:256], geom=geom,
                                 point=longest.interpolate(0.5, normalized=True), alt_names=alts,
                                 category="highway", osm_ref=f"osm:way/{min(ways)}" if ways else ""))  # fmt: skip
    return out


def osm_file_names(
    path: Path, *, clip: shapely.Geometry | None = None, progress: bool = False
) -> tuple[list[Candidate], dict[int, list[str]]]:
    """Landmarks (named nodes and ways with a landmark tag) and the alternative names of named highways.

    A way's landmark point is the centre of its nodes; relations (large multipolygons) are not read.
    """
    landmarks: list[Candidate] = []
    alt_by_way: dict[int, list[str]] = {}
    if clip is not None:
        shapely.prepare(clip)
    try:
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("name"))
        )
        for obj in tqdm(processor, desc="reading named objects", unit=" objects", disable=not progress):
            tags = dict(obj.tags)
            if obj.is_way() and "highway" in tags:
                alts = alt_names_of(tags)
                if alts:
                    alt_by_way[obj.id] = alts
                continue
            category = landmark_category(tags)
            if category is None:
                continue
            if obj.is_node():
                point = Point(obj.location.lon, obj.location.lat)
                ref = f"osm:node/{obj.id}"
            else:
                coords = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()]
                if not coords:
                    continue
                point = shapely.MultiPoint(coords).centroid
                ref = f"osm:way/{obj.id}"
            if clip is not None and not clip.covers(point):
                continue
            landmarks.append(Candidate(kind="landmark", name=tags["name"][:256], geom=point, point=point,
                                       alt_names=alt_names_of(tags), category=category, osm_ref=ref))  # fmt: skip
    except RuntimeError as exc:
        raise ImportValidationError(f"{path}: not a readable OSM file ({exc})") from exc
    return landmarks, alt_by_way


def place_landmarks(place: str) -> list[Candidate]:
    """Named landmarks of a place downloaded from OpenStreetMap through osmnx (online only)."""
    try:
        frame = ox.features_from_place(place, tags=dict.fromkeys(LANDMARK_KEYS, True))
    except Exception as exc:  # geocoding and Overpass failures come in many types
        raise ImportValidationError(f"could not download the landmarks of {place!r}: {exc}") from exc
    out: list[Candidate] = []
    for index, row in frame.iterrows():
        tags = {k: v for k, v in row.items() if isinstance(v, str)}
        category = landmark_category(tags)
        if not tags.get("name") or category is None:
            continue
        point = row.geometry if row.geometry.geom_type == "Point" else row.geometry.representative_point()
        element, osm_id = index if isinstance(index, tuple) else ("node", index)
        ref = f"osm:{element}/{osm_id}"
        out.append(Candidate(kind="landmark", name=tags["name"][:256], geom=point, point=point,
                             alt_names=alt_names_of(tags), category=category, osm_ref=ref))  # fmt: skip
    return out
