"""One routing engine per region and process, loaded from PostGIS and reloaded on a new network version.

The only Django-aware module of the routing package: it reads the active ``RoadNetworkVersion``
into compact arrays once, then answers every request from memory. Each call checks the active
version id and the region's road closures in force (one indexed query, ``live_closures.network_state``),
so a re-import or a closure is picked up by the next request in every process.
Before loading, the region's ``metric_srid`` is checked against the network's extent: a CRS that
cannot measure it (geographic, unknown, another zone) is a ``RegionCrsInvalidError``, not a wrong answer.
A changed ``metric_srid`` reloads the engine like a new version does.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.db import connection

from gis_core.metric_srid import metric_srid_problems
from gis_core.models import Region, RoadEdge, RoadNetworkVersion, RoadNode
from gis_core.routing.csgraph_engine import CsgraphEngine
from gis_core.routing.engine import RoutingEngine
from gis_core.routing.errors import NoNetworkError, RegionCrsInvalidError
from gis_core.routing.graph import RoadGraph, road_graph_from_arrays
from gis_core.routing.live_closures import clear_variants, network_state, with_live_closures
from gis_core.routing.profiles import (
    CAR,
    PROFILE_NAMES,
    EdgeAttributes,
    OnFootAccess,
    allowed_edges,
    profile_graph,
    vehicle_profile,
)

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# (region pk, vehicle profile) -> ((network version id, metric_srid), engine)
_engines: dict[tuple[int, str], tuple[tuple[int, int], RoutingEngine]] = {}


def active_version_id(region: Region) -> int | None:
    """Primary key of the region's active network version, or None."""
    return RoadNetworkVersion.objects.filter(region=region, is_active=True).values_list("pk", flat=True).first()


def engine_for(region: Region, profile: str = CAR, *, live_closures: bool = True) -> RoutingEngine:
    """The routing engine for the region's active road network and a vehicle profile, loaded on first use or change.

    Each profile's engine is built once per network version from the same rows (``profile_engine``):
    same nodes in the same order, its own weights; the closures in force apply to each profile's engine.

    Parameters
    ----------
    profile
        A vehicle profile of ``gis_core.routing.profiles`` (``car`` by default).
    live_closures
        Serve the network as it is now, with the region's road closures in force applied
        (``gis_core.routing.live_closures``); False: the network as imported (closure matching).

    Raises
    ------
    ValueError
        An unknown profile (callers pass a ``UnitType.routing_profile`` or a validated choice).
    NoNetworkError
        When no network has been imported for the region.
    RegionCrsInvalidError
        When the region's ``metric_srid`` cannot measure its network (checked on each load).
    """
    version_id, closures = network_state(region)  # one query: the active version and the closures in force
    if version_id is None:
        raise NoNetworkError(
            f"{region.name} has no road network yet; import one with: manage.py import_roads {region.slug} --file ..."
        )
    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown vehicle profile {profile!r}; known: {', '.join(PROFILE_NAMES)}")
    base = _base_engine(region, version_id, profile)
    return with_live_closures(region, base, closures, profile=profile) if live_closures else base


def _base_engine(region: Region, version_id: int, profile: str) -> RoutingEngine:
    key = (version_id, region.metric_srid)
    cached = _engines.get((region.pk, profile))
    if cached is not None and cached[0] == key:
        return cached[1]
    with _lock:
        cached = _engines.get((region.pk, profile))
        if cached is None or cached[0] != key:
            _check_metric_srid(region, version_id)
            started = time.perf_counter()
            graph = _whole_graph(region, key)
            engine = profile_engine(graph, load_edge_attributes(version_id), profile)
            logger.info(
                "loaded road network version %s of %s (%s) in %.2f s",
                version_id,
                region.slug,
                profile,
                time.perf_counter() - started,
            )
            _engines[(region.pk, profile)] = (key, engine)
            cached = _engines[(region.pk, profile)]
    return cached[1]


# region pk -> ((network version id, metric_srid), the whole network as imported), shared by its profiles
_graphs: dict[int, tuple[tuple[int, int], RoadGraph]] = {}


def _whole_graph(region: Region, key: tuple[int, int]) -> RoadGraph:
    cached = _graphs.get(region.pk)
    if cached is None or cached[0] != key:
        cached = (key, load_road_graph(key[0], metric_srid=key[1]))
        _graphs[region.pk] = cached
    return cached[1]


