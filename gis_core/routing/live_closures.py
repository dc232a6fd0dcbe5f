"""Live road closures applied to a region's engine: what every ETA, route and isochrone is computed on.

The registry asks :func:`network_state` on every call: one indexed query gives the active network version
and the closures in force *now* (started, not ended, not lifted), each with its last change. That key is
all a process needs to know it is up to date: a closure created, changed or lifted in any process, and
one reaching its ``starts_at`` or ``ends_at``, changes the key of the next call everywhere, with no
message, re-import or restart. On a new key :func:`with_live_closures` builds the variant once (the
closures' edges found on the base engine, closed edges removed, slowed ones multiplied:
``RoutingEngine.with_edge_factors``) and keeps it beside the base engine, which stays loaded, so a lift
is instant. Django-aware like the registry; the graph work is the pure ``variants`` module's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import datetime

import numpy as np
import shapely
from django.conf import settings
from django.db import connection
from django.utils import timezone

from gis_core.models import ClosureMode, Region, RoadClosure, RoadNetworkVersion
from gis_core.routing.engine import RoutingEngine
from gis_core.routing.variant_cache import VariantCache

logger = logging.getLogger(__name__)

ClosuresKey = tuple[tuple[int, float], ...]  # ((closure id, updated_at epoch s), ...) in force now, by id

# (region pk, vehicle profile) -> the base engine it was built on and the variant of the closures key in force
_variants = VariantCache(latest_only=True)

_STATE_SQL = f"""
SELECT v.id, (
    SELECT COALESCE(string_agg(c.id::text || ':' || extract(epoch FROM c.updated_at)::text, ',' ORDER BY c.id), '')
    FROM {RoadClosure._meta.db_table} c
    WHERE c.region_id = %(region)s AND c.lifted_at IS NULL AND c.starts_at <= %(now)s
      AND (c.ends_at IS NULL OR c.ends_at > %(now)s)
)
FROM {RoadNetworkVersion._meta.db_table} v WHERE v.region_id = %(region)s AND v.is_active
"""


def network_state(region: Region, *, now: datetime | None = None) -> tuple[int | None, ClosuresKey]:
    """The region's active network version id (None: no network) and the closures in force at ``now``.

    One query, run on every ``engine_for`` call. A closure past its ``ends_at`` is no longer in force
    here whether or not ``road_closures_end_due`` has recorded its end yet.
    """
    with connection.cursor() as cursor:
        cursor.execute(_STATE_SQL, {"region": region.pk, "now": now or timezone.now()})
        row = cursor.fetchone()
    if row is None:
        return None, ()
    return row[0], _parse_key(row[1])


def _parse_key(text: str | None) -> ClosuresKey:
    pairs = (item.split(":") for item in (text or "").split(",") if item)
    return tuple((int(pk), float(epoch)) for pk, epoch in pairs)


def with_live_closures(
    region: Region, base: RoutingEngine, closures: ClosuresKey, *, profile: str = "car"
) -> RoutingEngine:
    """``base`` (the region's engine of ``profile``) with the closures of ``closures`` applied (``base``
    itself when there are none).

    Built once per (base engine, closures key), region and profile, under a lock; a closure that covers no
    edge of this network (drawn beside it, or after a re-import) changes nothing.
    """
    if not closures:
        return base
    return _variants.get((region.pk, profile), base, closures, lambda: _closures_applied(region, base, closures))


def _closures_applied(region: Region, base: RoutingEngine, closures: ClosuresKey) -> RoutingEngine:
    started = time.perf_counter()
    rows = RoadClosure.objects.filter(pk__in=[pk for pk, _ in closures]).only("geom", "mode", "slow_factor")
    indices, factors = closure_edge_factors(base, rows)
    try:
        engine = base.with_edge_factors(indices, factors) if len(indices) else base
    except ValueError as exc:  # every edge closed: refused at create, so only after a re-import
        logger.error("closures %s of %s not applied: %s", [pk for pk, _ in closures], region.slug, exc)
        engine = base
    logger.info(
        "applied %d closure(s) of %s (%d edges) in %.3f s",
        len(closures),
        region.slug,
        len(indices),
        time.perf_counter() - started,
    )
    return engine


def closure_edge_factors(engine: RoutingEngine, closures: Iterable[RoadClosure]) -> tuple[np.ndarray, np.ndarray]:
    """The edges of ``engine`` the closures cover and the factor of each (``inf``: closed; else ``slow_factor``).

    An edge under several closures takes the largest factor (closed beats slow).
    """
    indices: list[np.ndarray] = []
    factors: list[np.ndarray] = []
    for closure in closures:
        edges = closure_edges(engine, closure)
        factor = np.inf if closure.mode == ClosureMode.CLOSED else float(closure.slow_factor or 1.0)
        indices.append(edges)
        factors.append(np.full(len(edges), factor))
    if not indices:
        return np.empty(0, dtype=np.intp), np.empty(0)
    return np.concatenate(indices).astype(np.intp), np.concatenate(factors)


def closure_edges(engine: RoutingEngine, closure: RoadClosure) -> np.ndarray:
    """Edge positions of ``engine`` that one closure covers (an area: crossing it; lines: running along them)."""
    geometry = shapely.from_wkb(bytes(closure.geom.wkb))
    return engine.edges_covered_by(geometry, line_tolerance_m=settings.SIAGA_CLOSURE_LINE_TOLERANCE_M)


def clear_variants() -> None:
    """Forget every closure variant (with ``registry.clear_engines``)."""
    _variants.clear()
