"""Liveness and readiness: what the proxy and the orchestrators ask before sending a worker traffic.

``live`` says the process answers (no database, nothing shared). ``ready`` says it can serve: the database
answers a query, Redis answers a PING, and the routing engine of every region with an active road network is
loaded or loads now (``gis_core.routing.registry``; the first probe of a fresh worker warms it). A region with no
road network yet is not counted: it answers 409 ``no_network`` by design, not because the worker is broken.

The answer names each check and whether it passed, never why it failed: an exception's text can hold a host,
a user name or a region's data, and these URLs are open to anonymous callers. The reason goes to the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection

from gis_core.models import Region
from gis_core.routing.errors import NoNetworkError
from gis_core.routing.registry import engine_for

logger = logging.getLogger(__name__)
REDIS_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Check:
    """One readiness check: its name, whether it passed, and how long it took."""

    name: str
    ok: bool
    took_ms: float
    detail: dict[str, int]


def _database() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _redis() -> dict[str, int]:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=REDIS_TIMEOUT_S, socket_timeout=REDIS_TIMEOUT_S
    )
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _routing() -> dict[str, int]:
    loaded = failed = 0
    regions = Region.objects.filter(network_versions__is_active=True).distinct().order_by("pk")
    for region in regions:
        try:
            engine_for(region)
        except NoNetworkError:  # deactivated since the query above: not this worker's fault
            continue
        except Exception:
            logger.exception("readiness: the road network of %s cannot be loaded", region.slug)
            failed += 1
        else:
            loaded += 1
    if failed:
        raise _ChecksFailed({"regions_loaded": loaded, "regions_failed": failed})
    return {"regions_loaded": loaded}


class _ChecksFailed(Exception):
    def __init__(self, detail: dict[str, int]) -> None:
        super().__init__("some parts failed")
        self.detail = detail


CHECKS: dict[str, Callable[[], dict[str, int]]] = {"database": _database, "redis": _redis, "routing": _routing}


def readiness() -> list[Check]:
    """Run every readiness check (a failing database skips routing, which reads it)."""
    results: list[Check] = []
    for name, check in CHECKS.items():
        if name == "routing" and not results[0].ok:
            results.append(Check(name, False, 0.0, {}))
            continue
        started = time.perf_counter()
        try:
            detail, ok = check(), True
        except _ChecksFailed as exc:
            detail, ok = exc.detail, False
        except Exception:
            logger.exception("readiness check %s failed", name)
            detail, ok = {}, False
        results.append(Check(name, ok, round((time.perf_counter() - started) * 1000, 1), detail))
    return results
