"""import_roads on real files (graphml, PBF), a hand-written OSM XML, and --place with the download replaced."""

from __future__ import annotations

import bz2
import re
from pathlib import Path

import networkx as nx
import osmnx as ox
import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.management import CommandError, call_command

from gis_core.importers import roads as roads_module
from gis_core.importers.errors import ImportValidationError
from gis_core.importers.roads import import_roads
from gis_core.models import Kecamatan, Region, RoadEdge, RoadNetworkVersion, RoadNode
from gis_core.routing.profiles import CAR, edge_allowed, vehicle_profile
from gis_core.routing.registry import clear_engines, engine_for

pytestmark = pytest.mark.django_db

# A crossroads: way 10 is a two-way residential street A-B-C with maxspeed 30 mph, way 11 a one-way
# tertiary C->D, way 12 a footway (not drivable) and way 13 a private service road (not drivable).
# Way 14 D-A closes the loop so every node is in one strongly connected component; way 15 is a
# two-way dead end A-G, which makes A an intersection that simplification keeps.
TINY_OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
  <node id="1" lat="-1.6000" lon="103.6000"/>
  <node id="2" lat="-1.6000" lon="103.6010"/>
  <node id="3" lat="-1.6000" lon="103.6020"/>
  <node id="4" lat="-1.6010" lon="103.6020"/>
  <node id="5" lat="-1.6020" lon="103.6020"/>
  <node id="6" lat="-1.6030" lon="103.6030"/>
  <node id="7" lat="-1.5990" lon="103.5990"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/>
    <tag k="highway" v="residential"/><tag k="name" v="Jalan Satu"/><tag k="maxspeed" v="30 mph"/></way>
  <way id="11"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="tertiary"/><tag k="oneway" v="yes"/><tag k="name" v="Jalan Dua"/></way>
  <way id="12"><nd ref="4"/><nd ref="5"/><tag k="highway" v="footway"/></way>
  <way id="13"><nd ref="5"/><nd ref="6"/><tag k="highway" v="residential"/><tag k="access" v="private"/></way>
  <way id="14"><nd ref="4"/><nd ref="1"/><tag k="highway" v="unclassified"/></way>
  <way id="15"><nd ref="1"/><nd ref="7"/><tag k="highway" v="living_street"/></way>
