"""The one error contract: a domain error carries its HTTP status and code, the most specific class
wins, and the handler that turns errors into responses knows no app (gis_core imports no app above it)."""

from __future__ import annotations

import ast

import pytest
from rest_framework.test import APIRequestFactory

from gis_core.api.errors import exception_handler
from gis_core.errors import DomainError
from tests.domain_errors import ROOT, domain_error_classes


def _respond(exc: Exception):
    request = APIRequestFactory().get("/")
    return exception_handler(exc, {"request": request, "view": None})


def test_the_most_specific_class_wins() -> None:
    from fleet.errors import DeviceAuthError, UnknownDeviceError

    assert _respond(DeviceAuthError("wrong secret")).status_code == 401
    response = _respond(UnknownDeviceError("no device 'x'"))
    assert response.status_code == 400
    assert response.data == {"error": {"code": "unknown_device", "message": "no device 'x'"}}


def test_a_new_domain_error_needs_no_registration() -> None:
    class ParkingFullError(DomainError):
        http_status, code = 409, "parking_full"

    response = _respond(ParkingFullError("the station's bays are taken"))
    assert (response.status_code, response.data["error"]["code"]) == (409, "parking_full")
    assert response.data["error"]["message"] == "the station's bays are taken"


@pytest.mark.django_db
def test_every_domain_error_has_its_own_4xx_code() -> None:
    classes = domain_error_classes()
    assert len(classes) >= 30  # routing, fleet, coverage: the families the handler used to list by hand
    # The server-side answers: the database (for OwnTracks the spool too) is away: a 503, to send it again.
    unavailable = {"ingest_unavailable", "database_unavailable"}
    for cls in classes:
        assert 400 <= cls.http_status < 500 or (cls.code in unavailable and cls.http_status == 503), cls
        assert cls.code.isidentifier(), cls
        assert cls.code.islower(), cls
    # A subclass that changes nothing should not exist: a code says which error it is.
    by_code: dict[str, list[type]] = {}
    for cls in classes:
        if "code" in vars(cls):
            by_code.setdefault(cls.code, []).append(cls)
    shared = {code: names for code, names in by_code.items() if len(names) > 1}
    assert not shared, f"codes defined twice: {shared}"


APPS = {"gis_core", "access", "gazetteer", "fleet", "incidents", "coverage", "console", "ops", "reports", "crew"}


def test_jobs_imports_no_app() -> None:
    """jobs is floor 0: every app may record its jobs there, so it imports none of them."""
    offenders = []
    for path in (ROOT / "jobs").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] in APPS]
    assert not offenders


def test_gis_core_imports_no_app_above_it() -> None:
    """gis_core is the foundation: fleet, coverage and console import it, never the other way."""
    offenders = []
    for path in (ROOT / "gis_core").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {name}" for name in names if name.split(".")[0] in APPS - {"gis_core"}
            ]
    assert not offenders


def test_a_database_that_is_away_is_a_503_to_send_again() -> None:
    from django.db import InterfaceError, OperationalError

    for exc in (OperationalError("connection refused"), InterfaceError("connection already closed")):
        response = _respond(exc)
        assert (response.status_code, response["Retry-After"]) == (503, "5")
        assert response.data["error"]["code"] == "database_unavailable"
        assert "connection" not in response.data["error"]["message"]  # the driver's text goes to the log only
