"""API tokens as they travel: the token text, its hash, and the principal a token request runs as.

A token is ``siaga_<prefix>_<secret>``: ``prefix`` (8 hex characters) is public and finds the row,
``secret`` (43 URL-safe characters, 256 random bits) is known only to the client; the database keeps its
SHA-256. A request authenticated by a token runs as a :class:`TokenUser`, which holds no console role and
sees only the token's region (``access.selectors.regions_for_user``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import Group, Permission
from django.db.models.manager import EmptyManager

if TYPE_CHECKING:
    from access.models import ApiToken

TOKEN_PREFIX = "siaga_"
_TOKEN_RE = re.compile(r"siaga_(?P<prefix>[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{43})")
TOKEN_SHAPE = "siaga_<8 hex characters>_<43 characters>"


@dataclass(frozen=True)
class TokenText:
    """A token's two parts, as parsed from a request or made for a new token."""

    prefix: str
    secret: str

    def __str__(self) -> str:
        return f"{TOKEN_PREFIX}{self.prefix}_{self.secret}"


def token_new() -> TokenText:
    """A fresh token: a random public prefix and a random 256-bit secret."""
    return TokenText(prefix=secrets.token_hex(4), secret=secrets.token_urlsafe(32))


def token_parse(value: str) -> TokenText | None:
    """The parts of ``value`` if it has a token's shape, else None."""
    match = _TOKEN_RE.fullmatch(value)
    return TokenText(prefix=match["prefix"], secret=match["secret"]) if match else None


def secret_sha256(secret: str) -> str:
    """What the database stores of a secret (hex SHA-256: the secret is random, so no salt is needed)."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(secret: str, stored_sha256: str) -> bool:
    return hmac.compare_digest(secret_sha256(secret), stored_sha256)


class TokenUser:
    """``request.user`` of a request authenticated by an API token: a machine client, not a person.

    It holds no console role and no Django permission (the role checks refuse it; a view admits it by
    naming ``required_scopes``), and it sees only its token's region. ``api_token`` is the token row.
    """

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    id = pk = None
    _groups = EmptyManager(Group)
    _user_permissions = EmptyManager(Permission)

    def __init__(self, token: ApiToken) -> None:
        self.api_token = token
        self.username = f"api-token:{token.prefix}"

    def __str__(self) -> str:
        return f"API token {self.api_token.name!r} ({self.api_token.prefix})"

    @property
    def groups(self) -> EmptyManager:
        return self._groups

    @property
    def user_permissions(self) -> EmptyManager:
        return self._user_permissions

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return False

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False

    def get_username(self) -> str:
        return self.username


def api_token_of(user: Any) -> ApiToken | None:
    """The API token ``user`` (a request's user) stands for, or None for a person or anonymous."""
    return getattr(user, "api_token", None) if isinstance(user, TokenUser) else None
