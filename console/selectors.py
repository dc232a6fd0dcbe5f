"""Reads for the console pages: which region to show and what the map scripts need to start."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone

from access import roles
from access.selectors import home_region_for_user, regions_for_user
from console.strings import ERROR_STRINGS, JS_STRINGS
from fleet.models import Capability, UnitStatus
from fleet.selectors.units import agencies_for_user
from gis_core.models import Kecamatan, Region
from gis_core.selectors import region_by_slug_or_code
from gis_core.time_zones import zone_label
from incidents.selectors.incident_types import incident_types_for_region
from incidents.services.incidents import CLOSING_OUTCOMES, OPEN_STATUSES
from incidents.services.status import CANCELLABLE_STATUSES, NEXT_STATUSES

# What each page does in its region (``access.roles``): the dispatch page opens only where the user may
# dispatch, the planning page only where they may plan.
PAGE_CAPABILITY = {"dispatch": roles.DISPATCH, "plan": roles.PLAN}


def region_for_console(*, user: Any, slug: str | None, capability: str | None = None) -> Region | None:
    """The region the console shows ``user``: the one asked for (slug or code), else the user's home region;
    given ``capability``, only a region where the user may do it (the home region if so, else the first).

    Raises
    ------
    Http404
        ``slug`` names no region the user may see (another centre's region, or none at all: the same answer),
        or one where the user may not do ``capability``.
    """
    if slug is None:
        home = home_region_for_user(user)
        if capability is None or home is None or roles.may(user, capability, home):
            return home
        return regions_for_user(user, capability=capability).first()
    region = region_by_slug_or_code(slug, among=regions_for_user(user, capability=capability))
    if region is None:
        raise Http404("no region of yours has this slug or code; the region menu in the header lists yours")
    return region


def region_bbox(*, region: Region) -> list[float] | None:
    """``[min_lon, min_lat, max_lon, max_lat]`` of the region's kecamatan (EPSG:4326)."""
    extent = Kecamatan.objects.filter(region=region).aggregate(extent=Extent("geom"))["extent"]
    return list(extent) if extent else None


def unit_next_statuses() -> dict[str, list[str]]:
    """For each unit status, the statuses a dispatcher may set next, in the order of a unit's day.

    Read from the fleet's state machine (``incidents.services.status``) so the buttons cannot drift from what
    the API allows. ``dispatched`` is left out: a unit is dispatched by assigning it to a report.
    """
    order = list(UnitStatus.values)
    return {
        status: sorted((s for s in nxt if s != UnitStatus.DISPATCHED), key=order.index)
        for status, nxt in NEXT_STATUSES.items()
    }


# The API's addresses the scripts call, each by URL name with ``{placeholder}`` for what varies per call
# (``Siaga.url("incident", {id: 7})``): the scripts hard-code no path.
_TEMPLATES = {
    "incident": ("incident-detail", {"pk": "id"}),
    "incident_location": ("incident-location", {"pk": "id"}),
    "offer_apply": ("incident-location-offer-apply", {"pk": "id", "offer_id": "offer"}),
    "incident_close": ("incident-close", {"pk": "id"}),
    "recommendations": ("incident-recommendations", {"pk": "id"}),
    "assignments": ("incident-assignments", {"pk": "id"}),
    "assignment_cancel": ("assignment-cancel", {"pk": "id"}),
    "unit_status": ("unit-status", {"pk": "id"}),
    "handoffs": ("incident-handoffs", {"pk": "id"}),
    "handoff_update": ("handoff-update", {"pk": "id"}),
    "closures": ("region-closures", {"slug": "slug"}),
    "closure_create": ("closure-create", {}),
    "closure_lift": ("closure-lift", {"pk": "id"}),
    "coverage_surface": ("coverage-surface", {}),
    "coverage_report": ("coverage-report", {}),
    "coverage_gaps": ("coverage-gaps", {}),
    "coverage_siting": ("coverage-siting", {}),
    "coverage_whatif": ("coverage-whatif", {}),
    "eta_accuracy": ("kpis-eta-accuracy", {}),
    "eta_accuracy_png": ("kpis-eta-accuracy-png", {}),
}
_SENTINEL = 987654321  # reversed in place of each integer argument, then replaced by its placeholder


def url_templates() -> dict[str, str]:
    """``{name: path}`` for the API calls the scripts make, ``{id}``-style placeholders in the paths."""
    out = {}
    for name, (url_name, args) in _TEMPLATES.items():
        kwargs = {arg: _SENTINEL + i for i, arg in enumerate(args)}
        path = reverse(url_name, kwargs=kwargs)
        for i, placeholder in enumerate(args.values()):
            path = path.replace(str(_SENTINEL + i), "{" + placeholder + "}")
        out[name] = path
    return out


def console_config(*, request: HttpRequest, page: str) -> dict:
    """Everything a page's script needs to start, as JSON-ready data."""
    capability = PAGE_CAPABILITY.get(page)
    region = region_for_console(user=request.user, slug=request.GET.get("region"), capability=capability)
    regions = list(regions_for_user(request.user, capability=capability).values("slug", "name"))
    config: dict = {
        "page": page,
        "region": None,
        "regions": regions,  # the header's region switcher: the regions where this page's work may be done
        "roles": sorted(roles.roles_of(request.user, region)) if region else [],  # the user's roles here
        "may": sorted(roles.capabilities_of(request.user)),  # the header's links: what the user may do anywhere
        "strings": {key: str(text) for key, text in JS_STRINGS.items()},
        "errors": {code: str(text) for code, text in ERROR_STRINGS.items()},
        "osm_tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    }
    if region is None:
        # Why there is none: no region loaded on this server, or none the user is a member of.
        config["region_missing"] = "no_membership" if Region.objects.exists() else "no_region"
        return config
    config["region"] = {
        "slug": region.slug,
        "name": region.name,
        "bbox": region_bbox(region=region),
        # The scripts show every time in the region's zone (Intl.DateTimeFormat timeZone), labelled WIB/WITA/WIT.
        "time_zone": zone_label(region.time_zone, at=timezone.now()),
    }
    config["urls"] = {
        "kecamatan": reverse("kecamatan-list", kwargs={"slug": region.slug}) + "?page_size=500",
        "kelurahan": reverse("kelurahan-list", kwargs={"slug": region.slug}) + "?page_size=500",
        "roads": reverse("console:roads", kwargs={"slug": region.slug}),
        "incidents": reverse("incident-list"),
        # The place search and reverse geocoding of the new-report and locate forms (gazetteer/api).
        "search": reverse("gazetteer-search", kwargs={"slug": region.slug}),
        "reverse": reverse("gazetteer-reverse", kwargs={"slug": region.slug}),
        "units": reverse("unit-list") + f"?region={region.slug}",
        "stations": reverse("station-list") + f"?region={region.slug}",
        "ws": f"/ws/regions/{region.slug}/",  # incidents/websocket_urls.py (not in the HTTP URLconf)
        **url_templates(),
    }
    if roles.can_dispatch(request.user, region):  # the crew page's pairing link (crew/api.py), the dispatcher's
        config["urls"]["crew_pairing"] = reverse("crew-pairing-create")
    if roles.can_dispatch(request.user, region):  # the names' tiles answer the roles that place reports
        tile = reverse("gazetteer-names", kwargs={"slug": region.slug, "z": 0, "x": 0, "y": 0})
        config["urls"]["names_tiles"] = tile.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt")
    config["ws_port"] = settings.SIAGA_WS_PORT  # None: the WebSocket is on the page's own host and port
    # Names in the page's language (``name_in``): the scripts show these, never a code.
    config["incident_types"] = [  # the region's table: the shared one with the region's overrides
        {"code": t.code, "name": t.name, "default_priority": t.default_priority}
        for t in incident_types_for_region(region=region)
    ]
    config["capabilities"] = [{"code": c.code, "name": c.name_in()} for c in Capability.objects.order_by("code")]
    config["unit_next_statuses"] = unit_next_statuses()
    config["cancellable_statuses"] = sorted(CANCELLABLE_STATUSES)  # a dispatch is cancelled, not set available
    config["closing_outcomes"] = list(CLOSING_OUTCOMES)
    config["open_statuses"] = [str(status) for status in OPEN_STATUSES]  # what the queue lists (live updates too)
    # The agencies whose units the user sees here (a PSC 119 desk: PSC 119 only).
    agencies = agencies_for_user(request.user).filter(region=region).order_by("code")
    config["agencies"] = list(agencies.values("code", "name", "kind"))
    return config
