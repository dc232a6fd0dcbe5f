"""Reads for the console pages: which region to show and what the map scripts need to start."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.http import HttpRequest
from django.urls import reverse

from console import roles
from console.strings import ERROR_STRINGS, JS_STRINGS
from fleet.models import Agency, Capability, IncidentType, UnitStatus
from fleet.services.incidents import CLOSING_OUTCOMES
from fleet.services.status import CANCELLABLE_STATUSES, NEXT_STATUSES
from gis_core.models import Kecamatan, Region
from gis_core.selectors import region_by_slug_or_code


def region_for_console(*, slug: str | None) -> Region | None:
    """The region named by ``slug`` (or code), else the first (by slug) with kecamatan loaded, else the first."""
    if slug:
        found = region_by_slug_or_code(slug)
        if found is not None:
            return found
    with_areas = Region.objects.filter(kecamatan__isnull=False).order_by("slug").distinct().first()
    return with_areas or Region.objects.order_by("slug").first()


def region_bbox(*, region: Region) -> list[float] | None:
    """``[min_lon, min_lat, max_lon, max_lat]`` of the region's kecamatan (EPSG:4326)."""
    extent = Kecamatan.objects.filter(region=region).aggregate(extent=Extent("geom"))["extent"]
    return list(extent) if extent else None


def unit_next_statuses() -> dict[str, list[str]]:
    """For each unit status, the statuses a dispatcher may set next, in the order of a unit's day.

    Read from the fleet's state machine (``fleet.services.status``) so the buttons cannot drift from what
    the API allows. ``dispatched`` is left out: a unit is dispatched by assigning it to a report.
    """
    order = list(UnitStatus.values)
    return {
        status: sorted((s for s in nxt if s != UnitStatus.DISPATCHED), key=order.index)
        for status, nxt in NEXT_STATUSES.items()
    }


def console_config(*, request: HttpRequest, page: str) -> dict:
    """Everything a page's script needs to start, as JSON-ready data."""
    region = region_for_console(slug=request.GET.get("region"))
    config: dict = {
        "page": page,
        "region": None,
        "regions": list(Region.objects.order_by("slug").values("slug", "name")),
        "roles": sorted(roles.roles_of(request.user)),
        "strings": {key: str(text) for key, text in JS_STRINGS.items()},
        "errors": {code: str(text) for code, text in ERROR_STRINGS.items()},
        "osm_tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    }
    if region is None:
        return config
    config["region"] = {"slug": region.slug, "name": region.name, "bbox": region_bbox(region=region)}
    config["urls"] = {
        "kecamatan": reverse("kecamatan-list", kwargs={"slug": region.slug}) + "?page_size=500",
        "kelurahan": reverse("kelurahan-list", kwargs={"slug": region.slug}) + "?page_size=500",
        "roads": reverse("console:roads", kwargs={"slug": region.slug}),
        "incidents": reverse("incident-list"),
        "units": f"/api/units/?region={region.slug}",
        "stations": f"/api/stations/?region={region.slug}",
        "ws": f"/ws/regions/{region.slug}/",
    }
    config["ws_port"] = settings.SIAGA_WS_PORT  # None: the WebSocket is on the page's own host and port
    # Names in the page's language (``name_in``): the scripts show these, never a code.
    config["incident_types"] = [
        {"code": t.code, "name": t.name_in(), "default_priority": t.default_priority}
        for t in IncidentType.objects.order_by("category", "code")
    ]
    config["capabilities"] = [{"code": c.code, "name": c.name_in()} for c in Capability.objects.order_by("code")]
    config["unit_next_statuses"] = unit_next_statuses()
    config["cancellable_statuses"] = sorted(CANCELLABLE_STATUSES)  # a dispatch is cancelled, not set available
    config["closing_outcomes"] = list(CLOSING_OUTCOMES)
    config["agencies"] = list(Agency.objects.filter(region=region).order_by("code").values("code", "name", "kind"))
    return config
