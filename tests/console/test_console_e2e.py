"""The console in a real browser: Debian's chromium driven by Playwright, against Daphne on the test database.

One module-wide setup: the Kota Jambi demo (boundaries, roads, fleet, demo users) is loaded and
committed into this process's test database, ``scripts/serve.sh`` (Daphne: HTTP and the live
WebSocket) serves that database on a free port, and chromium starts with no route off this machine
(every proxied request goes to 127.0.0.1:9, where nothing listens; only loopback is reached directly).
The data is flushed at the end, as a transactional test would leave it. The fixtures are in
tests/factories/browser.py (the crew page's browser tests use them too).

Each test saves a screenshot under ``test-output/``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from factories.browser import WHATSAPP_APP_SECRET, WHATSAPP_NUMBER_ID

from fleet.models import AuditEntry, Device, Unit
from gazetteer.selectors import place_description
from gis_core.models import Kecamatan
from incidents.models import Assignment, Incident
from tests.demo_api import demo_api as _api

# The marker makes pytest-django create the test database at all: without a django_db test in the session it
# sets none up and the ORM would reach the development database. Each test reads in its own transaction.
pytestmark = pytest.mark.django_db

OUTPUT = Path(settings.BASE_DIR) / "test-output"
# A point (lon, lat) inside Kota Jambi near its main roads, south of the city centre.
REPORT_LONLAT = (103.6131, -1.6062)
# Another, a few hundred metres east: a second report there does not land on the first one's marker.
FIRE_LONLAT = (103.6175, -1.6090)


def _shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))


def _click_map_at(page, lonlat: tuple[float, float]) -> None:
    x, y = page.evaluate(
        "([lon, lat]) => { const p = SiagaDispatch.map.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
        list(lonlat),
    )
    page.locator("#map").click(position={"x": x, "y": y})


def test_map_draws_the_region_from_own_data_with_no_internet(console) -> None:
    page = console("dispatcher")
    map_el = page.locator("#map")
    # Kota Jambi: 11 kecamatan, 68 kelurahan (SOURCES.md, asserted by tests/gis_core/test_demo.py).
    assert map_el.get_attribute("data-kecamatan") == "11"
    assert map_el.get_attribute("data-kelurahan") == "68"
    assert int(map_el.get_attribute("data-roads")) > 0
    # The offline roads are OpenStreetMap data: ODbL's attribution is on the map (data/SOURCES.md).
    assert "© OpenStreetMap contributors" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator("path.kecamatan").count() == 11
    page.wait_for_selector("#map[data-units][data-stations]")
    assert page.locator("#map").get_attribute("data-units") == str(
        Unit.objects.filter(agency__region__slug="kota-jambi").count()
    )
    assert "Laporan masuk" in page.content()  # Bahasa Indonesia although the browser asks for en-US
    _shot(page, "console-offline-map")


def test_the_map_names_streets_and_places_at_street_zoom_from_its_own_tiles(console) -> None:
    page = console("dispatcher")
    assert page.evaluate("() => SiagaDispatch.labels.drawn.size") == 0  # the whole city: no names yet
    # Jalan Kapten Pattimura's stretch in Simpang IV Sipin (its point in the demo gazetteer) at zoom 17.
    page.evaluate("() => SiagaDispatch.map.setView([-1.62034, 103.58308], 17, { animate: false })")
    page.wait_for_function("() => SiagaDispatch.labels.drawn.has('Jalan Kapten Pattimura')", timeout=15000)
    assert page.locator(".leaflet-labels-pane canvas").count() > 0
    _shot(page, "console-street-names")


def test_dispatcher_opens_on_jambi_and_switches_to_ambon_and_back(console) -> None:
    page = console("dispatcher")  # Kota Ambon sorts first by slug; the dispatcher's home is Kota Jambi
    switch = page.locator("form.region-switch select")
    assert switch.input_value() == "kota-jambi"
    assert page.evaluate("JSON.parse(document.getElementById('console-config').textContent).region.slug") == (
        "kota-jambi"
    )
    with page.expect_navigation():
        switch.select_option("kota-ambon")
    page.wait_for_selector("#map[data-kecamatan]")
    assert "region=kota-ambon" in page.url
    assert page.locator("form.region-switch select").input_value() == "kota-ambon"
    config = page.evaluate("JSON.parse(document.getElementById('console-config').textContent)")
    assert (config["region"]["slug"], config["urls"]["ws"]) == ("kota-ambon", "/ws/regions/kota-ambon/")
    _shot(page, "region-switched-to-ambon")
    with page.expect_navigation():
        page.locator("form.region-switch select").select_option("kota-jambi")
    page.wait_for_selector("#map[data-kecamatan]")
    assert page.locator("form.region-switch select").input_value() == "kota-jambi"


def test_ambons_own_dispatcher_sees_ambon_alone_in_wit_and_the_no_network_answer(console) -> None:
    page = console("ambon.dispatcher")  # a member of Kota Ambon only (create_demo_users, load_demo kota-ambon)
    map_el = page.locator("#map")
    assert (map_el.get_attribute("data-kecamatan"), map_el.get_attribute("data-roads")) == ("5", "0")
    assert page.locator("form.region-switch").count() == 0  # nothing to switch to
    assert page.locator(".region-name").inner_text() == "Kota Ambon"
    assert re.fullmatch(r"\d\d[.:]\d\d WIT", page.locator("#region-clock").inner_text())
    page.click("#new-report")
    _click_map_at(page, (128.185, -3.695))  # Sirimau, the city centre
    page.wait_for_selector("#new-report-form")
    page.select_option("#nr-type", "fire_house")
    page.click("#new-report-form button[type=submit]")
    page.wait_for_selector("#report-panel:not([hidden]) #report-kecamatan")
    assert page.locator("#report-kecamatan").inner_text().startswith("Sirimau")
    # Received at, in Ambon's time: WIT, whatever the browser's own zone.
    page.wait_for_function("() => SiagaDispatch.queue.length === 1")
    assert re.search(r"\d\d[.:]\d\d[.:]\d\d WIT", page.locator("#queue").inner_text())
    # No roads in data/ for Ambon: the recommendations say so in the console's language.
    page.wait_for_selector("#recommendations .error")
    assert "Belum ada jaringan jalan untuk wilayah ini" in page.locator("#recommendations").inner_text()
    _shot(page, "console-ambon-no-network")


def test_dispatcher_creates_a_report_on_the_map_and_dispatches_a_unit(console) -> None:
    page = console("dispatcher")
    page.click("#new-report")
    _click_map_at(page, REPORT_LONLAT)
    page.wait_for_selector("#new-report-form")
    # No type is chosen for the call taker: the list starts on an empty, required choice.
    assert page.locator("#nr-type").input_value() == ""
    assert page.locator("#nr-type option").first.inner_text() == "— pilih jenis —"
    assert page.evaluate("() => document.getElementById('nr-type').checkValidity()") is False
    page.select_option("#nr-type", "medical")
    page.fill("#nr-phone", "0812 3456 7890")
    page.fill("#nr-caller-name", "Siti")
    page.fill("#nr-desc", "e2e: pingsan di pinggir jalan")
    page.click("#new-report-form button[type=submit]")
    page.wait_for_selector("#report-panel:not([hidden]) #report-kecamatan")
    kecamatan = page.locator("#report-kecamatan").inner_text().split(" / ")[0]
    assert kecamatan in set(Kecamatan.objects.values_list("name", flat=True))  # the server placed it
    first = page.locator("#recommendations button.dispatch:not([disabled])").first
    first.wait_for()
    unit_id = int(first.get_attribute("data-unit"))
    assert page.locator(".need td").first.inner_text()  # a call sign with ETA and distance beside it
    # The distance shown is the whole trip: by road plus the off-road legs at both ends.
    best = page.evaluate("() => SiagaDispatch.recommendation.needs[0].suggestions[0]")
    shown_km = float(page.locator(".need tr[data-unit] td").nth(2).inner_text().split()[0])
    assert shown_km == pytest.approx((best["distance_m"] + best["access_m"]) / 1000, abs=0.051)
    # The report point is off the main roads: its legs (about 260 m) are more than the shown rounding.
    assert best["access_m"] > 100
    page.wait_for_function("() => SiagaDispatch.queue.length === 1")
    first.click()
    page.wait_for_selector("#phases table.phases")
    call_sign = Unit.objects.get(pk=unit_id).call_sign
    assert call_sign in page.locator("#phases").inner_text()
    assignment = Assignment.objects.select_related("incident").get(unit_id=unit_id)
    assert assignment.incident.description == "e2e: pingsan di pinggir jalan"
    assert assignment.incident.caller_name == "Siti"
    assert abs(assignment.incident.geom.x - REPORT_LONLAT[0]) < 1e-4
    # Nobody typed an address: the place at the clicked point is stored as it (the gazetteer's reverse geocoding).
    incident = assignment.incident
    expected = place_description(region=incident.region, lon=incident.geom.x, lat=incident.geom.y)
    assert expected, "the demo gazetteer names no place at the report's point"
    assert (incident.address_text, incident.address_source) == (expected, "reverse")
    assert page.locator("#report-address").inner_text() == f"{expected} (dari titik di peta)"
    _shot(page, "console-dispatch")


def _suggestions(page, list_id: str) -> list[str]:
    return page.locator(f"#{list_id} li[data-index] b").all_inner_texts()


def test_a_fire_report_shows_the_engines_on_their_own_profile(console) -> None:
    page = console("dispatcher")
    page.click("#new-report")
    _click_map_at(page, FIRE_LONLAT)
    page.wait_for_selector("#new-report-form")
    page.select_option("#nr-type", "fire_house")
    page.fill("#nr-phone", "0812 3456 7891")
    page.fill("#nr-desc", "e2e: rumah terbakar")
    page.click("#new-report-form button[type=submit]")
    page.locator("#recommendations button.dispatch:not([disabled])").first.wait_for()
    engines = page.evaluate(
        "() => SiagaDispatch.recommendation.needs.flatMap((n) => n.suggestions)"
        ".filter((s) => s.unit_type === 'fire_engine')"
    )
    assert engines, "the demo fleet's Damkar engines are suggested for a house fire"
    assert {s["profile"] for s in engines} == {"fire_engine"}
    # The demo network keeps no width or access tags: the engines drive to the report, nothing on foot.
    assert {s["access_on_foot_s"] for s in engines} == {0}
    row = page.locator(f".need tr[data-unit='{engines[0]['unit']}']").first
    assert "mobil pemadam" in row.inner_text()  # the profile beside the call sign, in the page's language
    assert f"{engines[0]['eta_s'] / 60:.1f} mnt" in row.inner_text()
    assert not row.locator(".on-foot").count()
    _shot(page, "console-fire-profile")


def test_a_call_taker_finds_the_street_by_name_drags_the_pin_and_dispatches(console, server) -> None:
    page = console("dispatcher")
    page.click("#new-report")
    search = page.locator("#nr-address")
    assert search.evaluate("el => el === document.activeElement")  # the search box is where typing starts
    # An answer that comes late (to what was typed before) must not replace the answer to what is typed now:
    # the first query's answer is held back until the second one's is on screen.
    held = []

    def hold_the_first(route) -> None:
        if not held:
            held.append(route)
        else:
            route.continue_()

    def is_search(url: str) -> bool:
        return "/search/?" in url

    page.route(is_search, hold_the_first)
    search.press_sequentially("jln kapten", delay=30)
    for _ in range(100):  # the request goes out after the typing pauses
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    assert "q=jln+kapten&" in held[0].request.url
    # Misspelt as a caller says it: "jln" for Jalan, "patimura" for Pattimura.
    search.press_sequentially(" patimura", delay=30)
    page.wait_for_function("() => document.getElementById('nr-suggestions').dataset.query === 'jln kapten patimura'")
    final = _suggestions(page, "nr-suggestions")
    # The demo gazetteer has two stretches of this name, in Simpang IV Sipin and Kenali Besar (manage.py shell,
    # places_search while writing this test); the shorter query also finds Jalan Kapten Zaidi Saleh.
    assert final == ["Jalan Kapten Pattimura", "Jalan Kapten Pattimura"]
    with page.expect_response(lambda r: "q=jln+kapten&" in r.url or r.url.endswith("q=jln+kapten")):
        held[0].continue_()
    page.wait_for_timeout(300)
    assert page.locator("#nr-suggestions").get_attribute("data-query") == "jln kapten patimura"
    assert _suggestions(page, "nr-suggestions") == final  # the late answer was dropped
    page.unroute(is_search)

    # The keyboard picks: down to the second, Enter. The map flies there and shows a draggable pin.
    search.press("ArrowDown")
    assert page.locator("#nr-suggestions li.active").get_attribute("data-index") == "1"
    picked = page.locator("#nr-suggestions li.active small").inner_text()
    search.press("Enter")
    assert page.locator("#nr-suggestions").is_hidden()
    kelurahan = picked.split("·")[1].split(",")[0].strip()
    assert search.input_value() == f"Jalan Kapten Pattimura, {kelurahan}"
    pin = page.locator(".candidate-marker")
    pin.wait_for()
    picked_lonlat, source = page.evaluate("() => [SiagaDispatch.candidate.lonlat, SiagaDispatch.candidate.source]")
    assert source == "geocoded"
    page.wait_for_function(  # flown to street zoom, the pin in view
        "([lon, lat]) => { const m = SiagaDispatch.map; return m.getZoom() >= 17"
        " && m.getBounds().contains([lat, lon]) && m.distance(m.getCenter(), [lat, lon]) < 5; }",
        arg=picked_lonlat,
    )
    assert "Di peta" in page.locator("#nr-location").inner_text()

    # Dragging refines the point; then the point is the call taker's.
    box = pin.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] - 4
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20, y + 10, steps=5)
    page.mouse.move(x + 40, y + 20, steps=5)
    page.mouse.up()
    page.wait_for_function("() => SiagaDispatch.candidate.source === 'dispatcher'")
    dragged = page.evaluate("() => SiagaDispatch.candidate.lonlat")
    assert (dragged[0] > picked_lonlat[0], dragged[1] < picked_lonlat[1]) == (True, True)  # right and down
    # (40, 20) px at zoom 17 is about 53 m on the ground (44.7 px at 1.19 m per pixel here): a refinement.
    assert 20 < page.evaluate("([a, b]) => SiagaDispatch.map.distance([a[1], a[0]], [b[1], b[0]])",
                              [picked_lonlat, dragged]) < 100  # fmt: skip
    page.wait_for_function("() => SiagaDispatch.candidate.place !== ''")  # what is at the pin, from reverse/

    # A police patrol: no other test here sends one (they follow the fire engines' and ambulances' histories).
    page.select_option("#nr-type", "security")
    page.fill("#nr-desc", "e2e: found by search")
    page.click("#new-report-form button[type=submit]")
    page.wait_for_selector("#report-panel:not([hidden]) #report-kecamatan")
    incident = Incident.objects.get(description="e2e: found by search")
    assert (round(incident.geom.x, 6), round(incident.geom.y, 6)) == tuple(dragged)
    assert (incident.location_source, incident.status) == ("dispatcher", "open")
    # The address is what the call taker picked, theirs: not replaced by the name of the place at the point.
    assert (incident.address_text, incident.address_source) == (f"Jalan Kapten Pattimura, {kelurahan}", "person")
    assert page.locator(".candidate-marker").count() == 0  # the pin became the report
    page.locator(f"path.report-{incident.pk}").wait_for()
    item = page.locator(f"#queue li[data-id='{incident.pk}']")
    assert "Jalan Kapten Pattimura" in item.inner_text()
    assert item.locator(".badge.unlocated").count() == 0

    first = page.locator("#recommendations button.dispatch:not([disabled])").first
    first.wait_for()
    unit_id = int(first.get_attribute("data-unit"))
    first.click()
    call_sign = Unit.objects.get(pk=unit_id).call_sign
    page.wait_for_function(
        "(callSign) => { const n = document.getElementById('panel-notice');"
        " return Boolean(n) && n.textContent.includes(callSign); }",
        arg=call_sign,
    )
    assignment = Assignment.objects.get(incident=incident, unit_id=unit_id)
    assert (assignment.status, assignment.unit.status) == ("active", "dispatched")
    _shot(page, "console-search-dispatched")
    page.click(f"#phases .assignment[data-unit='{unit_id}'] button.cancel-dispatch")  # free it for other tests
    page.wait_for_selector(f"#phases .assignment[data-unit='{unit_id}'] .status-buttons", state="detached")
    _api(server, "POST", f"/api/incidents/{incident.pk}/close/", {"outcome": "false_alarm"})


def test_a_report_saved_with_its_address_only_waits_to_be_located(console, server) -> None:
    page = console("dispatcher")
    page.click("#new-report")
    page.fill("#nr-address", "Jl. Soekarno Hatta dekat ruko")
    assert "Belum ada lokasi" in page.locator("#nr-location").inner_text()
    page.select_option("#nr-type", "fire_house")
    page.fill("#nr-desc", "e2e: address only")
    page.click("#new-report-form button[type=submit]")
    page.wait_for_selector("#report-panel:not([hidden]) #locate-form")
    incident = Incident.objects.get(description="e2e: address only")
    assert (incident.status, incident.geom, incident.address_source) == ("awaiting_location", None, "person")
    # Listed as a location still to be confirmed, and not on the map.
    item = page.locator(f"#queue li[data-id='{incident.pk}']")
    assert item.locator(".badge.unlocated").inner_text() == "lokasi belum dipastikan"
    assert "Jl. Soekarno Hatta dekat ruko" in item.inner_text()
    assert page.locator(f"path.report-{incident.pk}").count() == 0
    assert page.locator("#report-kecamatan").inner_text() == "lokasi belum dipastikan"
    assert page.locator("#recommendations").inner_text() == "\u2013"  # no units for a place not known yet
    _shot(page, "console-address-only")

    # Locating it: the search starts from what the caller said; a pick puts the pin there, then confirm.
    search = page.locator("#lo-search")
    assert search.input_value() == "Jl. Soekarno Hatta dekat ruko"
    page.wait_for_selector("#lo-suggestions li[data-index]")
    assert _suggestions(page, "lo-suggestions")[0] == "Jalan Soekarno-Hatta"  # as places_search ranks it
    confirm = page.locator("#locate-form button[type=submit]")
    assert confirm.is_disabled()  # nothing to confirm before a pick or a click
    page.locator("#lo-suggestions li[data-index='0']").dispatch_event("mousedown")
    page.wait_for_selector("#locate-form button[type=submit]:not([disabled])")
    lonlat = page.evaluate("() => SiagaDispatch.candidate.lonlat")
    page.click("#locate-form button[type=submit]")
    page.wait_for_selector("#panel-notice")
    assert page.locator("#panel-notice").inner_text() == f"Lokasi dipastikan: {incident.reference}"
    page.locator(f"path.report-{incident.pk}").wait_for()  # now on the map
    page.wait_for_selector(f"#queue li[data-id='{incident.pk}'] .badge.unlocated", state="detached")
    incident.refresh_from_db()
    assert (round(incident.geom.x, 6), round(incident.geom.y, 6)) == tuple(lonlat)
    assert (incident.status, incident.location_source) == ("open", "geocoded")
    assert incident.kelurahan is not None  # placed inside the city's kelurahan
    assert incident.address_text == "Jl. Soekarno Hatta dekat ruko"  # the caller's words stay
    assert page.locator("#locate-form").count() == 0
    page.locator("#recommendations button.dispatch").first.wait_for()  # units can be sent now
    _shot(page, "console-address-only-located")
    _api(server, "POST", f"/api/incidents/{incident.pk}/close/", {"outcome": "false_alarm"})


def test_a_gps_fix_from_the_unit_device_moves_its_marker_without_a_reload(console, server) -> None:
    device = Device.objects.select_related("unit").get(identifier="demo-psc119-02")
    page = console("dispatcher")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    page.wait_for_function(f"() => Boolean(Siaga.units[{device.unit_id}])")
    page.evaluate("() => { window.__notReloaded = true; }")
    lon, lat = 103.6150, -1.6010  # a point on the city's main roads, away from every station
    query = urllib.parse.urlencode(
        {"id": device.identifier, "key": "demo-secret-psc119-02", "lat": lat, "lon": lon, "timestamp": int(time.time())}
    )
    with urllib.request.urlopen(f"{server}/api/ingest/osmand/?{query}", data=b"", timeout=10) as response:
        assert response.status == 200
    page.wait_for_function(
        "([id, lon, lat]) => { const p = Siaga.units[id].marker.getLatLng();"
        " return Math.abs(p.lng - lon) < 1e-6 && Math.abs(p.lat - lat) < 1e-6; }",
        arg=[device.unit_id, lon, lat],
        timeout=5000,
    )
    assert page.evaluate("() => window.__notReloaded === true")
    assert page.evaluate("() => document.body.dataset.live") == "live"  # moved by the socket, not by polling
    _shot(page, "console-live-fix")


def test_a_live_change_to_the_open_report_is_drawn_from_the_message_alone(console, server) -> None:
    """Another console edits the open report: this one redraws the panel and the queue from the live message,
    reads neither the queue nor the report again, and routes again only when what the ranking uses changed."""
    page = console("dispatcher")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    report = _api(server, "POST", "/api/incidents/", {
        "region": "kota-jambi", "channel": "phone", "incident_type": "fire_house", "location": [103.6150, -1.6010],
        "description": "e2e: live panel",
    })  # fmt: skip
    item = page.locator(f"#queue li[data-id='{report['id']}']")
    item.wait_for()  # the new report came by the socket
    item.click()
    page.locator("#recommendations .need").first.wait_for()
    seen: list[str] = []
    page.on("request", lambda request: seen.append(urllib.parse.urlsplit(request.url).path))
    _api(server, "PATCH", f"/api/incidents/{report['id']}/", {"description": "e2e: two floors, smoke"})
    page.wait_for_function(
        "() => (document.getElementById('report-description') || {}).textContent === 'e2e: two floors, smoke'"
    )
    page.locator("#recommendations .need").first.wait_for()  # still shown, drawn from what the page held
    api_reads = [path for path in seen if path.startswith("/api/")]
    assert api_reads == [], f"a description change made the console read {api_reads}"
    medical = page.evaluate("() => Siaga.cfg.incident_types.find((t) => t.code === 'medical').name")
    _api(server, "PATCH", f"/api/incidents/{report['id']}/", {"incident_type": "medical"})
    page.wait_for_function("(name) => (document.getElementById('report-type') || {}).textContent === name", arg=medical)
    page.locator("#recommendations .need").first.wait_for()
    recommendation_reads = [path for path in seen if path.endswith("/recommendations/")]
    assert recommendation_reads == [f"/api/incidents/{report['id']}/recommendations/"]  # once, for the new type
    assert "/api/incidents/" not in seen  # the queue was never read again
    _shot(page, "console-live-panel")


def test_planner_opens_the_coverage_layer(console) -> None:
    page = console("planner")
    assert page.url.endswith("/plan/")
    page.select_option("#plan-agency", "psc119")
    page.click("#btn-kecamatan")
    page.wait_for_selector("#map[data-coverage]", timeout=30000)
    assert page.locator("path.coverage-kecamatan").count() == 11
    assert page.locator(".coverage-table tr").count() == 12  # a header and the 11 kecamatan
    page.click("#btn-grid")
    page.wait_for_selector("#map[data-grid]", timeout=30000)
    assert int(page.locator("#map").get_attribute("data-grid")) > 0
    _shot(page, "console-planner-coverage")


def test_a_planner_run_that_cannot_be_computed_shows_why(console) -> None:
    """Kota Ambon has no road network: the run is queued (202), its job fails, and the page says why."""
    page = console("planner")
    with page.expect_navigation():
        page.locator("form.region-switch select").select_option("kota-ambon")
    page.wait_for_selector("#map[data-kecamatan]")
    assert "region=kota-ambon" in page.url
    with page.expect_response("**/api/coverage/report/") as queued:
        page.click("#btn-kecamatan")
    assert queued.value.status == 202
    error = page.wait_for_selector("#plan-status .error", timeout=30000).inner_text()
    assert "Belum ada jaringan jalan untuk wilayah ini" in error  # the code's summary in the page's language
    assert "import_roads kota-ambon" in error  # then the server's own words: what to do about it
    assert page.locator("path.coverage-kecamatan").count() == 0


# ---------------------------------------------------------------- unit status and closing reports


def _report_with_a_unit(server: str, lonlat: tuple[float, float], description: str) -> tuple[int, int]:
    """A house fire at ``lonlat`` with the best recommended unit sent to it: (report id, unit id).

    A fire, because the demo fleet has three fire engines and one ALS ambulance (taken by an earlier test).
    """
    report = _api(server, "POST", "/api/incidents/", {
        "region": "kota-jambi", "channel": "phone", "incident_type": "fire_house", "location": list(lonlat),
        "description": description,
    })  # fmt: skip
    needs = _api(server, "GET", f"/api/incidents/{report['id']}/recommendations/")["needs"]
    free = [s["unit"] for need in needs for s in need["suggestions"] if s["eta_s"] is not None]
    assert free, f"no unit can reach {lonlat}: {needs}"
    unit_id = free[0]
    _api(server, "POST", f"/api/incidents/{report['id']}/assignments/", {"unit_id": unit_id})
    return report["id"], unit_id


def _status_buttons(page, scope: str) -> list[str]:
    page.wait_for_selector(f"{scope} .status-buttons button.set-status:not([disabled])")
    return page.locator(f"{scope} .status-buttons button.set-status[data-status]").evaluate_all(
        "buttons => buttons.map(b => b.dataset.status)"
    )


def _set_status(page, scope: str, status: str) -> None:
    page.click(f"{scope} button.set-status[data-status={status}]")
    page.wait_for_function(
        "([scope, status]) => { const s = document.querySelector(`${scope} .unit-status`);"
        " return s && s.textContent.trim() === Siaga.cfg.strings[status]; }",
        arg=[scope, status],
    )


def test_dispatcher_moves_a_unit_through_its_statuses_and_sees_a_refusal(console, server) -> None:
    report_id, unit_id = _report_with_a_unit(server, (103.6090, -1.6100), "e2e: status")
    page = console("dispatcher")
    # The live link is answered by a stand-in that never relays, so this console's view of the unit goes
    # stale when someone else changes it, as it would between a change and its live message.
    page.route_web_socket("**/ws/**", lambda ws: None)
    page.reload()
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    page.click(f"#queue li[data-id='{report_id}']")
    here = f"#phases .assignment[data-unit='{unit_id}']"
    # The state machine (incidents/services/status.py): dispatched -> en_route, or out of service.
    assert _status_buttons(page, here) == ["en_route", "out_of_service"]
    _set_status(page, here, "en_route")
    assert _status_buttons(page, here) == ["on_scene", "out_of_service"]
    _set_status(page, here, "on_scene")
    assert _status_buttons(page, here) == ["transporting", "returning", "out_of_service"]
    assignment = Assignment.objects.get(incident_id=report_id, unit_id=unit_id)
    assert assignment.en_route_at is not None
    assert assignment.on_scene_at is not None
    assert page.locator(f"{here} table.phases tr").count() == 3  # dispatched, en route, on scene

    # Someone else (the crew's device, another console) moves the unit on; this console has not heard yet.
    _api(server, "POST", f"/api/units/{unit_id}/status/", {"status": "transporting"})
    page.click(f"{here} button.set-status[data-status=transporting]")
    error = page.locator(f"{here} .status-error")
    error.wait_for()
    # What it means in the console's language, then the server's own words.
    assert error.inner_text().startswith("Perubahan status ini tidak diizinkan: ")
    assert "cannot go from transporting to transporting" in error.inner_text()
    # After the refusal the console shows the unit as it is.
    assert _status_buttons(page, here) == ["at_hospital", "out_of_service"]
    _shot(page, "console-unit-status-refused")

    _set_status(page, here, "at_hospital")
    assert page.locator(f"{here} .status-error").count() == 0  # a change that went through clears the refusal
    _set_status(page, here, "returning")  # the assignment is cleared; the unit is still on its way back
    assert _status_buttons(page, here) == ["available", "out_of_service"]
    assert page.locator(f"{here} table.phases tr").count() == 6  # + transporting, at hospital, cleared
    page.click(f"{here} button.set-status[data-status=available]")
    page.wait_for_selector(f"{here} .status-buttons", state="detached")  # free: no longer this report's unit
    assert Unit.objects.get(pk=unit_id).status == "available"

    # From the unit list: out of service and back.
    row = f"#unit-list li[data-unit='{unit_id}']"
    page.click(row)
    assert _status_buttons(page, row) == ["out_of_service"]
    _set_status(page, row, "out_of_service")
    assert _status_buttons(page, row) == ["available"]
    _set_status(page, row, "available")
    assert list(Unit.objects.get(pk=unit_id).status_changes.order_by("at").values_list("to_status", flat=True)) == [
        "dispatched", "en_route", "on_scene", "transporting", "at_hospital", "returning", "available",
        "out_of_service", "available",
    ]  # fmt: skip
    _shot(page, "console-unit-status")


def test_dispatcher_cancels_a_dispatch_before_arrival(console, server) -> None:
    from playwright.sync_api import expect

    report_id, unit_id = _report_with_a_unit(server, (103.6150, -1.6010), "e2e: cancel")
    page = console("dispatcher")
    page.click(f"#queue li[data-id='{report_id}']")
    here = f"#phases .assignment[data-unit='{unit_id}']"
    _status_buttons(page, here)
    _set_status(page, here, "en_route")
    # Back to available before arrival is the dispatch's cancellation, not a status (incidents/services/status.py).
    assert "available" not in _status_buttons(page, here)
    page.click(f"{here} button.cancel-dispatch")
    # dispatched, en route, cancelled; and no more buttons: the unit is free (the panel redraws on the live message)
    expect(page.locator(f"{here} table.phases tr")).to_have_count(3)
    expect(page.locator(f"{here} .status-buttons")).to_have_count(0)
    assignment = Assignment.objects.select_related("unit").get(incident_id=report_id, unit_id=unit_id)
    assert (assignment.status, assignment.unit.status) == ("cancelled", "available")
    _api(server, "POST", f"/api/incidents/{report_id}/close/", {"outcome": "false_alarm"})


def test_dispatcher_hands_a_report_off_and_records_the_agencys_acknowledgement(console, server) -> None:
    from playwright.sync_api import expect

    from incidents.models import Handoff

    report = _api(server, "POST", "/api/incidents/", {
        "region": "kota-jambi", "channel": "phone", "incident_type": "fire_house", "location": [103.6120, -1.6030],
        "description": "e2e: hand-off",
    })  # fmt: skip
    page = console("dispatcher")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    page.click(f"#queue li[data-id='{report['id']}']")
    page.select_option("#handoff-form select[name=agency]", "bpbd")
    page.click("#handoff-form button[type=submit]")
    # BPBD has no duty number or system in the demo: handed off by phone, so sent at once (manual).
    leg = page.locator("#handoffs .handoff")
    expect(leg).to_have_attribute("data-status", "sent")
    page.click("#handoffs button.handoff-set[data-status='acknowledged']")
    expect(leg).to_have_attribute("data-status", "acknowledged")
    handoff = Handoff.objects.get(incident_id=report["id"])
    assert (handoff.agency.code, handoff.channel, handoff.status) == ("bpbd", "manual", "acknowledged")
    page.screenshot(path=str(OUTPUT / "handoff.png"))
    _api(server, "POST", f"/api/incidents/{report['id']}/close/", {"outcome": "false_alarm"})


def test_dispatcher_closes_a_report_with_its_outcome_once_its_units_are_clear(console, server) -> None:
    report_id, unit_id = _report_with_a_unit(server, (103.6131, -1.6062), "e2e: close")
    page = console("dispatcher")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    page.click(f"#queue li[data-id='{report_id}']")
    page.wait_for_selector("#close-report-form")
    page.select_option("#cr-outcome", "genuine")
    page.fill("#cr-note", "e2e: api padam")
    page.click("#close-report-form button[type=submit]")
    error = page.locator("#close-report-form .error")
    page.wait_for_function("() => document.querySelector('#close-report-form .error').textContent !== ''")
    call_sign = Unit.objects.get(pk=unit_id).call_sign
    assert error.inner_text().startswith("Tidak dapat dilakukan pada status laporan saat ini: ")
    assert f"still has active units ({call_sign})" in error.inner_text()  # the service's refusal, word for word
    _shot(page, "console-close-refused")

    here = f"#phases .assignment[data-unit='{unit_id}']"
    for status in ("en_route", "on_scene", "returning"):  # each change re-renders the panel over the live link
        _status_buttons(page, here)
        _set_status(page, here, status)
    page.wait_for_selector(f"{here} button.set-status[data-status=available]")
    # The half-filled form survived the re-renders.
    assert page.locator("#cr-outcome").input_value() == "genuine"
    assert page.locator("#cr-note").input_value() == "e2e: api padam"
    page.click("#close-report-form button[type=submit]")
    page.wait_for_selector("#report-panel", state="hidden")
    page.wait_for_selector(f"#queue li[data-id='{report_id}']", state="detached")  # it left the queue
    reference = Incident.objects.get(pk=report_id).reference
    assert reference in page.locator("#queue-note").inner_text()
    incident = Incident.objects.get(pk=report_id)
    assert (incident.status, incident.outcome) == ("closed", "genuine")
    audit = AuditEntry.objects.get(action="incident.close", object_id=str(report_id))
    assert audit.data["note"] == "e2e: api padam"
    _shot(page, "console-report-closed")

    row = f"#unit-list li[data-unit='{unit_id}']"  # the unit is still on its way back: free it from the list
    page.click(row)
    _set_status(page, row, "available")


# ---------------------------------------------------------------- WhatsApp location, planner what-if and siting


def _whatsapp(server: str, message: dict) -> None:
    """One message delivered to the webhook in Meta's envelope, signed with the server's app secret."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "62741112112", "phone_number_id": WHATSAPP_NUMBER_ID},
        "contacts": [{"profile": {"name": "Budi"}, "wa_id": message["from"]}],
        "messages": [{"timestamp": str(int(time.time())), **message}],
    }
    document = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }
    body = json.dumps(document, separators=(",", ":")).encode()
    signature = "sha256=" + hmac.new(WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        server + "/api/whatsapp/webhook/", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def test_dispatcher_applies_a_location_shared_on_whatsapp(console, server) -> None:
    sender, shared = "6281299990001", (103.6200, -1.6000)  # a point in Kota Jambi, on its roads
    _whatsapp(server, {"from": sender, "id": "wamid.e2e-1", "type": "text", "text": {"body": "e2e: rumah terbakar"}})
    location = {"latitude": shared[1], "longitude": shared[0], "name": "Toko Sinar Jaya"}
    _whatsapp(server, {"from": sender, "id": "wamid.e2e-2", "type": "location", "location": location})
    incident = Incident.objects.get(caller_phone="+" + sender)
    assert (incident.status, incident.geom) == ("awaiting_location", None)  # offered, not applied
    page = console("dispatcher")
    item = page.locator(f"#queue li[data-id='{incident.pk}']")
    assert page.evaluate("() => Siaga.T.whatsapp_location") in item.inner_text()  # the queue says a location waits
    assert item.locator(".badge.unlocated").inner_text() == "lokasi belum dipastikan"
    item.click()
    offer = page.locator("#report-panel .offer")
    offer.wait_for()
    assert "-1.60000, 103.62000" in offer.inner_text()
    assert "Toko Sinar Jaya" in offer.inner_text()
    _shot(page, "console-whatsapp-offer")
    page.click("#report-panel button.apply-offer")
    page.wait_for_selector("#report-panel .offer", state="detached")
    page.wait_for_function(  # the panel is drawn again with the report's kecamatan (no longer "\u2013")
        "() => { const el = document.getElementById('report-kecamatan');"
        " return Boolean(el) && /[A-Za-z]/.test(el.textContent); }"
    )
    incident.refresh_from_db()
    assert (round(incident.geom.x, 6), round(incident.geom.y, 6)) == shared
    assert incident.location_source == "whatsapp"
    assert incident.kecamatan.name in page.locator("#report-kecamatan").inner_text()
    assert incident.location_offers.get().applied_at is not None
    # Nobody typed an address: the place at the shared point is stored as it.
    expected = place_description(region=incident.region, lon=shared[0], lat=shared[1])
    assert expected
    assert (incident.address_text, incident.address_source) == (expected, "reverse")
    page.locator(f"path.report-{incident.pk}").wait_for()  # now on the map (a report awaiting location is not)
    assert item.locator(".badge.unlocated").count() == 0
    _shot(page, "console-whatsapp-applied")


def test_planner_closes_a_road_for_a_what_if_and_runs_siting(console) -> None:
    page = console("planner")
    page.select_option("#plan-agency", "psc119")
    # Click the middle of the longest drawn street (pixel coordinates from the map itself).
    x, y, edge_ids = page.evaluate("""() => {
        let best = null, bestLength = 0;
        SiagaPlan.roads.eachLayer((layer) => {
            const pts = layer.getLatLngs();
            const length = pts.length > 1 ? SiagaPlan.map.distance(pts[0], pts[pts.length - 1]) : 0;
            if (length > bestLength && SiagaPlan.map.getBounds().contains(pts[0])) {
                best = layer;
                bestLength = length;
            }
        });
        const pts = best.getLatLngs(), i = Math.floor((pts.length - 1) / 2);
        const mid = L.latLng((pts[i].lat + pts[i + 1].lat) / 2, (pts[i].lng + pts[i + 1].lng) / 2);
        const p = SiagaPlan.map.latLngToContainerPoint(mid);
        return [p.x, p.y, best.feature.properties.edge_ids];
    }""")
    page.locator("#map").click(position={"x": x, "y": y})
    assert page.locator("#closed-count").inner_text() == str(len(edge_ids))
    assert sorted(page.evaluate("() => [...SiagaPlan.closed]")) == sorted(edge_ids)
    with page.expect_request("**/api/coverage/whatif/") as sent:
        page.click("#btn-whatif")
    assert sorted(sent.value.post_data_json["close_edge_ids"]) == sorted(edge_ids)  # both directions of the street
    page.wait_for_selector(".whatif-table", timeout=60000)
    rows = page.locator(".whatif-table tr").evaluate_all(
        "rows => rows.slice(1).map(r => [...r.cells].slice(1).map(c => parseInt(c.textContent, 10)))"
    )
    assert len(rows) == 11  # one per kecamatan of Kota Jambi
    assert all(after <= before for before, after in rows)  # closing a road never brings anyone closer
    _shot(page, "console-planner-whatif")

    page.fill("#plan-k", "2")
    page.click("#btn-siting")
    page.wait_for_selector("#map[data-sites]", timeout=60000)
    assert page.locator("#map").get_attribute("data-sites") == "2"
    assert page.locator(".leaflet-marker-pane .leaflet-marker-icon[title]").count() >= 2
    result = page.locator("#plan-result").inner_text()
    before, after = (int(part.split("%")[0].split()[-1]) for part in result.split("→"))
    assert after >= before  # two new sites cover at least the people covered before
    _shot(page, "console-planner-siting")


def test_a_planner_reads_how_wrong_the_etas_were_after_a_unit_arrived(console, server) -> None:
    report_id, unit_id = _report_with_a_unit(server, (103.6150, -1.6010), "e2e: ETA accuracy")
    for status in ("en_route", "on_scene", "returning", "available"):  # arrives, then is free for the next test
        _api(server, "POST", f"/api/units/{unit_id}/status/", {"status": status})
    assignment = Assignment.objects.get(incident_id=report_id, unit_id=unit_id)
    assert assignment.on_scene_at is not None
    assert assignment.eta_s_at_dispatch is not None
    page = console("planner")
    page.select_option("#eta-group-by", "road_class")
    page.click("#btn-eta-accuracy")
    page.wait_for_selector("#map[data-eta-accuracy]", timeout=30000)
    judged = int(page.locator("#map").get_attribute("data-eta-accuracy"))
    assert judged >= 1
    rows = page.locator(".eta-accuracy-table tr").evaluate_all(
        "rows => rows.slice(1).map(r => [...r.cells].map(c => c.textContent.trim()))"
    )
    assert rows[-1][:2] == ["all", str(judged)]  # the overall row, after one row per road class
    assert assignment.eta_road_class in [row[0] for row in rows[:-1]]
    chart = page.request.get(page.locator("#plan-result a").evaluate("a => a.href"))
    assert (chart.status, chart.headers["content-type"], chart.body()[:4]) == (200, "image/png", b"\x89PNG")
    _shot(page, "console-planner-eta-accuracy")


# ---------------------------------------------------------------- a WhatsApp report, from the delivery to the dispatch


def test_a_whatsapp_report_is_triaged_in_the_panel_and_a_unit_dispatched(console, server) -> None:
    sender, shared = "6281299990002", (103.6150, -1.6010)  # a point on Kota Jambi's main roads
    _whatsapp(server, {"from": sender, "id": "wamid.e2e-3", "type": "text", "text": {"body": "e2e: asap dari dapur"}})
    location = {"latitude": shared[1], "longitude": shared[0], "name": "Rumah Pak Budi"}
    _whatsapp(server, {"from": sender, "id": "wamid.e2e-4", "type": "location", "location": location})
    incident = Incident.objects.get(caller_phone="+" + sender)
    assert incident.incident_type is None  # a WhatsApp report arrives without a type
    page = console("dispatcher")
    item = page.locator(f"#queue li[data-id='{incident.pk}']")
    assert item.locator(".type").inner_text() == "belum ada jenis"
    assert item.locator(".badge.wa svg.pin").count() == 1  # the pin is drawn, not an emoji glyph
    item.click()

    # The panel opens with the report form, since the report has no type yet.
    page.wait_for_selector("#report-edit-form")
    assert page.locator("#re-type").input_value() == ""
    apply = page.locator("#report-panel button.apply-offer")
    assert apply.inner_text() == "Pakai lokasi ini"
    apply.click()
    page.wait_for_selector("#report-panel .offer", state="detached")
    # Located but untyped: the recommendations say so in Indonesian, and how to go on.
    error = page.locator("#recommendations .error")
    error.wait_for()
    assert error.inner_text() == "Laporan belum punya jenis: pilih jenisnya, atau kemampuan unit yang dibutuhkan"
    _shot(page, "console-whatsapp-untyped")
    # Units for a capability asked by name work without a type.
    page.select_option("#ask-capability", "bls")
    page.click("#find-units")
    page.wait_for_selector("#recommendations .need[data-capability=bls]")
    assert (
        page.locator("#recommendations .need-name").inner_text()
        == "bantuan hidup dasar (tandu, oksigen, P3K; angkut pasien)"
    )
    assert "Laporan belum punya jenis" not in page.locator("#recommendations").inner_text()

    # The call taker sets the type (its priority follows) and what the caller said.
    page.select_option("#re-type", "fire_house")
    assert page.locator("#re-priority").input_value() == "1"  # the type's default priority
    page.fill("#re-caller-name", "Budi")
    page.fill("#re-address", "Jl. Sultan Thaha 12")
    page.fill("#re-desc", "e2e: api di dapur, dua orang di dalam")
    page.click("#report-edit-form button[type=submit]")
    page.wait_for_selector("#report-edit-form", state="detached")
    incident.refresh_from_db()
    assert (incident.incident_type.code, incident.priority, incident.caller_name) == ("fire_house", 1, "Budi")
    assert (incident.address_text, incident.description) == (
        "Jl. Sultan Thaha 12",
        "e2e: api di dapur, dua orang di dalam",
    )
    assert page.locator("#report-type").inner_text() == "Kebakaran rumah/gedung"  # the type in Indonesian

    # The type's needs, each under its Indonesian name, never a code; the button reads "Kirim".
    first = page.locator("#recommendations .need[data-capability=fire_engine] button.dispatch:not([disabled])").first
    first.wait_for()
    # Read the names in one step: a live update of the report may draw the recommendations again meanwhile.
    names = page.wait_for_function(
        "() => { const n = [...document.querySelectorAll('#recommendations .need-name')].map((e) => e.innerText);"
        " return n.length >= 2 ? n : null; }"
    ).json_value()
    assert names[:2] == ["mobil pemadam (pompa, selang, regu)", "mobil tangki air (pasokan air untuk pemadam)"]
    assert not {"fire_engine", "water_tanker", "bls"} & set(names)
    assert first.inner_text() == "Kirim"
    _shot(page, "console-whatsapp-triaged")
    unit_id = int(first.get_attribute("data-unit"))
    call_sign = Unit.objects.get(pk=unit_id).call_sign
    first.click()

    # Dispatched: in the database, and confirmed at the top of the panel, in view without scrolling.
    notice = page.locator("#panel-notice")
    page.wait_for_function(
        "(callSign) => { const n = document.getElementById('panel-notice');"
        " return Boolean(n) && n.textContent.includes(callSign); }",
        arg=call_sign,
    )
    assert notice.inner_text() == f"Diberangkatkan: {call_sign} → {incident.reference}"
    box, panel = page.evaluate(  # both at once: a live update may draw the panel again meanwhile
        "() => [document.getElementById('panel-notice'), document.getElementById('report-panel')]"
        ".map((el) => { const r = el.getBoundingClientRect(); return { y: r.top, height: r.height }; })"
    )
    assert box["y"] >= 0  # inside the 1280x800 viewport
    assert box["y"] + box["height"] <= 800
    assert box["y"] - panel["y"] < 10  # the first thing in the panel
    assignment = Assignment.objects.get(incident=incident, unit_id=unit_id)
    assert (assignment.status, assignment.capability.code, assignment.unit.status) == (
        "active",
        "fire_engine",
        "dispatched",
    )
    incident.refresh_from_db()
    assert incident.status == "dispatched"
    page.wait_for_selector(f"#phases .assignment[data-unit='{unit_id}']")
    assert call_sign in page.locator("#phases").inner_text()
    _shot(page, "console-whatsapp-dispatched")
    _api(server, "POST", f"/api/assignments/{assignment.pk}/cancel/", {})  # leave the unit free for other tests


def test_a_planner_opening_dispatch_sees_the_console_refusal_page(console, server) -> None:
    page = console("planner")
    response = page.goto(server + "/dispatch/")
    assert response.status == 403
    assert page.locator("#refusal h1").inner_text() == "Halaman ini bukan untuk peran Anda"
    assert page.locator("header.topbar").is_visible()  # the console's own header and style
    assert page.locator("#refusal").evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    _shot(page, "console-planner-refused")
    page.click("#refusal a[href='/plan/']")
    page.wait_for_url("**/plan/")


def test_a_unit_with_an_old_fix_stays_at_its_station_on_load_and_on_live_messages(console, server) -> None:
    # An hour-old fix is valid (SIAGA_FIX_MAX_PAST_S is a week) but older than SIAGA_POSITION_MAX_AGE_S:
    # the unit is taken to be at its home station, on the map layer and in every live message alike.
    device = Device.objects.select_related("unit__home_station").get(identifier="demo-psc119-01")
    station = device.unit.home_station
    assert station is not None, "demo unit PSC119-01 needs its home station (fixtures/demo_fleet_jambi.json)"
    hour_ago = int(time.time()) - 3600

    def send_fix(lon: float, lat: float, timestamp: int) -> None:
        query = urllib.parse.urlencode(
            {"id": device.identifier, "key": "demo-secret-psc119-01", "lat": lat, "lon": lon, "timestamp": timestamp}
        )
        with urllib.request.urlopen(f"{server}/api/ingest/osmand/?{query}", data=b"", timeout=10) as response:
            assert response.status == 200

    send_fix(103.6150, -1.6010, hour_ago)  # a main road away from every station
    at_station = (
        "([id, lon, lat]) => { const u = Siaga.units[id]; if (!u || !u.marker) return false;"
        " const p = u.marker.getLatLng(); return Math.abs(p.lng - lon) < 1e-6 && Math.abs(p.lat - lat) < 1e-6; }"
    )
    page = console("dispatcher")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    page.wait_for_function(f"() => Boolean(Siaga.units[{device.unit_id}])")
    station_lonlat = [device.unit_id, station.geom.x, station.geom.y]
    assert page.evaluate(at_station, station_lonlat), "on load the unit is drawn at its old fix, not its station"
    # A newer fix that is still too old comes in over the live link: the marker does not jump to it.
    send_fix(103.6152, -1.6012, hour_ago + 60)
    page.wait_for_function(
        "([id, t]) => { const u = Siaga.units[id]; return Boolean(u.position_recorded_at)"
        " && Date.parse(u.position_recorded_at) === t * 1000; }",
        arg=[device.unit_id, hour_ago + 60],
        timeout=5000,
    )
    assert page.evaluate(at_station, station_lonlat), "a live message moved the unit off its station"
    assert page.evaluate(f"() => Siaga.units[{device.unit_id}].position_source") == "home_station"


def _best(page, unit_id: int | None = None) -> dict:
    """The recommended unit the page shows first (or unit ``unit_id``), as the page holds it."""
    return page.evaluate(
        """(unit) => { const all = SiagaDispatch.recommendation.needs.flatMap((n) => n.suggestions);
             return unit === null ? all[0] : all.find((s) => s.unit === unit); }""",
        unit_id,
    )


def _wait_eta(page, unit_id: int, test: str) -> None:
    """Until unit ``unit_id``'s ETA on the page passes ``test`` (JS, on ``eta``: seconds or null)."""
    page.wait_for_function(
        f"""(unit) => {{ const r = SiagaDispatch.recommendation; if (!r) return false;
              const s = r.needs.flatMap((n) => n.suggestions).find((x) => x.unit === unit);
              const eta = s ? s.eta_s : null; return {test}; }}""",
        arg=unit_id,
    )


def _eta_cell(page, unit_id: int) -> str:
    return page.locator(f"#recommendations tr[data-unit='{unit_id}'] td").nth(1).inner_text()


def test_a_dispatcher_closes_a_flooded_street_and_the_eta_follows_until_it_is_lifted(console, server) -> None:
    """Draw a flood area over the best unit's route, then upload one as a GeoJSON file: the ETA shown grows
    each time, from the server's new answer, and comes back when the closure is lifted."""
    from gis_core.models import RoadClosure

    page = console("dispatcher")
    page.wait_for_function("() => document.body.dataset.live === 'live'")
    report = _api(server, "POST", "/api/incidents/", {
        "region": "kota-jambi", "channel": "phone", "incident_type": "fire_house", "location": [103.6100, -1.6200],
        "description": "e2e: banjir",
    })  # fmt: skip
    item = page.locator(f"#queue li[data-id='{report['id']}']")
    item.wait_for()
    item.click()
    page.locator("#recommendations button.dispatch:not([disabled])").first.wait_for()
    best = _best(page)
    unit_id, before_s = best["unit"], best["eta_s"]
    before_text = _eta_cell(page, unit_id)
    # A box of about 90 m over the middle of that unit's route, drawn by clicking its four corners.
    route = best["route"]["coordinates"]
    lon, lat = route[len(route) // 2]
    page.evaluate("([lat, lon]) => SiagaDispatch.map.setView([lat, lon], 17, { animate: false })", [lat, lon])
    page.click("#closure-new")
    page.wait_for_selector("#closure-form")
    for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        _click_map_at(page, (lon + dx * 0.0004, lat + dy * 0.0004))
    page.fill("#closure-form input[name=reason]", "e2e: banjir setinggi lutut")
    ends = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 6 * 3600))
    page.fill("#closure-form input[name=ends_at]", ends)
    page.click("#closure-form button[type=submit]")
    page.locator(".closure-item").first.wait_for()
    listed = page.locator(".closure-item").first.inner_text()
    assert "e2e: banjir setinggi lutut" in listed
    assert "sampai" in listed  # with its end time, in the centre's clock
    assert page.locator("path.closure-active").count() == 1  # drawn on the map
    closure = RoadClosure.objects.get(reason="e2e: banjir setinggi lutut")
    assert (closure.source, closure.mode, closure.created_by.username) == ("drawn", "closed", "dispatcher")
    assert AuditEntry.objects.filter(action="road_closure.create", object_id=str(closure.pk)).exists()
    # The page asks again and shows the detour (or no way at all on the main roads).
    _wait_eta(page, unit_id, f"eta === null || eta > {before_s} + 1")
    closed_s = _best(page, unit_id)["eta_s"] if _best(page, unit_id) else None
    assert _eta_cell(page, unit_id) != before_text or closed_s is None
    _shot(page, "console-closure-drawn")
    # Lifted by hand: the ETA is the one before, again from the server.
    page.click(f".closure-lift[data-closure='{closure.pk}']")
    _wait_eta(page, unit_id, f"eta !== null && Math.abs(eta - {before_s}) < 0.5")
    assert _eta_cell(page, unit_id) == before_text
    page.wait_for_function("() => document.querySelectorAll('.closure-item[data-closure]').length === 0")
    # The same area uploaded as a GeoJSON file, passable with care at 4 times the time: slower, not closed.
    ring = [[lon + dx * 0.0004, lat + dy * 0.0004] for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))]
    upload = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}]}  # fmt: skip
    page.click("#closure-new")
    geojson_file = {
        "name": "genangan.geojson",
        "mimeType": "application/geo+json",
        "buffer": json.dumps(upload).encode(),
    }
    page.set_input_files("#closure-form input[name=file]", files=[geojson_file])
    page.fill("#closure-form input[name=reason]", "e2e: genangan")
    page.select_option("#closure-form select[name=mode]", "slow")
    page.fill("#closure-form input[name=slow_factor]", "4")
    page.click("#closure-form button[type=submit]")
    page.locator(".closure-item").first.wait_for()
    slowed = RoadClosure.objects.get(reason="e2e: genangan")
    assert (slowed.source, slowed.slow_factor) == ("uploaded", 4.0)
    _wait_eta(page, unit_id, f"eta !== null && eta > {before_s} + 1")
    page.click(f".closure-lift[data-closure='{slowed.pk}']")
    _wait_eta(page, unit_id, f"eta !== null && Math.abs(eta - {before_s}) < 0.5")
    assert AuditEntry.objects.filter(action="road_closure.lift").count() == 2


