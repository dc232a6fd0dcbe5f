"""GPS ingest benchmark: concurrent devices against a real multi-process HTTP server on loopback.

What it does:

1. creates a throw-away PostGIS database (``siaga_bench_ingest_<pid>``), migrates it, and fills it
   with a ``bench-ingest`` region (code 15.71 with Kota Jambi's real kecamatan boundaries, so every fix goes through
   the full validation including ``outside_region``), one agency and ``--devices`` units, each with
   its own crew device and secret (``device_create``, as in production);
2. starts gunicorn (``config.wsgi``, ``--workers`` sync workers, DEBUG off) as a subprocess on
   127.0.0.1 against that database (see "Server" below);
3. phase "batch": ``--batch-clients`` threads POST Siaga's JSON batch (``/api/ingest/batch``) of
   ``--batch-size`` fixes each, every thread for its own devices (HTTP Basic auth);
4. phase "single": ``--single-clients`` threads send one-fix OsmAnd requests as Traccar Client does
   (``GET /api/ingest/osmand?id=...&timestamp=...&lat=...&lon=...&speed=...&key=<secret>``);
5. prints fixes/s (batched), requests/s (single), p50/p99 latency per phase, and the count check:
   every fix sent is a ``PositionFix`` row afterwards (per device), every request a raw
   ``InboundMessage``; then drops the database.

Clients use only the standard library (``http.client`` in threads). Each device's fixes are a
realistic track (1 s apart, about 4 km/h along a line through the city centre), so fixes are valid
and each request moves its unit.

Server: device ingest is measured on gunicorn, WSGI, the deployment this bench assumes for devices:
``gunicorn config.wsgi:application --workers 4 --worker-class sync`` (2 x cores sync workers; each
request holds a worker only for its own few milliseconds of CPU and database round trips, and a device
request never waits on anything slow: the live-console publish is queued, not awaited). Daphne
(``scripts/serve.sh``) serves the console because its WebSockets need ASGI, but it runs every sync
Django view in one thread of one process (asgiref's thread-sensitive executor), so it cannot use the
second core for ingest. In production a reverse proxy sends ``/ws/`` to Daphne and ``/api/`` (device
ingest included) to gunicorn. ``--worker-class gthread --threads N`` tries the threaded worker (measured
no better on this machine).

Figures: requests/s and p50/p99 as the clients saw them, and CPU per request of the server workers, of
the PostgreSQL backends serving them and of this process's client threads (all on the same cores:
their sum bounds the requests/s a machine can do), plus the load average, as other processes share it.

Targets on the 2-core development machine: >= 1,000 fixes/s batched, >= 300 single-fix requests/s,
p99 <= 50 ms, zero lost.

Run: ``.venv/bin/python bench/ingest.py [--workers 4] [--batches 200] [--singles 4000]``; print ``uptime`` with it.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import resource
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.scratch_db import ADMIN_URL, create_database, drop_database  # noqa: E402
from bench.server import start_server, stop_server  # noqa: E402

DB_NAME = f"siaga_bench_ingest_{os.getpid()}"
DB_URL = f"postgis://postgres@127.0.0.1:5432/{DB_NAME}"
CENTRE = (103.6131, -1.5913)  # Kota Jambi, inside kecamatan Pasar Jambi
STEP_DEG = 0.00001  # ~1.1 m per fix at 1 s: 4 km/h


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class: sync or gthread")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    parser.add_argument("--devices", type=int, default=48)
    parser.add_argument("--batch-clients", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--batches", type=int, default=200, help="batch requests in all")
    parser.add_argument("--single-clients", type=int, default=8)
    parser.add_argument("--singles", type=int, default=4000, help="single-fix requests in all")
    parser.add_argument("--keep-db", action="store_true", help="leave the bench database for inspection")
    return parser.parse_args()


# -- database and server ------------------------------------------------------------------------------


def start_gunicorn(workers: int, worker_class: str, threads: int) -> tuple[subprocess.Popen, int]:
    env = os.environ | {
        "DATABASE_URL": DB_URL,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-ingest-not-secret-0123456789-0123456789",
        "SIAGA_LOG_LEVEL": "WARNING",
    }

    def launch(port: int) -> subprocess.Popen:
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi:application",
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--threads", str(threads),
            "--backlog", "512",
            "--log-level", "warning",
        ]  # fmt: skip
        return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)

    # GET is not allowed on the status endpoint: a 405 proves Django answers.
    return start_server(launch, probe_path="/api/ingest/status", name="gunicorn")


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds used so far by these processes (from /proc)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """The PostgreSQL backends serving the bench database (the server's connections are persistent)."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [DB_NAME]).fetchall()
    return [pid for (pid,) in rows if os.path.exists(f"/proc/{pid}/stat")]


def all_cpu_s(server_pids: list[int], db_pids: list[int]) -> tuple[float, float, float]:
    """CPU seconds so far: server workers, PostgreSQL backends, this process (the clients)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (
        cpu_s(server_pids),
        cpu_s([p for p in db_pids if os.path.exists(f"/proc/{p}/stat")]),
        usage.ru_utime + usage.ru_stime,
    )


def worker_pids(server: subprocess.Popen) -> list[int]:
    out = subprocess.run(["ps", "--ppid", str(server.pid), "-o", "pid="], capture_output=True, text=True, check=True)
    return [int(pid) for pid in out.stdout.split()]


def seed(devices: int) -> list[tuple[str, str]]:
    """The bench region, agency, units and devices; returns (identifier, secret) per device."""
    from django.conf import settings

    from fleet.models import Agency, AgencyKind, Unit, UnitType
    from fleet.services.devices import device_create
    from gis_core.importers.boundaries import import_boundaries
    from gis_core.models import Region

    # A throw-away database, so the region can carry its real code (the importer checks kecamatan codes).
    region = Region.objects.create(
        code="15.71", slug="bench-ingest", name="Kota Jambi (bench)", metric_srid=32748, time_zone="Asia/Jakarta"
    )
    boundaries = Path(settings.SIAGA_DATA_DIR) / "jambi" / "kecamatan_jambi.geojson"
    if not boundaries.is_file():
        raise SystemExit(f"missing {boundaries}: set SIAGA_DATA_DIR to a folder holding jambi/ (default: data/)")
    import_boundaries(region=region, path=boundaries, level="kecamatan")
    agency = Agency.objects.create(region=region, code="bench", name="bench agency", kind=AgencyKind.EMS)
    unit_type = UnitType.objects.create(code="bench-amb", name="bench ambulance")
    credentials = []
    for i in range(devices):
        unit = Unit.objects.create(agency=agency, call_sign=f"BENCH-{i:03d}", unit_type=unit_type)
        device, secret = device_create(unit=unit, identifier=f"bench-{i:03d}")
        credentials.append((device.identifier, secret))
    return credentials


# -- clients ------------------------------------------------------------------------------------------


class Track:
    """One device's fixes: 1 s apart from ``start``, moving east from the centre (lane by device)."""

    def __init__(self, index: int, start: datetime):
        self.index, self.start, self.n = index, start, 0

    def next(self) -> tuple[datetime, float, float]:
        at = self.start + timedelta(seconds=self.n)
        lon = CENTRE[0] - 0.01 + STEP_DEG * (self.n % 2000)
        lat = CENTRE[1] + 0.0002 * (self.index % 50)
        self.n += 1
        return at, round(lon, 7), round(lat, 7)


def run_clients(clients: int, jobs: list[list], worker) -> tuple[float, list[float], list[str]]:
    """Run ``worker(conn, job)`` for each client's job list; wall time, latencies (s), failures."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(my_jobs: list) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine, bad = [], []
        barrier.wait()
        for job in my_jobs:
            t0 = time.perf_counter()
            try:
                status, body = worker(conn, job)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                bad.append(f"{type(exc).__name__}: {exc}")
                continue
            mine.append(time.perf_counter() - t0)
            if status != 200:
                bad.append(f"HTTP {status}: {body[:200]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)
            failures.extend(bad)

    threads = [threading.Thread(target=client, args=(jobs[c],)) for c in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0, latencies, failures


def _send(conn: http.client.HTTPConnection, method: str, url: str, body: bytes | None, headers: dict):
    conn.request(method, url, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    if response.will_close:
        conn.close()  # gunicorn sync workers close after each response; the next request reconnects
    return response.status, data


def batch_phase(args, credentials, tracks) -> tuple[float, list[float], list[str], dict[str, int]]:
    sent: dict[str, int] = {}
    jobs: list[list] = [[] for _ in range(args.batch_clients)]
    for b in range(args.batches):
        c = b % args.batch_clients
        # Client c owns devices c, c + clients, c + 2 x clients, ...: no two clients share a unit.
        owned = list(range(c, len(credentials), args.batch_clients))
        d = owned[(b // args.batch_clients) % len(owned)]
        identifier, secret = credentials[d]
        fixes = []
        for _ in range(args.batch_size):
            at, lon, lat = tracks[d].next()
            fixes.append({"recorded_at": at.isoformat(), "lon": lon, "lat": lat, "speed_kph": 4.0, "accuracy_m": 8})
        sent[identifier] = sent.get(identifier, 0) + len(fixes)
        auth = "Basic " + base64.b64encode(f"{identifier}:{secret}".encode()).decode()
        body = json.dumps({"fixes": fixes}).encode()
        jobs[c].append((body, {"Authorization": auth, "Content-Type": "application/json"}))

    def worker(conn, job):
        body, headers = job
        return _send(conn, "POST", "/api/ingest/batch", body, headers)

    wall, latencies, failures = run_clients(args.batch_clients, jobs, worker)
    return wall, latencies, failures, sent


def single_phase(args, credentials, tracks) -> tuple[float, list[float], list[str], dict[str, int]]:
    sent: dict[str, int] = {}
    jobs: list[list] = [[] for _ in range(args.single_clients)]
    for r in range(args.singles):
        c = r % args.single_clients
        owned = list(range(c, len(credentials), args.single_clients))
        d = owned[(r // args.single_clients) % len(owned)]
        identifier, secret = credentials[d]
        at, lon, lat = tracks[d].next()
        query = {
            "id": identifier, "timestamp": str(int(at.timestamp())), "lat": lat, "lon": lon,
            "speed": "2.16", "bearing": "90.0", "altitude": "21.0", "accuracy": "8.0", "batt": "87.0", "key": secret,
        }  # fmt: skip
        sent[identifier] = sent.get(identifier, 0) + 1
        jobs[c].append("/api/ingest/osmand?" + urlencode(query))

    def worker(conn, url):
        return _send(conn, "GET", url, None, {"User-Agent": "Traccar Client"})

    wall, latencies, failures = run_clients(args.single_clients, jobs, worker)
    return wall, latencies, failures, sent


def report(
    name: str,
    wall: float,
    latencies: list[float],
    failures: list[str],
    per_request: int,
    cpu: tuple[float, float, float],
) -> None:
    ms = np.array(latencies) * 1000
    per = [c / max(len(latencies), 1) * 1000 for c in cpu]
    p50, p99 = np.percentile(ms, [50, 99]) if len(ms) else (float("nan"), float("nan"))
    requests = len(latencies)
    print(
        f"{name:>7}: {requests} requests in {wall:.2f} s = {requests / wall:,.0f} requests/s, "
        f"{requests * per_request / wall:,.0f} fixes/s; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {ms.max() if len(ms) else float('nan'):.1f} ms; failures {len(failures)}; "
        f"CPU per request: server {per[0]:.1f} ms, PostgreSQL {per[1]:.1f} ms, clients {per[2]:.1f} ms"
    )
    for failure in failures[:5]:
        print(f"         {failure}")


def count_check(sent: dict[str, int], requests: int) -> bool:
    from django.db.models import Count

    from fleet.models import InboundMessage, PositionFix

    stored = dict(
        PositionFix.objects.filter(device__identifier__in=sent)
        .values_list("device__identifier")
        .annotate(n=Count("id"))
        .values_list("device__identifier", "n")
    )
    lost = {d: n - stored.get(d, 0) for d, n in sent.items() if stored.get(d, 0) != n}
    valid = PositionFix.objects.filter(is_valid=True).count()
    flagged = PositionFix.objects.filter(is_valid=False).values_list("flags", flat=True)[:5]
    messages = InboundMessage.objects.filter(outcome="accepted").count()
    total_sent, total_stored = sum(sent.values()), sum(stored.values())
    print(
        f"  check: sent {total_sent} fixes, stored {total_stored} ({valid} valid); "
        f"{requests} requests, {messages} raw messages accepted; lost {total_sent - total_stored}"
    )
    if flagged:
        print(f"         examples of flags: {list(flagged)}")
    if lost:
        print(f"         devices with missing fixes: {dict(list(lost.items())[:5])}")
    return not lost and total_stored == total_sent and messages == requests


def main() -> int:
    global PORT
    args = parse_args()
    print(f"creating {DB_NAME} ...", flush=True)
    create_database(DB_NAME)
    os.environ["DATABASE_URL"] = DB_URL
    import django

    django.setup()
    server = None
    try:
        credentials = seed(args.devices)
        server, PORT = start_gunicorn(args.workers, args.worker_class, args.threads)
        print(
            f"gunicorn: {args.workers} {args.worker_class} workers x {args.threads} threads on 127.0.0.1:{PORT}; "
            f"{os.cpu_count()} cores; {args.devices} devices",
            flush=True,
        )
        now = datetime.now(UTC)
        # Batches replay the last day (buffered tracks); single fixes are live, the last hour.
        batch_tracks = [Track(i, now - timedelta(days=1)) for i in range(args.devices)]
        live_tracks = [Track(i, now - timedelta(hours=1)) for i in range(args.devices)]
        # Warm-up, not timed but counted: every worker opens its database connection and loads the
        # region envelope on its first request.
        warm = argparse.Namespace(**(vars(args) | {"singles": 4 * args.workers}))
        sent_w = single_phase(warm, credentials, live_tracks)[3]
        pids, db_pids = worker_pids(server), postgres_pids()
        cpu0 = all_cpu_s(pids, db_pids)
        wall_b, lat_b, fail_b, sent_b = batch_phase(args, credentials, batch_tracks)
        cpu1 = all_cpu_s(pids, db_pids)
        wall_s, lat_s, fail_s, sent_s = single_phase(args, credentials, live_tracks)
        cpu2 = all_cpu_s(pids, db_pids)
        load = os.getloadavg()[0]
        print()
        print(f"load average {load:.1f} on {os.cpu_count()} cores (other processes share the machine)")
        report("batch", wall_b, lat_b, fail_b, args.batch_size, tuple(b - a for a, b in zip(cpu0, cpu1, strict=True)))
        report("single", wall_s, lat_s, fail_s, 1, tuple(b - a for a, b in zip(cpu1, cpu2, strict=True)))
        sent = {
            d: sent_b.get(d, 0) + sent_s.get(d, 0) + sent_w.get(d, 0) for d in set(sent_b) | set(sent_s) | set(sent_w)
        }
        ok = count_check(sent, args.batches + args.singles + warm.singles) and not fail_b and not fail_s
        print(f"  zero lost: {'yes' if ok else 'NO'}")
        return 0 if ok else 1
    finally:
        if server is not None:
            stop_server(server)
        if args.keep_db:
            print(f"kept database {DB_NAME}")
        else:
            drop_database(DB_NAME)


PORT = 0

if __name__ == "__main__":
    sys.exit(main())
