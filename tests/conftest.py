"""Shared fixtures: the real data directory and small regions built through the models' validation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from factories.gis_core import make_region

# The fleet fixtures (``fleet``, ``jambi_kecamatan``, ``jambi_network``) serve the fleet and incidents tests alike;
# the browser fixtures (``demo_db``, ``server``, ``browser``, ``console``) the console's and the crew page's.
# ``run_queued`` runs the job queue through procrastinate's worker (tests/factories/jobs.py).
pytest_plugins = ["factories.fleet_fixtures", "factories.browser", "factories.jobs"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """A test database per pytest process, so runs started side by side never drop each other's."""
    for db_settings in settings.DATABASES.values():
        test = db_settings.setdefault("TEST", {})
        test["NAME"] = f"{test.get('NAME') or 'test_' + db_settings['NAME']}_{os.getpid()}"


# The repository's own data folder (data/SOURCES.md). Tests read it through the data_dir fixture only,
# never SIAGA_DATA_DIR: a user's own data there must not change what the suite checks.
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The repository's data folder; a test that needs it fails (never skips) with what is missing."""
    if not (DATA_DIR / "jambi").is_dir():
        pytest.fail(f"the repository's data folder is missing or incomplete at {DATA_DIR}: expected jambi/ there")
    return DATA_DIR


@pytest.fixture(scope="session", autouse=True)
def _data_dir_is_the_repositorys():
    """Whatever SIAGA_DATA_DIR a user exported, code under test (and the servers the browser tests start)
    reads the repository's data folder."""
    saved = os.environ.get("SIAGA_DATA_DIR")
    os.environ["SIAGA_DATA_DIR"] = str(DATA_DIR)
    with override_settings(SIAGA_DATA_DIR=DATA_DIR):
        yield
    if saved is None:
        os.environ.pop("SIAGA_DATA_DIR", None)
    else:
        os.environ["SIAGA_DATA_DIR"] = saved


@pytest.fixture
def jambi_region(db):
    return make_region()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test counts requests in a cache of its own (the settings' cache is the shared Redis): a rate limit
    reached by one test, or by another run on this machine, never refuses another's requests.
    tests/access/test_rate_limits.py checks the Redis cache itself."""
    from uuid import uuid4

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"test-{uuid4()}"}
    }
