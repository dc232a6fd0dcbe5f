"""Create the PostGIS database named by DATABASE_URL (or the local default) when it is missing."""

from __future__ import annotations

import os
import sys

import dj_database_url
import psycopg
from psycopg import sql

DEFAULT_URL = "postgis://postgres@127.0.0.1:5432/siaga"


def main() -> int:
    cfg = dj_database_url.parse(os.environ.get("DATABASE_URL", DEFAULT_URL))
    conninfo = {
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
        "user": cfg.get("USER") or None,
        "password": cfg.get("PASSWORD") or None,
    }
    name = cfg["NAME"]
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                print(f"[setup] creating database {name}")
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(dbname=name, autocommit=True, **conninfo) as conn:
            # pg_trgm and unaccent: the gazetteer's typo-tolerant search (its migration creates them too).
            for extension in ("postgis", "pg_trgm", "unaccent"):
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension)))
    except psycopg.OperationalError as exc:
        print(
            f"[setup] cannot reach PostgreSQL at {conninfo['host']}:{conninfo['port']} as {conninfo['user']}: "
            f"{exc}\n[setup] set DATABASE_URL=postgis://USER:PASSWORD@HOST:PORT/DBNAME to a PostGIS server.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
