"""What every coverage computation of one region needs: engine, demand points and their attachment.

Built once per (region, network version, cell size, population figures) and kept in the process, so
a second request only runs its searches. Also resolves source points onto the network and turns
grid cells and areas back into geometry for output.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np
import shapely
from django.conf import settings

from coverage import selectors
from coverage.errors import CoverageInputError, CoverageTooLargeError, NoSourcesError
from coverage.population import AreaRow, DemandSet, demand_points
from coverage.selectors import SourcePoint
from gis_core.crs import transform_geometries, transformer_to_lonlat, transformer_to_metric
from gis_core.models import Region
from gis_core.routing.engine import PointAttachment, RoutingEngine, Snap
from gis_core.routing.hour_band_engines import engine_for_band
from gis_core.routing.profiles import CAR
from gis_core.routing.registry import active_version_id, engine_for
from gis_core.routing.speed_learning import HOUR_BANDS
from gis_core.shared_versions import boundaries_version_name, shared_version

DEFAULT_CELL_M = 250.0
BAND_NAMES: tuple[str, ...] = tuple(name for name, _, _ in HOUR_BANDS)
_CACHE_SIZE = 6
_cache: OrderedDict[tuple, Context] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class Context:
    """A region's engine, demand points attached to it, and its polygons in the metric CRS."""

    region: Region
    version_id: int
    engine: RoutingEngine
    demand: DemandSet
    attachment: PointAttachment
    kecamatan_rows: list[AreaRow]
    kelurahan_rows: list[AreaRow]
    profile: str = CAR  # the vehicle profile the engine routes (gis_core.routing.profiles)
    hour_band: str | None = None  # the hour band of learned speeds asked for; None: the all-day weights

    @property
    def metric_crs(self) -> str:
        return self.demand.metric_crs


def coverage_context(
    *, region: Region, cell_m: float = DEFAULT_CELL_M, profile: str = CAR, hour_band: str | None = None
) -> Context:
    """The cached context for the region's active network as it is now (its live road closures applied);
    rebuilt when the network, its closures or the population change.

    Parameters
    ----------
    profile
        The vehicle profile to route (``gis_core.routing.profiles``); the car by default.
    hour_band
        A local hour band (``00-06`` ... ``20-24``) whose learned speeds to route on
        (``hour_band_engines.engine_for_band``); None, the default: the network's all-day weights (an
        imported network's table speeds, a calibrated one's all-day factors), planning for no hour.

    Raises
    ------
    CoverageInputError
        An unknown hour band.
    """
    if hour_band is None:
        engine = engine_for(region, profile)
    elif hour_band in BAND_NAMES:
        engine = engine_for_band(region, hour_band, profile)
    else:
        raise CoverageInputError(f"unknown hour band {hour_band!r}; use one of {', '.join(BAND_NAMES)}")
    version_id = active_version_id(region)
    # Every input is in the key, read per call, so a change made by any process is used by the next run here: the
    # network version and the population (database), the boundaries' shared version (gis_core.shared_versions;
    # unreadable: the old context stays until the network or population changes).
    boundaries = shared_version(boundaries_version_name(region.pk))
    key = (
        region.pk, version_id, float(cell_m), selectors.population_fingerprint(region=region), str(boundaries),
        profile, hour_band,
    )  # fmt: skip
    with _lock:
        # The same key on another engine is the network with live road closures started or lifted since
        # (gis_core.routing.live_closures): coverage and what-ifs start from the network as it is now.
        if key in _cache and _cache[key].engine is engine:
            _cache.move_to_end(key)
            return _cache[key]
    context = build_context(region=region, engine=engine, version_id=version_id, cell_m=cell_m)
    context = replace(context, profile=profile, hour_band=hour_band)
    with _lock:
        _cache[key] = context
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return context


def build_context(*, region: Region, engine: RoutingEngine, version_id: int, cell_m: float) -> Context:
    """A fresh context (no cache): read the areas, place the demand points, attach them to ``engine``."""
    kecamatan, kelurahan, total = selectors.admin_area_rows(region=region)
    grid_size_check(kecamatan or kelurahan, cell_m=cell_m)
    crs = f"EPSG:{region.metric_srid}"
    demand = demand_points(
        kecamatan, kelurahan, total, cell_m=cell_m, metric_crs=crs, to_lonlat=transformer_to_lonlat(crs)
    )
    return Context(region, version_id, engine, demand, engine.attach_points(demand.lonlat), kecamatan, kelurahan)


