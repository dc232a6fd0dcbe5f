"""Store a region's road network as a new version in PostGIS and switch readers to it atomically.

Nodes and edges go in with PostgreSQL COPY (a city network is tens of thousands of rows), inside
one transaction that also deactivates the previous version: a reader sees either the old network
or the new one, never half of one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import networkx as nx
import numpy as np
import shapely
from django.db import connection, transaction
from tqdm import tqdm

from gis_core.importers.errors import ImportValidationError
from gis_core.importers.osm import (
    PreparedNetwork,
    prepare_network,
    read_place,
    read_road_file,
    source_kind_of,
)
from gis_core.models import Region, RoadEdge, RoadNetworkVersion, RoadNode, RoadSpeedFactor
from gis_core.selectors import region_area_lonlat
from gis_core.speeds import speed_table

_COPY_CHUNK = 5000


def import_roads(
    *,
    region: Region,
    path: Path | None = None,
    place: str | None = None,
    speeds_kph: Mapping[str, float] | None = None,
    keep_versions: int = 2,
    progress: bool = False,
    clip_buffer_m: float | None = None,
    on_step: Callable[[float, str], None] | None = None,
) -> RoadNetworkVersion:
    """Import a drivable road network from a file or by place name and make it the active version.

    Parameters
    ----------
    region
        The region the network serves.
    path
        An osmnx ``.graphml``, an OSM ``.osm`` / ``.osm.bz2`` XML or an ``.osm.pbf`` extract.
    place
        Instead of ``path``: a place name geocoded and downloaded through osmnx (needs internet).
    speeds_kph
        Highway class -> km/h overrides on top of ``gis_core.speeds.DEFAULT_SPEEDS_KPH``.
    keep_versions
        How many versions (the new one included) to keep; older ones are deleted.
    progress
        Show progress bars on the long steps.
    clip_buffer_m
        For an OSM extract: keep only the ways with a node within this many metres of the region's
        kecamatan (a city out of a province or country file). None, or a region without boundaries
        yet: the whole extract.
    on_step
        Told ``on_step(fraction done, what now)`` at each step (a background job's progress).

    Returns
    -------
    RoadNetworkVersion
        The new, active version; its ``report`` says what was dropped, where speeds came from and
        (``clip``) what the extract was clipped to.
    """
    if (path is None) == (place is None):
        raise ImportValidationError("give exactly one of a road file path or a --place name")
    if clip_buffer_m is not None and not clip_buffer_m >= 0:
        raise ImportValidationError(f"the clip buffer must be >= 0 metres, got {clip_buffer_m}")
    step = on_step or (lambda _fraction, _what: None)
    clip_note: dict | None = None
    step(0.0, f"reading {path or place}")
    if path is not None:
        kind = source_kind_of(Path(path))
        clip = None
        if clip_buffer_m is not None and kind != "graphml":
            clip = region_area_lonlat(region=region, buffer_m=clip_buffer_m)
            clip_note = {"buffer_m": clip_buffer_m, "applied": clip is not None}
        graph, source = read_road_file(Path(path), clip=clip, progress=progress), str(path)
    else:
        graph, source, kind = read_place(str(place)), str(place), "place"
    return import_road_graph(
        region=region,
        graph=graph,
        source=source,
        source_kind=kind,
        speeds_kph=speeds_kph,
        keep_versions=keep_versions,
        progress=progress,
        report_extra={"clip": clip_note},
        on_step=step,
    )


def import_road_graph(
    *,
    region: Region,
    graph: nx.MultiDiGraph,
    source: str,
    source_kind: str,
    speeds_kph: Mapping[str, float] | None = None,
    keep_versions: int = 2,
    progress: bool = False,
    report_extra: Mapping | None = None,
    on_step: Callable[[float, str], None] | None = None,
) -> RoadNetworkVersion:
    """Store an osmnx-style graph (EPSG:4326) as the region's new active network version.

    ``report_extra`` is added to the version's report (e.g. what the source was clipped to).
    """
    if keep_versions < 1:
        raise ImportValidationError("keep_versions must be at least 1 (the new version itself)")
    step = on_step or (lambda _fraction, _what: None)
    step(0.4, "keeping the largest strongly connected component, setting speeds")
    prepared = prepare_network(graph, speeds_kph=speed_table(speeds_kph))
    prepared.report.update(report_extra or {})
    step(0.6, f"writing {len(prepared.nodes)} nodes and {len(prepared.edges)} edges")
    with transaction.atomic():
        version = RoadNetworkVersion(
            region=region,
            source=source,
            source_kind=source_kind,
            node_count=len(prepared.nodes),
            edge_count=len(prepared.edges),
            dropped_node_count=prepared.report["dropped_nodes"],
            dropped_edge_count=prepared.report["dropped_edges"],
            report=prepared.report,
        )
        version.full_clean()
        version.save()
        _copy_network(version, prepared, progress=progress)
        step(0.9, "switching to the new version")
        network_version_activate(version, keep_versions=keep_versions)
    return version


def network_version_activate(version: RoadNetworkVersion, *, keep_versions: int) -> None:
    """Make a just-written version the region's active one and delete all but the newest ``keep_versions``.

    Call inside the transaction that wrote the version, so readers switch from the old network to the
    whole new one at commit.
    """
    region = version.region
    # Lock the region's versions so two writers cannot both believe they are the newest.
    list(RoadNetworkVersion.objects.select_for_update().filter(region=region).values_list("pk"))
    RoadNetworkVersion.objects.filter(region=region, is_active=True).update(is_active=False)
    RoadNetworkVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    _delete_old_versions(region, keep=keep_versions)


def _copy_network(version: RoadNetworkVersion, prepared: PreparedNetwork, *, progress: bool) -> None:
    node_ids = reserve_ids(RoadNode, len(prepared.nodes))
    db_id = dict(zip(prepared.nodes, node_ids, strict=True))
    node_points = shapely.points([(lon, lat) for lon, lat, _ in prepared.nodes.values()])
    node_wkb = shapely.to_wkb(shapely.set_srid(node_points, 4326), hex=True, include_srid=True)
    edge_lines = shapely.set_srid(np.array([e.geometry for e in prepared.edges], dtype=object), 4326)
    edge_wkb = shapely.to_wkb(edge_lines, hex=True, include_srid=True)
    node_rows = (
        (db_id[n], version.pk, osm_id, wkb)
        for (n, (_, _, osm_id)), wkb in zip(prepared.nodes.items(), node_wkb, strict=True)
    )
    edge_rows = (
        (
            version.pk, db_id[e.u], db_id[e.v], e.osm_way_id, e.highway, e.name, e.oneway, e.length_m,
            e.speed_kph, e.speed_source, e.travel_time_s, wkb, json.dumps(e.tags),
        )
        for e, wkb in zip(prepared.edges, edge_wkb, strict=True)
    )  # fmt: skip
    node_table, edge_table = RoadNode._meta.db_table, RoadEdge._meta.db_table
    _copy(
        f"COPY {node_table} (id, version_id, osm_id, geom) FROM STDIN",
        node_rows,
        total=len(prepared.nodes),
        label="nodes",
        progress=progress,
    )
    _copy(
        f"COPY {edge_table} (version_id, source_id, target_id, osm_way_id, highway, name, oneway, length_m, "
        "speed_kph, speed_source, travel_time_s, geom, tags) FROM STDIN",
        edge_rows,
        total=len(prepared.edges),
        label="edges",
        progress=progress,
    )


def reserve_ids(model, count: int) -> list[int]:
    """``count`` fresh primary keys of ``model``'s table, from its sequence (for COPY and INSERT ... SELECT)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy(statement: str, rows, *, total: int, label: str, progress: bool) -> None:
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in tqdm(rows, total=total, desc=f"writing {label}", unit=label, disable=not progress,
                        miniters=_COPY_CHUNK):  # fmt: skip
            copy.write_row(row)


def _delete_old_versions(region: Region, *, keep: int) -> None:
    old = list(
        RoadNetworkVersion.objects.filter(region=region)
        .order_by("-imported_at", "-pk")
        .values_list("pk", flat=True)[keep:]
    )
    if not old:
        return
    # Plain deletes per table: the ORM's cascade would load every edge row into Python first.
    with connection.cursor() as cursor:
        for model in (RoadSpeedFactor, RoadEdge, RoadNode):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE version_id = ANY(%s)", [old])
    RoadNetworkVersion.objects.filter(pk__in=old).delete()
