"""The name of the place at a report's point, for an address nobody gave (reverse geocoding).

The reports stand on the gazetteer's floor and do not import it (docs/ARCHITECTURE.md): the project wires the
gazetteer in by ``settings.SIAGA_PLACE_DESCRIBER``. Once the reports live in an app above the gazetteer, this
module can call ``gazetteer.selectors.place_description`` directly.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils.module_loading import import_string

from fleet.models import LocationSource
from gis_core.models import Region

logger = logging.getLogger(__name__)

# Locations whose place is named by reverse geocoding when no person gave an address; a geocoded location
# came from an address in the first place.
REVERSE_GEOCODED_SOURCES = frozenset({LocationSource.DISPATCHER, LocationSource.CALLER_GPS, LocationSource.WHATSAPP})


def place_text(region: Region, geom: Point | None, source: str) -> str:
    """The name of the place at a location from ``REVERSE_GEOCODED_SOURCES``, for an address nobody gave.

    Asked of the describer the project wires in (``settings.SIAGA_PLACE_DESCRIBER``, the gazetteer's): the
    reports do not import the gazetteer, which stands on their floor. Empty when none is wired or nothing is
    known there; a describer that fails is logged and gives no address, never a refused report.
    """
    path = getattr(settings, "SIAGA_PLACE_DESCRIBER", "")
    if geom is None or source not in REVERSE_GEOCODED_SOURCES or not path:
        return ""
    try:
        describe = import_string(path)
        with transaction.atomic():  # a failed query rolls back to here, not the report's own transaction
            return str(describe(region=region, lon=geom.x, lat=geom.y) or "").strip()
    except Exception:  # the report matters more than its place name
        logger.exception("reverse geocoding (%s) failed for (%s, %s) in %s", path, geom.x, geom.y, region.slug)
        return ""
