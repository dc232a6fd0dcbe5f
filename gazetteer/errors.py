"""The gazetteer's errors (gis_core.errors.DomainError: the API handler maps them)."""

from __future__ import annotations

from gis_core.errors import DomainError


class GazetteerQueryError(DomainError):
    """A search or reverse query that cannot be answered as sent; the message says what to change."""

    code = "gazetteer_query_invalid"


class PointOutsideRegionError(DomainError):
    """A reverse-geocoding point too far from every kecamatan of the region."""

    code = "point_outside_region"
