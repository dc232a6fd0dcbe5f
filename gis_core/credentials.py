"""Credentials as requests carry them, checked before anything looks them up.

A credential (an HTTP Basic user name or password, a session or CSRF cookie, a device identifier or
secret) goes into a database query or a hash. PostgreSQL text cannot hold NUL, and a 10,000-character
"user name" is nobody's; such a value is refused here with a 401 that says what is wrong with it,
instead of a database error (a 500) later. Every place that takes a credential calls this module: the
API's authentication (``gis_core.api.authentication``), the cookie guard
(``gis_core.middleware``, ``gis_core.sessions``) and the device check (``fleet.services.devices``).

Pure Python: the ingest parsers and services use it without a request.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata

from gis_core.errors import DomainError

# Longer than any credential Siaga issues or accepts (user names 150, device secrets 43, session keys
# 32, CSRF tokens 64 characters), short enough that hashing or comparing one costs nothing.
MAX_CREDENTIAL_CHARS = 1024


class CredentialsInvalidError(DomainError):
    """A credential that no account can have: NUL or control characters, too long, or not decodable."""

    http_status, code = 401, "credentials_invalid"


class LoginLockedError(DomainError):
    """Too many failed log-ins for this user name from this address (django-axes): wait, or ask an admin.

    ``retry_after_s`` (when the lock ends by itself) becomes the response's ``Retry-After`` header.
    """

    http_status, code = 429, "login_locked"

    def __init__(self, message: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def credential_problem(value: str) -> str | None:
    """What makes ``value`` impossible as a credential, or None when it may be looked up.

    Parameters
    ----------
    value
        The credential as decoded from the request.

    Returns
    -------
    str or None
        A short reason ("holds a NUL character", ...) to put in an error message.
    """
    if len(value) > MAX_CREDENTIAL_CHARS:
        return f"is {len(value)} characters long (at most {MAX_CREDENTIAL_CHARS})"
    if "\x00" in value:
        return "holds a NUL character"
    for char in value:
        category = unicodedata.category(char)
        if category == "Cs":
            return "holds bytes that are not text"
        if category == "Cc":
            return f"holds the control character U+{ord(char):04X}"
    return None


def credential_check(value: str, *, name: str) -> str:
    """``value`` unchanged if it can be a credential, else ``CredentialsInvalidError`` naming ``name``."""
    problem = credential_problem(value)
    if problem is not None:
        raise CredentialsInvalidError(f"{name} {problem}: send the credential you were given, as text")
    return value


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The ``(user, password)`` of an ``Authorization: Basic`` header, checked; None for no Basic header.

    The pair is base64 of ``user:password`` in UTF-8 (RFC 7617); Latin-1 is accepted too, as DRF and
    older clients do.

    Raises
    ------
    CredentialsInvalidError
        Not base64, no ``:``, or a user name or password ``credential_check`` refuses.
    """
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    value = value.strip()
    if len(value) > 2 * MAX_CREDENTIAL_CHARS + 8:
        raise CredentialsInvalidError(f"Authorization: the HTTP Basic credentials are {len(value)} characters long")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise CredentialsInvalidError(
            "Authorization: the HTTP Basic credentials are not base64 of user:password"
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    user, sep, password = text.partition(":")
    if not sep:
        raise CredentialsInvalidError("Authorization: HTTP Basic credentials need a ':' between user and password")
    credential_check(user, name="Authorization: the HTTP Basic user name")
    credential_check(password, name="Authorization: the HTTP Basic password")
    return user, password
