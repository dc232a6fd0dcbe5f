"""Edge speeds: OSM maxspeed parsing, the highway-class table and its overrides (pure, no database)."""

from __future__ import annotations

import pytest

from gis_core.speeds import (
    DEFAULT_SPEEDS_KPH,
    FALLBACK_SPEED_KPH,
    highway_classes,
    parse_maxspeed_kph,
    speed_table,
    table_speed_kph,
)


@pytest.mark.parametrize(
    ("tag", "expected_kph"),
    [
        ("50", 50.0),
        ("50 km/h", 50.0),
        (45, 45.0),  # osmnx may hand a number through
        ("30 mph", 30 * 1.609344),  # 1 mile = 1.609344 km exactly
        ("10 knots", 18.52),  # 1 knot = 1.852 km/h exactly
        ("ID:urban", 50.0),  # PM 111/2015 urban ceiling
        ("ID:rural", 80.0),
        ("ID:zone30", 30.0),
        ("40;60", 40.0),  # several values: the lowest, so an ETA is never optimistic
        (["60", "40"], 40.0),  # a merged edge after osmnx simplification
        (["none", "30"], 30.0),
    ],
)
def test_maxspeed_values_osm_uses(tag: object, expected_kph: float) -> None:
    assert parse_maxspeed_kph(tag) == pytest.approx(expected_kph)


@pytest.mark.parametrize("tag", [None, "", "none", "signals", "walk", "0", 0, -5, "ID:unknown", "fast mph"])
def test_maxspeed_without_a_usable_number_is_none(tag: object) -> None:
    assert parse_maxspeed_kph(tag) is None


def test_table_speed_takes_the_slowest_known_class_and_flags_unknown_ones() -> None:
    assert table_speed_kph("trunk", DEFAULT_SPEEDS_KPH) == (DEFAULT_SPEEDS_KPH["trunk"], True)
    # An edge merged from a primary and a residential way drives at the residential speed.
    assert table_speed_kph(["primary", "residential"], DEFAULT_SPEEDS_KPH) == (DEFAULT_SPEEDS_KPH["residential"], True)
    assert table_speed_kph("trunk;secondary", DEFAULT_SPEEDS_KPH) == (DEFAULT_SPEEDS_KPH["secondary"], True)
    assert table_speed_kph("gang_kecil", DEFAULT_SPEEDS_KPH) == (FALLBACK_SPEED_KPH, False)
    assert table_speed_kph(None, DEFAULT_SPEEDS_KPH) == (FALLBACK_SPEED_KPH, False)


def test_highway_classes_from_string_list_and_exported_forms() -> None:
    assert highway_classes("primary") == ["primary"]
    assert highway_classes(" primary ; secondary|tertiary") == ["primary", "secondary", "tertiary"]
    assert highway_classes(["residential", ""]) == ["residential"]
    assert highway_classes(None) == []


def test_default_table_is_within_the_indonesian_urban_limits() -> None:
    # PM 111/2015: 50 km/h in urban areas; only motorways (toll roads, 100 km/h limit) may exceed it.
    assert all(speed <= 50.0 for cls, speed in DEFAULT_SPEEDS_KPH.items() if cls != "motorway")
    assert DEFAULT_SPEEDS_KPH["residential"] == 30.0  # the settlement-area (kawasan permukiman) limit
    assert 0 < FALLBACK_SPEED_KPH <= min(DEFAULT_SPEEDS_KPH[c] for c in ("residential", "unclassified"))


def test_overrides_replace_and_extend_the_table_without_changing_the_default() -> None:
    table = speed_table({"residential": 20, "gang": "10"})
    assert (table["residential"], table["gang"], table["trunk"]) == (20.0, 10.0, DEFAULT_SPEEDS_KPH["trunk"])
    assert DEFAULT_SPEEDS_KPH["residential"] == 30.0


@pytest.mark.parametrize("speed", [0, -10, "fast", None, True, float("inf"), float("nan")])
def test_an_override_that_is_not_a_positive_speed_is_refused_by_class(speed: object) -> None:
    with pytest.raises(ValueError, match="speed for highway class 'gang' must be a positive km/h figure"):
        speed_table({"gang": speed})
