"""Shared fixtures: the real data directory and small regions built through the models' validation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A test database per pytest process, so runs started side by side never drop each other's."""
    for db_settings in settings.DATABASES.values():
        test = db_settings.setdefault("TEST", {})
        test["NAME"] = f"{test.get('NAME') or 'test_' + db_settings['NAME']}_{os.getpid()}"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """SIAGA_DATA_DIR; a test that needs it fails (never skips) with what is missing."""
    path = Path(settings.SIAGA_DATA_DIR)
    if not (path / "jambi").is_dir():
        pytest.fail(f"real data not found at SIAGA_DATA_DIR={path}: expected jambi/, ambon/, balikpapan/ there")
    return path


def make_region(*, code: str = "15.71", slug: str = "kota-jambi", name: str = "Kota Jambi", metric_srid: int = 32748):
    from gis_core.models import Region

    region = Region(code=code, slug=slug, name=name, metric_srid=metric_srid)
    region.full_clean()
    region.save()
    return region


@pytest.fixture
def jambi_region(db):
    return make_region()