# ---------------------------------------------------------------- two servers: ordering and resync


def _available_unit() -> Unit:
    """A Kota Jambi demo unit free now (earlier tests of the module dispatch some)."""
    found = Unit.objects.filter(agency__region__slug="kota-jambi", status="available").order_by("pk").first()
    assert found is not None, "no available unit left in the Kota Jambi demo fleet"
    return found


def _status_via_api(base: str, unit_id: int, status: str) -> None:
    _api(base, "POST", f"/api/units/{unit_id}/status/", {"status": status})


def _shows(page, unit_id: int, report_id: int, *, unit_version: int, status: str, report_version: int, address: str):
    page.wait_for_function(
        "([u, r, uv, st, rv, address]) => { const unit = Siaga.units[u]; const seen = SiagaDispatch.seen[r];"
        " const li = document.querySelector(`#queue li[data-id='${r}'] .address`);"
        " return Boolean(unit && seen && li) && unit.version === uv && unit.status === st"
        " && seen.version === rv && li.textContent === address; }",
        arg=[unit_id, report_id, unit_version, status, report_version, address],
        timeout=10000,
    )


def _dispatcher_page_on(page, base: str):
    """The logged-in dispatcher's console served by ``base`` (the session cookie is the host's, any port)."""
    other = page.context.new_page()
    other.goto(base + "/dispatch/")
    other.wait_for_selector("#map[data-kecamatan]")
    other.wait_for_function("() => document.body.dataset.live === 'live'")
    return other


