"""The region outline that flags GPS fixes is cached per process and follows a boundary change made anywhere.

Each process keeps the outline with the boundaries' shared version (``gis_core.shared_versions``) and reads the
version on each use. "Another process" is played here by changing the boundaries behind this process's back (a
raw SQL write, which sends no signal, plus the version bump that process's importer makes) and, in the last
test, by a real second Python process bumping the version in the real Redis.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from factories.fleet import make_agency, make_device, make_unit

from fleet.ingest.fix import CanonicalFix
from fleet.services import positions
from fleet.services.positions import position_record, region_envelope_cache_clear
from gis_core.models import Kecamatan
from gis_core.shared_versions import boundaries_version_name, shared_version, shared_version_bump

pytestmark = pytest.mark.django_db
EAST_7KM = (103.74, -1.62)  # 6,560 m outside Kota Jambi's kecamatan (tests/fleet/test_positions.py): outside_region


@pytest.fixture
def phone(jambi_kecamatan):
    region_envelope_cache_clear()
    unit = make_unit(agency=make_agency(region=jambi_kecamatan))
    yield make_device(unit=unit)
    region_envelope_cache_clear()


def _flags(device, lonlat: tuple[float, float]) -> list[str]:
    fix = CanonicalFix(device_identifier=device.identifier, lon=lonlat[0], lat=lonlat[1],
                       recorded_at=timezone.now() - timedelta(seconds=1))  # fmt: skip
    return position_record(device=device, fixes=[fix], protocol="osmand").fixes[0].flags


def _grow_a_kecamatan_east_behind_this_process(region) -> None:
    """What another process's boundary import does: a new polygon in the database, no signal here."""
    first = Kecamatan.objects.filter(region=region).order_by("code").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE gis_core_kecamatan SET geom = ST_Multi(ST_Union(geom,"
            " ST_MakeEnvelope(103.70, -1.65, 103.76, -1.59, 4326))) WHERE id = %s",
            [first.pk],
        )


def test_a_boundary_change_in_another_process_is_used_by_the_next_fix_here(phone) -> None:
    region = phone.unit.agency.region
    assert "outside_region" in _flags(phone, EAST_7KM)  # the outline is now cached in this process
    _grow_a_kecamatan_east_behind_this_process(region)
    assert "outside_region" in _flags(phone, EAST_7KM), "without a new version the cached outline stays"
    shared_version_bump(boundaries_version_name(region.pk))
    assert "outside_region" not in _flags(phone, EAST_7KM)


def test_an_edit_saved_through_the_orm_bumps_the_version_after_commit(phone, django_capture_on_commit_callbacks):
    region = phone.unit.agency.region
    before = shared_version(boundaries_version_name(region.pk))
    kecamatan = Kecamatan.objects.filter(region=region).first()
    with django_capture_on_commit_callbacks(execute=True):
        kecamatan.name = kecamatan.name + " (edited)"
        kecamatan.save()  # the admin's save
        assert shared_version(boundaries_version_name(region.pk)) == before  # not before the commit
    assert shared_version(boundaries_version_name(region.pk)) not in (before, None)


def test_the_boundary_importer_bumps_the_version(jambi_region, data_dir, django_capture_on_commit_callbacks):
    from gis_core.importers.boundaries import import_boundaries

    before = shared_version(boundaries_version_name(jambi_region.pk))
    with django_capture_on_commit_callbacks(execute=True):
        import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    assert shared_version(boundaries_version_name(jambi_region.pk)) not in (before, None)


def test_redis_away_keeps_the_cached_outline_until_its_time_limit(phone, monkeypatch) -> None:
    region = phone.unit.agency.region
    assert "outside_region" in _flags(phone, EAST_7KM)
    _grow_a_kecamatan_east_behind_this_process(region)
    monkeypatch.setattr(positions, "shared_version", lambda name: positions.UNKNOWN)
    assert "outside_region" in _flags(phone, EAST_7KM)  # no version to compare: the cached outline, no error
    monkeypatch.setattr(positions, "_REGION_CACHE_TTL_S", 0.0)
    assert "outside_region" not in _flags(phone, EAST_7KM)  # past its time limit it is read again


def test_a_version_bumped_by_another_process_in_redis_is_seen_here(settings, jambi_region) -> None:
    """A real second process, through the real Redis cache (not the tests' per-test memory cache)."""
    prefix = f"siaga-test-versions-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL,
                    "KEY_PREFIX": prefix}
    }  # fmt: skip
    name = boundaries_version_name(jambi_region.pk)
    assert shared_version(name) is None
    script = (
        "import django; django.setup();"
        "from gis_core.shared_versions import shared_version_bump, shared_version;"
        f"shared_version_bump({name!r}); print(shared_version({name!r}))"
    )
    env = {**os.environ, "SIAGA_CACHE_PREFIX": prefix, "DJANGO_SETTINGS_MODULE": "config.settings"}
    other = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60
    )
    assert other.returncode == 0, other.stderr[-2000:]
    assert shared_version(name) == other.stdout.strip() != "None"
