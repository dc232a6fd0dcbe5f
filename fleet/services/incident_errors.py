"""Named errors of the reports side (incidents, callers, WhatsApp intake).

``gis_core.api.errors`` maps each to one HTTP status and the one JSON error shape; the messages are
written for the person at the console and say what to do.
"""

from __future__ import annotations


class ReportError(Exception):
    """Base of every error raised by the incident, caller and WhatsApp services."""


class InvalidPhoneError(ReportError):
    """A phone number that cannot be read as an Indonesian or international (E.164) number."""


class InvalidReportError(ReportError):
    """A field of a report that is missing or out of range (channel, priority, accuracy, ...)."""


class UnknownIncidentTypeError(ReportError):
    """An incident type code not in the taxonomy."""


class InvalidLocationError(ReportError):
    """Coordinates out of range, (0, 0), or not numbers."""


class OutsideRegionError(ReportError):
    """A location outside the region the report belongs to."""


class UnknownOutcomeError(ReportError):
    """An outcome that is not one a report can be closed with."""


class ReportStateError(ReportError):
    """An action the report's or the flag's current state does not allow (closing twice, ...)."""


class NotFoundError(ReportError):
    """A location offer, flag or caller that does not exist (where it was looked for)."""


class IncidentTypesFileError(ReportError):
    """The incident-type table in ``fixtures/`` is malformed or names capabilities that do not exist."""


class WebhookPayloadError(ReportError):
    """A correctly signed WhatsApp webhook body that is not a webhook envelope (stored anyway)."""
