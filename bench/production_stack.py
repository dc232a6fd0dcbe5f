"""The production stack on loopback: ``scripts/serve-production.sh`` started, probed through nginx, and stopped.

What it does, printing each check as it passes (and stopping at the first that fails):

1. creates a throw-away PostGIS database (``siaga_bench_stack_<pid>``), migrates it, and adds a ``bench-stack``
   region, a unit with a crew device and a dispatcher (HTTP Basic password and a session);
2. starts ``scripts/serve-production.sh`` on free loopback ports with its own run folder, the real Redis (its
   own channel prefix) and Mosquitto if one answers on 127.0.0.1:1883 (else no MQTT bridge);
3. through nginx: ``/health/live`` and ``/health/ready`` (200, every check ok); a static file (served by nginx
   from the collected folder: it still answers while gunicorn is stopped); a REST call (``GET /api/regions/``
   with HTTP Basic); a WebSocket upgrade on ``/ws/regions/bench-stack/`` with the dispatcher's session (101 and
   the ``hello``), then a fix posted over HTTP (OsmAnd) arriving on that socket as the unit's move; debug off
   (an unknown URL is the plain 404 page); ``/metrics`` refused without the token, and with it the fix counted
   by the worker that stored it, whichever worker answers the scrape (multiprocess); with Mosquitto, two MQTT
   bridges (one shared subscription, a group of this run's own) and an OwnTracks message recorded;
4. supervision: a gunicorn worker killed with SIGKILL is replaced (the API answers throughout), Daphne killed
   with SIGKILL is restarted by supervisord on its own and a new socket opens, each program has its log;
5. stops the stack (every program ends) and drops the database.

Run: ``.venv/bin/python bench/production_stack.py`` (about 30-60 s; nginx is installed from Debian if missing).
"""

from __future__ import annotations

import base64
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.live import Console  # noqa: E402
from bench.scratch_db import create_database, drop_database  # noqa: E402
from bench.server import free_port  # noqa: E402

DB_NAME = f"siaga_bench_stack_{os.getpid()}"
METRICS_TOKEN = base64.urlsafe_b64encode(os.urandom(24)).decode()
SERVER_ENV = {
    "DATABASE_URL": f"postgis://postgres@127.0.0.1:5432/{DB_NAME}",
    "DJANGO_SECRET_KEY": "bench-production-stack-not-secret-0123456789",  # one key: the session must verify
    "SIAGA_CHANNEL_PREFIX": f"siaga-bench-stack-{os.getpid()}",
    "SIAGA_METRICS_TOKEN": METRICS_TOKEN,
    "SIAGA_LOG_LEVEL": "WARNING",
    "SIAGA_MQTT_SHARE_GROUP": f"siaga-bench-{os.getpid()}",  # not shared with another server on this broker
    "SIAGA_SPOOL_STREAM": f"siaga-bench-spool-{os.getpid()}",
}
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
SLUG = "bench-stack"
CENTRE = (103.6131, -1.5913)
USER, PASSWORD = "bench-stack-dispatcher", "bench-stack-password"
START_TIMEOUT_S = 90.0
MQTT_IDENTIFIER = f"stack{os.getpid()}/phone"


