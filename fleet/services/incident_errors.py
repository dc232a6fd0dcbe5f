"""Named errors of the reports side (incidents, callers, WhatsApp intake).

Each carries its HTTP status and code (``gis_core.errors.DomainError``); the messages are written
for the person at the console and say what to do.
"""

from __future__ import annotations

from gis_core.errors import DomainError


class ReportError(DomainError):
    """Base of every error raised by the incident, caller and WhatsApp services."""

    code = "invalid_report"


class InvalidPhoneError(ReportError):
    """A phone number that cannot be read as an Indonesian or international (E.164) number."""

    code = "invalid_phone"


class InvalidReportError(ReportError):
    """A field of a report that is missing or out of range (channel, priority, accuracy, ...)."""


class UnknownIncidentTypeError(ReportError):
    """An incident type code not in the taxonomy."""

    code = "unknown_incident_type"


class InvalidLocationError(ReportError):
    """Coordinates out of range, (0, 0), or not numbers."""

    code = "invalid_location"


class OutsideRegionError(ReportError):
    """A location outside the region the report belongs to."""

    code = "outside_region"


class UnknownOutcomeError(ReportError):
    """An outcome that is not one a report can be closed with."""

    code = "unknown_outcome"


class ReportStateError(ReportError):
    """An action the report's or the flag's current state does not allow (closing twice, ...)."""

    http_status, code = 409, "report_state"


class NotFoundError(ReportError):
    """A location offer, flag or caller that does not exist (where it was looked for)."""

    http_status, code = 404, "not_found"


class IncidentTypesFileError(ReportError):
    """The incident-type table in ``fixtures/`` is malformed or names capabilities that do not exist."""

    code = "incident_types_file"


class WebhookPayloadError(ReportError):
    """A correctly signed WhatsApp webhook body that is not a webhook envelope (stored anyway)."""

    code = "invalid_payload"
