"""The crew page in a real phone-sized browser (Debian's chromium, Playwright, geolocation emulated), against
``scripts/serve.sh`` on the demo (fixtures in tests/factories/browser.py).

A dispatcher pairs a unit's phone from the console; the phone gets the job live, taps through its statuses
(the console follows), is refused a move someone else made impossible, then loses its signal, moves and
changes status, and gets it back: every fix and status change arrives once, in order, and the unit ends
where the phone is. The first load stays within the page's budget.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from factories.browser import LOOPBACK_HOSTS

from fleet.models import Device, InboundMessage, PositionFix, Unit
from incidents.models import StatusChange
from tests.demo_api import demo_api as _api

pytestmark = pytest.mark.django_db

OUTPUT = Path(settings.BASE_DIR) / "test-output"
# The crew page's first load (HTML, script, style, icon, manifest, the pairing and the state with its route),
# without map tiles (it draws none): what a cheap phone on a weak 3G link fetches before it shows the job.
FIRST_LOAD_BUDGET_BYTES = 100_000
REPORT_LONLAT = (103.6070, -1.6120)  # inside Kota Jambi, near its main roads
ACCURACY_M = 25.0  # of every emulated fix: 40 m steps stay within two fixes' radii (no implied speed)


def _shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))


def _phone(browser, lonlat: tuple[float, float]):
    """A phone-sized context in Indonesian at ``lonlat`` that may read its position; vibrations recorded."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", permissions=["geolocation"],
        geolocation={"longitude": lonlat[0], "latitude": lonlat[1], "accuracy": ACCURACY_M},
        service_workers="block",  # page.route sees every request; the worker has its own test below
    )  # fmt: skip
    context.add_init_script(
        "window.__vibrations = []; navigator.vibrate = (p) => { __vibrations.push(p); return true; };"
    )
    return context


def _move(context, page, lonlat: tuple[float, float], *, pending: int | None = None) -> None:
    sent_before = page.evaluate("() => SiagaCrew.counters.fixes")
    context.set_geolocation({"longitude": lonlat[0], "latitude": lonlat[1], "accuracy": ACCURACY_M})
    page.wait_for_function("n => SiagaCrew.counters.fixes > n", arg=sent_before)
    if pending is not None:
        page.wait_for_function("n => document.getElementById('pending').dataset.count === String(n)", arg=pending)


def _tap(page, status: str) -> None:
    page.click(f"#buttons button[data-status={status}]")
    page.wait_for_function("s => document.body.dataset.status === s", arg=status)


def _buttons(page) -> list[str]:
    return page.locator("#buttons button.set-status").evaluate_all("bs => bs.map(b => b.dataset.status)")


def _all_sent(page) -> None:
    page.wait_for_function("() => document.getElementById('pending').dataset.count === '0'")


def _console_shows(console_page, unit_id: int, status: str) -> None:
    console_page.wait_for_function(
        "([id, s]) => { const el = document.querySelector(`#unit-list li[data-unit='${id}'] .unit-status`);"
        " return el && el.textContent.trim() === Siaga.cfg.strings[s]; }",
        arg=[unit_id, status],
    )


def _step(lonlat: tuple[float, float], n: int) -> tuple[float, float]:
    """``n`` steps of about 40 m east of ``lonlat`` (0.00036 degrees of longitude at 1.6 degrees south)."""
    return (round(lonlat[0] + 0.00036 * n, 6), lonlat[1])


