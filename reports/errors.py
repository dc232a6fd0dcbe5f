"""Named errors of the reports app; each carries its HTTP status and code (gis_core.errors)."""

from __future__ import annotations

from gis_core.errors import DomainError


class ReportError(DomainError, ValueError):
    """Base of the reports app's errors that a person fixes by changing the request."""

    code = "report_input_invalid"


class ReportPeriodError(ReportError):
    """The period asked for cannot be read (``period=2026-13``), is empty or reversed, or is too long."""

    code = "report_period_invalid"
