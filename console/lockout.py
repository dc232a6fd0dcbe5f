"""What a person sees once django-axes has locked a user name out after repeated failed log-ins.

The failures are counted per user name and client address (settings ``AXES_*``): the login page, the admin
and HTTP Basic on the API all go through ``django.contrib.auth.authenticate``, where axes watches. The
API answers in its one JSON error shape, a page with the login form; both say when to try again
(``Retry-After``). Every failure and lockout stays in axes' tables, read in the admin.
"""

from __future__ import annotations

import math

from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    cool_off = get_cool_off(request)
    retry_after_s = math.ceil(cool_off.total_seconds()) if cool_off else None
    minutes = math.ceil(retry_after_s / 60) if retry_after_s else None
    if minutes:
        message = _("Too many failed log-ins for this user name: try again in %(minutes)d minutes.") % {
            "minutes": minutes
        }
    else:
        message = _("Too many failed log-ins for this user name: ask an administrator to unlock it.")
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"error": {"code": "login_locked", "message": message}}, status=429)
    else:
        response = render(request, "console/login.html", {"locked_out_message": message}, status=429)
    if retry_after_s:
        response["Retry-After"] = str(retry_after_s)
    return response
