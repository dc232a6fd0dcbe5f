"""One JSON error shape for the whole API: {"error": {"code": ..., "message": ..., "detail": ...}}.

A domain error (``gis_core.errors.DomainError``) carries its own HTTP status and code, so this handler
knows no app: views never build error responses by hand and bad input never reaches a 500.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from gis_core.errors import DatabaseUnavailableError, DomainError

logger = logging.getLogger(__name__)
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


def domain_error_body(exc: DomainError) -> dict:
    """The JSON body answering a domain error (also for responses made outside DRF, by middleware).

    An error that says when to try again (``retry_after_s``: a rate limit, a locked-out log-in) carries it
    in the body too, for clients that do not read the ``Retry-After`` header.
    """
    body = {"code": exc.code, "message": str(exc)}
    retry_after_s = getattr(exc, "retry_after_s", None)
    if retry_after_s:
        body["retry_after_s"] = retry_after_s
    return {"error": body}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):  # the database is away (a restart, a fail-over)
        logger.warning("database unavailable: %s", exc)
        exc = DatabaseUnavailableError("the database cannot be reached right now: send the request again shortly")
    if isinstance(exc, DomainError):
        response = Response(domain_error_body(exc), status=exc.http_status)
        if getattr(exc, "auth_header", None):  # DRF sets it on an authentication failure it answers with 401
            response["WWW-Authenticate"] = exc.auth_header
        retry_after_s = getattr(exc, "retry_after_s", None)  # e.g. a locked-out log-in: when to try again
        if retry_after_s:
            response["Retry-After"] = str(retry_after_s)
        return response
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
