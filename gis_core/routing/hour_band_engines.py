"""Engines for the hour bands of a calibrated network: the active version's weights with one band's factors.

A calibrated network version (``calibrate_speeds``) stores its edges' travel times at the all-day
factors, and with them the factors of each local hour band (:class:`~gis_core.models.RoadSpeedFactor`).
The engine of a band takes each edge ``factor_all / factor_band`` times the stored time, the factors
resolved edge by edge as :func:`~gis_core.routing.speed_learning.resolve_edge_factors` does. A version
without factors (imported, never calibrated) has one engine for every hour: :func:`engine_for` itself.

Kept apart from :mod:`gis_core.routing.registry`: this module asks the registry for the active engine
and caches its band variants per region, keyed by that engine object, so a new version, a changed
CRS or whatever else the registry keys on replaces the variants too.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import numpy as np
from django.utils import timezone

from gis_core.models import Region, RoadEdge, RoadSpeedFactor
from gis_core.routing.engine import RoutingEngine
from gis_core.routing.profiles import CAR
from gis_core.routing.registry import engine_for
from gis_core.routing.speed_learning import ALL_DAY, SpeedFactor, hour_band_at, resolve_edge_factors
from gis_core.routing.variant_cache import VariantCache

# (region pk, vehicle profile) -> the registry's engine the variants were made from and {band: engine}
_variants = VariantCache()


def engine_for_now(region: Region, profile: str = CAR, *, at: datetime | None = None) -> RoutingEngine:
    """The profile's engine for the local hour band of ``at`` (default: now) in the region's time zone."""
    moment = at or timezone.now()
    return engine_for_band(region, hour_band_at(moment.timestamp(), region.time_zone), profile)


def engine_for_band(region: Region, band: str, profile: str = CAR) -> RoutingEngine:
    """The region's active engine of ``profile`` with the learned factors of ``band`` (a band name or ``all``).

    Raises
    ------
    NoNetworkError, RegionCrsInvalidError
        As :func:`~gis_core.routing.registry.engine_for`.
    """
    base = engine_for(region, profile)
    return _variants.get((region.pk, profile), base, band, lambda: _band_engine(base, band))


def _band_engine(base: RoutingEngine, band: str) -> RoutingEngine:
    if band == ALL_DAY:
        return base
    # A profile's engine holds its own subset of the version's edges (a reversed one-way copy shares its
    # original's id), so factors are looked up per engine edge by the RoadEdge id it was loaded from.
    infos = base.edges_info(np.arange(base.edge_count))
    if not infos or infos[0].edge_id is None:  # a network not loaded from the database has no stored factors
        return base
    # The version the engine was loaded from, by one of its own edges (not "the active one now", which
    # may already be newer than the engine in hand).
    version_id = RoadEdge.objects.filter(pk=infos[0].edge_id).values_list("version_id", flat=True).first()
    if version_id is None:
        return base
    rows = list(
        RoadSpeedFactor.objects.filter(version_id=version_id, applied=True).values_list(
            "hour_band", "highway", "edge_id", "factor"
        )
    )
    if not rows:
        return base
    positions: defaultdict[int, list[int]] = defaultdict(list)
    for position, info in enumerate(infos):
        positions[int(info.edge_id)].append(position)  # type: ignore[arg-type]
    factors = [
        SpeedFactor(cls, b, position, f, 0, 0.0, 0.0, applied=True)
        for b, cls, e, f in rows
        for position in ([None] if e is None else positions.get(e, []))
    ]
    highway = [info.highway for info in infos]
    stored = resolve_edge_factors(factors, ALL_DAY, highway)
    return base.with_travel_time_factors(stored / resolve_edge_factors(factors, band, highway))


def clear_band_engines() -> None:
    """Forget every band engine (tests)."""
    _variants.clear()
