"""Named errors of the fleet: device authentication and position history.

Each carries its HTTP status and code (``gis_core.errors.DomainError``); the ingest parsers' own
``PayloadError`` stays in the pure ``fleet.ingest.fix``.
"""

from __future__ import annotations

from gis_core.errors import DomainError


class DeviceAuthError(DomainError):
    """A device could not be authenticated: no secret, or a wrong one (HTTP 401)."""

    http_status, code = 401, "device_auth_failed"


class UnknownDeviceError(DeviceAuthError):
    """No device has this identifier (HTTP 400, as Traccar answers an unknown device)."""

    http_status, code = 400, "unknown_device"


class DeviceInactiveError(DeviceAuthError):
    """The device exists but was deactivated (HTTP 403)."""

    http_status, code = 403, "device_inactive"


class DeviceUnitMismatchError(DeviceAuthError):
    """An authenticated device sent something for another device or unit (HTTP 403)."""

    http_status, code = 403, "wrong_unit"


class HistoryTooLargeError(DomainError, ValueError):
    """The range holds more fixes than one answer carries; the message says how to narrow it."""

    code = "history_too_large"


class IngestUnavailableError(DomainError):
    """The database is away and the request could not be spooled either (HTTP 503: send it again later)."""

    http_status, code = 503, "ingest_unavailable"


class PairingInvalidError(DomainError):
    """A crew pairing link that is unknown, already used or expired (HTTP 400)."""

    http_status, code = 400, "pairing_invalid"


class CrewSessionInvalidError(DeviceAuthError):
    """A crew page's session token that is unknown or revoked, or whose device was deactivated (HTTP 401)."""

    http_status, code = 401, "crew_session_invalid"


class IdempotencyKeyInvalidError(DomainError):
    """An ``Idempotency-Key`` header that is empty, too long or holds other than letters, digits, ``-_.:``."""

    http_status, code = 400, "idempotency_key_invalid"
