"""The API's HTTP Basic authentication: DRF's, with the credentials checked before any lookup.

Used as ``DEFAULT_AUTHENTICATION_CLASSES`` and by every view that lists its authentication classes.
A header that is not base64 of ``user:password``, or a user name or password PostgreSQL cannot store
(a NUL, 10,000 characters), is a 401 ``credentials_invalid``; before, the NUL reached the user query
and was a 500 for anyone, logged out.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions

from gis_core.credentials import CredentialsInvalidError, LoginLockedError, basic_credentials
from gis_core.lockout import lockout_message


class BasicCredentialsInvalid(CredentialsInvalidError, exceptions.AuthenticationFailed):
    """``CredentialsInvalidError`` as DRF's authentication failure, so DRF marks the request anonymous
    (renderers that read ``request.user`` do not authenticate again) and the handler answers the
    project's JSON error with the domain error's status and code."""

    status_code = CredentialsInvalidError.http_status


class BasicLoginLocked(LoginLockedError, exceptions.AuthenticationFailed):
    """A locked-out user name on HTTP Basic: a 429 with Retry-After, as the login page answers."""

    status_code = LoginLockedError.http_status

    def __init__(self, message: str, retry_after_s: int | None) -> None:
        LoginLockedError.__init__(self, message, retry_after_s=retry_after_s)
        exceptions.AuthenticationFailed.__init__(self, message)


class BasicAuthentication(authentication.BasicAuthentication):
    """HTTP Basic against Django's users; malformed or impossible credentials are a 401 of their own."""

    def authenticate(self, request):
        try:
            credentials = basic_credentials(request.META.get("HTTP_AUTHORIZATION"))
        except CredentialsInvalidError as exc:
            raise BasicCredentialsInvalid(str(exc)) from exc
        if credentials is None:
            return None
        user, password = credentials
        try:
            return self.authenticate_credentials(user, password, request)
        except exceptions.AuthenticationFailed:
            # django-axes marks the request it was given (DRF's) when the user name is locked out.
            if getattr(request, "axes_locked_out", False):
                raise BasicLoginLocked(*lockout_message(request)) from None
            raise
