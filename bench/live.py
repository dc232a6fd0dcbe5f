"""Live console latency: a GPS fix sent over HTTP until it reaches every open console over WebSocket.

What it does:

1. creates a throw-away PostGIS database (``siaga_bench_live_<pid>``), migrates it, and fills it with
   a ``bench-live`` region, one agency, ``--units`` units with their crew devices (``device_create``)
   and a dispatcher (group ``dispatcher``) with a session;
2. starts ``scripts/serve.sh`` (gunicorn for HTTP, Daphne for the WebSocket, DEBUG off) on free loopback ports against
   that database and the real Redis (its own channel-layer prefix);
3. opens ``--consoles`` WebSocket connections to ``/ws/regions/bench-live/`` with the dispatcher's
   session cookie (a minimal standard-library client, one thread each);
4. sends ``--fixes`` one-fix OsmAnd requests (``/api/ingest/osmand``, as Traccar Client does), one
   every ``--interval-ms``, round robin over the devices; every fix moves its unit;
5. prints, per fix and console, the time from the start of the HTTP request until the ``unit``
   message carrying that fix arrived (p50 / p99 / max), the HTTP latency, and how many messages were
   lost (expected 0); then drops the database.

Target (issue 5 section 1): a fix appears on every open console within a second.

Run: ``.venv/bin/python bench/live.py [--consoles 5] [--fixes 200] [--units 4] [--interval-ms 20]``
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scratch_db import create_database, drop_database  # noqa: E402
from bench.server import free_port, start_server, stop_server  # noqa: E402

DB_NAME = f"siaga_bench_live_{os.getpid()}"
SERVER_ENV = {
    "DATABASE_URL": f"postgis://postgres@127.0.0.1:5432/{DB_NAME}",
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "bench-live-not-secret",  # the same in both processes: session hashes must match
    "SIAGA_CHANNEL_PREFIX": f"siaga-bench-{os.getpid()}",
    "SIAGA_LOG_LEVEL": "WARNING",
}
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
CENTRE = (103.6131, -1.5913)  # Kota Jambi (lon, lat)
SLUG = "bench-live"
WS_PORT = free_port()  # Daphne's; scripts/serve.sh serves HTTP on the port start_server picks


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consoles", type=int, default=5)
    parser.add_argument("--fixes", type=int, default=200)
    parser.add_argument("--units", type=int, default=4)
    parser.add_argument("--interval-ms", type=float, default=20.0)
    return parser.parse_args()


def seed(units: int) -> tuple[list[tuple[str, str]], str]:
    """Units with devices, and a dispatcher's session key; returns ((identifier, secret) per device, key)."""
    from django.contrib.auth.models import User
    from django.test import Client

    from access.services import membership_grant
    from fleet.models import Agency, AgencyKind, Unit, UnitType
    from fleet.services.devices import device_create
    from gis_core.models import Region

    region = Region.objects.create(
        code="99.99", slug=SLUG, name="bench live", metric_srid=32748, time_zone="Asia/Jakarta"
    )
    agency = Agency.objects.create(region=region, code="bench", name="bench agency", kind=AgencyKind.EMS)
    unit_type = UnitType.objects.create(code="bench-amb", name="bench ambulance")
    credentials = []
    for i in range(units):
        unit = Unit.objects.create(agency=agency, call_sign=f"LIVE-{i:02d}", unit_type=unit_type)
        device, secret = device_create(unit=unit, identifier=f"live-{i:02d}")
        credentials.append((device.identifier, secret))
    user = User.objects.create_user(username="bench-dispatcher", password="x")
    membership_grant(user=user, region=region, role="dispatcher")
    client = Client()
    client.force_login(user)
    return credentials, client.cookies["sessionid"].value


