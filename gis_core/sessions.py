"""The session engine (``SESSION_ENGINE``): Django's database sessions, looking up only keys Django could
have made.

Django issues 32 characters of ``[a-z0-9]`` and the ``django_session`` key column holds 40. A cookie
with anything else (a NUL, which PostgreSQL refuses as a 500; a 10,000-character value) names no
session, so it is treated as none without a query: a web page answers as for a visitor who is not
logged in, and Django's session middleware deletes the cookie in the response. Every reader of the
session goes through here (HTTP pages, the API, the console's WebSocket), so none of them can reach
the database with such a key; the API additionally refuses it with a 401 (``gis_core.middleware``).
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DBSessionStore

_KEY_CHARS = frozenset(VALID_KEY_CHARS)
_KEY_MAX_CHARS = 40  # django_session.session_key is varchar(40)


def session_key_wellformed(key: str | None) -> bool:
    """Whether ``key`` could be a key Django issued: 8 to 40 characters of ``[a-z0-9]``."""
    return bool(key) and 8 <= len(key) <= _KEY_MAX_CHARS and set(key) <= _KEY_CHARS


class SessionStore(DBSessionStore):
    def _validate_session_key(self, key):
        return session_key_wellformed(key)