def test_a_crew_pairs_gets_the_job_live_and_loses_nothing_offline(console, server, browser) -> None:
    report = _api(server, "POST", "/api/incidents/", {
        "region": "kota-jambi", "channel": "phone", "incident_type": "fire_house", "location": list(REPORT_LONLAT),
        "description": "e2e crew: asap tebal dari dapur", "address_text": "Jl. Gatot Subroto 12",
    })  # fmt: skip
    needs = _api(server, "GET", f"/api/incidents/{report['id']}/recommendations/")["needs"]
    free = [s["unit"] for need in needs for s in need["suggestions"] if s["eta_s"] is not None]
    assert free, f"no unit can reach {REPORT_LONLAT}: {needs}"
    unit_id = free[0]
    unit = Unit.objects.get(pk=unit_id)
    (device,) = Device.objects.filter(unit=unit)  # the demo gives each unit one device

    # The dispatcher makes the pairing link from the unit list.
    desk = console("dispatcher")
    desk.click(f"#unit-list li[data-unit='{unit_id}']")
    desk.click(f"#unit-list li[data-unit='{unit_id}'] button.pair-crew")
    link = desk.locator(f"#unit-list li[data-unit='{unit_id}'] input.pairing-url").input_value()
    assert desk.locator(f"#unit-list li[data-unit='{unit_id}'] .pairing-qr svg").count() == 1
    base, _, token = link.partition("#pair=")
    assert base == server + "/crew/"
    assert token

    start = _step(REPORT_LONLAT, -20)  # about 800 m west of the report
    context = _phone(browser, start)
    requests: list[str] = []
    try:
        phone = context.new_page()
        phone.on("request", lambda request: requests.append(request.url))
        phone.goto(link)
        phone.wait_for_function("() => document.body.dataset.state === 'paired' && document.body.dataset.live")
        assert "#pair" not in phone.url  # the one-time token left the address bar and the history
        assert phone.locator("#call-sign").inner_text() == unit.call_sign
        assert phone.locator("#no-job").is_visible()
        assert _buttons(phone) == ["out_of_service"]  # available: only the crew's own way off duty
        # The first load, every byte the page fetched (the pairing and the state included).
        transferred = phone.evaluate(
            "() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
            ".reduce((sum, e) => sum + e.transferSize, 0)"
        )
        print(f"crew page first load: {transferred} bytes transferred (budget {FIRST_LOAD_BUDGET_BYTES})")
        assert 0 < transferred <= FIRST_LOAD_BUDGET_BYTES

        # Dispatched through the API: the job is on the phone without a reload, with sound and vibration.
        _api(server, "POST", f"/api/incidents/{report['id']}/assignments/", {"unit_id": unit_id})
        phone.wait_for_function("id => document.body.dataset.incident === String(id)", arg=report["id"])
        assert phone.evaluate("() => document.body.dataset.alerts") == "1"
        assert phone.evaluate("() => window.__vibrations.length") == 1
        assert phone.locator("#job-title").inner_text() == "Kebakaran rumah/gedung"  # name_id, the crew's language
        assert "Jl. Gatot Subroto 12" in phone.locator("#job-address").inner_text()
        assert "asap tebal dari dapur" in phone.locator("#job-description").inner_text()
        assert phone.locator("#job-eta").inner_text().startswith("Perkiraan tiba: ")
        assert phone.locator("#map polyline.route").count() == 1
        lon, lat = REPORT_LONLAT
        assert f"destination={lat},{lon}" in phone.locator("#navigate").get_attribute("href")
        assert phone.locator("#navigate-geo").get_attribute("href").startswith(f"geo:{lat},{lon}")
        _shot(phone, "crew-new-job")

        # Through the statuses; the console follows each one. The first fix went when the duty began.
        assert _buttons(phone) == ["en_route", "out_of_service"]
        _all_sent(phone)
        asked_before, loads_before = len(requests), phone.evaluate("() => SiagaCrew.counters.stateLoads")
        _tap(phone, "en_route")
        _console_shows(desk, unit_id, "en_route")
        _move(context, phone, _step(start, 1))
        _tap(phone, "on_scene")
        _all_sent(phone)
        _console_shows(desk, unit_id, "on_scene")
        # A status change downloads nothing but its own answer: no state read, no page asset again.
        asked = {urllib.parse.urlsplit(u).path for u in requests[asked_before:]}
        assert asked <= {"/api/ingest/status", "/api/ingest/batch"}, asked
        assert phone.evaluate("() => SiagaCrew.counters.stateLoads") == loads_before
        assert _buttons(phone) == ["out_of_service", "returning", "transporting"]
        assert phone.locator("#hospital-pick").is_visible()  # "transporting" names where the patient goes
        assert phone.locator("#hospital option").count() > 0

        # Someone else moves the unit on while the phone has no signal; the crew's move is refused, with why.
        context.set_offline(True)
        _tap(phone, "returning")
        assert phone.locator("#pending").get_attribute("data-count") == "1"
        _api(server, "POST", f"/api/units/{unit_id}/status/", {"status": "transporting"})
        context.set_offline(False)
        phone.locator("#refusal").wait_for()
        assert "Ditolak: " in phone.locator("#refusal").inner_text()
        assert "cannot go from transporting to returning" in phone.locator("#refusal").inner_text()
        phone.wait_for_function("() => document.body.dataset.status === 'transporting'")  # the truth, re-read
        assert _buttons(phone) == ["at_hospital", "out_of_service"]
        _shot(phone, "crew-refused")

        # Offline: moves and a status change wait, counted on the screen.
        _all_sent(phone)
        fixes_before = PositionFix.objects.filter(device=device).count()
        context.set_offline(True)
        _move(context, phone, _step(start, 2), pending=1)
        _move(context, phone, _step(start, 3), pending=2)
        _tap(phone, "at_hospital")
        _move(context, phone, _step(start, 4), pending=4)
        assert phone.locator("#pending").inner_text() == "Menunggu terkirim: 4"
        _shot(phone, "crew-offline-queue")
        # Back online, the first batch's answer is lost on the way back: the phone sends it again, same key.
        lost = []

        def lose_first_answer(route) -> None:
            if lost:
                route.continue_()
                return
            route.fetch()  # the server records it ...
            lost.append(route.request.headers.get("idempotency-key"))
            route.abort()  # ... and the phone never hears so

        is_batch = lambda url: urllib.parse.urlsplit(url).path.rstrip("/") == "/api/ingest/batch"  # noqa: E731
        phone.route(is_batch, lose_first_answer)
        context.set_offline(False)
        _all_sent(phone)
        phone.unroute(is_batch)
        _console_shows(desk, unit_id, "at_hospital")
    finally:
        context.close()

    # Every fix once, in the order taken; the status change once, between them; the unit where the phone is.
    fixes = list(PositionFix.objects.filter(device=device).order_by("recorded_at", "pk"))
    offline = [(f.lon, f.lat) for f in fixes[fixes_before:]]
    assert offline == [_step(start, 2), _step(start, 3), _step(start, 4)]
    assert len({(f.lon, f.lat) for f in fixes}) == len(fixes)  # nothing recorded twice
    assert all(f.is_valid for f in fixes), [f.flags for f in fixes]
    changes = list(StatusChange.objects.filter(unit=unit).order_by("at", "pk").values_list("to_status", "at"))
    assert [s for s, _ in changes] == ["dispatched", "en_route", "on_scene", "transporting", "at_hospital"]
    at_hospital = changes[-1][1]
    assert fixes[fixes_before + 1].recorded_at <= at_hospital <= fixes[fixes_before + 2].recorded_at
    assert lost  # the lost answer happened, and its resend was answered as a duplicate
    resent = InboundMessage.objects.filter(
        channel="batch", device=device, headers__contains={"Idempotency-Key": lost[0]}
    )
    assert sorted(resent.values_list("outcome", flat=True)) == ["accepted", "duplicate"]
    unit.refresh_from_db()
    assert (unit.last_fix.lon, unit.last_fix.lat) == _step(start, 4)
    where = next(f for f in _api(server, "GET", "/api/units/?region=kota-jambi")["features"] if f["id"] == unit_id)
    assert where["geometry"]["coordinates"] == list(_step(start, 4))
    outside = sorted({u for u in requests if urllib.parse.urlsplit(u).hostname not in LOOPBACK_HOSTS})
    assert not outside, f"the crew page reached beyond this machine: {outside[:5]}"


def test_an_unpaired_phone_says_how_to_pair_and_the_page_opens_offline(server, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    try:
        page = context.new_page()
        page.goto(server + "/crew/")
        page.wait_for_function("() => document.body.dataset.state === 'unpaired'")
        assert "belum dipasangkan" in page.locator("#unpaired").inner_text()
        # A used or made-up link says so.
        page.goto(server + "/crew/#pair=not-a-real-token")
        page.reload()
        page.locator("#unpaired", has_text="Ditolak").wait_for()
        # The service worker keeps the shell: with no signal the page still opens.
        page.goto(server + "/crew/")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.reload()  # now under the worker's control, which keeps what it fetches
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        context.set_offline(True)
        page.reload()
        page.wait_for_function("() => document.body.dataset.state === 'unpaired'")
        assert page.locator("#net").inner_text() == "Offline"
    finally:
        context.close()
