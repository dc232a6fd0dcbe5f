"""Refuse API requests whose session or CSRF cookie no browser could have been given by Siaga.

A cookie is a credential: ``sessionid`` goes into a session query, ``csrftoken`` is compared with the
request's token. One holding a NUL (which PostgreSQL refuses), a control character or 10,000
characters is a 401 ``credentials_invalid`` on the API, naming the cookie, and the response deletes
it so the browser recovers at once. Web pages (console, admin) are not refused: a person cannot act
on an error about a cookie, so there the session engine (``gis_core.sessions``) treats the cookie as
no session and Django's middlewares replace it; the page answers as for a visitor not logged in.

Placed before ``SessionMiddleware``, so nothing has read the cookies yet.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse

from gis_core.api.errors import domain_error_body
from gis_core.credentials import CredentialsInvalidError, credential_problem

API_PREFIX = "/api/"


class CredentialCookiesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
                value = request.COOKIES.get(name)
                problem = None if value is None else credential_problem(value)
                if problem is not None:
                    return _refused(name, problem)
        return self.get_response(request)


def _refused(name: str, problem: str) -> JsonResponse:
    exc = CredentialsInvalidError(f"the {name} cookie {problem}: it was deleted, log in again")
    response = JsonResponse(domain_error_body(exc), status=exc.http_status)
    if name == settings.SESSION_COOKIE_NAME:
        response.delete_cookie(name, path=settings.SESSION_COOKIE_PATH, domain=settings.SESSION_COOKIE_DOMAIN)
    else:
        response.delete_cookie(name, path=settings.CSRF_COOKIE_PATH, domain=settings.CSRF_COOKIE_DOMAIN)
    return response