def start_daphne() -> tuple[subprocess.Popen, int]:
    def launch(port: int) -> subprocess.Popen:
        env = os.environ | {"SIAGA_PORT": str(port), "SIAGA_WS_PORT": str(WS_PORT)}
        return subprocess.Popen(
            ["bash", "scripts/serve.sh"], cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.DEVNULL
        )

    # No id: a 400 proves Django answers.
    return start_server(launch, probe_path="/api/ingest/osmand", name="scripts/serve.sh")


class Console:
    """A minimal WebSocket client (RFC 6455 handshake, unmasked text frames from the server)."""

    def __init__(self, port: int, path: str, session_key: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n"
            f"Cookie: sessionid={session_key}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(f"WebSocket refused: {head.decode(errors='replace')}")
        self.arrivals: dict[tuple[int, float], float] = {}

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by the server")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def receive(self) -> dict:
        while True:
            b0, b1 = self._read(2)
            length = b1 & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(length)
            if b0 & 0x0F == 1:
                return json.loads(payload)
            if b0 & 0x0F == 8:
                raise ConnectionError("closed by the server")

    def listen(self, expected: int) -> None:
        self.sock.settimeout(10)
        try:
            while len(self.arrivals) < expected:
                message = self.receive()
                if message["type"] == "unit" and message["unit"]["position"]:
                    key = (message["unit"]["id"], message["unit"]["position"]["lon"])
                    self.arrivals.setdefault(key, time.perf_counter())
        except (TimeoutError, ConnectionError):
            pass  # counted as lost below


def main() -> None:
    args = parse_args()
    os.environ.update(SERVER_ENV)  # here, not on import: bench/production_stack.py imports its Console
    create_database(DB_NAME)
    server = None
    try:
        import django

        django.setup()
        from fleet.models import Unit

        credentials, session_key = seed(args.units)
        unit_ids = dict(Unit.objects.values_list("devices__identifier", "pk"))
        server, port = start_daphne()
        consoles = [Console(WS_PORT, f"/ws/regions/{SLUG}/", session_key) for _ in range(args.consoles)]
        for console in consoles:
            assert console.receive()["type"] == "hello"
        threads = [threading.Thread(target=c.listen, args=(args.fixes,)) for c in consoles]
        for thread in threads:
            thread.start()

        sent: dict[tuple[int, float], float] = {}
        http_s = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = datetime.now(UTC) - timedelta(seconds=args.fixes + 5)
        for n in range(args.fixes):
            identifier, secret = credentials[n % len(credentials)]
            lon = round(CENTRE[0] + 0.00001 * n, 7)  # ~1 m a fix: every fix valid, every fix moves its unit
            at = start + timedelta(seconds=n)
            query = {"id": identifier, "timestamp": str(int(at.timestamp())), "lat": CENTRE[1], "lon": lon}
            t0 = time.perf_counter()
            conn.request("GET", "/api/ingest/osmand?" + urlencode(query | {"key": secret}))
            response = conn.getresponse()
            response.read()
            http_s.append(time.perf_counter() - t0)
            if response.status != 200:
                raise RuntimeError(f"fix {n} refused: HTTP {response.status}")
            sent[(unit_ids[identifier], lon)] = t0
            time.sleep(args.interval_ms / 1000)
        for thread in threads:
            thread.join()

        latencies = [c.arrivals[k] - t0 for c in consoles for k, t0 in sent.items() if k in c.arrivals]
        lost = args.fixes * args.consoles - len(latencies)
        ms = np.array(latencies) * 1000
        http_ms = np.array(http_s) * 1000
        print(f"{args.fixes} fixes x {args.consoles} consoles, {args.units} units, one fix every {args.interval_ms} ms")
        p50, p99 = np.percentile(ms, [50, 99])
        print(f"fix -> console: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms.max():.1f} ms")
        print(f"HTTP ingest:    p50 {np.percentile(http_ms, 50):.1f} ms, p99 {np.percentile(http_ms, 99):.1f} ms")
        print(f"lost: {lost} of {args.fixes * args.consoles} messages; within 1 s: {(ms <= 1000).mean():.1%}")
    finally:
        if server is not None:
            stop_server(server)
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
