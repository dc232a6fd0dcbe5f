"""The crew page shows the walk where the crew's vehicle cannot drive to the report: in a real phone-sized
browser against ``scripts/serve.sh`` on the demo (fixtures in tests/factories/browser.py).

One street of the demo network, Jalan Sunan Gunung Jati's 319 m segment, is tagged 2.5 m wide before the
server loads its engines: a fire engine may not drive it (gis_core.routing.profiles), so one sent to a
fire half-way along it stops at the segment's end and the crew walks the rest.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from django.conf import settings

from fleet.models import Unit
from gis_core.models import Region, RoadEdge, RoadNetworkVersion
from gis_core.routing.registry import clear_engines, engine_for
from tests.demo_api import demo_api as _api

pytestmark = pytest.mark.django_db

DAMKAR_HQ = (103.595769, -1.619313)  # the demo's Damkar station (fixtures/demo_fleet_jambi.json)


@pytest.fixture(scope="module")
def narrow_street(demo_db, django_db_blocker) -> tuple[float, float]:
    """Tag the segment 2.5 m wide (both directions, committed) before ``server`` starts; the segment's middle."""
    with django_db_blocker.unblock():
        version = RoadNetworkVersion.objects.get(region__slug="kota-jambi", is_active=True)
        street = RoadEdge.objects.filter(version=version, name="Jalan Sunan Gunung Jati", length_m__range=(300, 340))
        if street.count() != 2:
            pytest.fail(f"expected the 319 m segment of Jalan Sunan Gunung Jati both ways, found {street.count()}")
        street.update(tags={"width": "2.5"})
        middle = street.first().geom.interpolate_normalized(0.5)  # GEOS, in EPSG:4326: near enough the middle
        clear_engines()  # this process's own engines, for the expected walk below
        return (round(middle.x, 6), round(middle.y, 6))


def test_a_fire_crew_sees_where_its_engine_stops_and_the_walk(narrow_street, server, browser) -> None:
    region = Region.objects.get(slug="kota-jambi")
    # Expected: the fire engine's own reach of the point, from the same committed rows (the server computes it
    # in its own process); a car drives the street.
    reach = engine_for(region, "fire_engine").reach(narrow_street)
    assert reach.on_foot_s > 0
    assert reach.reachable_point is not None
    assert engine_for(region, "car").reach(narrow_street).on_foot_s == 0
    minutes, metres = max(1, math.floor(reach.on_foot_s / 60 + 0.5)), round(reach.on_foot_m)  # JS Math.round

    report = _api(server, "POST", "/api/incidents/", {
        "region": "kota-jambi", "channel": "phone", "incident_type": "fire_house", "location": list(narrow_street),
        "description": "e2e walk: rumah di gang sempit", "address_text": "Jl. Sunan Gunung Jati",
    })  # fmt: skip
    engine = Unit.objects.get(call_sign="DAMKAR-E1")
    _api(server, "POST", f"/api/incidents/{report['id']}/assignments/", {"unit_id": engine.pk})
    link = _api(server, "POST", "/api/crew/pairings/", {"unit": engine.pk})["url"]

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", permissions=["geolocation"],
        geolocation={"longitude": DAMKAR_HQ[0], "latitude": DAMKAR_HQ[1], "accuracy": 25.0},
        service_workers="block",
    )  # fmt: skip
    try:
        phone = context.new_page()
        phone.goto(link)
        phone.wait_for_function("id => document.body.dataset.incident === String(id)", arg=report["id"])
        walk = phone.locator("#job-walk")
        assert walk.is_visible()
        assert walk.inner_text() == (
            f"Kendaraan berhenti di sini (kotak di peta), lalu {minutes} mnt jalan kaki ({metres} m)"
        )
        assert phone.locator("#job-eta").inner_text().startswith("Perkiraan tiba: ")
        # The map: the drive to the stop, the stop as a square, and the walk dashed from it to the report.
        assert phone.locator("#map polyline.route").count() == 1
        assert phone.locator("#map rect.stop").count() == 1
        assert phone.locator("#map line.walk").count() == 1
        stop = phone.evaluate("() => SiagaCrew.state.route.reachable_point")
        assert stop == pytest.approx(list(reach.reachable_point), abs=1e-6)
        output = Path(settings.BASE_DIR) / "test-output"
        output.mkdir(exist_ok=True)
        phone.screenshot(path=str(output / "crew-walk.png"))
    finally:
        context.close()