def test_two_servers_interleaved_updates_and_late_old_messages_the_consoles_end_on_the_newest(
    console, server, second_server
) -> None:
    """Two ASGI servers on one database and Redis; a unit and a report changed through each in turn, each change
    published by the server that made it; then the older messages are delivered again after the newest, the
    oldest last. A console on each server shows the newest state of both, with its version."""
    from django.utils import timezone

    from incidents.live import live_send
    from incidents.live.messages import incident_message, unit_message

    unit = _available_unit()
    page_a = console("dispatcher")  # its socket on the first server's Daphne
    page_a.wait_for_function("() => document.body.dataset.live === 'live'")
    page_b = _dispatcher_page_on(page_a, second_server.base)  # page, API and socket on the second server
    report = _api(server, "POST", "/api/incidents/", {
        "region": "kota-jambi", "channel": "phone", "incident_type": "fire_house", "location": [103.6150, -1.6010],
        "address_text": "e2e order: 0",
    })  # fmt: skip
    old_messages = []

    def remember() -> None:
        now = timezone.now()
        old_messages.append(unit_message(unit.pk, now))
        old_messages.append(incident_message(report["id"], now))

    remember()
    servers = [server, second_server.base, server]  # first, second, first again
    for step, (base, status) in enumerate(zip(servers, ["out_of_service", "available", "out_of_service"], strict=True)):
        _status_via_api(base, unit.pk, status)
        _api(base, "PATCH", f"/api/incidents/{report['id']}/", {"address_text": f"e2e order: {step + 1}"})
        if step < 2:
            remember()
    unit_version = Unit.objects.get(pk=unit.pk).revision
    report_version = Incident.objects.get(pk=report["id"]).revision
    newest = {"unit_version": unit_version, "status": "out_of_service", "report_version": report_version,
              "address": "e2e order: 3"}  # fmt: skip
    for page in (page_a, page_b):
        _shows(page, unit.pk, report["id"], **newest)
    received = [page.evaluate("() => Siaga.liveStats.received") for page in (page_a, page_b)]
    for region_id, message in reversed(old_messages):  # older and older, after the newest
        assert live_send(region_id=region_id, message=message)
    for page, before in zip((page_a, page_b), received, strict=True):
        page.wait_for_function("(n) => Siaga.liveStats.received >= n", arg=before + len(old_messages), timeout=10000)
        _shows(page, unit.pk, report["id"], **newest)
        assert page.evaluate(f"() => SiagaDispatch.queue.filter((f) => f.id === {report['id']}).length") == 1
    _shot(page_b, "console-two-servers-newest")
    _status_via_api(server, unit.pk, "available")


