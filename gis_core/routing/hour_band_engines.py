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

import threading
from datetime import datetime

import numpy as np
from django.utils import timezone

from gis_core.models import Region, RoadEdge, RoadSpeedFactor
from gis_core.routing.engine import RoutingEngine
from gis_core.routing.registry import engine_for
from gis_core.routing.speed_learning import ALL_DAY, SpeedFactor, hour_band_at, resolve_edge_factors

_lock = threading.Lock()
# region pk -> (the registry's engine the variants were made from, {band: engine})
_variants: dict[int, tuple[RoutingEngine, dict[str, RoutingEngine]]] = {}


def engine_for_now(region: Region, *, at: datetime | None = None) -> RoutingEngine:
    """The engine for the local hour band of ``at`` (default: now) in the region's time zone."""
    moment = at or timezone.now()
    return engine_for_band(region, hour_band_at(moment.timestamp(), region.time_zone))


def engine_for_band(region: Region, band: str) -> RoutingEngine:
    """The region's active engine with the learned factors of ``band`` (an hour band name or ``all``).

    Raises
    ------
    NoNetworkError, RegionCrsInvalidError
        As :func:`~gis_core.routing.registry.engine_for`.
    """
    base = engine_for(region)
    cached = _variants.get(region.pk)
    if cached is not None and cached[0] is base and band in cached[1]:
        return cached[1][band]
    with _lock:
        cached = _variants.get(region.pk)
        if cached is None or cached[0] is not base:
            cached = (base, {})
            _variants[region.pk] = cached
        if band not in cached[1]:
            cached[1][band] = _band_engine(base, band)
        return cached[1][band]


def _band_engine(base: RoutingEngine, band: str) -> RoutingEngine:
    if band == ALL_DAY:
        return base
    # The version the engine was loaded from, by one of its own edges (not "the active one now", which
    # may already be newer than the engine in hand).
    first = base.edges_info([0])[0].edge_id
    if first is None:  # a network not loaded from the database has no stored factors
        return base
    version = RoadEdge.objects.filter(pk=first).values_list("version_id", "version__edge_count").first()
    if version is None:
        return base
    version_id, edge_count = version
    rows = list(
        RoadSpeedFactor.objects.filter(version_id=version_id, applied=True).values_list(
            "hour_band", "highway", "edge_id", "factor"
        )
    )
    if not rows:
        return base
    edge_ids = [edge_id for _, _, edge_id, _ in rows if edge_id is not None]
    index_of = dict(zip(edge_ids, base.edge_indices_for_ids(edge_ids).tolist(), strict=True))
    factors = [
        SpeedFactor(cls, b, None if e is None else index_of[e], f, 0, 0.0, 0.0, applied=True) for b, cls, e, f in rows
    ]
    highway = [info.highway for info in base.edges_info(np.arange(edge_count))]
    stored = resolve_edge_factors(factors, ALL_DAY, highway)
    return base.with_travel_time_factors(stored / resolve_edge_factors(factors, band, highway))


def clear_band_engines() -> None:
    """Forget every band engine (tests)."""
    with _lock:
        _variants.clear()