def profile_engine(graph: RoadGraph, attributes: EdgeAttributes, profile: str) -> CsgraphEngine:
    """The engine of one vehicle profile on the whole network ``graph``, with the deployment's settings.

    Settings: ``SIAGA_FIRE_ENGINE_MIN_WIDTH_M``, ``SIAGA_AGAINST_ONEWAY_FACTORS`` (profile -> factor, the
    emergency rule; none by default), ``SIAGA_ON_FOOT_SPEED_KPH`` for the walk or hose lay to a caller on
    a street the vehicle may not drive, searched up to ``SIAGA_MAX_ACCESS_M``.
    """
    rules = vehicle_profile(
        profile,
        fire_engine_min_width_m=settings.SIAGA_FIRE_ENGINE_MIN_WIDTH_M,
        against_oneway_factor=settings.SIAGA_AGAINST_ONEWAY_FACTORS.get(profile),
    )
    on_foot = None
    if rules.on_foot:
        on_foot = OnFootAccess(
            graph,
            allowed_edges(graph, attributes, rules),
            speed_kph=settings.SIAGA_ON_FOOT_SPEED_KPH,
            max_on_foot_m=settings.SIAGA_MAX_ACCESS_M,
        )
    return CsgraphEngine(
        profile_graph(graph, attributes, rules),
        access_speed_kph=settings.SIAGA_ACCESS_SPEED_KPH,
        max_access_m=settings.SIAGA_MAX_ACCESS_M,
        isochrone_buffer_m=settings.SIAGA_ISOCHRONE_BUFFER_M,
        on_foot=on_foot,
    )


def load_edge_attributes(version_id: int) -> EdgeAttributes:
    """The kept OSM tags and imported speeds of a version's edges, in the order of :func:`load_road_graph`."""
    rows = list(
        RoadEdge.objects.filter(version_id=version_id).order_by("id").values_list("tags", "speed_kph", "speed_source")
    )
    return EdgeAttributes(
        tags=[row[0] or {} for row in rows],
        speed_kph=np.array([row[1] for row in rows], dtype=np.float64),
        speed_source=[row[2] for row in rows],
    )


def _check_metric_srid(region: Region, version_id: int) -> None:
    extent = RoadNode.objects.filter(version_id=version_id).aggregate(extent=Extent("geom"))["extent"]
    problems = metric_srid_problems(region.metric_srid, extent)
    if problems:
        raise RegionCrsInvalidError(
            f"{region.name}'s metric_srid EPSG:{region.metric_srid} cannot measure its road network, so it "
            f"cannot be routed; an administrator must set a projected CRS in metres for the region: "
            + "; ".join(problems),
            srid=region.metric_srid,
            problems=problems,
        )


def load_road_graph(version_id: int, *, metric_srid: int) -> RoadGraph:
    """Read one network version from PostGIS into a :class:`RoadGraph` (metric CRS ``EPSG:metric_srid``)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, COALESCE(osm_id, -1), ST_X(geom), ST_Y(geom) FROM {RoadNode._meta.db_table} "
            "WHERE version_id = %s ORDER BY id",
            [version_id],
        )
        nodes = cursor.fetchall()
        cursor.execute(
            f"SELECT id, source_id, target_id, travel_time_s, length_m, name, highway, ST_AsBinary(geom) "
            f"FROM {RoadEdge._meta.db_table} WHERE version_id = %s ORDER BY id",
            [version_id],
        )
        edges = cursor.fetchall()
    node_id = np.fromiter((row[0] for row in nodes), dtype=np.int64, count=len(nodes))
    columns = list(zip(*edges, strict=True)) if edges else [()] * 8
    return road_graph_from_arrays(
        node_lonlat=np.array([(row[2], row[3]) for row in nodes], dtype=np.float64).reshape(-1, 2),
        node_osm_id=np.array([row[1] for row in nodes], dtype=np.int64),
        node_db_id=node_id,
        edge_db_id=np.array(columns[0], dtype=np.int64),
        edge_source=np.searchsorted(node_id, np.array(columns[1], dtype=np.int64)),
        edge_target=np.searchsorted(node_id, np.array(columns[2], dtype=np.int64)),
        edge_travel_time_s=np.array(columns[3], dtype=np.float64),
        edge_length_m=np.array(columns[4], dtype=np.float64),
        edge_name=[name or None for name in columns[5]],
        edge_highway=[highway or None for highway in columns[6]],
        edge_geometry_lonlat=shapely.from_wkb([bytes(wkb) for wkb in columns[7]]),
        metric_crs=f"EPSG:{metric_srid}",
    )


def clear_engines() -> None:
    """Forget every loaded engine (tests, and after deleting a region)."""
    with _lock:
        _engines.clear()
        _graphs.clear()
    clear_variants()
