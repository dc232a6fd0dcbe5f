"""Named errors of the coverage app; gis_core.api.errors maps them to the one JSON error shape."""

from __future__ import annotations


class CoverageError(ValueError):
    """Base of coverage errors that a person can fix by changing the request."""


class CoverageInputError(CoverageError):
    """A request names something that does not exist or does not fit (an agency code, a threshold, a run)."""


class NoSourcesError(CoverageError):
    """No station or unit the request names can be placed on the road network."""
