"""Read a drivable road graph from OSM files, an osmnx GraphML, or OpenStreetMap by place name.

Pure: no ORM and no settings. Every reader returns an osmnx-style ``MultiDiGraph`` in EPSG:4326
(node ``x`` = lon, ``y`` = lat); ``prepare_network`` then keeps the largest strongly connected
component and gives every edge a speed and a travel time.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import networkx as nx
import osmium
import osmnx as ox
import shapely
from pyproj import Geod
from shapely.geometry import LineString
from tqdm import tqdm

from gis_core.importers.errors import ImportValidationError
from gis_core.routing.profiles import CAR, ROAD_TAG_KEYS, edge_allowed, vehicle_profile
from gis_core.speeds import highway_classes, parse_maxspeed_kph, table_speed_kph

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")
GRAPHML_SUFFIXES = (".graphml",)

# The same ways osmnx's "drive" network keeps, so a file import and a --place download agree.
_EXCLUDED_HIGHWAY = {
    "abandoned", "bridleway", "bus_guideway", "construction", "corridor", "cycleway", "elevator",
    "escalator", "footway", "no", "path", "pedestrian", "planned", "platform", "proposed", "raceway",
    "razed", "rest_area", "service", "services", "steps", "track", "bus_stop", "via_ferrata",
}  # fmt: skip
_EXCLUDED_SERVICE = {"alley", "driveway", "emergency_access", "parking", "parking_aisle", "private"}
_GEOD = Geod(ellps="WGS84")


def is_drivable(tags: Mapping[str, str]) -> bool:
    """Whether an OSM way with these tags belongs to the public drive network (osmnx "drive")."""
    highway = tags.get("highway")
    if not highway or highway in _EXCLUDED_HIGHWAY:
        return False
    if tags.get("area") == "yes" or tags.get("access") == "private":
        return False
    if tags.get("motor_vehicle") == "no" or tags.get("motorcar") == "no":
        return False
    return tags.get("service") not in _EXCLUDED_SERVICE


# Beyond the drive network, a file import keeps the ways a motorbike ambulance may ride and a car may not:
# footway, path, track and pedestrian ways tagged motorcycle=yes (designated, permissive), and gang tagged
# motorcar=no with motorcycle=yes. Their edges are stored with their tags; the car profile drives none of
# them, so car answers are those of the drive network alone (gis_core.routing.profiles).
_MOTORBIKE_HIGHWAY = {"footway", "path", "track", "pedestrian", "living_street", "residential", "service",
                      "unclassified"}  # fmt: skip
_MOTORCYCLE_YES = {"yes", "designated", "permissive"}


def is_motorbike_way(tags: Mapping[str, str]) -> bool:
    """Whether a way outside the drive network is open to motorbikes by its tags (kept for that profile)."""
    highway = tags.get("highway")
    if highway not in _MOTORBIKE_HIGHWAY or tags.get("motorcycle") not in _MOTORCYCLE_YES:
        return False
    if tags.get("area") == "yes" or tags.get("access") == "private":
        return False
    # Only ways the car profile never drives: the drive network itself stays as osmnx's "drive" keeps it.
    return not edge_allowed(vehicle_profile(CAR), highway, tags)


@contextmanager
def _profile_tags_kept() -> Iterator[None]:
    """osmnx keeps only ``settings.useful_tags_way`` on edges: add the tags the vehicle profiles read."""
    before = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys([*before, *ROAD_TAG_KEYS]))
    try:
        yield
    finally:
        ox.settings.useful_tags_way = before


def source_kind_of(path: Path) -> str:
    """``graphml``, ``pbf`` or ``osm`` from the file name; anything else is refused."""
    name = path.name.lower()
    if name.endswith(GRAPHML_SUFFIXES):
        return "graphml"
    if name.endswith((".osm.pbf", ".pbf")):
        return "pbf"
    if name.endswith(OSM_SUFFIXES):
        return "osm"
    raise ImportValidationError(
        f"{path}: unknown road file type; expected one of {', '.join(GRAPHML_SUFFIXES + OSM_SUFFIXES)}"
    )


def read_road_file(path: Path, *, clip: shapely.Geometry | None = None, progress: bool = False) -> nx.MultiDiGraph:
    """Read a road graph from a GraphML, OSM XML (plain or bz2/gz) or PBF file.

    ``clip`` (EPSG:4326) keeps only the ways of an OSM extract with a node in it (see
    :func:`read_osm_extract`); a GraphML is read whole. ``progress`` counts the extract's ways as read.
    """
    if not path.is_file():
        raise ImportValidationError(f"{path}: no such file")
    if source_kind_of(path) == "graphml":
        return read_graphml(path)
    return read_osm_extract(path, clip=clip, progress=progress)


def read_graphml(path: Path) -> nx.MultiDiGraph:
    """Load an osmnx GraphML, unprojecting it to EPSG:4326 if it was saved projected."""
    try:
        graph = ox.load_graphml(path)
    except Exception as exc:  # networkx and lxml raise many types for a broken file
        raise ImportValidationError(f"{path}: not a readable osmnx GraphML file ({exc})") from exc
    crs = str(graph.graph.get("crs", "")).lower()
    if not crs:
        raise ImportValidationError(f"{path}: the graph has no 'crs' attribute; cannot tell lon/lat from metres")
    if crs not in {"epsg:4326", "wgs84", "+proj=longlat +datum=wgs84 +no_defs"}:
        graph = ox.projection.project_graph(graph, to_latlong=True)
    return graph


def read_osm_extract(path: Path, *, clip: shapely.Geometry | None = None, progress: bool = False) -> nx.MultiDiGraph:
    """Filter an OSM extract to drivable ways with pyosmium, then build and simplify it with osmnx.

    pyosmium reads every format users download (XML, bz2, PBF) and filters a small country's
    extract in a fraction of a second; osmnx then turns the drivable ways into the same graph
    (one-way handling, simplification) that a download by place name gives.

    ``clip`` (a polygon in EPSG:4326) keeps only the ways with at least one node inside it, whole:
    a city's network out of a province or country extract (Geofabrik's ``sumatra-latest.osm.pbf``
    for Kota Jambi), with the roads that cross its edge kept to their next junction or end.
    """
    with tempfile.TemporaryDirectory(prefix="siaga-osm-") as tmp:
        xml_path = Path(tmp) / "drive.osm"
        way_count = _write_drivable_xml(path, xml_path, clip=clip, progress=progress)
        if way_count == 0:
            where = " inside the clip area (is it the right extract for this region?)" if clip is not None else ""
            raise ImportValidationError(f"{path}: no drivable highway ways found in this extract{where}")
        with _profile_tags_kept():
            return ox.graph_from_xml(xml_path, simplify=True, retain_all=True)


def _write_drivable_xml(source: Path, target: Path, *, clip: shapely.Geometry | None = None, progress: bool) -> int:
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    inside = _Clip(clip) if clip is not None else None
    try:
        processor = (
            osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        # No total: pyosmium streams the file. A country extract has millions of highway ways.
        for way in tqdm(processor, desc="reading highway ways", unit=" ways", disable=not progress):
            tags = dict(way.tags)
            if not (is_drivable(tags) or is_motorbike_way(tags)):
                continue
            located = [(node.ref, node.lon, node.lat) for node in way.nodes if node.location.valid()]
            if len(located) < 2 or (inside is not None and not inside.any(located)):
                continue
            for ref, lon, lat in located:
                nodes[ref] = (lon, lat)
            ways.append((way.id, [ref for ref, _, _ in located], tags))
    except RuntimeError as exc:
        raise ImportValidationError(f"{source}: not a readable OSM file ({exc})") from exc
    with target.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="siaga">\n')
        for node_id, (lon, lat) in nodes.items():
            out.write(f'<node id="{node_id}" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')
        for way_id, refs, tags in ways:
            out.write(f'<way id="{way_id}">')
            out.write("".join(f'<nd ref="{ref}"/>' for ref in refs))
            out.write("".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()))
            out.write("</way>\n")
        out.write("</osm>\n")
    return len(ways)


class _Clip:
    """Whether any of a way's nodes lies in a polygon: a bounding-box test first, GEOS only near it."""

    def __init__(self, polygon: shapely.Geometry):
        self.polygon = polygon
        shapely.prepare(polygon)
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = polygon.bounds

    def any(self, located: list[tuple[int, float, float]]) -> bool:
        near = [
            (lon, lat)
            for _, lon, lat in located
            if self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat
        ]
        if not near:
            return False
        lons, lats = zip(*near, strict=True)
        return bool(shapely.intersects_xy(self.polygon, lons, lats).any())


