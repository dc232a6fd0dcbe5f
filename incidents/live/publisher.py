"""Sending live messages to a region's consoles: after commit, in commit order, without the request waiting.

The message is built in the committing thread and handed to a per-process publisher thread, which sends
messages in the order they were committed. Until a send has succeeded (at a process's first publish,
and again after a failure) a publish waits for its send instead, so an unreachable or misconfigured
Redis shows in the log of the request that met it. A failed publish is logged and dropped: it never
fails the GPS fix or the dispatch that caused it. What a message says is ``incidents.live.messages``;
this module knows no message kinds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.utils import timezone

logger = logging.getLogger("incidents.live")

# The channel layer's handler name: RegionLiveConsumer.live_relay.
RELAY_TYPE = "live.relay"


def live_group(region_id: int) -> str:
    """The channel-layer group of a region's consoles.

    The database name is part of it: region ids are per database, so two Siaga instances (or a test
    run and the demo) sharing one Redis never see each other's units.
    """
    db_name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(connections["default"].settings_dict["NAME"]))[:60]
    return f"live.{db_name}.region.{region_id}"


def live_send(*, region_id: int, message: dict) -> bool:
    """Send ``message`` to every console on the region now; False (logged) when it could not be sent.

    Waits at most ``SIAGA_LIVE_PUBLISH_TIMEOUT_S`` for Redis. Call it from synchronous code only.
    """
    try:
        layer = get_channel_layer()
        if layer is None:
            return False
        event = {"type": RELAY_TYPE, "message": message}
        future = asyncio.run_coroutine_threadsafe(layer.group_send(live_group(region_id), event), _publisher_loop())
        try:
            future.result(timeout=settings.SIAGA_LIVE_PUBLISH_TIMEOUT_S)
        except BaseException:
            future.cancel()
            raise
    except Exception as exc:
        logger.warning("live update %s not sent to region %s: %r", message.get("type"), region_id, exc)
        return False
    return True


_loop_lock = threading.Lock()
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, in a daemon thread, so Redis connections are pooled across publishes.

    (``async_to_sync`` would start a new loop, and so a new Redis connection, for every message.) The
    process id is checked so a forked worker starts its own loop instead of waiting on its parent's.
    """
    global _loop
    with _loop_lock:
        if _loop is None or _loop[0] != os.getpid() or _loop[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="siaga-live-publisher", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]


class _Sender:
    """Sends queued messages in the order queued, on the publisher loop, without the caller waiting.

    One per process and channel layer. ``healthy`` is true once a send through this layer has
    succeeded, false again after a failure: until then a publish waits for its send (``live_send``),
    so a misconfigured or unreachable Redis is logged by the request that met it.
    """

    def __init__(self, layer: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.layer, self.loop = layer, loop
        self.healthy = False
        self._pending: deque[tuple[str, dict]] = deque()
        self._draining = False  # touched on the loop only

    def submit(self, group: str, message: dict) -> None:
        if len(self._pending) >= MAX_PENDING:
            dropped = self._pending.popleft()
            logger.warning(
                "live update %s to %s dropped: %d not yet sent", dropped[1].get("type"), dropped[0], MAX_PENDING
            )
        self._pending.append((group, message))
        self.loop.call_soon_threadsafe(self._kick)

    def _kick(self) -> None:
        if not self._draining:
            self._draining = True
            self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._pending:
                group, message = self._pending.popleft()
                event = {"type": RELAY_TYPE, "message": message}
                try:
                    await asyncio.wait_for(self.layer.group_send(group, event), settings.SIAGA_LIVE_PUBLISH_TIMEOUT_S)
                except Exception as exc:
                    self.healthy = False
                    logger.warning("live update %s not sent to %s: %r", message.get("type"), group, exc)
        finally:
            self._draining = False


# Messages queued and not yet sent, per process; beyond this Redis cannot keep up and the oldest go.
MAX_PENDING = 1000
_sender: _Sender | None = None


def _current_sender() -> _Sender | None:
    global _sender
    layer = get_channel_layer()
    if layer is None:
        return None
    loop = _publisher_loop()
    with _loop_lock:
        if _sender is None or _sender.layer is not layer or _sender.loop is not loop:
            _sender = _Sender(layer, loop)
        return _sender


def publish(build: Callable[[int, datetime], tuple[int, dict] | None], pk: int) -> None:
    """Build the message for object ``pk`` with ``build`` (None: nothing to send) and send it to its region."""
    # Runs after commit: whatever goes wrong here must not reach the service's caller.
    try:
        built = build(pk, timezone.now())
        sender = _current_sender()
    except Exception:
        logger.exception("live update for %s %s could not be built", build.__name__, pk)
        return
    if built is None or sender is None:
        return
    region_id, message = built
    if sender.healthy:
        sender.submit(live_group(region_id), message)
    elif live_send(region_id=region_id, message=message):
        sender.healthy = True
