"""Named errors of the crew page's endpoints (each with its HTTP status and code, ``gis_core.errors``)."""

from __future__ import annotations

from gis_core.errors import DomainError


class CrewDeviceChoiceError(DomainError):
    """The unit has several devices and the request named none of them, or named another unit's (HTTP 400)."""

    http_status, code = 400, "crew_device_choice"
