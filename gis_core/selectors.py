"""Reads over regions, their administrative areas, their road closures and learned speeds.

Geometries are stored in EPSG:4326 and points are (lon, lat). Containment uses PostGIS ``ST_Covers``
(``geom__covers``) on the stored geometry, so the GiST index on ``geom`` is used and no transform happens
per query.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import shapely
from django.conf import settings
from django.contrib.gis.db.models import Union
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db.models import Q, QuerySet
from django.utils.module_loading import import_string

from gis_core.api.fields import iso
from gis_core.models import Kecamatan, Kelurahan, Region, RoadClosure, RoadSpeedFactor
from gis_core.routing.speed_learning import ALL_DAY, hour_band_at


def region_by_slug_or_code(slug_or_code: str, *, among: QuerySet[Region] | None = None) -> Region | None:
    """The region with this slug (``kota-jambi``) or Kemendagri code (``15.71``), or None.

    Parameters
    ----------
    slug_or_code
        A slug or a code; a slug match wins should one region's slug equal another's code.
    among
        Look only in these regions (e.g. the ones a user may see); default all.

    Returns
    -------
    Region or None
    """
    value = slug_or_code.strip()
    if "\x00" in value:  # no slug or code holds one, and PostgreSQL text cannot even be compared with it
        return None
    regions = Region.objects.all() if among is None else among
    matches = sorted(regions.filter(Q(slug=value) | Q(code=value)), key=lambda r: r.slug != value)
    return matches[0] if matches else None


def regions_visible(user: Any, capability: str | None = None) -> QuerySet[Region]:
    """The regions ``user`` may see (or, given ``capability``, do that in), as the access app decides
    (``SIAGA_REGIONS_FOR_USER``; the capabilities are ``access.roles.CAPABILITIES``, passed on as they are).

    gis_core imports no app above it; its views scope regions through this one call. Anonymous users
    see none (the access app's rule).
    """
    regions_for_user = import_string(settings.SIAGA_REGIONS_FOR_USER)
    return regions_for_user(user) if capability is None else regions_for_user(user, capability=capability)


def regions_administered(user: Any) -> QuerySet[Region]:
    """The regions whose rows ``user`` edits in /admin/, as the access app decides
    (``SIAGA_REGIONS_ADMINISTERED_BY``: a region admin's regions; a superuser all)."""
    return import_string(settings.SIAGA_REGIONS_ADMINISTERED_BY)(user)


def region_visible(user: Any, *, slug_or_code: str, capability: str | None = None) -> Region | None:
    """The region named by ``slug_or_code`` among those ``user`` may see, else None (unknown and another
    centre's alike, so a view answers both the same way and never confirms that a region exists)."""
    return region_by_slug_or_code(slug_or_code, among=regions_visible(user, capability))


def admin_areas_containing(*, region: Region, lon: float, lat: float) -> tuple[Kecamatan | None, Kelurahan | None]:
    """The kecamatan and the kelurahan of ``region`` that cover a point.

    Parameters
    ----------
    region
        Only this region's areas are searched.
    lon, lat
        The point in EPSG:4326 degrees.

    Returns
    -------
    tuple
        ``(kecamatan, kelurahan)``; either is None when the point lies outside every polygon of that level
        (off the city, in the river outside the boundary data, or in one of Ambon's small gaps between
        villages).

    Notes
    -----
    A point exactly on a shared boundary is covered by both neighbours (``ST_Covers`` includes the boundary,
    unlike ``ST_Contains``); the lowest code wins so the answer is stable. The two levels are looked up
    independently because the kecamatan polygons are not always the exact union of their kelurahan (Ambon's
    were dissolved with a 15 m close), so near an edge the kelurahan found may belong to a neighbouring
    kecamatan. Two queries.
    """
    point = Point(lon, lat, srid=4326)
    kecamatan = Kecamatan.objects.filter(region=region, geom__covers=point).order_by("code").first()
    kelurahan = (
        Kelurahan.objects.filter(kecamatan__region=region, geom__covers=point)
        .select_related("kecamatan")
        .order_by("code")
        .first()
    )
    return kecamatan, kelurahan


def region_kecamatan_union(*, region: Region) -> GEOSGeometry | None:
    """The union of a region's kecamatan polygons in EPSG:4326, or None before boundaries are imported."""
    return Kecamatan.objects.filter(region=region).aggregate(union=Union("geom"))["union"]


def region_area_lonlat(*, region: Region, buffer_m: float) -> shapely.Geometry | None:
    """The union of a region's kecamatan grown by ``buffer_m`` metres, as a shapely geometry in EPSG:4326.

    Buffered in the region's metric CRS, so the margin is metres everywhere; None before boundaries
    are imported. For testing raw lon/lat against "the region and its surroundings" (GPS fixes, a
    road extract to clip).
    """
    union = region_kecamatan_union(region=region)
    if union is None:
        return None
    buffered = union.transform(region.metric_srid, clone=True).buffer(buffer_m, quadsegs=4)
    buffered.transform(4326)
    return shapely.from_wkb(bytes(buffered.wkb))


# ---------------------------------------------------------------- road closures


def road_closure_state(closure: RoadClosure, *, now: datetime) -> str:
    """``active`` (in force), ``scheduled`` (starts later), ``ended`` (reached ``ends_at``) or ``lifted`` (by hand)."""
    if closure.lifted_at is not None:
        return "ended" if closure.lift_reason == CLOSURE_ENDED else "lifted"
    if closure.ends_at is not None and closure.ends_at <= now:
        return "ended"
    return "scheduled" if closure.starts_at > now else "active"


CLOSURE_ENDED = "ended"  # the lift_reason of a closure lifted at its ends_at (road_closures_end_due)


def road_closures_of_region(*, region: Region, now: datetime, recent_s: float = 0.0) -> QuerySet[RoadClosure]:
    """The region's closures in force or scheduled at ``now``, and those lifted or ended within ``recent_s``.

    Newest start first, with their creator and lifter loaded (no query per row).
    """
    since = now - timedelta(seconds=recent_s)
    current = Q(lifted_at__isnull=True) & (Q(ends_at__isnull=True) | Q(ends_at__gt=now))
    recent = Q(lifted_at__gte=since) | Q(lifted_at__isnull=True, ends_at__gte=since, ends_at__lte=now)
    rows = RoadClosure.objects.filter(region=region).filter(current | recent if recent_s > 0 else current)
    return rows.select_related("created_by", "lifted_by").order_by("-starts_at", "-pk")


def road_closure_for_user(user: Any, *, pk: int, capability: str | None = None) -> RoadClosure | None:
    """The closure ``pk`` if it is of a region where ``user`` may do ``capability``; else None (a 404)."""
    return (
        RoadClosure.objects.filter(pk=pk, region__in=regions_visible(user, capability))
        .select_related("region", "created_by", "lifted_by")
        .first()
    )


def road_closure_public(closure: RoadClosure, *, now: datetime) -> dict:
    """The one public shape of a closure (API and live message): a GeoJSON Feature, EPSG:4326."""
    user_name = lambda user: None if user is None else user.get_username()  # noqa: E731
    return {
        "type": "Feature",
        "id": closure.pk,
        "geometry": json.loads(closure.geom.geojson),
        "properties": {
            "id": closure.pk,
            "region": closure.region.slug,
            "state": road_closure_state(closure, now=now),
            "mode": closure.mode,
            "slow_factor": closure.slow_factor,
            "reason": closure.reason,
            "source": closure.source,
            "edge_ids": closure.edge_ids,
            "starts_at": iso(closure.starts_at),
            "ends_at": iso(closure.ends_at),
            "created_at": iso(closure.created_at),
            "created_by": user_name(closure.created_by),
            "lifted_at": iso(closure.lifted_at),
            "lifted_by": user_name(closure.lifted_by),
            "lift_reason": closure.lift_reason,
        },
    }


def speed_band_used(*, region: Region, version_id: int | None, at: datetime) -> str:
    """The hour band whose learned speeds an ETA for the moment ``at`` runs on.

    ``hour_band_engines.engine_for_now`` picks the local band of ``at`` (``00-06`` ... ``20-24``); its
    engine differs from the version's all-day weights only where the version stores applied factors for
    that band. So this is the band name when it does, else ``all``: the all-day weights (an imported
    network's table speeds, or a calibration's all-day factors). One query.

    Parameters
    ----------
    region
        Its ``time_zone`` makes the local hour.
    version_id
        The network version the ETA was computed on (``RoadNetworkVersion`` id); None: ``all``.
    at
        The moment the ETA is for, timezone-aware.
    """
    band = hour_band_at(at.timestamp(), region.time_zone)
    return band if version_id is not None and speed_factors_stored(version_id=version_id, band=band) else ALL_DAY


def speed_factors_stored(*, version_id: int, band: str) -> bool:
    """Whether network version ``version_id`` stores applied learned factors for hour band ``band``, so
    the band's engine differs from the all-day weights. One query."""
    return RoadSpeedFactor.objects.filter(version_id=version_id, hour_band=band, applied=True).exists()