def coverage_request_check(*, region: Region, cell_m: float) -> None:
    """What a run can be refused for before it is queued: a grid of too many cells (``CoverageTooLargeError``)."""
    kecamatan, kelurahan, _ = selectors.admin_area_rows(region=region)
    grid_size_check(kecamatan or kelurahan, cell_m=cell_m)


def grid_size_check(areas: list[AreaRow], *, cell_m: float) -> None:
    """Refuse a grid of more than ``SIAGA_COVERAGE_MAX_CELLS`` cells over ``areas`` before it is built.

    Parameters
    ----------
    areas
        The region's kecamatan (or kelurahan), polygons in the metric CRS.
    cell_m
        Grid cell side, metres.

    Raises
    ------
    CoverageTooLargeError
        Naming the smallest ``cell_m`` the region allows.
    """
    limit = settings.SIAGA_COVERAGE_MAX_CELLS
    area_m2 = sum(float(area.geom_m.area) for area in areas)
    cells = math.ceil(area_m2 / cell_m**2)
    if cells > limit:
        smallest_m = math.ceil(math.sqrt(area_m2 / limit))
        raise CoverageTooLargeError(
            f"cell_m={cell_m:g} makes about {cells:,} grid cells over the region (at most {limit:,} in one run): "
            f"use cell_m of at least {smallest_m}"
        )


def with_engine(context: Context, engine: RoutingEngine) -> Context:
    """The same demand points attached to another network (a what-if variant)."""
    return Context(
        context.region,
        context.version_id,
        engine,
        context.demand,
        engine.attach_points(context.demand.lonlat),
        context.kecamatan_rows,
        context.kelurahan_rows,
        context.profile,
        context.hour_band,
    )


def clear_contexts() -> None:
    """Forget every cached context (tests)."""
    with _lock:
        _cache.clear()


def snap_sources(engine: RoutingEngine, sources: list[SourcePoint]) -> tuple[list[SourcePoint], list[Snap], list[dict]]:
    """Sources that lie within reach of the network, their snaps, and the ones left out with the reason."""
    snaps = engine.try_snap([(s.lon, s.lat) for s in sources]) if sources else []
    kept, kept_snaps, dropped = [], [], []
    for source, snap in zip(sources, snaps, strict=True):
        if isinstance(snap, Snap):
            kept.append(source)
            kept_snaps.append(snap)
        else:
            dropped.append({**source_data(source), "reason": str(snap)})
    return kept, kept_snaps, dropped


def require_sources(sources: list[SourcePoint], dropped: list[dict], *, what: str) -> None:
    """Raise :class:`NoSourcesError` when nothing is left to search from."""
    if sources:
        return
    if dropped:
        raise NoSourcesError(
            f"none of the {len(dropped)} {what} can be placed on the road network: {dropped[0]['reason']}"
        )
    raise NoSourcesError(f"no {what} found: name agencies with stations, unit types, or give points")


def source_data(source: SourcePoint) -> dict:
    return {
        "kind": source.kind,
        "ref": source.ref,
        "label": source.label,
        "agency": source.agency,
        "point": [round(source.lon, 7), round(source.lat, 7)],
        "position": source.position,
    }


def kecamatan_of_points(context: Context, lonlat: np.ndarray) -> list[str | None]:
    """The kecamatan code covering each point (EPSG:4326), or None outside every kecamatan."""
    if not len(lonlat):
        return []
    x, y = transformer_to_metric(context.metric_crs).transform(lonlat[:, 0], lonlat[:, 1])
    points = shapely.points(x, y)
    polygons = np.array([row.geom_m for row in context.kecamatan_rows], dtype=object)
    tree = shapely.STRtree(polygons)
    point_i, poly_i = tree.query(points, predicate="covered_by")
    out: list[str | None] = [None] * len(points)
    for p, k in sorted(zip(point_i.tolist(), poly_i.tolist(), strict=True), key=lambda t: (t[0], -t[1])):
        out[p] = context.kecamatan_rows[k].code  # the lowest code wins on a shared boundary
    return out


def cell_polygons_lonlat(context: Context, cells: np.ndarray) -> np.ndarray:
    """Grid squares (i, j) as EPSG:4326 polygons."""
    cell_m, (x0, y0) = context.demand.cell_m, context.demand.origin_m
    boxes = shapely.box(
        x0 + cells[:, 0] * cell_m,
        y0 + cells[:, 1] * cell_m,
        x0 + (cells[:, 0] + 1) * cell_m,
        y0 + (cells[:, 1] + 1) * cell_m,
    )
    return transform_geometries(boxes, transformer_to_lonlat(context.metric_crs))
