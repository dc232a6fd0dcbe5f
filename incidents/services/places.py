"""The name of the place at a report's point, for an address nobody gave (reverse geocoding).

The incidents app stands above the gazetteer (docs/ARCHITECTURE.md), so it asks
``gazetteer.selectors.place_description`` directly.
"""

from __future__ import annotations

import logging

from django.contrib.gis.geos import Point
from django.db import transaction

from gazetteer import selectors as gazetteer
from gis_core.models import Region
from incidents.models import LocationSource

logger = logging.getLogger(__name__)

# Locations whose place is named by reverse geocoding when no person gave an address; a geocoded location
# came from an address in the first place.
REVERSE_GEOCODED_SOURCES = frozenset({LocationSource.DISPATCHER, LocationSource.CALLER_GPS, LocationSource.WHATSAPP})


def place_text(region: Region, geom: Point | None, source: str) -> str:
    """The name of the place at a location from ``REVERSE_GEOCODED_SOURCES``, for an address nobody gave.

    Empty when nothing is known there; a lookup that fails is logged and gives no address, never a refused
    report.
    """
    if geom is None or source not in REVERSE_GEOCODED_SOURCES:
        return ""
    try:
        with transaction.atomic():  # a failed query rolls back to here, not the report's own transaction
            return str(gazetteer.place_description(region=region, lon=geom.x, lat=geom.y) or "").strip()
    except Exception:  # the report matters more than its place name
        logger.exception("reverse geocoding failed for (%s, %s) in %s", geom.x, geom.y, region.slug)
        return ""
