"""The one error contract of the project.

A domain error names its own HTTP status and machine-readable code as class attributes; a subclass
overrides them, so the most specific class wins. Each package keeps its errors in one module and
derives them from :class:`DomainError`; ``gis_core.api.errors.exception_handler`` turns any of them
into ``{"error": {"code", "message"}}`` without knowing which app raised it. The message is written
for the person who sent the request and says what to change.

Pure Python on purpose: the routing and ingest packages, which know nothing of Django, use it too.
"""

from __future__ import annotations


class DomainError(Exception):
    """An error a caller can act on. ``http_status`` and ``code`` are the API's answer to it."""

    http_status: int = 400
    code: str = "bad_request"


class DatabaseUnavailableError(DomainError):
    """The database cannot be reached (restarting, failing over): HTTP 503 with ``Retry-After``, send it again.

    ``gis_core.api.errors.exception_handler`` answers this for any request whose database connection failed, so a
    client (Traccar Client, a console, an agency's system) is told to resend rather than shown a server fault.
    """

    http_status, code = 503, "database_unavailable"
    retry_after_s = 5


class ClosureGeometryError(DomainError):
    """A road closure's area or lines that cannot be used: not GeoJSON, another CRS, wrong type, too big."""

    code = "closure_geometry_invalid"
