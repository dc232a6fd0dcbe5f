"""Versions of data that every process caches, kept in the shared cache (Redis), so a change made by one process
is seen by all of them at their next use.

A process keeps what it built from the database (a region's outline for flagging GPS fixes, a coverage context)
together with the version it read when it built it, and reads the version again on each use (one Redis GET): a
different one means the data changed in some process, and it rebuilds. A change sets a new version after its
commit. A version is a random token, not a counter, so a flushed or evicted key (read as None) can never come
back equal to an older one. Redis away: ``shared_version`` says so and the caller falls back to its own time
limit, as before versions.

Names in use: ``boundaries:<region id>`` (kecamatan, kelurahan and the region's metric CRS: ``gis_core.apps``
and ``gis_core.importers.boundaries`` bump it; ``fleet.services.positions`` and ``coverage.context`` read it).
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

_PREFIX = "siaga:version:"


class Unknown:
    """The version could not be read (the shared cache is away)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = Unknown()


def shared_version(name: str) -> str | Unknown | None:
    """The current version of ``name``: a token, None when never set (or evicted), ``UNKNOWN`` when unreadable."""
    try:
        value = cache.get(_PREFIX + name)
    except Exception as exc:  # the cache backend's own connection errors: Redis is away
        logger.warning("shared version %s unreadable: %r", name, exc)
        return UNKNOWN
    return None if value is None else str(value)


def shared_version_bump(name: str) -> None:
    """Give ``name`` a new version now: every process rebuilds what it cached of it at its next use."""
    try:
        cache.set(_PREFIX + name, uuid.uuid4().hex, timeout=None)
    except Exception:
        # The caches then keep their old data until their own time limit: say so, loudly.
        logger.exception("shared version %s not bumped: other processes keep their cached copy until it expires", name)


def shared_version_bump_on_commit(name: str) -> None:
    """Bump ``name`` once the current transaction commits (at once outside one), so no process rebuilds from
    data not yet committed and keeps that."""
    transaction.on_commit(partial(shared_version_bump, name))


def boundaries_version_name(region_id: int) -> str:
    """The version of a region's boundaries (kecamatan, kelurahan) and of the CRS they are measured in."""
    return f"boundaries:{region_id}"
