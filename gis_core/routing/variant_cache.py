"""A per-process cache of engines derived from a region's base engine (hour bands, live closures).

Each slot (region pk, vehicle profile) holds the variants built on one base engine, by a key of the
caller's (an hour band, the closures in force). A new base engine in a slot (a new network version, a
registry reload) drops that slot's variants, so nothing built on an old network is ever answered. A
variant is built once, under a lock; a hit takes no lock. Pure: no Django, no database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from gis_core.routing.engine import RoutingEngine

Slot = tuple[int, str]  # (region pk, vehicle profile)


class VariantCache:
    """Variants of base engines, per slot and key.

    Parameters
    ----------
    latest_only : bool
        Keep only the last key built in each slot (live closures: the closures in force replace the
        previous set); else keep every key built on the slot's base engine (hour bands).
    """

    def __init__(self, *, latest_only: bool = False) -> None:
        self._latest_only = latest_only
        self._lock = threading.Lock()
        self._slots: dict[Slot, tuple[RoutingEngine, dict[Hashable, RoutingEngine]]] = {}

    def get(self, slot: Slot, base: RoutingEngine, key: Hashable, build: Callable[[], RoutingEngine]) -> RoutingEngine:
        """The variant of ``base`` for ``key`` in ``slot``, built by ``build()`` (under the lock) when missing."""
        found = self._lookup(slot, base, key)
        if found is not None:
            return found
        with self._lock:
            found = self._lookup(slot, base, key)
            if found is not None:
                return found
            entry = self._slots.get(slot)
            variants = {} if entry is None or entry[0] is not base or self._latest_only else dict(entry[1])
            variants[key] = build()
            # A new dict each time: a reader without the lock never sees one being changed.
            self._slots[slot] = (base, variants)
            return variants[key]

    def _lookup(self, slot: Slot, base: RoutingEngine, key: Hashable) -> RoutingEngine | None:
        entry = self._slots.get(slot)
        if entry is None or entry[0] is not base:
            return None
        return entry[1].get(key)

    def clear(self) -> None:
        """Forget every variant (tests; with ``registry.clear_engines``)."""
        with self._lock:
            self._slots.clear()
