"""One JSON error shape for the whole API: {"error": {"code": ..., "message": ..., "detail": ...}}.

Domain errors (routing, importers, later fleet) are mapped here once, so views never build error
responses by hand and bad input never reaches a 500.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from coverage.errors import CoverageError
from coverage.solvers import InfeasibleCoverageError, SitingError
from fleet.ingest.fix import PayloadError
from fleet.selectors import IncidentLocationMissingError, RecommendationInputError
from fleet.services.devices import DeviceAuthError, DeviceInactiveError, DeviceUnitMismatchError, UnknownDeviceError
from fleet.services.dispatch import AssignmentNotActiveError, DispatchRefusedError, UnitUnavailableError
from fleet.services.incident_errors import (
    InvalidLocationError,
    InvalidPhoneError,
    InvalidReportError,
    NotFoundError,
    OutsideRegionError,
    ReportStateError,
    UnknownIncidentTypeError,
    UnknownOutcomeError,
    WebhookPayloadError,
)
from fleet.services.status import IllegalTransitionError
from gis_core.routing.errors import (
    InvalidPointError,
    NoRouteError,
    OutsideNetworkError,
    RoutingError,
    TooManyPointsError,
    UnknownEdgeError,
)
from gis_core.routing.registry import NoNetworkError

_DOMAIN_STATUS: list[tuple[type[Exception], int, str]] = [
    (InvalidPointError, 400, "invalid_point"),
    (OutsideNetworkError, 400, "outside_network"),
    (TooManyPointsError, 400, "too_many_points"),
    (NoRouteError, 422, "no_route"),
    (NoNetworkError, 409, "no_network"),
    (UnknownEdgeError, 400, "unknown_edge"),
    (RoutingError, 400, "routing_error"),
    (InfeasibleCoverageError, 422, "infeasible_coverage"),
    (SitingError, 400, "siting_error"),
    (CoverageError, 400, "coverage_error"),
    (IllegalTransitionError, 409, "illegal_transition"),
    (UnitUnavailableError, 409, "unit_unavailable"),
    (AssignmentNotActiveError, 409, "assignment_not_active"),
    (DispatchRefusedError, 409, "dispatch_refused"),
    (IncidentLocationMissingError, 409, "incident_location_missing"),
    (RecommendationInputError, 400, "recommendation_input"),
    (PayloadError, 400, "bad_payload"),
    (UnknownDeviceError, 400, "unknown_device"),
    (DeviceInactiveError, 403, "device_inactive"),
    (DeviceUnitMismatchError, 403, "wrong_unit"),
    (DeviceAuthError, 401, "device_auth_failed"),
    (InvalidPhoneError, 400, "invalid_phone"),
    (InvalidReportError, 400, "invalid_report"),
    (UnknownIncidentTypeError, 400, "unknown_incident_type"),
    (InvalidLocationError, 400, "invalid_location"),
    (OutsideRegionError, 400, "outside_region"),
    (UnknownOutcomeError, 400, "unknown_outcome"),
    (ReportStateError, 409, "report_state"),
    (NotFoundError, 404, "not_found"),
    (WebhookPayloadError, 400, "invalid_payload"),
]


_DJANGO_CODES = {Http404: "not_found", PermissionDenied: "permission_denied"}


def _message(detail: object) -> str:
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _message(value)
            parts.append(text if field in {"non_field_errors", "detail"} else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return "; ".join(_message(item) for item in detail)
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    for exc_type, http_status, code in _DOMAIN_STATUS:
        if isinstance(exc, exc_type):
            return Response({"error": {"code": code, "message": str(exc)}}, status=http_status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = _DJANGO_CODES.get(type(exc), "error") if not isinstance(exc, APIException) else exc.default_code
    detail = response.data
    body: dict = {"code": code, "message": _message(detail)}
    if isinstance(exc, ValidationError):
        body["detail"] = detail
    response.data = {"error": body}
    return response