</osm>
"""


def _edges(version: RoadNetworkVersion) -> list[tuple]:
    return sorted(
        RoadEdge.objects.filter(version=version).values_list(
            "source__osm_id", "target__osm_id", "osm_way_id", "highway", "oneway", "speed_kph", "speed_source"
        )
    )


def test_jambi_graphml_imports_every_node_and_edge(jambi_region, data_dir: Path) -> None:
    version = import_roads(region=jambi_region, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    # SOURCES.md: 490 nodes, 1038 directed edges, one strongly connected component.
    assert (version.node_count, version.edge_count, version.dropped_node_count) == (490, 1038, 0)
    assert RoadNode.objects.filter(version=version).count() == 490
    assert RoadEdge.objects.filter(version=version).count() == 1038
    assert version.is_active
    # No maxspeed in this file: every speed comes from the class table.
    assert version.report["speed_sources"] == {"table": 1038}
    trunk = RoadEdge.objects.filter(version=version, highway="trunk").first()
    assert trunk.speed_kph == 50.0
    assert trunk.travel_time_s == pytest.approx(trunk.length_m / (50 / 3.6))


def test_reimport_creates_a_new_version_with_the_same_rows_and_prunes_old(jambi_region, data_dir: Path) -> None:
    path = data_dir / "jambi" / "roads_main_jambi_osm.graphml"
    first = import_roads(region=jambi_region, path=path)
    second = import_roads(region=jambi_region, path=path)
    third = import_roads(region=jambi_region, path=path, keep_versions=2)
    assert list(RoadNetworkVersion.objects.filter(region=jambi_region, is_active=True)) == [third]
    assert not RoadNetworkVersion.objects.filter(pk=first.pk).exists()
    assert RoadNode.objects.filter(version_id=first.pk).count() == 0
    assert _edges(second) == _edges(third)


def test_liechtenstein_pbf_keeps_largest_scc_and_reads_maxspeed(jambi_region, data_dir: Path) -> None:
    version = import_roads(region=jambi_region, path=data_dir / "reference" / "liechtenstein.osm.pbf")
    graph = nx.MultiDiGraph()
    for e in RoadEdge.objects.filter(version=version).values("source_id", "target_id"):
        graph.add_edge(e["source_id"], e["target_id"])
    assert version.node_count > 1000
    assert nx.is_strongly_connected(graph)
    assert version.dropped_node_count == version.report["input_nodes"] - version.node_count > 0
    assert version.report["speed_sources"]["maxspeed"] > 0
    assert RoadEdge.objects.filter(version=version, oneway=True).exists()
    # Ways off the drive network are kept only where open to motorbikes, and never driven by a car.
    off_drive = RoadEdge.objects.filter(version=version, highway__in=["footway", "service", "track", "path"])
    assert {e.tags.get("motorcycle") for e in off_drive} <= {"yes", "designated", "permissive"}
    car = vehicle_profile(CAR)
    assert not [e.pk for e in off_drive if edge_allowed(car, e.highway, e.tags)]


# Around Vaduz, Liechtenstein (lon, lat): about 3 x 3 km of the country's ~25 x 12 km.
VADUZ_BOX = (9.505, 47.125, 9.545, 47.155)


def _way_lines(version) -> dict[int, shapely.Geometry]:
    """Each OSM way of a stored network as the union of its edges' lines (EPSG:4326)."""
    parts: dict[int, list] = {}
    for way, geom in RoadEdge.objects.filter(version=version).values_list("osm_way_id", "geom"):
        parts.setdefault(way, []).append(shapely.from_wkb(bytes(geom.wkb)))
    return {way: shapely.union_all(lines) for way, lines in parts.items()}


def test_an_extract_is_clipped_to_the_region_with_its_buffer(data_dir: Path, capsys) -> None:
    region = Region.objects.create(
        code="LI.01", slug="vaduz", name="Vaduz (test)", metric_srid=32632, time_zone="Europe/Vaduz"
    )
    box = shapely.box(*VADUZ_BOX)
    Kecamatan.objects.create(
        region=region, code="LI.01.01", name="Vaduz", geom=MultiPolygon(GEOSGeometry(box.wkt, srid=4326)), area_m2=1.0
    )
    pbf = data_dir / "reference" / "liechtenstein.osm.pbf"
    whole = _way_lines(import_roads(region=region, path=pbf))
    call_command("import_roads", "vaduz", "--file", str(pbf), "--clip-buffer-m", "500", verbosity=1)
    captured = capsys.readouterr()
    assert "clipped to the ways within 500 m of the region's kecamatan" in captured.out
    assert "reading highway ways" in captured.err  # the streamed extract's progress (tqdm, stderr)
    version = RoadNetworkVersion.objects.get(region=region, is_active=True)
    assert version.report["clip"] == {"buffer_m": 500.0, "applied": True}
    clipped = _way_lines(version)
    # Expected: the ways of the whole import that come within the box grown by 500 m (about 0.0066 deg of
    # longitude and 0.0045 deg of latitude here; a tighter, smaller box keeps the check on the safe side);
    # ways far outside it are gone. The largest strongly connected component may drop a few more.
    inner = shapely.box(VADUZ_BOX[0] - 0.006, VADUZ_BOX[1] - 0.004, VADUZ_BOX[2] + 0.006, VADUZ_BOX[3] + 0.004)
    outer = shapely.box(VADUZ_BOX[0] - 0.01, VADUZ_BOX[1] - 0.007, VADUZ_BOX[2] + 0.01, VADUZ_BOX[3] + 0.007)
    assert all(line.intersects(outer) for line in clipped.values())
    near = {way for way, line in whole.items() if line.intersects(inner)}
    assert len(near & set(clipped)) >= 0.9 * len(near)
    assert 100 < len(clipped) < 0.5 * len(whole)
    # Without boundaries there is nothing to clip to: the whole file, and the command says so.
    Kecamatan.objects.filter(region=region).delete()
    call_command("import_roads", "vaduz", "--file", str(pbf), verbosity=1)
    assert "has no kecamatan boundaries yet: the whole extract was imported" in capsys.readouterr().out
    version = RoadNetworkVersion.objects.get(region=region, is_active=True)
    assert version.report["clip"] == {"buffer_m": 5000.0, "applied": False}
    assert set(_way_lines(version)) == set(whole)


