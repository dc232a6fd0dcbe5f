"""What a person sees once django-axes has locked a user name out after repeated failed log-ins.

The failures are counted per user name and client address (settings ``AXES_*``): the login page, the admin
and HTTP Basic on the API all go through ``django.contrib.auth.authenticate``, where axes watches. A page
shows the login form again with the message; the API answers in its JSON error shape (HTTP Basic raises
``LoginLockedError`` itself, in ``gis_core.api.authentication``). Both say when to try again
(``Retry-After``). Every failure and lockout stays in axes' tables, read in the admin.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from gis_core.api.errors import domain_error_body
from gis_core.credentials import LoginLockedError
from gis_core.lockout import lockout_message


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    message, retry_after_s = lockout_message(request)
    if request.path.startswith("/api/"):
        error = LoginLockedError(message, retry_after_s=retry_after_s)
        response: HttpResponse = JsonResponse(domain_error_body(error), status=error.http_status)
    else:
        response = render(request, "console/login.html", {"locked_out_message": message}, status=429)
    if retry_after_s:
        response["Retry-After"] = str(retry_after_s)
    return response
