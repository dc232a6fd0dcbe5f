"""The configured session engine never sends a key Django could not have issued to the database.

Every reader of the session (web pages, the API, the console's WebSocket through Channels) builds its
store from ``SESSION_ENGINE``; a NUL in the cookie was a PostgreSQL error there.
"""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("key", ["abc\x00defghijk", "a" * 10_000, "ABCDEFGH-IJ", "short"])
def test_a_malformed_session_key_is_no_session_and_never_queried(key: str) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    with CaptureQueriesContext(connection) as queries:
        assert store.load() == {}
    assert store.session_key is None
    assert not [q["sql"] for q in queries.captured_queries if key[:8] in q["sql"]]


def test_a_real_session_still_loads() -> None:
    engine = import_module(settings.SESSION_ENGINE)
    store = engine.SessionStore()
    store["who"] = "dispatcher"
    store.create()
    assert engine.SessionStore(session_key=store.session_key).load() == {"who": "dispatcher"}