def test_a_clip_with_no_road_in_it_is_refused(data_dir: Path) -> None:
    region = Region.objects.create(
        code="LI.02", slug="nowhere", name="Nowhere (test)", metric_srid=32632, time_zone="Europe/Vaduz"
    )
    far = shapely.box(10.2, 47.6, 10.21, 47.61)  # in Austria, outside the Liechtenstein extract
    Kecamatan.objects.create(
        region=region, code="LI.02.01", name="Far", geom=MultiPolygon(GEOSGeometry(far.wkt, srid=4326)), area_m2=1.0
    )
    with pytest.raises(ImportValidationError, match="no drivable highway ways found in this extract inside the clip"):
        import_roads(region=region, path=data_dir / "reference" / "liechtenstein.osm.pbf", clip_buffer_m=100)
    with pytest.raises(ImportValidationError, match="clip buffer must be >= 0"):
        import_roads(region=region, path=data_dir / "reference" / "liechtenstein.osm.pbf", clip_buffer_m=-1)


@pytest.mark.parametrize("compress", [False, True])
def test_osm_xml_filters_drivable_ways_and_honours_oneway(jambi_region, tmp_path: Path, compress: bool) -> None:
    path = tmp_path / ("tiny.osm.bz2" if compress else "tiny.osm")
    path.write_bytes(bz2.compress(TINY_OSM.encode()) if compress else TINY_OSM.encode())
    version = import_roads(region=jambi_region, path=path)
    edges = _edges(version)
    pairs = {(u, v) for u, v, *_ in edges}
    # osmnx keeps node 2 (not an intersection) only inside the simplified geometry of 1-3.
    assert pairs == {(1, 3), (3, 1), (3, 4), (4, 1), (1, 4), (1, 7), (7, 1)}
    assert (4, 3) not in pairs  # way 11 is one-way C->D
    speeds = {(u, v): (speed, source) for u, v, _, _, _, speed, source in edges}
    assert speeds[(1, 3)] == (pytest.approx(30 * 1.609344), "maxspeed")
    assert speeds[(3, 4)] == (40.0, "table")  # tertiary in DEFAULT_SPEEDS_KPH
    # Nodes 5 and 6 are reached only by the footway and the private road.
    assert not RoadNode.objects.filter(version=version, osm_id__in=[5, 6]).exists()


def test_place_goes_through_osmnx_download(jambi_region, data_dir: Path, monkeypatch) -> None:
    balikpapan = ox.load_graphml(data_dir / "balikpapan" / "roads_drive_balikpapan_kota_osm.graphml")
    calls = []

    def fake_graph_from_place(query, **kwargs):
        calls.append((query, kwargs))
        return balikpapan

    monkeypatch.setattr(ox, "graph_from_place", fake_graph_from_place)
    version = import_roads(region=jambi_region, place="Balikpapan Kota, Balikpapan, Indonesia")
    assert calls == [
        ("Balikpapan Kota, Balikpapan, Indonesia", {"network_type": "drive", "simplify": True, "retain_all": True})
    ]
    assert version.source_kind == "place"
    # SOURCES.md: 1,207 nodes in 8 SCCs, the main one with 1,182 nodes.
    assert (version.node_count, version.dropped_node_count) == (1182, 25)
    assert version.report["speed_sources"]["maxspeed"] > 0


