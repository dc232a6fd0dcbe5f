"""Live road closures (disaster mode): a dispatcher or BPBD user closes or slows roads, lifts them; ends at their time.

The table is gis_core's (``RoadClosure``: routing reads it on every ``engine_for`` call, so a closure applies
in every process from its ``starts_at``); the writes are here because they are dispatch work, audited with
their :class:`~fleet.actors.Actor` (``fleet.services.audit``), and announced to the consoles (the live
``closure`` message, ``incidents.live.messages.closure_message``) after commit. gis_core imports neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiLineString
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fleet.actors import SYSTEM, Actor
from fleet.services.audit import audit_record
from gis_core.api.fields import iso
from gis_core.crs import transform_geometries, transformer_to_metric
from gis_core.errors import ClosureGeometryError
from gis_core.models import ClosureMode, Region, RoadClosure, RoadEdge, RoadNetworkVersion
from gis_core.routing.live_closures import closure_edges
from gis_core.routing.registry import engine_for
from gis_core.selectors import CLOSURE_ENDED
from incidents.errors import ClosureCoversNoRoadError, ClosureError, ClosureStateError
from incidents.live.messages import closure_message
from incidents.live.publisher import publish

MAX_SLOW_FACTOR = 20.0


@dataclass(frozen=True)
class ClosureCreated:
    """The new closure and what it covers on the network now (for the dispatcher to check)."""

    closure: RoadClosure
    edge_count: int
    streets: tuple[str, ...]


def road_closure_create(
    *,
    region: Region,
    reason: str,
    source: str,
    geometry: shapely.Geometry | None = None,
    edge_ids: Sequence[int] = (),
    mode: str = ClosureMode.CLOSED,
    slow_factor: float | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> ClosureCreated:
    """Close (or slow) the roads an area crosses or streets run along, from ``starts_at`` (default now).

    Parameters
    ----------
    region
        The closure's region; its active network must exist (``NoNetworkError`` otherwise).
    geometry
        A MultiPolygon or MultiLineString in EPSG:4326 (``gis_core.closure_geojson.closure_geometry``); or
    edge_ids
        ``RoadEdge`` ids of the active network (streets picked); their lines become the geometry.
    mode, slow_factor
        ``closed``, or ``slow`` with a travel-time factor in (1, 20].
    starts_at, ends_at
        When it applies; no ``ends_at``: until lifted. ``ends_at`` must be after both ``starts_at`` and now.

    Raises
    ------
    ClosureError
        Times or factor out of range, neither or both of geometry and edge ids.
    ClosureGeometryError
        An area larger than ``SIAGA_CLOSURE_MAX_AREA_KM2``.
    ClosureCoversNoRoadError
        Nothing of the network is covered, or everything would be.
    UnknownEdgeError
        An edge id not in the region's active network.
    """
    now = timezone.now()
    starts_at = starts_at or now
    _check_times_and_factor(mode=mode, slow_factor=slow_factor, starts_at=starts_at, ends_at=ends_at, now=now)
    if (geometry is None) == (not edge_ids):
        raise ClosureError("give the closure's area or lines, or the ids of the streets picked (one of them)")
    base = engine_for(region, live_closures=False)
    if edge_ids:
        base.edge_indices_for_ids(list(edge_ids))  # UnknownEdgeError naming the first id not in the network
        geom: GEOSGeometry = _edges_geometry(region, edge_ids)
    else:
        geom = GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=4326)
    _check_area(region, geom)
    closure = RoadClosure(
        region=region,
        geom=geom,
        mode=mode,
        slow_factor=slow_factor if mode == ClosureMode.SLOW else None,
        reason=reason,
        source=source,
        edge_ids=[int(i) for i in edge_ids],
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor.person_user,
        start_announced=starts_at <= now,
    )
    covered = closure_edges(base, closure)
    if not len(covered):
        raise ClosureCoversNoRoadError(
            "the closure crosses no road of the region's network: draw the area over the roads, or the line "
            f"along a street (within {settings.SIAGA_CLOSURE_LINE_TOLERANCE_M:.0f} m of it)"
        )
    version = RoadNetworkVersion.objects.filter(region=region, is_active=True).only("edge_count").first()
    if mode == ClosureMode.CLOSED and version is not None and len(np.unique(covered)) >= version.edge_count:
        raise ClosureCoversNoRoadError("the closure covers every road of the network: draw a smaller area")
    streets = tuple(sorted({info.name for info in base.edges_info(covered) if info.name}))
    closure.full_clean()
    with transaction.atomic():
        closure.save()
        audit_record(
            action="road_closure.create",
            actor=actor,
            obj=closure,
            data={
                "region": region.slug,
                "reason": reason,
                "mode": mode,
                "slow_factor": closure.slow_factor,
                "source": source,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat() if ends_at else None,
                "edges": len(covered),
                "network_version_id": version.pk if version else None,
            },
        )
        transaction.on_commit(partial(publish, closure_message, closure.pk))
    return ClosureCreated(closure=closure, edge_count=len(covered), streets=streets)


def road_closure_lift(*, closure: RoadClosure, actor: Actor = SYSTEM, reason: str = "") -> RoadClosure:
    """Lift a closure by hand now: routing stops applying it at the next request everywhere.

    Raises
    ------
    ClosureStateError
        It was already lifted or has ended.
    """
    now = timezone.now()
    with transaction.atomic():
        locked = RoadClosure.objects.select_for_update().get(pk=closure.pk)
        if locked.lifted_at is not None or (locked.ends_at is not None and locked.ends_at <= now):
            raise ClosureStateError(f"closure {locked.pk} is no longer in force (lifted or ended)")
        locked.lifted_at, locked.lifted_by, locked.lift_reason = now, actor.person_user, reason
        locked.save(update_fields=["lifted_at", "lifted_by", "lift_reason", "updated_at"])
        audit_record(action="road_closure.lift", actor=actor, obj=locked, data={"reason": reason})
        transaction.on_commit(partial(publish, closure_message, locked.pk))
    return locked


def road_closures_end_due(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """Record the end of closures past their ``ends_at`` and announce those that reached their ``starts_at``.

    Routing already ignores an ended closure (``live_closures.network_state`` checks the time on every
    call); this writes it down (``lifted_at`` = ``ends_at``, reason ``ended``, audited as the system) and
    tells the consoles. Run by ``outbound_worker`` on each pass and by ``manage.py closures_end_due``; rows
    another worker holds are skipped.

    Returns
    -------
    (ended ids, started ids)
    """
    now = now or timezone.now()
    with transaction.atomic():
        ended = list(
            RoadClosure.objects.select_for_update(skip_locked=True).filter(lifted_at__isnull=True, ends_at__lte=now)
        )
        for closure in ended:
            closure.lifted_at, closure.lift_reason = closure.ends_at, CLOSURE_ENDED
            closure.save(update_fields=["lifted_at", "lift_reason", "updated_at"])
            ends = {"ends_at": iso(closure.ends_at)}
            audit_record(action="road_closure.end", actor=SYSTEM, obj=closure, data=ends)
            transaction.on_commit(partial(publish, closure_message, closure.pk))
        started = list(
            RoadClosure.objects.select_for_update(skip_locked=True)
            .filter(lifted_at__isnull=True, start_announced=False, starts_at__lte=now)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        )
        for closure in started:
            closure.start_announced = True
            closure.save(update_fields=["start_announced"])  # not updated_at: routing's key does not change
            transaction.on_commit(partial(publish, closure_message, closure.pk))
    return [c.pk for c in ended], [c.pk for c in started]


def _check_times_and_factor(
    *, mode: str, slow_factor: float | None, starts_at: datetime, ends_at: datetime | None, now: datetime
) -> None:
    if mode not in ClosureMode.values:
        raise ClosureError(f"mode must be one of {', '.join(ClosureMode.values)}, not {mode!r}")
    if mode == ClosureMode.SLOW and (slow_factor is None or not 1 < slow_factor <= MAX_SLOW_FACTOR):
        raise ClosureError(
            f"a slow closure needs slow_factor above 1 and at most {MAX_SLOW_FACTOR:g} (travel time multiplied)"
        )
    if mode == ClosureMode.CLOSED and slow_factor is not None:
        raise ClosureError('slow_factor is for mode "slow" only')
    if ends_at is not None and (ends_at <= starts_at or ends_at <= now):
        raise ClosureError("ends_at must be later than starts_at and than now")


def _edges_geometry(region: Region, edge_ids: Sequence[int]) -> MultiLineString:
    lines = list(
        RoadEdge.objects.filter(pk__in=list(edge_ids), version__region=region, version__is_active=True).values_list(
            "geom", flat=True
        )
    )
    return MultiLineString(*lines, srid=4326)


def _check_area(region: Region, geom: GEOSGeometry) -> None:
    if geom.geom_type not in ("MultiPolygon", "Polygon"):
        return
    shape_m = transform_geometries(
        shapely.from_wkb(bytes(geom.wkb)), transformer_to_metric(f"EPSG:{region.metric_srid}")
    )
    area_km2 = float(shapely.area(shape_m)) / 1e6
    limit = settings.SIAGA_CLOSURE_MAX_AREA_KM2
    if area_km2 > limit:
        raise ClosureGeometryError(
            f"the area is {area_km2:,.0f} km² (at most {limit:,.0f}): draw the flooded part only"
        )
