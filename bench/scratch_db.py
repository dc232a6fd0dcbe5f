"""A throw-away PostGIS database for one bench run: created and migrated at the start, dropped at the end.

A bench that needs only the database (``bench/history.py``, ``bench/reports.py``) reads its arguments with
:func:`scratch_parser` (adds ``--keep``), then, before ``django.setup()``, :func:`scratch_open` creates the
database and points Django at it; at the end :func:`scratch_close` drops it (or says it was kept).
"""

from __future__ import annotations

import argparse
import os
import secrets
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


def scratch_parser(description: str | None) -> argparse.ArgumentParser:
    """The bench's argument parser (its docstring as the help), with ``--keep``."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    return parser


def scratch_open(name: str) -> None:
    """Set the environment Django reads, then create and migrate ``name`` (call before ``django.setup()``)."""
    os.environ["DATABASE_URL"] = database_url(name)
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    print(f"creating {name} ...", flush=True)
    try:
        create_database(name)
    except BaseException:
        drop_database(name)  # a failed migration leaves nothing behind
        raise


def scratch_close(name: str, *, keep: bool) -> None:
    """Drop ``name``, or say it is kept (``--keep``)."""
    if keep:
        print(f"kept database {name}")
    else:
        drop_database(name)