def test_place_download_failure_is_a_clear_error(jambi_region, monkeypatch) -> None:
    def offline(query, **kwargs):
        raise ConnectionError("Max retries exceeded with url: /search")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    with pytest.raises(ImportValidationError, match="could not download the road network for 'Nowhere'"):
        import_roads(region=jambi_region, place="Nowhere")
    assert not RoadNetworkVersion.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("roads.shp", b"", "unknown road file type"),
        ("empty.osm", b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="0.1" lon="0.1"/></osm>',
         "no drivable highway ways"),
        ("broken.graphml", b"<graphml><not closed", "not a readable osmnx GraphML"),
        ("broken.osm.pbf", b"this is not protobuf", "not a readable OSM file"),
    ],
)  # fmt: skip
def test_bad_road_files_are_refused_and_nothing_is_written(jambi_region, tmp_path, name, content, message) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportValidationError, match=message):
        import_roads(region=jambi_region, path=path)
    assert not RoadNetworkVersion.objects.exists()
    assert not RoadNode.objects.exists()


def test_missing_file_is_refused(jambi_region, tmp_path) -> None:
    with pytest.raises(ImportValidationError, match="no such file"):
        import_roads(region=jambi_region, path=tmp_path / "nope.osm.pbf")


def test_command_reads_relative_paths_from_data_dir(jambi_region, data_dir, capsys) -> None:
    call_command("import_roads", "kota-jambi", "--file", "jambi/roads_main_jambi_osm.graphml", verbosity=1)
    out = capsys.readouterr().out
    assert "490 nodes and 1038 edges" in out
    with pytest.raises(CommandError, match="unknown region 'atlantis'; known regions: kota-jambi"):
        call_command("import_roads", "atlantis", "--file", "x.osm")


def test_command_place_reports_what_was_dropped_with_progress_bars(jambi_region, data_dir, monkeypatch, capsys) -> None:
    balikpapan = ox.load_graphml(data_dir / "balikpapan" / "roads_drive_balikpapan_kota_osm.graphml")
    monkeypatch.setattr(ox, "graph_from_place", lambda query, **kwargs: balikpapan)
    call_command("import_roads", "kota-jambi", "--place", "Balikpapan Kota, Balikpapan, Indonesia", verbosity=1)
    captured = capsys.readouterr()
    version = RoadNetworkVersion.objects.get(is_active=True)
    # SOURCES.md: 1,207 nodes in 8 strongly connected components, the largest with 1,182.
    assert version.source == "Balikpapan Kota, Balikpapan, Indonesia"
    assert (
        f"dropped outside the largest strongly connected component: 25 nodes, {version.dropped_edge_count} edges "
        "(8 components)"
    ) in captured.out
    assert version.dropped_edge_count == balikpapan.number_of_edges() - version.edge_count > 0
    assert "speeds from: {" in captured.out
    # tqdm draws on stderr: one bar per COPY step, ending at the row counts.
    assert "writing nodes" in captured.err
    assert f"{version.node_count}/{version.node_count}" in captured.err
    assert f"{version.edge_count}/{version.edge_count}" in captured.err


def test_command_speeds_file_overrides_the_table(jambi_region, tmp_path, capsys) -> None:
    osm = tmp_path / "tiny.osm"
    osm.write_text(TINY_OSM)
    speeds = tmp_path / "speeds.json"
    speeds.write_text('{"tertiary": 20, "unclassified": 10}')
    call_command("import_roads", "kota-jambi", "--file", str(osm), "--speeds", str(speeds), verbosity=0)
    edges = {(u, v): (speed, source) for u, v, _, _, _, speed, source in _edges(RoadNetworkVersion.objects.get())}
    assert edges[(3, 4)] == (20.0, "table")  # tertiary, untagged
    assert edges[(4, 1)] == (10.0, "table")  # unclassified, untagged
    assert edges[(1, 3)][1] == "maxspeed"  # a maxspeed tag still wins over the table


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('["tertiary", 20]', "expected a JSON object"),
        ("{tertiary: 20", "--speeds"),
        ('{"tertiary": "fast"}', "speed for highway class 'tertiary' must be a positive km/h figure"),
        ('{"tertiary": 0}', "speed for highway class 'tertiary' must be a positive km/h figure"),
    ],
)
def test_command_bad_speeds_file_is_a_command_error(jambi_region, tmp_path, content, message) -> None:
    osm = tmp_path / "tiny.osm"
    osm.write_text(TINY_OSM)
    speeds = tmp_path / "speeds.json"
    speeds.write_text(content)
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("import_roads", "kota-jambi", "--file", str(osm), "--speeds", str(speeds), verbosity=0)
    assert not RoadNetworkVersion.objects.exists()


