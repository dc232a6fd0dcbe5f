"""The supervisor's page in a real browser (Debian's chromium, Playwright), against scripts/serve.sh.

The seeded history (tests/factories/reports.py) is committed into this process's test database for the
module, served on a free port, and chromium runs with no route off this machine. The page loads October
2026, draws its charts, and each export is downloaded through its link. Screenshot in ``test-output/``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyogrio
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from factories.access import make_user
from factories.coverage import make_station
from factories.reports import seed_history
from openpyxl import load_workbook

from gis_core.importers.boundaries import import_boundaries
from gis_core.importers.roads import import_roads

pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(settings.BASE_DIR) / "test-output"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker, data_dir, tmp_path_factory):
    """The history committed to the test database and ``scripts/serve.sh`` on it; yields the base URL."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: scripts/setup.sh installs Debian's chromium package")
    from factories.gis_core import make_region

    with django_db_blocker.unblock():
        db = connection.settings_dict.copy()
        if not db["NAME"].startswith("test_"):
            pytest.fail(f"refusing to load and flush {db['NAME']!r}: not a test database")
        region = make_region()
        import_boundaries(region=region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
        history = seed_history(region)
        # The main-road network and one Damkar posko, so the coverage maps have something to search.
        import_roads(region=region, path=data_dir / "jambi" / "roads_main_jambi_osm.graphml")
        damkar = history["units"]["D1"].agency
        make_station(damkar, code="posko-e2e", lon=103.595769, lat=-1.619313)  # Mako Damkar (data/jambi)
        make_user("supervisor-e2e", "planner", password="demo-supervisor-e2e")
        port, ws_port = _free_port(), _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": f"postgis://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "SIAGA_HOST": "127.0.0.1", "SIAGA_PORT": str(port), "SIAGA_WS_PORT": str(ws_port),
            "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        }  # fmt: skip
        log = tmp_path_factory.mktemp("reports-server") / "server.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                ["bash", str(Path(settings.BASE_DIR) / "scripts" / "serve.sh")], env=env, stdout=out, stderr=out
            )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90  # a loaded 2-core machine boots gunicorn slowly
            while True:
                try:
                    urllib.request.urlopen(base + "/login/", timeout=2)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the server did not start: {log.read_text()[-2000:]}")
                    time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            call_command("flush", interactive=False, verbosity=0)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture
def page(served):
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as p:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>;127.0.0.1;localhost"],
        )  # fmt: skip
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True)
        tab = context.new_page()
        tab.on("request", lambda request: requests.append(request.url))
        tab.goto(served + "/login/?next=/reports/")
        tab.fill("#id_username", "supervisor-e2e")
        tab.fill("#id_password", "demo-supervisor-e2e")
        tab.click("form button[type=submit]")
        tab.wait_for_selector("#report-form")
        yield tab
        context.close()
        browser.close()
    outside = sorted({u for u in requests if urllib.parse.urlsplit(u).hostname not in LOOPBACK_HOSTS})
    assert not outside, f"the page reached beyond this machine: {outside[:5]}"


def test_supervisor_opens_october_and_downloads_every_export(page) -> None:
    page.fill("#period-month", "2026-10")
    page.click("#report-form button[type=submit]")
    # The server's first report loads the road network and the coverage context for the new-posko column.
    page.wait_for_selector("body[data-report-period='2026-10']", timeout=120_000)
    cards = page.locator("#report-cards").inner_text()
    assert "8" in cards
    assert "Oktober 2026" in cards
    assert page.locator("#report-charts svg").count() == 6
    assert "Laporan per jam" in page.locator("#report-charts").inner_text()
    assert page.locator("#report-tables tr.fails").count() >= 1  # 15.71.02 fails the SPM fire standard
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "reports-supervisor.png"), full_page=True)
    files = {}
    for link, name in (("#dl-pdf", ".pdf"), ("#dl-xlsx", ".xlsx"), ("#dl-csv", ".csv"), ("#dl-data", ".csv")):
        with page.expect_download() as download_info:
            page.click(link)
        download = download_info.value
        assert download.suggested_filename.endswith("kota-jambi-2026-10" + name), download.suggested_filename
        files[link] = Path(download.path()).read_bytes()
    assert files["#dl-pdf"].startswith(b"%PDF-")
    assert "summary" in load_workbook(io.BytesIO(files["#dl-xlsx"])).sheetnames
    assert files["#dl-csv"].decode("utf-8").startswith("\ufeffKota Jambi: Oktober 2026")
    data = files["#dl-data"].decode("utf-8").lstrip("\ufeff").splitlines()
    assert len(data) == 1 + 8  # a header and October's 8 reports
    assert "caller_phone" not in data[0]  # a planner sees no callers' numbers


def test_supervisor_downloads_every_map(page, tmp_path) -> None:
    page.fill("#period-month", "2026-10")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("body[data-report-period='2026-10']")
    files = {}
    for kind in ("coverage", "incidents"):
        for fmt in ("gpkg", "geojson", "png"):
            with page.expect_download(timeout=120_000) as download_info:
                page.click(f"#dl-map-{kind}-{fmt}")
            download = download_info.value
            assert download.suggested_filename.endswith("." + fmt), download.suggested_filename
            files[kind, fmt] = tmp_path / download.suggested_filename
            download.save_as(files[kind, fmt])
    coverage = {name for name, _ in pyogrio.list_layers(files["coverage", "gpkg"])}
    assert coverage == {"stations", "wmk_zones", "coverage_cells", "gaps_kecamatan", "gap_cells"}
    assert pyogrio.read_info(files["coverage", "gpkg"], layer="stations")["features"] == 1  # posko-e2e
    assert pyogrio.read_info(files["incidents", "gpkg"], layer="incidents")["features"] == 8  # October's reports
    assert pyogrio.read_info(files["incidents", "gpkg"], layer="density")["crs"] == "EPSG:32748"
    zones = json.loads(files["coverage", "geojson"].read_text())
    assert [f["properties"]["station"] for f in zones["features"]] == ["posko-e2e"]
    assert len(json.loads(files["incidents", "geojson"].read_text())["features"]) == 8
    for kind in ("coverage", "incidents"):
        assert files[kind, "png"].read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
