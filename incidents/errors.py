"""Named errors of the incidents app: reports, callers, WhatsApp intake, recommendation, dispatch and
unit status.

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


class IncidentLocationMissingError(DomainError):
    """The report has no location yet, so nothing can be ranked by road time to it."""

    http_status, code = 409, "incident_location_missing"


class RecommendationInputError(DomainError, ValueError):
    """Nothing to recommend for: no incident type with needs and no capabilities given, or unknown codes."""

    code = "recommendation_input"


class IncidentTypeMissingError(RecommendationInputError):
    """The report has no type yet (a WhatsApp report before triage) and no capability was asked for."""

    http_status, code = 409, "incident_type_missing"


class DispatchError(DomainError):
    """Base class of the dispatch errors."""

    http_status, code = 409, "dispatch_refused"


class UnitUnavailableError(DispatchError):
    """The unit is not available (busy on another report, returning or out of service)."""

    code = "unit_unavailable"


class AssignmentNotActiveError(DispatchError):
    """The assignment was already cleared or cancelled."""

    code = "assignment_not_active"


class DispatchRefusedError(DispatchError):
    """The assignment makes no sense: a closed report, a unit of another region, a capability it lacks."""


class StatusError(DomainError):
    """Base class of the unit-status errors."""

    http_status, code = 409, "illegal_transition"


class IllegalTransitionError(StatusError):
    """The requested status is not reachable from the unit's current status.

    Attributes
    ----------
    call_sign, from_status, to_status : str
    allowed : list of str
        The statuses the unit may move to next.
    """

    def __init__(self, *, call_sign: str, from_status: str, to_status: str, allowed: list[str], hint: str = ""):
        self.call_sign = call_sign
        self.from_status = from_status
        self.to_status = to_status
        self.allowed = allowed
        message = (
            f"unit {call_sign} cannot go from {from_status} to {to_status}; "
            f"allowed next: {', '.join(allowed) or 'none'}"
        )
        super().__init__(f"{message}. {hint}" if hint else message)


class HandoffError(DomainError):
    """Base class of the hand-off errors."""

    http_status, code = 409, "handoff_refused"


class HandoffRefusedError(HandoffError):
    """A hand-off that makes no sense: an agency of another region, a closed report, a second open leg."""


class HandoffStateError(HandoffError):
    """A hand-off status that is unknown or earlier than the current one."""

    code = "handoff_state"


class HandoffSignatureError(HandoffError):
    """An agency's update whose signature does not match its secret (or names no hand-off)."""

    http_status, code = 403, "invalid_signature"


class ClosureError(DomainError):
    """Base class of the road closure errors (``incidents.services.closures``)."""

    code = "closure_invalid"


class ClosureCoversNoRoadError(ClosureError):
    """A closure whose area or lines cross no road of the region's network (or would close all of it)."""

    code = "closure_covers_no_road"


class ClosureStateError(ClosureError):
    """Lifting a closure already lifted or ended."""

    http_status, code = 409, "closure_not_active"
