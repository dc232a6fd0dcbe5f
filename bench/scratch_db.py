"""A throw-away PostGIS database for one bench run: created and migrated at the start, dropped at the end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get("BENCH_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    """The Django ``DATABASE_URL`` of the bench database ``name``."""
    return f"postgis://postgres@127.0.0.1:5432/{name}"


def create_database(name: str) -> None:
    """Create ``name`` with the postgis extension and run the migrations into it."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    env = os.environ | {"DATABASE_URL": database_url(name)}
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT
    )


def drop_database(name: str) -> None:
    """Close this process's Django connections and drop ``name``, whoever is still connected."""
    from django.db import connections

    connections.close_all()
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
