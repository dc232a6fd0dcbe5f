"""A region's time zone: the pure checks, Region validation, region_create and the demo's regions."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from gis_core.demo import known_regions
from gis_core.models import Region
from gis_core.time_zones import time_zone_problems, zone_for_code, zone_label

NOON_UTC = datetime(2026, 12, 3, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("15.71", "Asia/Jakarta"),  # Kota Jambi: WIB
        ("81.71", "Asia/Jayapura"),  # Kota Ambon: WIT
        ("64.71", "Asia/Makassar"),  # Kota Balikpapan: WITA
        ("61.71", "Asia/Pontianak"),  # Kota Pontianak: WIB under its own zone name
        ("31", "Asia/Jakarta"),  # a province's own code
        ("99.01", None),  # no such province
        ("LI", None),
        ("810.1", None),  # not a two-digit province code
    ],
)
def test_zone_for_code_follows_the_province(code: str, zone: str | None) -> None:
    assert zone_for_code(code) == zone


@pytest.mark.parametrize(
    ("zone", "abbreviation", "offset"),
    [("Asia/Jakarta", "WIB", "+07:00"), ("Asia/Makassar", "WITA", "+08:00"), ("Asia/Jayapura", "WIT", "+09:00"),
     ("Asia/Kolkata", "IST", "+05:30"), ("America/Sao_Paulo", "UTC-03", "-03:00")],
)  # fmt: skip
def test_zone_label_names_the_abbreviation_and_offset(zone: str, abbreviation: str, offset: str) -> None:
    # The tz database's letters (WIB, WITA, WIT); a zone it gives none (Sao Paulo: "-03") reads UTC-03.
    assert zone_label(zone, at=NOON_UTC) == {"name": zone, "abbreviation": abbreviation, "utc_offset": offset}


def test_time_zone_problems_say_what_was_meant() -> None:
    assert time_zone_problems("Asia/Jayapura") == []
    (problem,) = time_zone_problems("asia/jayapura")
    assert "'asia/jayapura' is not an IANA time zone; did you mean" in problem
    assert "Asia/Jayapura" in problem
    (problem,) = time_zone_problems("WIT")
    assert "Indonesia's are Asia/Jakarta (WIB), Asia/Makassar (WITA) and Asia/Jayapura (WIT)" in problem
    for junk in ("", "../etc/passwd", "+09:00"):
        assert time_zone_problems(junk), junk


@pytest.mark.django_db
def test_region_full_clean_refuses_an_unknown_zone() -> None:
    region = Region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752, time_zone="Asia/Ambon")
    with pytest.raises(ValidationError) as info:
        region.full_clean()
    assert "'Asia/Ambon' is not an IANA time zone" in info.value.message_dict["time_zone"][0]
    region.time_zone = "Asia/Jayapura"
    region.full_clean()
    assert region.zone.key == "Asia/Jayapura"


def test_every_demo_region_names_a_zone_matching_its_province() -> None:
    for slug, spec in known_regions().items():
        assert time_zone_problems(spec["time_zone"]) == [], slug
        assert spec["time_zone"] == zone_for_code(spec["code"]), slug


def _region_create(*args: str) -> str:
    out = io.StringIO()
    call_command("region_create", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_region_create_takes_the_provinces_zone_or_the_one_given() -> None:
    out = _region_create("Kota Ambon", "--code", "81.71", "--metric-srid", "32752")
    assert Region.objects.get(code="81.71").time_zone == "Asia/Jayapura"
    assert "time zone Asia/Jayapura WIT (the zone of province 81)" in out
    out = _region_create("Kota Uji", "--code", "99.01", "--metric-srid", "32748", "--time-zone", "Asia/Makassar")
    assert Region.objects.get(code="99.01").time_zone == "Asia/Makassar"
    assert "time zone Asia/Makassar WITA (as given)" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--code", "99.01"], "--time-zone: code '99.01' is in no Indonesian province: give the IANA time zone"),
        (["--code", "99.01", "--time-zone", " "], "--time-zone: code '99.01' is in no Indonesian province"),
        (["--code", "81.71", "--time-zone", "WIT"], "--time-zone: 'WIT' is not an IANA time zone"),
        (["--code", "81.71", "--time-zone", "Asia/Jaya\x00pura"], "--time-zone: must not contain a NUL character"),
    ],
)
def test_region_create_refuses_a_zone_it_cannot_use(args: list[str], expected: str) -> None:
    with pytest.raises(CommandError) as info:
        _region_create("Kota X", "--metric-srid", "32752", *args)
    assert expected in str(info.value)
    assert not Region.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_migration_gives_existing_regions_their_provinces_zone() -> None:
    from django.db import connection
    from factories.migrations import migrate, migrate_to_latest

    migrate([("gis_core", "0002_region_whatsapp_phone_number_id")])
    try:
        with connection.cursor() as cursor:
            for code, slug in (("15.71", "kota-jambi"), ("81.71", "kota-ambon"), ("99.01", "uji")):
                cursor.execute(
                    "INSERT INTO gis_core_region (code, slug, name, metric_srid, population_source)"
                    " VALUES (%s, %s, %s, 32748, '')",
                    [code, slug, slug],
                )
    finally:
        migrate_to_latest()  # every app, not only gis_core: later migrations of other apps need 0003
    zones = dict(Region.objects.values_list("slug", "time_zone"))
    assert zones == {"kota-jambi": "Asia/Jakarta", "kota-ambon": "Asia/Jayapura", "uji": "Asia/Jakarta"}