def test_a_console_whose_socket_dropped_reads_what_it_missed_when_it_is_back(console, server, second_server) -> None:
    """The console's server goes away (every socket on it drops); the unit and the report change meanwhile through
    the other server; when its server is back the console reconnects and shows what it missed, by version."""
    unit = _available_unit()
    page_a = console("dispatcher")
    page = _dispatcher_page_on(page_a, second_server.base)
    page_a.close()
    report = _api(server, "POST", "/api/incidents/", {
        "region": "kota-jambi", "channel": "phone", "incident_type": "fire_house", "location": [103.6150, -1.6010],
        "address_text": "e2e resync: before",
    })  # fmt: skip
    page.wait_for_function(f"() => Boolean(SiagaDispatch.seen[{report['id']}])")
    opened = page.evaluate("() => Siaga.liveStats.opened")
    second_server.stop()
    try:
        page.wait_for_function("() => document.body.dataset.live !== 'live'", timeout=10000)
        _status_via_api(server, unit.pk, "out_of_service")
        _api(server, "PATCH", f"/api/incidents/{report['id']}/", {"address_text": "e2e resync: missed"})
        time.sleep(1)  # the messages of these changes went out while the console had no socket
    finally:
        second_server.start()
    page.wait_for_function("(n) => Siaga.liveStats.opened > n", arg=opened, timeout=20000)
    _shows(
        page, unit.pk, report["id"], unit_version=Unit.objects.get(pk=unit.pk).revision, status="out_of_service",
        report_version=Incident.objects.get(pk=report["id"]).revision, address="e2e resync: missed",
    )  # fmt: skip
    _shot(page, "console-resync")
    _status_via_api(server, unit.pk, "available")
