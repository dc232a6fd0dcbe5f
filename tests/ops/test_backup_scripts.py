"""scripts/backup.sh and scripts/restore-drill.sh on a tiny database of their own (no PostGIS, a few rows).

The restore drill must pass on a faithful restore and fail, naming what differs, when the source has changed.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = """
    CREATE TABLE fleet_positionfix (id bigint PRIMARY KEY, recorded_at timestamptz, lon float8, lat float8);
    CREATE TABLE fleet_unit (id bigint PRIMARY KEY, last_fix_id bigint REFERENCES fleet_positionfix (id));
    INSERT INTO fleet_positionfix VALUES (1, '2026-03-01 08:00+07', 103.61, -1.59), (2, '2026-03-01 08:00:05+07',
        103.62, -1.60), (3, '2026-03-01 08:00:09+07', 103.63, -1.61);
    INSERT INTO fleet_unit VALUES (10, 2), (11, 3), (12, NULL);
"""


@pytest.fixture
def tiny(tmp_path):
    db = settings.DATABASES["default"]
    env = os.environ | {"PGHOST": db["HOST"] or "127.0.0.1", "PGPORT": str(db["PORT"] or 5432),
                        "PGUSER": db["USER"] or "postgres", "PGPASSWORD": db["PASSWORD"] or ""}  # fmt: skip
    name = f"siaga_backup_test_{os.getpid()}"
    admin = f"host={env['PGHOST']} port={env['PGPORT']} user={env['PGUSER']} dbname=postgres"
    if env["PGPASSWORD"]:
        admin += f" password={env['PGPASSWORD']}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(admin.replace("dbname=postgres", f"dbname={name}"), autocommit=True) as conn:
        conn.execute(SCHEMA)
    yield name, env, admin
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _run(script: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", f"scripts/{script}", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_backup_restores_into_a_fresh_database_that_matches(tiny, tmp_path) -> None:
    name, env, _ = tiny
    done = _run("backup.sh", name, str(tmp_path), env=env | {"SIAGA_BACKUP_KEEP": "1"})
    assert done.returncode == 0, done.stderr
    (archive,) = tmp_path.glob(f"{name}-*.dump")
    assert done.stdout.startswith(f"backup {archive}")
    drill = _run("restore-drill.sh", str(archive), name, env=env)
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "2 tables, 6 rows, 3 units' last fixes" in drill.stdout
    assert "every table's row count and every unit's last fix match" in drill.stdout


def test_the_restore_drill_fails_when_the_restore_differs(tiny, tmp_path) -> None:
    name, env, admin = tiny
    assert _run("backup.sh", name, str(tmp_path), env=env).returncode == 0
    (archive,) = tmp_path.glob(f"{name}-*.dump")
    with psycopg.connect(admin.replace("dbname=postgres", f"dbname={name}"), autocommit=True) as conn:
        conn.execute("INSERT INTO fleet_positionfix VALUES (4, now(), 103.64, -1.62); UPDATE fleet_unit SET"
                     " last_fix_id = 4 WHERE id = 12")  # fmt: skip
    drill = _run("restore-drill.sh", str(archive), name, env=env)
    assert drill.returncode == 1
    assert "differs: fleet_positionfix 4 rows" in drill.stdout
    assert "differs: the last fix of 1 units" in drill.stdout
    assert "DIFFERS" in drill.stderr


def test_backup_keeps_the_newest_archives(tiny, tmp_path) -> None:
    name, env, _ = tiny
    for stamp in ("20260101T000000Z", "20260102T000000Z"):
        (tmp_path / f"{name}-{stamp}.dump").write_bytes(b"old")
    done = _run("backup.sh", name, str(tmp_path), env=env | {"SIAGA_BACKUP_KEEP": "2"})
    assert done.returncode == 0, done.stderr
    kept = sorted(p.name for p in tmp_path.glob("*.dump"))
    assert len(kept) == 2
    assert f"{name}-20260101T000000Z.dump" not in kept
    assert "1 old removed" in done.stdout
    assert _run("backup.sh", name, str(tmp_path), env=env | {"SIAGA_BACKUP_KEEP": "x"}).returncode == 2
