"""How the demo's HTTP serving holds up: gunicorn (``scripts/serve.sh``) against Daphne alone.

Issue 9 item 9: Daphne served the whole demo; a trivial GET cost about 21 ms there against about 7 ms on
gunicorn, and HTTP Basic checks ran one at a time (20 concurrent requests took about 5 s each), since
Daphne runs every synchronous Django view on one thread. ``scripts/serve.sh`` now serves HTTP from
gunicorn (gthread workers) and only the WebSocket from Daphne.

What it does: creates a throw-away database with one user, then for each server (``scripts/serve.sh``,
and ``daphne config.asgi:application`` on its own as before) on a free loopback port, DEBUG off:

1. ``--gets`` sequential ``GET /login/`` (a template page, no database query): p50 and p95;
2. ``--concurrent`` requests at once to ``GET /api/regions/`` with HTTP Basic (each a PBKDF2 password
   check): the wall time of the burst and the slowest request.

Run: ``.venv/bin/python bench/serving.py [--gets 300] [--concurrent 20]``
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch_db import create_database, database_url, drop_database  # noqa: E402
from bench.server import free_port, start_server, stop_server  # noqa: E402

DB_NAME = f"siaga_bench_serving_{os.getpid()}"
os.environ.update(
    {
        "DATABASE_URL": database_url(DB_NAME),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-serving-not-secret",
        "SIAGA_LOG_LEVEL": "WARNING",
    }
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
USER, PASSWORD = "bench-basic", "bench-basic-password"


def launch_serve_sh(port: int) -> subprocess.Popen:
    env = os.environ | {"SIAGA_PORT": str(port), "SIAGA_WS_PORT": str(free_port())}
    return subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, start_new_session=True)


def launch_daphne(port: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv" / "bin" / "daphne"), "--bind", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(
        [*command, "--access-log", "/dev/null", "config.asgi:application"], cwd=ROOT, start_new_session=True
    )


def sequential_gets(port: int, count: int) -> np.ndarray:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        conn.request("GET", "/login/")
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - t0)
        if response.status != 200:
            raise RuntimeError(f"GET /login/ answered {response.status}")
    conn.close()
    return np.array(times) * 1000


def basic_burst(port: int, count: int) -> tuple[float, float]:
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    times: list[float] = []
    statuses: list[int] = []
    barrier = threading.Barrier(count)

    def one() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait()
        t0 = time.perf_counter()
        conn.request("GET", "/api/regions/", headers={"Authorization": f"Basic {token}"})
        response = conn.getresponse()
        response.read()
        times.append(time.perf_counter() - t0)
        statuses.append(response.status)

    threads = [threading.Thread(target=one) for _ in range(count)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    if set(statuses) != {200}:
        raise RuntimeError(f"HTTP Basic burst answered {sorted(set(statuses))}")
    return wall, max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gets", type=int, default=300)
    parser.add_argument("--concurrent", type=int, default=20)
    args = parser.parse_args()
    create_database(DB_NAME)
    try:
        import django

        django.setup()
        from django.contrib.auth.models import User

        User.objects.create_user(username=USER, password=PASSWORD)
        for name, launch in (("scripts/serve.sh (gunicorn)", launch_serve_sh), ("daphne alone", launch_daphne)):
            server, port = start_server(launch, probe_path="/login/", name=name)
            try:
                sequential_gets(port, 20)  # warm-up: imports, template cache, connections
                ms = sequential_gets(port, args.gets)
                wall_s, slowest_s = basic_burst(port, args.concurrent)
            finally:
                stop_server(server)
            p50, p95 = np.percentile(ms, [50, 95])
            print(
                f"{name:28s} GET /login/ x{args.gets}: p50 {p50:.1f} ms, p95 {p95:.1f} ms | "
                f"{args.concurrent} concurrent HTTP Basic: burst {wall_s:.2f} s, slowest {slowest_s:.2f} s"
            )
    finally:
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
