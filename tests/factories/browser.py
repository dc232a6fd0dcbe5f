"""Browser-test fixtures (a plugin of tests/conftest.py): the Kota Jambi demo committed into the test database,
``scripts/serve.sh`` serving it, Debian's chromium with no route off this machine, and a logged-in console.

Module-scoped: each browser test module loads the demo once and flushes it at its end (tests/console,
tests/crew).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

CHROMIUM = "/usr/bin/chromium"
SERVER_APPLICATION_NAME = "siaga-e2e-server"  # the served test server's database sessions
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
WHATSAPP_APP_SECRET = "e2e-whatsapp-app-secret"  # the server's, for signing test deliveries as Meta would
WHATSAPP_NUMBER_ID = "106540352242922"  # the phone_number_id of Kota Jambi's business number in the test server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, *, process: subprocess.Popen, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the console server exited with {process.returncode}; see its log")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the console server did not answer {url} within {timeout_s} s")


@pytest.fixture(scope="session", autouse=True)
def stray_sessions_ended(django_db_setup, django_db_blocker):
    """Before the test database is dropped, end every other session on it.

    Playwright's sync API runs test code in greenlets of its own, each of which may open its own database
    connection that Django never closes; left open, it makes dropping the test database fail. Depending on
    ``django_db_setup``, this teardown runs before that one drops the database.
    """
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="module")
def demo_db(django_db_setup, django_db_blocker, data_dir):
    """The Kota Jambi demo (and Kota Ambon's boundaries and demo fleet, a second region) committed into the test
    database for the whole module, flushed afterwards."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: scripts/setup.sh installs Debian's chromium package")
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        if not name.startswith("test_"):
            pytest.fail(f"refusing to load and flush {name!r}: not a test database")
        with open(os.devnull, "w") as devnull:
            for command in (("load_demo",), ("load_demo_fleet",), ("create_demo_users",), ("load_demo", "kota-ambon"),
                            ("load_demo_fleet", "--file", "fixtures/demo_fleet_ambon.json")):  # fmt: skip
                call_command(*command, stdout=devnull)
        from gis_core.models import Region

        # The business number _whatsapp() delivers to is Kota Jambi's (set in the admin on a real server).
        Region.objects.filter(slug="kota-jambi").update(whatsapp_phone_number_id=WHATSAPP_NUMBER_ID)
        yield connection.settings_dict.copy()
        call_command("flush", interactive=False, verbosity=0)
        # The stopped server's sessions may linger a moment; end them, and only them: this process may hold
        # more than one connection (Playwright's sync API runs test code in greenlets of their own), and a
        # later browser module reuses those.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = %s",
                [SERVER_APPLICATION_NAME],
            )


@pytest.fixture(scope="module")
def server(demo_db, tmp_path_factory):
    """``scripts/serve.sh`` (gunicorn for HTTP, Daphne for the WebSocket, each on a free port) against the test
    database; yields the HTTP base URL (the page config tells the browser the WebSocket port)."""
    port, ws_port = _free_port(), _free_port()
    db = demo_db
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        f"?application_name={SERVER_APPLICATION_NAME}",
        "SIAGA_HOST": "127.0.0.1",
        "SIAGA_PORT": str(port),
        "SIAGA_WS_PORT": str(ws_port),
        "DJANGO_DEBUG": "0",  # the production path: WhiteNoise serves the scripts, a real key signs sessions
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
    }
    log = tmp_path_factory.mktemp("console-server") / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", str(Path(settings.BASE_DIR) / "scripts" / "serve.sh")], env=env, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # Three processes start at once now (gunicorn, Daphne, the job worker): on a loaded 2-core machine the
        # first answer can take longer than the 30 s default.
        _wait_http(base + "/login/", process=process, timeout_s=90.0)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.returncode not in (0, -15):
            print(log.read_text()[-3000:])


def _server_env(db: dict) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        f"?application_name={SERVER_APPLICATION_NAME}",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "WHATSAPP_APP_SECRET": WHATSAPP_APP_SECRET,
    }


class SecondServer:
    """Another ASGI server process (Daphne: HTTP and the WebSocket on one port) on the same database and Redis
    channel layer as ``server``, as a second host of a centre would be; its pages open their socket on it.
    ``stop()`` and ``start()`` drop and bring back every socket open on it."""

    def __init__(self, db: dict, log: Path) -> None:
        self.port, self.log, self.process = _free_port(), log, None
        self.env = {**_server_env(db), "SIAGA_WS_PORT": str(self.port)}
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [str(Path(settings.BASE_DIR) / ".venv" / "bin" / "daphne"), "--bind", "127.0.0.1", "--port",
                 str(self.port), "--access-log", os.devnull, "config.asgi:application"],
                cwd=settings.BASE_DIR, env=self.env, stdout=out, stderr=out,
            )  # fmt: skip
        _wait_http(self.base + "/login/", process=self.process)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


@pytest.fixture(scope="module")
def second_server(demo_db, server, tmp_path_factory):
    """A :class:`SecondServer`, started; stopped at the module's end."""
    second = SecondServer(demo_db, tmp_path_factory.mktemp("second-server") / "daphne.log")
    second.start()
    try:
        yield second
    finally:
        second.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django then refuses the ORM (the
    # per-test transaction, the reads between page calls) unless told that this synchronous use is safe.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as p:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                # No internet: everything not loopback goes to a proxy that does not exist.
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>;127.0.0.1;localhost",
            ],
        )  # fmt: skip
        yield instance
        instance.close()


@pytest.fixture
def console(server, browser):
    """``console("dispatcher")``: a logged-in page; afterwards, asserts that no request left loopback."""
    contexts, requests = [], []

    def open_as(username: str):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.goto(server + "/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", f"demo-{username}")
        page.click("form button[type=submit]")
        page.wait_for_selector("#map[data-kecamatan]")
        return page

    yield open_as
    for context in contexts:
        context.close()
    outside = sorted({u for u in requests if urllib.parse.urlsplit(u).hostname not in LOOPBACK_HOSTS})
    assert not outside, f"the console reached beyond this machine: {outside[:5]}"
