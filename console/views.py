"""Console pages: one HTML shell per role, filled by the map scripts from the JSON API.

A page needs a login (anonymous: 302 to the login page) and the page's role (otherwise 403). A refusal
and an unknown address are pages in the console's style and language (``403.html``, ``404.html``,
wired as the project's ``handler403`` and ``handler404``); under ``/api/`` they are the API's JSON error.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from access import roles
from console import selectors


def _role_required(check: Callable[[object], bool]) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                raise PermissionDenied("this page needs another console role")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the page of their role."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if roles.can_dispatch(request.user):
        return redirect("console:dispatch")
    if roles.can_plan(request.user):
        return redirect("console:plan")
    raise PermissionDenied("your account has no console role in any region (dispatcher, planner, supervisor or admin)")


def _page(request: HttpRequest, *, page: str, template: str) -> HttpResponse:
    config = selectors.console_config(request=request, page=page)
    zone = config["region"]["time_zone"]["name"] if config["region"] else None
    # Times the template renders are the region's local time (Ambon's in WIT), not the server's.
    with timezone.override(zone):
        return render(request, template, {"config": config, "page": page})


@_role_required(roles.can_dispatch)
def dispatcher_page(request: HttpRequest) -> HttpResponse:
    return _page(request, page="dispatch", template="console/dispatcher.html")


@_role_required(roles.can_plan)
def planner_page(request: HttpRequest) -> HttpResponse:
    return _page(request, page="plan", template="console/planner.html")


def _error_page(request: HttpRequest, *, template: str, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):  # another program is calling: the API's one error shape
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    user = getattr(request, "user", None) or AnonymousUser()
    config = {"may": sorted(roles.capabilities_of(user))}  # the header's links to the pages the user may open
    return render(request, template, {"config": config, "page": None}, status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: a console page of another role (a planner opening /dispatch/), in the console's style.

    Who calls it: Django, for a ``PermissionDenied`` outside the API (the API answers its own 403s).
    """
    return _error_page(
        request, template="403.html", status=403, code="permission_denied", message=str(exception or "forbidden")
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for an unknown address (with DEBUG off), in the console's style; JSON under ``/api/``."""
    return _error_page(request, template="404.html", status=404, code="not_found", message=f"no page at {request.path}")