def read_place(place: str) -> nx.MultiDiGraph:
    """Download the drive network of a named place from OpenStreetMap through osmnx (online only)."""
    try:
        with _profile_tags_kept():
            return ox.graph_from_place(place, network_type="drive", simplify=True, retain_all=True)
    except Exception as exc:  # geocoding and Overpass failures come in many types
        raise ImportValidationError(f"could not download the road network for {place!r}: {exc}") from exc


@dataclass(frozen=True)
class PreparedEdge:
    u: int
    v: int
    osm_way_id: int | None
    highway: str
    name: str
    oneway: bool
    length_m: float
    speed_kph: float
    speed_source: str
    travel_time_s: float
    geometry: LineString
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class PreparedNetwork:
    """A network ready to store: node id -> (lon, lat, osm id), directed edges, and the report."""

    nodes: dict[int, tuple[float, float, int | None]]
    edges: list[PreparedEdge]
    report: dict = field(default_factory=dict)


def prepare_network(graph: nx.MultiDiGraph, *, speeds_kph: Mapping[str, float]) -> PreparedNetwork:
    """Keep the largest strongly connected component and give each edge speed and travel time.

    The component is that of the edges a car may drive, so the drive network comes out as it did before
    ways for motorbikes alone were kept; those ways are kept where they belong to the largest component
    of the whole graph.

    Parameters
    ----------
    graph
        osmnx-style MultiDiGraph in EPSG:4326.
    speeds_kph
        Highway class -> km/h for edges without a usable ``maxspeed`` tag.

    Returns
    -------
    PreparedNetwork
        Nodes and edges of the largest strongly connected component; ``report`` says what was
        dropped and where each speed came from.
    """
    if graph.number_of_nodes() == 0 or graph.number_of_edges() == 0:
        raise ImportValidationError("the road graph is empty: no drivable edges to import")
    _check_coordinates(graph)
    car = vehicle_profile(CAR)
    car_edges = [
        (u, v, k)
        for u, v, k, d in graph.edges(keys=True, data=True)
        if edge_allowed(car, _joined(d.get("highway")), _edge_tags(d))
    ]
    if not car_edges:
        raise ImportValidationError("the road graph has no edges a car may drive")
    car_graph = graph.edge_subgraph(car_edges)
    components = sorted(nx.strongly_connected_components(car_graph), key=len, reverse=True)
    car_nodes = components[0]
    whole = max(nx.strongly_connected_components(graph), key=len)
    keep = graph.edge_subgraph(
        (u, v, k)
        for u, v, k in graph.edges(keys=True)
        if ((u in car_nodes and v in car_nodes) if car_graph.has_edge(u, v, k) else (u in whole and v in whole))
    )
    speed_sources: Counter[str] = Counter()
    unparsed: Counter[str] = Counter()
    unknown_classes: Counter[str] = Counter()
    edges = []
    for u, v, data in keep.edges(data=True):
        edge = _prepare_edge(graph, u, v, data, speeds_kph, unparsed, unknown_classes)
        speed_sources[edge.speed_source] += 1
        edges.append(edge)
    nodes = {n: (float(d["x"]), float(d["y"]), _osm_node_id(n, d)) for n, d in keep.nodes(data=True)}
    report = {
        "input_nodes": graph.number_of_nodes(),
        "input_edges": graph.number_of_edges(),
        "strongly_connected_components": len(components),
        "dropped_components": [len(c) for c in components[1:51]],
        "dropped_nodes": graph.number_of_nodes() - keep.number_of_nodes(),
        "dropped_edges": graph.number_of_edges() - keep.number_of_edges(),
        "speed_sources": dict(speed_sources),
        "unparsed_maxspeed": dict(unparsed.most_common(20)),
        "classes_not_in_speed_table": dict(unknown_classes),
        "speeds_kph": dict(speeds_kph),
        "highway_counts": dict(Counter(e.highway for e in edges).most_common()),
        "motorbike_only_edges": sum(1 for e in edges if not edge_allowed(car, e.highway, e.tags)),
    }
    return PreparedNetwork(nodes=nodes, edges=edges, report=report)


