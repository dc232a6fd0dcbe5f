"""The API's authentication of machine clients: ``Authorization: Bearer siaga_<prefix>_<secret>``.

Listed in ``DEFAULT_AUTHENTICATION_CLASSES`` (and by the views that list their own). A header that is no
credential at all (a NUL, 10,000 characters), a value without a token's shape, an unknown or wrong token
and a revoked one are each a 401 ``credentials_invalid`` whose message says which; nothing but the hash
of the secret is compared. A good token's request runs as ``access.tokens.TokenUser`` with the token as
``request.auth``; ``last_used_at`` is written at most once a minute.
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from access.selectors import api_token_for_text
from access.services import api_token_touch
from access.tokens import TOKEN_SHAPE, TokenUser, secret_matches, token_parse
from gis_core.credentials import CredentialsInvalidError, credential_check

KEYWORD = "Bearer"


class TokenCredentialsInvalid(CredentialsInvalidError, exceptions.AuthenticationFailed):
    """``CredentialsInvalidError`` as DRF's authentication failure (the request stays anonymous, and the
    one handler answers the project's JSON error with status 401)."""

    status_code = CredentialsInvalidError.http_status

    # The challenge names the scheme that failed (RFC 6750), whichever class the view lists first.
    @property
    def auth_header(self) -> str:
        return f'{KEYWORD} realm="api", error="invalid_token"'

    @auth_header.setter
    def auth_header(self, value: str) -> None:
        pass


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A machine client's API token in ``Authorization: Bearer``; any other header is left to the others."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION") or ""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != KEYWORD.lower():
            return None
        value = value.strip()
        try:
            credential_check(value, name="Authorization: the API token")
        except CredentialsInvalidError as exc:
            raise TokenCredentialsInvalid(str(exc)) from exc
        text = token_parse(value)
        if text is None:
            raise TokenCredentialsInvalid(
                f"Authorization: Bearer needs a Siaga API token ({TOKEN_SHAPE}), as it was shown when it was made"
            )
        token = api_token_for_text(text)
        if token is None or not secret_matches(text.secret, token.secret_sha256):
            raise TokenCredentialsInvalid("Authorization: no such API token; ask the region's administrator")
        if token.revoked_at is not None:
            raise TokenCredentialsInvalid(
                f"Authorization: this API token was revoked ({token.revoked_at:%Y-%m-%d %H:%M} UTC); "
                "ask the region's administrator for a new one"
            )
        api_token_touch(token=token, now=timezone.now())
        return TokenUser(token), token

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="api"'
