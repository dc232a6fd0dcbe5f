"""Drills: the production stack under a 10x-Jakarta load, with faults, proving nothing is lost or doubled.

Everything runs on this machine, on loopback, and on services of the drill's own so that no fault reaches
anybody else's: a PostgreSQL cluster initialised into a temporary folder (the Debian binaries of
``/usr/lib/postgresql/15/bin``, its own port), its own ``redis-server`` (append-only file, so a restart keeps
the spool), and ``scripts/serve-production.sh`` on free ports with its own run folder and no MQTT bridge. The
machine's PostgreSQL on 5432, Redis on 6379 and Mosquitto on 1883 are never touched.

Load (derived and printed at the start; every rate is an option):

- Jakarta is ~1,000 units sending a fix every 5 s: 200 single-fix requests/s. That runs at its real rate:
  ``--units`` Traccar Client senders (OsmAnd, one fix a request). Like Traccar Client each keeps its fixes
  in a queue, sends the oldest first and, on a 5xx, a refused connection or a timeout, sends it again later.
- 10x Jakarta is 10,000 units, 2,000 fixes/s. The other 9,000 units' 1,800 fixes/s arrive batched
  (``/api/ingest/batch``, with an ``Idempotency-Key``): ``--batch-devices`` buffered trackers each standing for
  100 units, posting ``--batch-fixes`` fixes every ``--batch-every-s``.
- ``--owntracks`` OwnTracks phones (HTTP mode, one fix every 5 s). The app forgets a message whatever the
  answer, so the drill does not resend one that got an answer; every one answered 200 must be stored, including
  those that arrived while PostgreSQL was down (spooled to Redis, replayed).
- Reports: Jakarta logged 637,292 calls in 2024, 73 an hour; 10x Jakarta's hour (730 calls) is compressed into
  5 minutes, 2.4 reports/s. Each report is dispatched (``POST /api/incidents/<id>/assignments/``) and its crew
  moves the unit through en route, on scene, returning and available (``POST /api/ingest/status``): 2.4
  dispatches/s and 9.7 status changes/s. Every one carries an ``Idempotency-Key`` and is resent after a 5xx.
- 20 consoles on ``ws/regions/<slug>/``: they reconnect when dropped and then fetch the units (resync).

Phases: the steady load (``--duration-s``; the targets are measured here), a batched-ingest burst (as many
1,000-fix batches as ``--burst-clients`` clients get stored in ``--burst-s``), then the faults under the same
load: an API worker killed with SIGKILL; PostgreSQL stopped for ``--pg-down-s`` and started; Redis stopped for
``--redis-down-s`` and started; Daphne killed (every console's WebSocket drops). Then the clients drain what they
still hold, the spool empties, and the database is checked: every fix, report, dispatch and status change a
client was told was received is stored exactly once (a resend the server recognised is stored flagged
``duplicate`` and is not counted as stored twice). Last the backup drill: ``scripts/backup.sh`` then
``scripts/restore-drill.sh`` into a fresh database of the drill's cluster.

Run: ``.venv/bin/python bench/drills.py --short`` (about 3 minutes) or ``.venv/bin/python bench/drills.py --full``
(the issue's drill at full scale, the default sizes: 5 minutes of 200 single-fix requests/s with the batched load,
the 20 s burst, the four faults with PostgreSQL down 30 s, the backup drill; about 9-10 minutes). Either is bounded
by ``--limit-s`` (default 20 minutes, short 10): then it stops, cleans up and exits 1. Exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.production_stack import Stack  # noqa: E402
from bench.server import free_port  # noqa: E402

PG_BIN = Path(os.environ.get("SIAGA_DRILL_PG_BIN", "/usr/lib/postgresql/15/bin"))
DB_NAME = "siaga_drill"
SLUG = "drill"
CENTRE = (106.8272, -6.1754)  # Jakarta, Monas (lon, lat)
USER, PASSWORD = "drill-dispatcher", "drill-password-not-secret"
SECRET_KEY = "drill-not-secret-0123456789-0123456789-0123456789"
RETRY_S = 1.0  # Traccar Client waits before a resend; compressed like everything else
TIMEOUT_S = 10.0  # a device's request
SLOW = aiohttp.ClientTimeout(total=30)  # a call taker's: a report, a dispatch


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--short", action="store_true", help="about 3 minutes: shorter phases and outages")
    size.add_argument("--full", action="store_true", help="the issue's drill at full scale (the default sizes), "
                      "stopped after --limit-s")  # fmt: skip
    parser.add_argument("--limit-s", type=float, help="stop the drill (cleaned up, exit 1) after this long "
                        "(default 1200, short 600)")  # fmt: skip
    parser.add_argument("--duration-s", type=float, help="steady load (default 300, short 45)")
    parser.add_argument("--units", type=int, default=1000, help="single-fix OsmAnd senders")
    parser.add_argument("--interval-s", type=float, default=5.0, help="seconds between a unit's fixes")
    parser.add_argument("--batch-devices", type=int, default=90)
    parser.add_argument("--batch-fixes", type=int, default=200)
    parser.add_argument("--batch-every-s", type=float, default=10.0)
    parser.add_argument("--owntracks", type=int, default=20)
    parser.add_argument("--reports-per-s", type=float, default=730 / 300)
    parser.add_argument("--consoles", type=int, default=20, help="WebSocket consoles (not scaled)")
    parser.add_argument("--dispatch-units", type=int, default=60, help="units the reports are dispatched to")
    parser.add_argument("--burst-s", type=float, help="batched-ingest burst (default 20, short 10)")
    parser.add_argument("--burst-clients", type=int, default=4)
    parser.add_argument("--pg-down-s", type=float, help="PostgreSQL outage (default 30, short 12)")
    parser.add_argument("--redis-down-s", type=float, help="Redis outage (default 15, short 8)")
    parser.add_argument("--recover-s", type=float, help="load after each fault (default 20, short 10)")
    parser.add_argument("--scale", type=float, help="multiplies every rate above (default 1, short 0.25)")
    parser.add_argument("--http-workers", type=int, default=2, help="gunicorn workers (SIAGA_HTTP_WORKERS)")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--no-backup", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the drill's folder (logs) at the end")
    args = parser.parse_args()
    short = args.short
    for name, full, brief in [
        ("duration_s", 300, 45), ("burst_s", 20, 10), ("pg_down_s", 30, 12), ("redis_down_s", 15, 8),
        ("recover_s", 20, 10), ("limit_s", 1200, 600),
    ]:  # fmt: skip
        if getattr(args, name) is None:
            setattr(args, name, brief if short else full)
    if args.scale is None:
        args.scale = 0.25 if short else 1.0
    if args.scale != 1.0:
        for name in ("units", "batch_devices", "owntracks", "dispatch_units"):
            setattr(args, name, max(4, round(getattr(args, name) * args.scale)))
        args.reports_per_s *= args.scale
    return args


# -- the drill's own services ----------------------------------------------------------------------------


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


class Cluster:
    """A PostgreSQL cluster in ``base/pg`` on its own port; the machine's clusters are never touched."""

    def __init__(self, base: Path) -> None:
        self.data = base / "pg"
        self.socket_dir = base / "pgsock"
        self.log = base / "postgresql.log"
        self.port = free_port()

    def url(self, db: str = DB_NAME, scheme: str = "postgresql") -> str:
        return f"{scheme}://postgres@127.0.0.1:{self.port}/{db}"

    def init(self) -> None:
        for folder in (self.data, self.socket_dir):
            folder.mkdir()
            if os.getuid() == 0:
                shutil.chown(folder, "postgres", "postgres")
        self.log.touch()
        if os.getuid() == 0:
            shutil.chown(self.log, "postgres", "postgres")
        subprocess.run(
            _as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.socket_dir}'\n"
                "max_connections = 200\nshared_buffers = 256MB\nsynchronous_commit = on\n"
                "wal_level = replica\nmax_wal_senders = 3\n"
            )
        if os.getuid() == 0:
            shutil.chown(self.data / "postgresql.conf", "postgres", "postgres")

    def ctl(self, *args: str) -> None:
        cmd = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *args]
        subprocess.run(_as_postgres(cmd), check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self.ctl("start")

    def stop(self) -> None:
        self.ctl("stop", "-m", "fast")


class Redis:
    """``redis-server`` on its own port with an append-only file: a restart keeps the spool, as in production."""

    def __init__(self, base: Path) -> None:
        self.dir = base / "redis"
        self.dir.mkdir()
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        cmd = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        cmd += ["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--logfile", str(self.dir / "log")]
        self.process = subprocess.Popen(cmd, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout == b"PONG\n":
                return
            time.sleep(0.1)
        raise RuntimeError("the drill's redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


class DrillStack(Stack):
    """The production stack (``bench/production_stack.py``) with the drill's environment, no MQTT bridge and
    ``SIAGA_HTTP_WORKERS`` gunicorn workers."""

    def __init__(self, run_dir: Path, env: dict[str, str], http_workers: int) -> None:
        super().__init__(run_dir, env=env | {"SIAGA_HTTP_WORKERS": str(http_workers)}, bridges=0)


# -- seed --------------------------------------------------------------------------------------------------


@dataclass
class Fleet:
    osmand: list[tuple[str, str, int]]  # (identifier, secret, unit id)
    batch: list[tuple[str, str, int]]
    owntracks: list[tuple[str, str, int]]  # (user/device identifier, secret, unit id)
    incident_type: str
    session_key: str


def seed(args: argparse.Namespace) -> Fleet:
    """The region, its units and devices, a dispatcher (HTTP Basic and a session)."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from access.services import membership_grant
    from fleet.models import Agency, AgencyKind, Device, Unit, UnitType
    from fleet.services.devices import secret_hash
    from gis_core.models import Region
    from incidents.models import IncidentType

    region = Region.objects.create(code="99.97", slug=SLUG, name="drill", metric_srid=32748, time_zone="Asia/Jakarta")
    agency = Agency.objects.create(region=region, code="drill", name="drill agency", kind=AgencyKind.EMS)
    unit_type = UnitType.objects.create(code="drill", name="drill ambulance")
    incident_type = IncidentType.objects.filter(category="medical").first() or IncidentType.objects.create(
        code="drill-medical", name="drill medical", category="medical"
    )

    def make(prefix: str, count: int) -> list[tuple[str, str, int]]:
        units = Unit.objects.bulk_create(
            Unit(agency=agency, call_sign=f"{prefix.upper()}-{i:04d}", unit_type=unit_type) for i in range(count)
        )
        # device_create hashes and saves one at a time; the same hash, in one INSERT.
        made = [(f"{prefix}-{i:04d}", base64.urlsafe_b64encode(os.urandom(24)).decode(), u.pk) for i, u in
                enumerate(units)]  # fmt: skip
        Device.objects.bulk_create(Device(unit_id=pk, identifier=i, token_hash=secret_hash(s)) for i, s, pk in made)
        return made

    user = User.objects.create_user(username=USER, password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="dispatcher")[0])
    membership_grant(user=user, region=region, role="dispatcher", home=True)
    client = Client()
    client.force_login(user)
    return Fleet(
        osmand=make("osm", args.units),
        batch=make("bat", args.batch_devices + args.burst_clients),
        owntracks=make("drill/ot", args.owntracks),  # OwnTracks: user "drill", device "ot-NNNN"
        incident_type=incident_type.code,
        session_key=client.cookies["sessionid"].value,
    )


# -- the load ----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients were told, and how long each request took, by endpoint and phase."""

    phase: str = "steady"
    latencies: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[tuple[str, str, int], int] = field(default_factory=lambda: defaultdict(int))  # endpoint, phase
    acked_fixes: dict[str, set[float]] = field(default_factory=lambda: defaultdict(set))  # identifier -> epoch s
    owntracks_refused: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # answer -> count
    owntracks_outage_acked: int = 0
    owntracks_unacked: set[tuple[str, float]] = field(default_factory=set)  # answered other than 200
    resent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reports: dict[str, int | None] = field(default_factory=dict)  # marker -> incident id (None: never answered)
    dispatched: dict[int, int] = field(default_factory=dict)  # incident id -> assignment id
    status_acked: set[str] = field(default_factory=set)  # notes of the status changes answered 200
    burst_fixes: int = 0
    console_messages: int = 0
    console_reconnects: int = 0
    console_resyncs: list[tuple[float, int]] = field(default_factory=list)  # (when, units fetched)
    console_open: int = 0
    console_failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # why a connect failed
    pg_down: bool = False
    errors: list[str] = field(default_factory=list)  # what a client was refused (a 4xx) or failed on

    def record(self, endpoint: str, status: int, seconds: float) -> None:
        self.latencies[(endpoint, self.phase)].append(seconds)
        self.statuses[(endpoint, self.phase, status)] += 1


class ConsoleRefusedError(Exception):
    pass


class Load:
    """The simulated clients: one asyncio task per device and console, until ``stop`` is set."""

    def __init__(self, args: argparse.Namespace, fleet: Fleet, port: int, tally: Tally) -> None:
        self.args, self.fleet, self.tally = args, fleet, tally
        self.base = f"http://127.0.0.1:{port}"
        self.stop = asyncio.Event()  # no new fixes, reports; queued ones are still sent (drain)
        self.halt = asyncio.Event()  # give up (the drain's time is over)
        self.pending: dict[str, int] = defaultdict(int)
        basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        self.dispatcher = {"Authorization": f"Basic {basic}"}
        self.free_units: asyncio.Queue[tuple[str, str, int]] = asyncio.Queue()
        for unit in fleet.osmand[: args.dispatch_units]:
            self.free_units.put_nowait(unit)
        self.console_tasks: list[asyncio.Task] = []

    async def run(self, session: aiohttp.ClientSession) -> list[asyncio.Task]:
        self.session = session
        # The consoles first: Daphne may take a while to start on a busy machine, and they should see the load.
        self.console_tasks = [asyncio.create_task(self.console(i)) for i in range(self.args.consoles)]
        opened = await wait_until(lambda: _async_true(self.tally.console_open >= self.args.consoles), 180)
        print(f"{self.tally.console_open} consoles open{'' if opened else ' (not all: Daphne is slow)'}", flush=True)
        tasks = [asyncio.create_task(self.osmand_unit(*u, i)) for i, u in enumerate(self.fleet.osmand)]
        tasks += [asyncio.create_task(self.batch_device(*d, i)) for i, d in enumerate(self.fleet.batch[
            : self.args.batch_devices])]  # fmt: skip
        tasks += [asyncio.create_task(self.owntracks_phone(*p, i)) for i, p in enumerate(self.fleet.owntracks)]
        tasks.append(asyncio.create_task(self.reports()))
        return tasks

    async def send(self, endpoint: str, method: str, url: str, **kw) -> tuple[int, dict | list | None]:
        """One request; its status (0: no answer) and JSON body."""
        t0 = time.perf_counter()
        try:
            async with self.session.request(method, self.base + url, **kw) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            raw, status = b"", 0
        self.tally.record(endpoint, status, time.perf_counter() - t0)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None

    async def until_sent(self, endpoint: str, method: str, url: str, ok: set[int], **kw):
        """Send until the answer is one of ``ok`` (or a 4xx: refused, not retried); resends counted."""
        tries = 0
        while not self.halt.is_set():
            status, body = await self.send(endpoint, method, url, **kw)
            if status in ok or 400 <= status < 500:
                return status, body
            tries += 1
            self.tally.resent[endpoint] += 1
            await asyncio.sleep(RETRY_S * min(tries, 5))
        return 0, None

    # Traccar Client: a queue of fixes, the oldest sent first, each until the server takes it.
    async def osmand_unit(self, identifier: str, secret: str, unit_id: int, n: int) -> None:
        interval = self.args.interval_s
        await asyncio.sleep(interval * n / max(1, len(self.fleet.osmand)))
        queue: list[tuple[float, float]] = []
        next_at = time.monotonic()
        lon = CENTRE[0] + (n % 100) * 0.001
        lat = CENTRE[1] + (n // 100) * 0.001
        last_at = 0.0
        while not self.halt.is_set():
            if not self.stop.is_set() and time.monotonic() >= next_at:
                # The protocol's time is whole seconds: a client catching up after a stall must not make two
                # fixes in one second (a phone's GPS gives one fix per second at most), or the tally, keyed by
                # device and time, would count two distinct fixes as one stored twice.
                last_at = max(float(int(time.time())), last_at + 1)
                queue.append((last_at, lon))
                lon += 0.00002
                next_at += interval
            if not queue:
                if self.stop.is_set():
                    return
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
                continue
            at, fix_lon = queue[0]
            query = {"id": identifier, "timestamp": str(int(at)), "lat": f"{lat:.6f}", "lon": f"{fix_lon:.6f}"}
            status, _ = await self.send("osmand", "GET", "/api/ingest/osmand", params=query | {"key": secret})
            if status == 200:
                self.tally.acked_fixes[identifier].add(at)
                queue.pop(0)
            elif 400 <= status < 500:
                raise RuntimeError(f"fix of {identifier} refused: HTTP {status}")
            else:
                self.tally.resent["osmand"] += 1
                await asyncio.sleep(RETRY_S)
            self.pending[identifier] = len(queue)

    async def batch_device(self, identifier: str, secret: str, unit_id: int, n: int) -> None:
        every, count = self.args.batch_every_s, self.args.batch_fixes
        await asyncio.sleep(every * n / max(1, self.args.batch_devices))
        auth = basic_auth(identifier, secret)
        step = every / count
        lon = CENTRE[0] - 0.05 - (n % 30) * 0.001
        end = 0.0
        while not self.stop.is_set():
            started = time.monotonic()
            end = max(time.time(), end + every)  # windows never overlap: no two distinct fixes share a time
            times = [round(end - every + step * (i + 1), 3) for i in range(count)]
            fixes = [{"recorded_at": t, "lon": round(lon + i * 1e-6, 7), "lat": CENTRE[1]} for i, t in enumerate(times)]
            lon += count * 1e-6
            headers = {"Idempotency-Key": uuid.uuid4().hex}
            status, _ = await self.until_sent(
                "batch", "POST", "/api/ingest/batch", {200}, json={"fixes": fixes}, headers=auth | headers,
                timeout=aiohttp.ClientTimeout(total=30),
            )  # fmt: skip
            if status == 200:
                self.tally.acked_fixes[identifier].update(times)
            elif status:
                raise RuntimeError(f"batch of {identifier} refused: HTTP {status}")
            await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))

    # OwnTracks forgets a message whatever the answer; only an unanswered one (no connection) is sent again.
    async def owntracks_phone(self, identifier: str, secret: str, unit_id: int, n: int) -> None:
        user, device = identifier.split("/", 1)
        interval = self.args.interval_s
        await asyncio.sleep(interval * n / max(1, len(self.fleet.owntracks)))
        auth = basic_auth(user, secret)
        lon = CENTRE[0] + 0.05 + n * 0.001
        while not self.stop.is_set():
            started = time.monotonic()
            tst = int(time.time())
            body = {"_type": "location", "lat": CENTRE[1], "lon": round(lon, 6), "tst": tst, "tid": "dr"}
            lon += 0.00002
            status = 0
            while status == 0 and not self.halt.is_set():
                during_outage = self.tally.pg_down
                status, _ = await self.send(
                    "owntracks", "POST", "/api/ingest/owntracks", json=body, headers=auth | {"X-Limit-D": device}
                )
                if status == 0:
                    self.tally.resent["owntracks"] += 1
                    await asyncio.sleep(RETRY_S)
            if status == 200:
                self.tally.acked_fixes[identifier].add(float(tst))
                self.tally.owntracks_outage_acked += during_outage
            else:
                self.tally.owntracks_refused[status] += 1
                self.tally.owntracks_unacked.add((identifier, float(tst)))
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    # Reports, each dispatched, its crew through the statuses; every request resent until answered.
    async def reports(self) -> None:
        n = 0
        every = 1 / self.args.reports_per_s
        next_at = time.monotonic()
        running: set[asyncio.Task] = set()
        while not self.stop.is_set():
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            next_at += every
            task = asyncio.create_task(self.report(n))
            running.add(task)
            task.add_done_callback(self._report_done)
            task.add_done_callback(running.discard)
            n += 1
        if running:
            await asyncio.wait(running)

    def _report_done(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.tally.errors.append(repr(task.exception()))

    async def report(self, n: int) -> None:
        marker = f"drill-report-{n:05d}"
        self.tally.reports[marker] = None
        body = {
            "region": SLUG, "channel": "phone", "caller_phone": f"+6281{n:08d}", "incident_type":
            self.fleet.incident_type, "description": marker, "location": [CENTRE[0] + random.uniform(-0.05, 0.05),
            CENTRE[1] + random.uniform(-0.05, 0.05)],
        }  # fmt: skip
        headers = self.dispatcher | {"Idempotency-Key": f"report-{n}-{uuid.uuid4().hex[:8]}"}
        status, created = await self.until_sent(
            "report", "POST", "/api/incidents/", {201}, json=body, headers=headers, timeout=SLOW
        )
        if status != 201 or not isinstance(created, dict):
            if status:
                raise RuntimeError(f"report {marker} refused: HTTP {status} {created}")
            return
        incident_id = created.get("id") or created.get("properties", {}).get("id")
        self.tally.reports[marker] = incident_id
        identifier, secret, unit_id = await self.free_units.get()
        try:
            headers = self.dispatcher | {"Idempotency-Key": f"dispatch-{n}-{uuid.uuid4().hex[:8]}"}
            status, assignment = await self.until_sent(
                "dispatch", "POST", f"/api/incidents/{incident_id}/assignments/", {201},
                json={"unit_id": unit_id}, headers=headers, timeout=SLOW,
            )  # fmt: skip
            if status != 201 or not isinstance(assignment, dict):
                if status:
                    raise RuntimeError(f"dispatch of {marker} refused: HTTP {status} {assignment}")
                return
            self.tally.dispatched[incident_id] = assignment["id"]
            auth = basic_auth(identifier, secret)
            for step in ("en_route", "on_scene", "returning", "available"):
                await asyncio.sleep(random.uniform(0.5, 1.5))
                note = f"{marker}-{step}"
                status, answer = await self.until_sent(
                    "status", "POST", "/api/ingest/status", {200}, json={"status": step, "note": note},
                    headers=auth | {"Idempotency-Key": f"status-{n}-{step}"},
                )  # fmt: skip
                if status != 200:
                    if status:
                        raise RuntimeError(f"status {note} refused: HTTP {status} {answer}")
                    return
                self.tally.status_acked.add(note)
        finally:
            self.free_units.put_nowait((identifier, secret, unit_id))

    # A console: its WebSocket, reconnected when dropped, then the units fetched again (what it missed).
    async def console(self, n: int) -> None:
        cookies = {"sessionid": self.fleet.session_key}
        first = True
        while not self.halt.is_set():
            try:
                async with self.session.ws_connect(
                    f"{self.base}/ws/regions/{SLUG}/", headers={"Cookie": f"sessionid={cookies['sessionid']}",
                    "Origin": self.base}, heartbeat=None,
                ) as ws:  # fmt: skip
                    hello = await ws.receive_json(timeout=30)
                    if hello.get("type") != "hello":
                        raise ConsoleRefusedError(f"console {n}: {hello}")
                    self.tally.console_open += 1
                    if not first:
                        self.tally.console_reconnects += 1
                        status, units = await self.send(
                            "units (resync)", "GET", f"/api/units/?region={SLUG}",
                            headers={"Cookie": f"sessionid={cookies['sessionid']}"},
                        )  # fmt: skip
                        fetched = len(units["features"]) if status == 200 and isinstance(units, dict) else -1
                        self.tally.console_resyncs.append((time.monotonic(), fetched))
                    first = False
                    try:
                        async for message in ws:
                            if message.type == aiohttp.WSMsgType.TEXT:
                                self.tally.console_messages += 1
                            if self.halt.is_set():
                                break
                    finally:
                        self.tally.console_open -= 1
            except Exception as exc:  # a console reconnects whatever went wrong (a close instead of the hello too)
                self.tally.console_failures[type(exc).__name__] += 1
            if not self.halt.is_set():
                await asyncio.sleep(0.5 + random.random())

    # The batched-ingest burst: back-to-back 1,000-fix batches.
    async def burst(self, seconds: float) -> tuple[int, float]:
        devices = self.fleet.batch[self.args.batch_devices :]
        deadline = time.monotonic() + seconds
        stored = 0

        async def client(identifier: str, secret: str, n: int) -> None:
            nonlocal stored
            auth = basic_auth(identifier, secret)
            t = time.time() - 3600 * (n + 1)  # an hour of 1,000 fixes a request, 3.6 s apart
            lon = CENTRE[0] + 0.1 + n * 0.01
            while time.monotonic() < deadline:
                times = [round(t + i * 0.1, 3) for i in range(1000)]
                t += 100
                fixes = [{"recorded_at": x, "lon": round(lon + i * 1e-6, 7), "lat": CENTRE[1]} for i, x in enumerate(
                    times)]  # fmt: skip
                lon += 1000e-6
                status, _ = await self.until_sent(
                    "batch (burst, 1,000 fixes)", "POST", "/api/ingest/batch", {200}, json={"fixes": fixes},
                    headers=auth | {"Idempotency-Key": uuid.uuid4().hex}, timeout=aiohttp.ClientTimeout(total=60),
                )  # fmt: skip
                if status == 200:
                    self.tally.acked_fixes[identifier].update(times)
                    stored += len(times)

        t0 = time.perf_counter()
        await asyncio.gather(*(client(i, s, n) for n, (i, s, _) in enumerate(devices)))
        return stored, time.perf_counter() - t0


# -- the drill ---------------------------------------------------------------------------------------------


def basic_auth(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


class Checks:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def __call__(self, what: str, ok: bool, detail: str = "") -> bool:
        print(f"  {'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}", flush=True)
        if not ok:
            self.failed.append(what)
        return ok


def percentiles_ms(values: list[float]) -> str:
    if not values:
        return "-"
    p50, p99 = np.percentile(np.array(values) * 1000, [50, 99])
    return f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"


async def wait_until(condition, timeout_s: float, every_s: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if await condition():
                return True
        except (aiohttp.ClientError, OSError, psycopg.Error):
            pass
        await asyncio.sleep(every_s)
    return False


async def ready(session: aiohttp.ClientSession, port: int) -> bool:
    async with session.get(f"http://127.0.0.1:{port}/health/ready", timeout=SLOW) as response:
        return response.status == 200


async def drill(args, fleet: Fleet, cluster: Cluster, redis_: Redis, stack: DrillStack, check: Checks) -> Tally:
    tally = Tally()
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=0)  # a device has its own connection
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        if not await wait_until(lambda: ready(session, stack.port), 300):  # a busy machine starts slowly
            raise SystemExit(f"the stack is not ready: see {stack.run_dir}/logs")
        load = Load(args, fleet, stack.port, tally)
        tasks = await load.run(session)

        def rate(endpoint: str) -> float:
            return len(tally.latencies[(endpoint, "steady")]) / args.duration_s

        print(f"\nsteady load for {args.duration_s:.0f} s ...", flush=True)
        await asyncio.sleep(args.duration_s)
        tally.phase = "burst"
        print(f"steady: {rate('osmand'):.0f} single-fix requests/s, {rate('batch'):.1f} batches/s, "
              f"{rate('report'):.1f} reports/s, {rate('dispatch'):.1f} dispatches/s, {rate('status'):.1f} "
              f"status changes/s, {tally.console_open} consoles open", flush=True)  # fmt: skip

        print(f"batched-ingest burst: {args.burst_clients} clients, 1,000-fix batches, {args.burst_s:.0f} s "
              "(the steady load goes on) ...", flush=True)  # fmt: skip
        tally.burst_fixes, burst_s = await load.burst(args.burst_s)
        burst_rate = tally.burst_fixes / burst_s

        fault_log: list[str] = []
        if not args.no_faults:
            tally.phase = "faults"

            async def settle(what: str) -> None:
                fault_log.append(what)
                await asyncio.sleep(args.recover_s)

            workers = stack.gunicorn_workers()
            os.kill(workers[0], signal.SIGKILL)
            print(f"fault: gunicorn worker {workers[0]} killed with SIGKILL", flush=True)
            await settle("API worker killed -9")
            replaced = len(stack.gunicorn_workers()) == len(workers)
            check("the killed worker was replaced", replaced, f"{len(workers)} workers")

            print(f"fault: PostgreSQL stopped for {args.pg_down_s:.0f} s", flush=True)
            tally.pg_down = True
            t0 = time.monotonic()
            await asyncio.to_thread(cluster.stop)
            await asyncio.sleep(args.pg_down_s)
            await asyncio.to_thread(cluster.start)
            tally.pg_down = False
            back = await wait_until(lambda: ready(session, stack.port), 180)
            check("ready again after PostgreSQL came back", back, f"{time.monotonic() - t0:.1f} s after it stopped")
            await settle("PostgreSQL restarted")

            print(f"fault: Redis stopped for {args.redis_down_s:.0f} s", flush=True)
            t0 = time.monotonic()
            await asyncio.to_thread(redis_.stop)
            await asyncio.sleep(args.redis_down_s)
            await asyncio.to_thread(redis_.start)
            back = await wait_until(lambda: ready(session, stack.port), 180)
            check("ready again after Redis came back", back, f"{time.monotonic() - t0:.1f} s after it stopped")
            await settle("Redis restarted")

            print("fault: Daphne killed with SIGKILL (every console's WebSocket drops)", flush=True)
            reconnects = tally.console_reconnects
            dropped_at = time.monotonic()
            os.kill(stack.pid_of("daphne"), signal.SIGKILL)
            again = await wait_until(
                lambda: _async_true(
                    tally.console_reconnects - reconnects >= args.consoles and tally.console_open >= args.consoles
                ),
                180,  # Daphne restarting on a busy machine takes a while
            )
            resynced = [n for at, n in tally.console_resyncs if at >= dropped_at]
            check("every console reconnected and fetched the units again",
                  again and len(resynced) >= args.consoles and min(resynced) == len(fleet.osmand) + len(fleet.batch)
                  + len(fleet.owntracks),
                  f"{tally.console_reconnects - reconnects} reconnects in {time.monotonic() - dropped_at:.1f} s, "
                  f"units fetched {sorted(set(resynced))}")  # fmt: skip
            messages = tally.console_messages
            await settle("WebSockets dropped")
            check("the consoles hear live updates again", tally.console_messages > messages,
                  f"{tally.console_messages - messages} messages since")  # fmt: skip

        print("stopping the load; the clients send what they still hold ...", flush=True)
        load.stop.set()
        drained = await wait_until(lambda: _async_true(all(t.done() for t in tasks)), 120)
        check("every client delivered what it held", drained, f"{sum(load.pending.values())} fixes still queued")
        load.halt.set()
        for task in tasks + load.console_tasks:
            task.cancel()
        await asyncio.gather(*tasks, *load.console_tasks, return_exceptions=True)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                tally.errors.append(repr(task.exception()))
        check("no client was refused (4xx) or failed", not tally.errors,
              f"{len(tally.errors)}: {tally.errors[:3]}" if tally.errors else "")  # fmt: skip
    tally.fault_log = fault_log  # type: ignore[attr-defined]
    tally.burst_rate = burst_rate  # type: ignore[attr-defined]
    return tally


async def _async_true(value: bool) -> bool:
    return value


def verify(args, fleet: Fleet, cluster: Cluster, redis_: Redis, tally: Tally, check: Checks) -> None:
    """What the clients were told against what the database holds."""
    import redis as redis_client

    from fleet.models import Device, PositionFix
    from incidents.models import Assignment, Incident, StatusChange

    fix_t, device_t = PositionFix._meta.db_table, Device._meta.db_table
    incident_t, assignment_t, change_t = Incident._meta.db_table, Assignment._meta.db_table, StatusChange._meta.db_table

    spool = redis_client.Redis.from_url(redis_.url)
    deadline = time.monotonic() + 60
    while spool.xlen("siaga:ingest-spool") and time.monotonic() < deadline:
        time.sleep(1)
    check("the spool is empty (replayed)", spool.xlen("siaga:ingest-spool") == 0)
    with psycopg.connect(cluster.url()) as conn:
        rows = conn.execute(
            f"""SELECT d.identifier, round(extract(epoch FROM f.recorded_at)::numeric, 3)::float8,
                      count(*) FILTER (WHERE NOT 'duplicate' = ANY(f.flags)), count(*)
               FROM {fix_t} f JOIN {device_t} d ON d.id = f.device_id
               GROUP BY 1, 2"""
        ).fetchall()
        stored = {(ident, at): (once, total) for ident, at, once, total in rows}
        acked = [(ident, round(at, 3)) for ident, times in tally.acked_fixes.items() for at in times]
        lost = [k for k in acked if stored.get(k, (0, 0))[0] == 0]
        doubled = [k for k in acked if stored.get(k, (0, 0))[0] > 1]
        resends = sum(total - once for once, total in stored.values())
        unasked = len(stored) - len(set(acked) & set(stored))
        check("fixes: every acknowledged fix stored", not lost, f"{len(acked):,} acknowledged, lost = {len(lost)}"
              + (f" e.g. {lost[:3]}" if lost else ""))  # fmt: skip
        check("fixes: none stored twice", not doubled, f"doubled = {len(doubled)}; {resends} resends recognised "
              f"and stored flagged duplicate; {unasked} stored whose answer never arrived")  # fmt: skip
        ot = [k for k in acked if k[0].startswith("drill/")]
        check("OwnTracks: every fix answered 200 stored, those spooled while PostgreSQL was down too",
              all(stored.get(k, (0, 0))[0] == 1 for k in ot),
              f"{len(ot)} answered 200, {tally.owntracks_outage_acked} of them during the outage; answers other "
              f"than 200 (the app drops those): {dict(tally.owntracks_refused) or 'none'}, of which stored anyway "
              f"{sum(stored.get(k, (0, 0))[0] for k in tally.owntracks_unacked)}")  # fmt: skip

        reports = dict(
            conn.execute(
                f"SELECT description, count(*) FROM {incident_t} WHERE description LIKE 'drill-report-%' GROUP BY 1"
            ).fetchall()
        )
        answered = [m for m, pk in tally.reports.items() if pk is not None]
        check("reports: every acknowledged report stored once",
              all(reports.get(m) == 1 for m in answered) and all(v == 1 for v in reports.values()),
              f"{len(answered)} acknowledged, {sum(reports.values())} stored, doubled = "
              f"{sum(1 for v in reports.values() if v > 1)}")  # fmt: skip
        assignments = dict(
            conn.execute(
                f"SELECT incident_id, count(*) FROM {assignment_t} WHERE incident_id = ANY(%s) GROUP BY 1",
                [list(tally.dispatched)],
            ).fetchall()
        )
        per_incident = dict(
            conn.execute(
                f"""SELECT a.incident_id, count(*) FROM {assignment_t} a JOIN {incident_t} i ON i.id = a.incident_id
                   WHERE i.description LIKE 'drill-report-%%' GROUP BY 1"""
            ).fetchall()
        )
        unanswered = sum(per_incident.values()) - sum(per_incident.get(i, 0) for i in tally.dispatched)
        check(
            "dispatches: every acknowledged dispatch stored once, no report dispatched twice",
            all(assignments.get(i) == 1 for i in tally.dispatched) and all(v == 1 for v in per_incident.values()),
            f"{len(tally.dispatched)} acknowledged, {sum(per_incident.values())} stored ({unanswered} whose answer "
            f"the client had not had when the drill ended), doubled = {sum(v > 1 for v in per_incident.values())}",
        )
        changes = dict(
            conn.execute(
                f"SELECT note, count(*) FROM {change_t} WHERE note LIKE 'drill-report-%' GROUP BY 1"
            ).fetchall()
        )
        check("status changes: every acknowledged change recorded once",
              all(changes.get(n) == 1 for n in tally.status_acked) and all(v == 1 for v in changes.values()),
              f"{len(tally.status_acked)} acknowledged, {sum(changes.values())} recorded, doubled = "
              f"{sum(v > 1 for v in changes.values())}")  # fmt: skip


def report_numbers(args, fleet: Fleet, tally: Tally, check: Checks) -> None:
    print("\nper endpoint (requests, answers, latency):")
    for (endpoint, phase), values in sorted(tally.latencies.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        answers = ", ".join(
            f"{status or 'no answer'}: {count}" for (e, p, status), count in sorted(tally.statuses.items())
            if (e, p) == (endpoint, phase)
        )  # fmt: skip
        print(f"  {phase:7s} {endpoint:28s} {len(values):7d}  {percentiles_ms(values)}   [{answers}]")
    resent = ", ".join(f"{e} {n}" for e, n in sorted(tally.resent.items())) or "none"
    print(f"  resent after a 5xx or no answer (kept by the client, as Traccar Client does): {resent}")
    print(f"  consoles: {tally.console_messages:,} live messages, {tally.console_reconnects} reconnects; failed "
          f"connections: {dict(tally.console_failures) or 'none'}")  # fmt: skip
    steady = tally.latencies[("osmand", "steady")]
    rate = len(steady) / args.duration_s
    p99 = float(np.percentile(np.array(steady) * 1000, 99)) if steady else float("inf")
    print("\ntargets (this 2-core machine, client and server on it):")
    if args.scale != 1.0:
        print(f"  (scale {args.scale:g}: the 200 requests/s target needs --scale 1)")
    target = 200 * min(1.0, args.scale)
    check(f"single-fix ingest: {target:.0f} requests/s sustained for {args.duration_s:.0f} s with p99 <= 100 ms",
          rate >= 0.975 * target and p99 <= 100, f"{rate:.0f} requests/s, p99 {p99:.1f} ms")  # fmt: skip
    burst = tally.burst_rate  # type: ignore[attr-defined]
    check("batched ingest >= 20,000 fixes/s", burst >= 20000, f"{burst:,.0f} fixes/s over {args.burst_s:.0f} s "
          f"({tally.burst_fixes:,} fixes, {args.burst_clients} clients, alongside the steady load)")  # fmt: skip


def backup_drill(cluster: Cluster, base: Path, check: Checks) -> None:
    print("\nbackup and restore drill:", flush=True)
    env = os.environ | {"PGHOST": "127.0.0.1", "PGPORT": str(cluster.port), "PGUSER": "postgres"}
    dump = base / "backup"
    t0 = time.perf_counter()
    done = subprocess.run(["bash", "scripts/backup.sh", DB_NAME, str(dump)], cwd=ROOT, env=env, capture_output=True,
                          text=True)  # fmt: skip
    check("scripts/backup.sh", done.returncode == 0, (done.stdout + done.stderr).strip().splitlines()[-1:][0]
          if (done.stdout + done.stderr).strip() else f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    if done.returncode:
        return
    archive = sorted(dump.glob("*.dump"))[-1]
    done = subprocess.run(["bash", "scripts/restore-drill.sh", str(archive), DB_NAME], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip
    print("\n".join("    " + line for line in done.stdout.strip().splitlines()))
    check("scripts/restore-drill.sh: row counts and every unit's last fix match", done.returncode == 0,
          done.stderr.strip()[-300:])  # fmt: skip


def print_plan(args: argparse.Namespace) -> None:
    single = args.units / args.interval_s
    batched = args.batch_devices * args.batch_fixes / args.batch_every_s
    print(f"load (derived; scale {args.scale:g}, every rate below already multiplied):")
    print("  Jakarta: ~1,000 units, a fix every 5 s = 200 single-fix requests/s; 10x Jakarta = 10,000 units = "
          "2,000 fixes/s")  # fmt: skip
    print(f"  single fixes (OsmAnd, Traccar Client's retry): {args.units} units every {args.interval_s:g} s = "
          f"{single:.0f} requests/s, real time")  # fmt: skip
    print(f"  batched: {args.batch_devices} trackers x {args.batch_fixes} fixes every {args.batch_every_s:g} s = "
          f"{batched:,.0f} fixes/s ({args.batch_devices / args.batch_every_s:.0f} requests/s); with the single fixes "
          f"{single + batched:,.0f} fixes/s = {(single + batched) / 200:.1f}x Jakarta's fixes")  # fmt: skip
    print(f"  OwnTracks (HTTP, no resend of an answered message): {args.owntracks} phones every "
          f"{args.interval_s:g} s")  # fmt: skip
    print(f"  reports: 10x Jakarta's 73 calls/h = 730/h, the hour compressed into 5 min = {args.reports_per_s:.1f}/s; "
          f"each dispatched and moved through 4 statuses = {args.reports_per_s:.1f} dispatches/s, "
          f"{4 * args.reports_per_s:.1f} status changes/s")  # fmt: skip
    print(f"  {args.consoles} consoles on ws/regions/{SLUG}/")


def main() -> None:
    args = parse_args()
    check = Checks()
    base = Path(tempfile.mkdtemp(prefix="siaga-drill-"))
    base.chmod(0o755)
    cluster, redis_ = Cluster(base), Redis(base)
    stack = None
    started = time.monotonic()

    def out_of_time(signum, frame) -> None:
        raise SystemExit(f"the drill ran out of its {args.limit_s:.0f} s (--limit-s): stopped, nothing measured")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(max(1, round(args.limit_s)))
    print(f"drill folder {base}; PostgreSQL on 127.0.0.1:{cluster.port}, Redis on 127.0.0.1:{redis_.port} "
          "(the drill's own)")  # fmt: skip
    print_plan(args)
    try:
        cluster.init()
        cluster.start()
        redis_.start()
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
            conn.execute("CREATE EXTENSION pg_trgm")
        env = os.environ | {
            "DATABASE_URL": cluster.url(scheme="postgis"),
            "REDIS_URL": redis_.url,
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SIAGA_CACHE_PREFIX": "drill",
            "SIAGA_CHANNEL_PREFIX": "drill",
            "SIAGA_METRICS_TOKEN": base64.urlsafe_b64encode(os.urandom(24)).decode(),
            "SIAGA_LOG_LEVEL": "WARNING",
            "SIAGA_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}",  # nobody's broker: no bridge runs anyway
            "SIAGA_SPOOL_STREAM": "siaga:ingest-spool",
            "SIAGA_SPOOL_REPLAY_EVERY_S": "2",
        }
        os.environ.update(env)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
        import django

        django.setup()
        fleet = seed(args)
        from django.db import connections

        connections.close_all()
        print(f"set up in {time.monotonic() - started:.0f} s", flush=True)
        (base / "run").mkdir()
        stack = DrillStack(base / "run", env, args.http_workers)
        tally = asyncio.run(drill(args, fleet, cluster, redis_, stack, check))
        print("\nwhat the database holds:")
        verify(args, fleet, cluster, redis_, tally, check)
        report_numbers(args, fleet, tally, check)
        stack.stop()
        stack = None
        if not args.no_backup:
            backup_drill(cluster, base, check)
    finally:
        signal.alarm(0)  # the clean-up is not cut short
        if stack is not None:
            stack.stop()
        redis_.stop()
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    print(f"\n{'all checks passed' if not check.failed else 'FAILED: ' + '; '.join(check.failed)} "
          f"({time.monotonic() - started:.0f} s)")  # fmt: skip
    sys.exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()