def test_failed_reimport_leaves_the_old_network_active_for_readers(jambi_region, data_dir, monkeypatch) -> None:
    path = data_dir / "jambi" / "roads_main_jambi_osm.graphml"
    clear_engines()
    old = import_roads(region=jambi_region, path=path)
    engine = engine_for(jambi_region)
    real_copy = roads_module._copy

    def copy_then_fail(statement, rows, *, label, **kwargs):
        real_copy(statement, rows, label=label, **kwargs)
        if label == "edges":  # the new nodes and edges are written; the switch has not happened yet
            raise RuntimeError("connection lost")

    monkeypatch.setattr(roads_module, "_copy", copy_then_fail)
    with pytest.raises(RuntimeError, match="connection lost"):
        import_roads(region=jambi_region, path=path)
    assert list(RoadNetworkVersion.objects.values_list("pk", "is_active")) == [(old.pk, True)]
    assert RoadNode.objects.count() == old.node_count
    assert RoadEdge.objects.count() == old.edge_count
    assert engine_for(jambi_region) is engine  # readers keep the loaded network: the version did not change
    clear_engines()


def test_the_importer_keeps_profile_tags_and_ways_for_motorbikes_alone(kampung_network, tmp_path) -> None:
    from factories.fleet_fixtures import KAMPUNG_OSM

    version = RoadNetworkVersion.objects.get(region=kampung_network, is_active=True)
    # Simplified: A-F, A-B-C-D (one edge through B and C), the gang A-D, D-H and the footway D-E, each both
    # ways; way 25, a plain footway, is not kept (node 7 is not in the network).
    assert version.edge_count == 10
    assert not RoadNode.objects.filter(version=version, osm_id=7).exists()
    by_name = {e.name: e for e in RoadEdge.objects.filter(version=version)}
    assert by_name["Gang Sempit"].tags == {"width": "2.5"}
    assert by_name["Gang Motor"].tags == {"motorcycle": "yes"}
    assert by_name["Gang Motor"].highway == "footway"
    assert version.report["motorbike_only_edges"] == 2  # way 24, both directions
    # The motorbike rides that footway, the fire engine leaves it out with the narrow gang.
    assert engine_for(kampung_network, "motorbike").graph.n_edges == 10
    assert engine_for(kampung_network, "fire_engine").graph.n_edges == 6
    # The car's engine is the drive network alone: the same edges, times and answers as an import of the
    # same file without the footway for motorbikes.
    car = engine_for(kampung_network)
    drive_only = tmp_path / "drive.osm"
    drive_only.write_text(re.sub(r'<way id="24">.*?</way>', "", KAMPUNG_OSM, flags=re.S), encoding="utf-8")
    before = import_roads(region=kampung_network, path=drive_only)
    clear_engines()
    plain = engine_for(kampung_network)
    assert before.edge_count == version.edge_count - 2
    assert sorted(car.graph.edge_travel_time_s.tolist()) == sorted(plain.graph.edge_travel_time_s.tolist())
    caller = (103.6000, -1.6070)
    assert (
        car.travel_times_to([(103.6050, -1.6000)], caller)[0] == plain.travel_times_to([(103.6050, -1.6000)], caller)[0]
    )