def _check_coordinates(graph: nx.MultiDiGraph) -> None:
    bad = [
        f"node {n}: x={d.get('x')!r}, y={d.get('y')!r}"
        for n, d in graph.nodes(data=True)
        if not _is_lonlat(d.get("x"), d.get("y"))
    ]
    if bad:
        raise ImportValidationError("road graph nodes without a valid lon/lat (EPSG:4326)", problems=bad)


def _is_lonlat(x: object, y: object) -> bool:
    try:
        lon, lat = float(x), float(y)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return -180 <= lon <= 180 and -90 <= lat <= 90 and not (lon == 0 and lat == 0)


def _osm_node_id(node: object, data: Mapping) -> int | None:
    value = data.get("osmid", node)
    return int(value) if isinstance(value, int) or str(value).lstrip("-").isdigit() else None


def _prepare_edge(graph, u, v, data, speeds_kph, unparsed, unknown_classes) -> PreparedEdge:
    geometry = data.get("geometry")
    if geometry is None:
        a, b = graph.nodes[u], graph.nodes[v]
        geometry = LineString([(a["x"], a["y"]), (b["x"], b["y"])])
    length_m = data.get("length_m", data.get("length"))
    length_m = float(length_m) if length_m is not None else _GEOD.geometry_length(geometry)
    maxspeed = data.get("maxspeed")
    speed_kph = parse_maxspeed_kph(maxspeed)
    source = "maxspeed"
    if speed_kph is None:
        if maxspeed not in (None, ""):
            unparsed[str(maxspeed)] += 1
        speed_kph, known = table_speed_kph(data.get("highway"), speeds_kph)
        source = "table" if known else "fallback"
        if not known:
            unknown_classes[";".join(highway_classes(data.get("highway"))) or "(none)"] += 1
    return PreparedEdge(
        u=u,
        v=v,
        osm_way_id=_first_int(data.get("osmid")),
        highway=";".join(highway_classes(data.get("highway")))[:64],
        name=_join_names(data.get("name"))[:256],
        oneway=_truthy(data.get("oneway")),
        length_m=length_m,
        speed_kph=speed_kph,
        speed_source=source,
        travel_time_s=length_m / (speed_kph / 3.6),
        geometry=geometry,
        tags=_edge_tags(data),
    )


def _joined(value: object) -> str:
    return ";".join(highway_classes(value))


def _edge_tags(data: Mapping) -> dict[str, str]:
    """The tags the vehicle profiles read (``ROAD_TAG_KEYS``), values of merged ways joined with ``;``."""
    tags = {}
    for key in ROAD_TAG_KEYS:
        value = data.get(key)
        if isinstance(value, list):
            value = ";".join(str(v) for v in _unique(value) if v not in (None, ""))
        if value not in (None, "") and not (isinstance(value, float) and value != value):
            tags[key] = str(value)[:64]
    return tags


def _first_int(value: object) -> int | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _join_names(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in _unique(value))
    return str(value)


def _unique(items: list) -> Iterator:
    seen = set()
    for item in items:
        if item not in seen:
            seen.add(item)
            yield item


def _truthy(value: object) -> bool:
    return value is True or str(value).lower() in {"true", "yes", "1"}
