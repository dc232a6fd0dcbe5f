"""The console shows times in the region's own zone: the page config names it, the header's clock is in it,
and the scripts format every time with it (a browser elsewhere still reads Ambon's times in WIT)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from factories.gis_core import make_region

pytestmark = pytest.mark.django_db

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def ambon(jambi_region):
    return make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)


@pytest.mark.parametrize(
    ("slug", "zone", "abbreviation", "offset"),
    [("kota-jambi", "Asia/Jakarta", "WIB", "+07:00"), ("kota-ambon", "Asia/Jayapura", "WIT", "+09:00")],
)
@pytest.mark.parametrize("url", ["/dispatch/", "/plan/"])
def test_page_config_and_header_clock_are_in_the_regions_zone(
    role_client, jambi_region, ambon, url, slug, zone, abbreviation, offset
) -> None:
    client = role_client("admin", regions=[jambi_region, ambon])
    before = timezone.now()
    response = client.get(f"{url}?region={slug}")
    after = timezone.now()
    config = response.context["config"]
    assert config["region"]["time_zone"] == {"name": zone, "abbreviation": abbreviation, "utc_offset": offset}
    clock = re.search(r'<span id="region-clock"[^>]*title="([^"]+)">([^<]+)</span>', response.content.decode())
    assert clock is not None, "no region clock in the page header"
    assert clock.group(1) == f"{zone}, UTC{offset}"
    # Rendered under the region's zone, not the server's (Asia/Jakarta): Ambon's clock is 2 h ahead of Jambi's.
    expected = {f"{timezone.localtime(at, ZoneInfo(zone)):%H:%M} {abbreviation}" for at in (before, after)}
    assert clock.group(2) in expected


def test_a_user_of_no_region_gets_no_clock(role_client, jambi_region) -> None:
    response = role_client("dispatcher", regions=[]).get("/dispatch/")
    assert response.status_code == 403  # no role without a region (tests/console/test_console_regions.py)
    assert 'id="region-clock"' not in response.content.decode()


def test_the_scripts_show_times_in_the_regions_zone_whatever_the_browsers() -> None:
    """map.js's clock() in a real browser set to London: an Ambon time reads in WIT, a Jambi one in WIB."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: scripts/setup.sh installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    # map.js stands on the version rule the live pages share, loaded before it as the console's page does.
    versions = (Path(settings.BASE_DIR) / "incidents" / "static" / "incidents" / "live_versions.js").read_text()
    script = versions + "\n" + (Path(settings.BASE_DIR) / "console" / "static" / "console" / "map.js").read_text()

    def page_html(zone: dict, lang: str = "en") -> str:
        config = json.dumps({"region": {"slug": "x", "name": "X", "time_zone": zone}, "strings": {}})
        return (
            f'<html lang="{lang}"><body><span id="region-clock">--</span>'
            f'<script id="console-config" type="application/json">{config}</script>'
            f"<script>{script}</script></body></html>"
        )

    wit = {"name": "Asia/Jayapura", "abbreviation": "WIT", "utc_offset": "+09:00"}
    wib = {"name": "Asia/Jakarta", "abbreviation": "WIB", "utc_offset": "+07:00"}
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as p:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            context = browser.new_context(timezone_id="Europe/London", locale="en-GB")
            page = context.new_page()
            page.set_content(page_html(wit))
            # 2026-03-01 05:00 UTC: 14:00 WIT on 1 March (05:00 in London); another day than today, so dated.
            assert page.evaluate("Siaga.clock('2026-03-01T05:00:00Z')") == "Mar 1 14:00:00 WIT"
            # 16:30 UTC on 1 March is already 2 March in Ambon.
            assert page.evaluate("Siaga.clock('2026-03-01T16:30:00+00:00')") == "Mar 2 01:30:00 WIT"
            # Now: no date, and the header's clock shows the region's minute with its abbreviation.
            assert re.fullmatch(r"\d\d:\d\d:\d\d WIT", page.evaluate("Siaga.clock(new Date().toISOString())"))
            assert re.fullmatch(r"\d\d:\d\d WIT", page.inner_text("#region-clock"))
            page.set_content(page_html(wib, lang="id"))  # the console's default language writes 12.00
            assert page.evaluate("Siaga.clock('2026-03-01T05:00:00Z')") == "1 Mar 12.00.00 WIB"
            assert page.evaluate("Siaga.clock(null)") == "\u2013"  # an en dash: no time
        finally:
            browser.close()
