"""Access's domain errors (``gis_core.errors.DomainError``): what a machine client or a busy caller is told."""

from __future__ import annotations

from gis_core.errors import DomainError


class RateLimitedError(DomainError):
    """Too many requests to an expensive endpoint from one token, user or address: wait ``retry_after_s``.

    ``retry_after_s`` goes into the body and the ``Retry-After`` header (``gis_core.api.errors``).
    """

    http_status, code = 429, "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
