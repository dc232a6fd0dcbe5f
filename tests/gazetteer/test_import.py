"""Building the gazetteer: street merging, imports from the repository's files and the demo, local names."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from shapely.geometry import LineString

from gazetteer import sources
from gazetteer.models import EntryKind, GazetteerEntry, GazetteerImport
from gazetteer.services import entry_areas_set, gazetteer_import, gazetteer_store
from gis_core.importers.osm import read_graphml
from gis_core.models import Region


def test_a_two_way_street_of_many_segments_is_one_entry() -> None:
    a, b, c = (103.60, -1.60), (103.601, -1.60), (103.602, -1.60)
    edges = [("Jalan A", LineString([a, b]), 1), ("Jalan A", LineString([b, a]), 1), ("Jalan A", LineString([b, c]), 2)]
    (street,) = sources.streets(edges, metric_srid=32748, alt_names_by_way={2: ["Jl. Lama"]})
    assert street.geom.geom_type == "MultiLineString"
    assert len(street.geom.geoms) == 1  # the three edges merged into one line a-b-c
    assert street.geom.geoms[0].length == pytest.approx(0.002)
    assert street.alt_names == ["Jl. Lama"]
    assert street.osm_ref == "osm:way/1"


def test_same_named_streets_far_apart_are_two_entries() -> None:
    # 0.01 deg of longitude apart (about 1.1 km), far beyond STREET_JOIN_M.
    edges = [("Gang Melati", LineString([(103.60, -1.6), (103.601, -1.6)]), 1),
             ("Gang Melati", LineString([(103.61, -1.6), (103.611, -1.6)]), 2)]  # fmt: skip
    assert len(sources.streets(edges, metric_srid=32748)) == 2


def test_reimport_replaces_imported_names_and_keeps_local_ones(town, dispatcher) -> None:
    from factories.gazetteer import TOWN_CANDIDATES

    local = GazetteerEntry(region=town, kind=EntryKind.LOCAL, name="Posko Simpang Rimbo", geom=Point(103.62, -1.61))
    local.point = local.geom
    entry_areas_set(entry=local)
    local.full_clean()
    local.save()
    imported = GazetteerEntry.objects.filter(region=town, source_import__isnull=False)
    before = imported.count()
    again = gazetteer_store(region=town, source="test", source_kind="test", candidates=list(TOWN_CANDIDATES))
    assert imported.count() == before  # replaced, not added: 8 hand-made names + 2 kecamatan + 2 kelurahan
    assert before == 12
    assert set(imported.values_list("source_import", flat=True)) == {again.pk}
    assert list(GazetteerImport.objects.filter(region=town, is_active=True)) == [again]
    assert again.counts == {"street": 5, "landmark": 3, "kelurahan": 2, "kecamatan": 2, "local": 0}
    local.refresh_from_db()
    assert local.kelurahan.name == "Talang Banjar"
    first = dispatcher.get("/api/regions/kota-jambi/search/", {"q": "simp rimbo"}).json()["results"][0]
    assert (first["name"], first["kind"], first["kelurahan"]) == ("Posko Simpang Rimbo", "local", "Talang Banjar")


@pytest.fixture
def liechtenstein(db) -> Region:
    region = Region(code="LI", slug="liechtenstein", name="Liechtenstein", metric_srid=32632, time_zone="Europe/Vaduz")
    region.full_clean()
    region.save()
    return region


def test_import_from_an_osm_extract(liechtenstein, data_dir) -> None:
    record = gazetteer_import(region=liechtenstein, path=data_dir / "reference" / "liechtenstein.osm.pbf")
    entries = GazetteerEntry.objects.filter(region=liechtenstein)
    assert record.counts["street"] == entries.filter(kind="street").count() > 100
    assert record.counts["landmark"] == entries.filter(kind="landmark").count() > 100
    # Vaduz's main street is "Städtle" in OSM: stored folded, found without the umlaut.
    assert entries.filter(kind="street", name="Städtle", name_norm="stadtle").exists()
    assert not entries.filter(kind="landmark", category="railway=rail").exists()
    again = gazetteer_import(region=liechtenstein, path=data_dir / "reference" / "liechtenstein.osm.pbf")
    assert again.counts == record.counts
    assert entries.count() == sum(record.counts.values())  # the re-import replaced the first one


def test_import_from_a_graphml_gives_the_streets_inside_their_kelurahan(jambi_region, data_dir) -> None:
    from gis_core.importers.boundaries import import_boundaries

    for level in ("kecamatan", "kelurahan"):
        import_boundaries(region=jambi_region, path=data_dir / "jambi" / f"{level}_jambi.geojson", level=level)
    path = data_dir / "jambi" / "roads_main_jambi_osm.graphml"
    record = gazetteer_import(region=jambi_region, path=path)
    names = {n for n, _, _ in sources.graph_named_edges(read_graphml(path))}
    streets = GazetteerEntry.objects.filter(region=jambi_region, kind="street")
    assert set(streets.values_list("name", flat=True)) == names  # every named road, nothing invented
    assert record.counts["street"] >= len(names)
    assert record.counts["kelurahan"] == 68  # SOURCES.md
    thaha = streets.filter(name="Jalan Sultan Thaha").select_related("kelurahan")
    assert thaha.exists()
    assert all(s.kelurahan is not None for s in thaha)


def test_load_demo_builds_the_gazetteer(data_dir, db, capsys) -> None:
    call_command("load_demo")
    jambi = Region.objects.get(slug="kota-jambi")
    record = GazetteerImport.objects.get(region=jambi, is_active=True)
    # SOURCES.md: 11 kecamatan, 68 kelurahan, 39 health facilities + 1 Damkar HQ.
    assert (record.counts["kecamatan"], record.counts["kelurahan"], record.counts["landmark"]) == (11, 68, 40)
    assert record.counts["street"] > 50
    assert "gazetteer" in capsys.readouterr().out


def test_import_by_place_name_through_osmnx(jambi_region, data_dir, monkeypatch) -> None:
    # Offline: osmnx's two downloads are replaced by the repository's graph and a two-row features frame
    # shaped as osmnx 2 returns it (index of (element, id), one column per tag, NaN where untagged).
    import geopandas as gpd
    import osmnx as ox
    from shapely.geometry import Point as ShapelyPoint
    from shapely.geometry import Polygon as ShapelyPolygon

    from gazetteer import services

    graph = read_graphml(data_dir / "jambi" / "roads_main_jambi_osm.graphml")
    monkeypatch.setattr(services, "read_place", lambda place: graph)
    frame = gpd.GeoDataFrame(
        {"name": ["Masjid Agung Al-Falah", "Pasar Angso Duo"], "amenity": ["place_of_worship", None],
         "shop": [None, "mall"], "alt_name": ["Masjid Seribu Tiang", None]},
        geometry=[ShapelyPoint(103.6128, -1.5921),
                  ShapelyPolygon([(103.62, -1.59), (103.621, -1.59), (103.621, -1.591), (103.62, -1.591)])],
        index=[("node", 1), ("way", 2)], crs="EPSG:4326",
    )  # fmt: skip
    monkeypatch.setattr(ox, "features_from_place", lambda place, tags: frame)
    record = gazetteer_import(region=jambi_region, place="Kota Jambi, Indonesia")
    assert (record.source_kind, record.source) == ("place", "Kota Jambi, Indonesia")
    landmarks = {e.osm_ref: e for e in GazetteerEntry.objects.filter(region=jambi_region, kind="landmark")}
    assert landmarks["osm:node/1"].alt_names == ["Masjid Seribu Tiang"]
    assert landmarks["osm:node/1"].category == "amenity=place_of_worship"
    assert landmarks["osm:way/2"].category == "shop=mall"
    assert record.counts["street"] > 50
