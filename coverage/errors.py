"""Named errors of the coverage app; each carries its HTTP status and code (gis_core.errors)."""

from __future__ import annotations

from gis_core.errors import DomainError


class CoverageError(DomainError, ValueError):
    """Base of coverage errors that a person can fix by changing the request."""

    code = "coverage_error"


class CoverageInputError(CoverageError):
    """A request names something that does not exist or does not fit (an agency code, a threshold, a run)."""


class NoSourcesError(CoverageError):
    """No station or unit the request names can be placed on the road network."""


class CoverageTooLargeError(CoverageError):
    """A run would compute more than the server allows in one request (grid cells, siting travel times): the
    message says which input to change (a larger ``cell_m``, fewer candidate sites)."""

    code = "coverage_too_large"


class CoverageRunNotReadyError(CoverageError):
    """A stored run's figures are asked for (its CSV, map, a comparison) before its job has computed them."""

    http_status = 409
    code = "coverage_run_not_ready"
