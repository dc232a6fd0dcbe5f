"""The variant cache the hour-band and live-closure engines share: built once, dropped with its base engine."""

from __future__ import annotations

import threading

from gis_core.routing.variant_cache import VariantCache


class _Engine:
    """A stand-in engine: the cache only compares engines by identity."""


def _counting(built: list[str], name: str):
    def build():
        built.append(name)
        return _Engine()

    return build


def test_a_variant_is_built_once_per_base_and_key() -> None:
    cache, built, base = VariantCache(), [], _Engine()
    first = cache.get((1, "car"), base, "07-10", _counting(built, "07-10"))
    assert cache.get((1, "car"), base, "07-10", _counting(built, "07-10")) is first
    other = cache.get((1, "car"), base, "16-19", _counting(built, "16-19"))
    assert other is not first
    assert cache.get((1, "car"), base, "07-10", _counting(built, "again")) is first  # every key kept
    assert cache.get((1, "fire_engine"), base, "07-10", _counting(built, "fire")) is not first  # slots apart
    assert built == ["07-10", "16-19", "fire"]


def test_a_new_base_engine_drops_the_variants_built_on_the_old_one() -> None:
    cache, built = VariantCache(), []
    old, new = _Engine(), _Engine()
    on_old = cache.get((1, "car"), old, "07-10", _counting(built, "old"))
    on_new = cache.get((1, "car"), new, "07-10", _counting(built, "new"))
    assert on_new is not on_old
    assert cache.get((1, "car"), old, "07-10", _counting(built, "old again")) is not on_old  # not kept
    assert built == ["old", "new", "old again"]


def test_latest_only_keeps_just_the_last_key_and_clear_forgets_all() -> None:
    cache, built, base = VariantCache(latest_only=True), [], _Engine()
    a = cache.get((1, "car"), base, ((3, 1.0),), _counting(built, "a"))
    cache.get((1, "car"), base, ((3, 2.0),), _counting(built, "b"))
    assert cache.get((1, "car"), base, ((3, 1.0),), _counting(built, "a again")) is not a
    cache.clear()
    cache.get((1, "car"), base, ((3, 1.0),), _counting(built, "after clear"))
    assert built == ["a", "b", "a again", "after clear"]


def test_threads_asking_at_once_build_one_variant() -> None:
    cache, built, base = VariantCache(), [], _Engine()
    gate = threading.Barrier(8)
    seen = []

    def ask() -> None:
        gate.wait()
        seen.append(cache.get((1, "car"), base, "all", _counting(built, "all")))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert built == ["all"]
    assert all(engine is seen[0] for engine in seen)
