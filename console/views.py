"""Console pages: one HTML shell per role, filled by the map scripts from the JSON API.

A page needs a login (anonymous: 302 to the login page) and the page's role (otherwise 403).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from console import roles, selectors


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
    raise PermissionDenied("your account has no console role (dispatcher, planner or admin)")


@_role_required(roles.can_dispatch)
def dispatcher_page(request: HttpRequest) -> HttpResponse:
    config = selectors.console_config(request=request, page="dispatch")
    return render(request, "console/dispatcher.html", {"config": config, "page": "dispatch"})


@_role_required(roles.can_plan)
def planner_page(request: HttpRequest) -> HttpResponse:
    config = selectors.console_config(request=request, page="plan")
    return render(request, "console/planner.html", {"config": config, "page": "plan"})