def seed() -> tuple[tuple[str, str], str, int]:
    """A region, a unit with a device, a dispatcher; returns ((identifier, secret), session key, unit id)."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    from access.services import membership_grant
    from fleet.models import Agency, AgencyKind, Unit, UnitType
    from fleet.services.devices import device_create
    from gis_core.models import Region

    region = Region.objects.create(
        code="99.98", slug=SLUG, name="bench stack", metric_srid=32748, time_zone="Asia/Jakarta"
    )
    agency = Agency.objects.create(region=region, code="bench", name="bench agency", kind=AgencyKind.EMS)
    unit_type = UnitType.objects.create(code="bench", name="bench ambulance")
    unit = Unit.objects.create(agency=agency, call_sign="STACK-01", unit_type=unit_type)
    device, secret = device_create(unit=unit, identifier="stack-01")
    device_create(unit=unit, identifier=MQTT_IDENTIFIER)  # the same unit's OwnTracks phone in MQTT mode
    user = User.objects.create_user(username=USER, password=PASSWORD)
    user.groups.add(Group.objects.get_or_create(name="dispatcher")[0])
    membership_grant(user=user, region=region, role="dispatcher", home=True)
    client = Client()
    client.force_login(user)
    return (device.identifier, secret), client.cookies["sessionid"].value, unit.pk


def mosquitto_answers() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=1).close()
    except OSError:
        return False
    return True


class Stack:
    """``scripts/serve-production.sh`` in its own session, with its run folder.

    ``env`` is the servers' environment (default this process's), ``bridges`` the MQTT bridges (default two if
    Mosquitto answers on 127.0.0.1:1883, else none). ``bench/drills.py`` extends it.
    """

    def __init__(self, run_dir: Path, *, env: dict[str, str] | None = None, bridges: int | None = None) -> None:
        self.run_dir = run_dir
        self.port, api_port, daphne_port = free_port(), free_port(), free_port()
        self.bridges = (2 if mosquitto_answers() else 0) if bridges is None else bridges
        env = (dict(os.environ) if env is None else env) | {
            "SIAGA_PORT": str(self.port),
            "SIAGA_API_PORT": str(api_port),
            "SIAGA_DAPHNE_PORT": str(daphne_port),
            "SIAGA_RUN_DIR": str(run_dir),
            "SIAGA_MQTT_BRIDGES": str(self.bridges),
            "SIAGA_VENV": sys.prefix,  # this interpreter's virtualenv, wherever the checkout is
        }
        self.log = open(run_dir / "serve-production.out", "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            ["bash", "scripts/serve-production.sh"], cwd=ROOT, env=env, start_new_session=True,
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def request(self, method: str, path: str, *, headers: dict | None = None, body: bytes | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def wait_ready(self) -> float:
        started = time.monotonic()
        while time.monotonic() - started < START_TIMEOUT_S:
            if self.process.poll() is not None:
                raise SystemExit(f"serve-production.sh exited: see {self.run_dir}/serve-production.out")
            try:
                if self.request("GET", "/health/live")[0] == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.25)
        raise SystemExit(f"the stack did not answer /health/live within {START_TIMEOUT_S:.0f} s")

    def ctl(self, *args: str) -> str:
        conf = self.run_dir / "supervisord.conf"
        done = subprocess.run(
            [str(Path(sys.prefix) / "bin" / "supervisorctl"), "-c", str(conf), *args], capture_output=True, text=True
        )
        return done.stdout

    def pid_of(self, program: str) -> int:
        line = self.ctl("status", program)
        if "RUNNING" not in line:
            raise RuntimeError(f"{program} is not running: {line.strip()}")
        return int(line.split("pid", 1)[1].split(",", 1)[0])

    def gunicorn_workers(self) -> list[int]:
        found = subprocess.run(["pgrep", "-P", str(self.pid_of("gunicorn"))], capture_output=True, text=True)
        return [int(p) for p in found.stdout.split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


def mqtt_recorded(unit_id: int) -> bool:
    """Publish one location as the phone would and wait for its fix in the database."""
    import json

    import paho.mqtt.client as mqtt

    from fleet.models import PositionFix

    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-phone-{os.getpid()}")
    publisher.connect("127.0.0.1", 1883)
    publisher.loop_start()
    body = {"_type": "location", "lat": CENTRE[1], "lon": CENTRE[0] + 0.0005, "tst": int(time.time()) - 2}
    publisher.publish(f"owntracks/{MQTT_IDENTIFIER}", json.dumps(body), qos=1).wait_for_publish(10)
    publisher.disconnect()
    publisher.loop_stop()
    return wait_for(lambda: PositionFix.objects.filter(unit_id=unit_id, protocol="owntracks").exists(), 30)


def check(what: str, ok: bool, detail: str = "") -> None:
    print(f"  {'ok ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}", flush=True)
    if not ok:
        raise SystemExit(1)


def wait_for(condition, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (OSError, AssertionError, RuntimeError):  # RuntimeError: a 502, or a program restarting
            pass
        time.sleep(0.25)
    return False


def run_checks(stack: Stack, device: tuple[str, str], session_key: str, unit_id: int) -> None:
    print(f"started in {stack.wait_ready():.1f} s; through nginx on 127.0.0.1:{stack.port}")
    status, headers, body = stack.request("GET", "/health/ready")
    check("GET /health/ready through nginx", status == 200 and headers.get("Server") == "nginx", body.decode())

    static = next((stack.run_dir / "static" / "console").glob("*.js")).name
    status, headers, _ = stack.request("GET", f"/static/console/{static}")
    check(f"static /static/console/{static} from nginx", status == 200 and "ETag" in headers, str(status))

    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    status, _, body = stack.request("GET", "/api/regions/", headers={"Authorization": f"Basic {basic}"})
    check("REST GET /api/regions/ (HTTP Basic) through nginx", status == 200 and SLUG.encode() in body, str(status))

    consoles: list[Console] = []
    # Daphne may still be starting (a 502 from nginx meanwhile); Console raises unless 101 Switching Protocols.
    wait_for(lambda: consoles.append(Console(stack.port, f"/ws/regions/{SLUG}/", session_key)) or True, 60)
    check("Daphne answers", bool(consoles))
    console = consoles[0]
    check("WebSocket upgrade /ws/regions/bench-stack/ through nginx", console.receive()["type"] == "hello")
    identifier, secret = device
    query = {"id": identifier, "timestamp": str(int(datetime.now(UTC).timestamp()) - 5), "lat": CENTRE[1]}
    query |= {"lon": CENTRE[0], "key": secret}
    status, _, _ = stack.request("GET", "/api/ingest/osmand?" + urlencode(query))
    check("OsmAnd fix through nginx", status == 200, str(status))
    console.sock.settimeout(15)
    moved = False
    while not moved:
        message = console.receive()
        moved = message["type"] == "unit" and message["unit"]["id"] == unit_id and bool(message["unit"]["position"])
    check("the fix reached the open console (gunicorn -> Redis -> Daphne -> nginx)", moved)

    status, _, body = stack.request("GET", "/no-such-page/")
    check("DEBUG off: an unknown URL is the plain 404", status == 404 and b"URLconf" not in body, str(status))

    check("/metrics without the token refused", stack.request("GET", "/metrics")[0] == 403)
    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    scrapes = [stack.request("GET", "/metrics", headers=auth) for _ in range(6)]  # spread over the workers
    counted = [b'siaga_fixes_stored_total{protocol="osmand"} 1.0' in body for _, _, body in scrapes]
    check("every scrape counts the fix, whichever worker answers (multiprocess)", all(counted), f"{counted}")

    worker_pids = stack.gunicorn_workers()
    os.kill(worker_pids[0], signal.SIGKILL)
    answered = [stack.request("GET", "/health/live")[0] for _ in range(20)]
    replaced = wait_for(lambda: len(stack.gunicorn_workers()) == len(worker_pids))
    check("gunicorn worker killed -9: the API answered throughout and the worker was replaced",
          set(answered) == {200} and replaced, f"{len(worker_pids)} workers")  # fmt: skip

    daphne = stack.pid_of("daphne")
    os.kill(daphne, signal.SIGKILL)
    restarted = wait_for(lambda: stack.pid_of("daphne") != daphne)
    again = wait_for(lambda: Console(stack.port, f"/ws/regions/{SLUG}/", session_key).receive()["type"] == "hello")
    check("Daphne killed -9: supervisord restarted it alone; a new socket opens", restarted and again)

    stack.ctl("stop", "gunicorn")
    status, _, _ = stack.request("GET", f"/static/console/{static}")
    down = stack.request("GET", "/health/live")[0]
    stack.ctl("start", "gunicorn")
    check("gunicorn stopped alone: nginx still serves static files, the API is a 502", status == 200 and down == 502)
    check("the API is back after supervisorctl start gunicorn",
          wait_for(lambda: stack.request("GET", "/health/ready")[0] == 200))  # fmt: skip

    check("the spool replay runs", "RUNNING" in stack.ctl("status", "spool_replay"))
    check("the job workers run", all("RUNNING" in stack.ctl("status", p) for p in ("jobs_worker:*", "jobs_fast")))
    if stack.bridges:
        check("an OwnTracks MQTT message is recorded by the bridge", mqtt_recorded(unit_id))

    logs = sorted(p.name for p in (stack.run_dir / "logs").glob("*.log"))
    check("one log per program", {"gunicorn.log", "daphne.log", "nginx.log", "nginx-access.log"} <= set(logs),
          ", ".join(logs))  # fmt: skip
    access = (stack.run_dir / "logs" / "nginx-access.log").read_text()
    check("the access log holds no query string (device secrets)", "key=" not in access and secret not in access)


def main() -> None:
    os.environ.update(SERVER_ENV)  # here, not on import: bench/drills.py imports the Stack with its own
    create_database(DB_NAME)
    stack = None
    try:
        import django

        django.setup()
        device, session_key, unit_id = seed()
        with tempfile.TemporaryDirectory(prefix="siaga-stack-") as run_dir:
            stack = Stack(Path(run_dir))
            try:
                run_checks(stack, device, session_key, unit_id)
            finally:
                stack.stop()
                print(f"stopped (exit {stack.process.returncode})")
    finally:
        drop_database(DB_NAME)


if __name__ == "__main__":
    main()
