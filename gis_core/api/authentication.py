"""The API's HTTP Basic authentication: DRF's, with the credentials checked before any lookup.

Used as ``DEFAULT_AUTHENTICATION_CLASSES`` and by every view that lists its authentication classes.
A header that is not base64 of ``user:password``, or a user name or password PostgreSQL cannot store
(a NUL, 10,000 characters), is a 401 ``credentials_invalid``; before, the NUL reached the user query
and was a 500 for anyone, logged out.
"""

from __future__ import annotations

from rest_framework import authentication, exceptions

from gis_core.credentials import CredentialsInvalidError, basic_credentials


class BasicCredentialsInvalid(CredentialsInvalidError, exceptions.AuthenticationFailed):
    """``CredentialsInvalidError`` as DRF's authentication failure, so DRF marks the request anonymous
    (renderers that read ``request.user`` do not authenticate again) and the handler answers the
    project's JSON error with the domain error's status and code."""

    status_code = CredentialsInvalidError.http_status


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
        return self.authenticate_credentials(user, password, request)
