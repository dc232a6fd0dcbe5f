"""The dispatch API: units and stations as GeoJSON, recommendations, assignments, cancel, unit status, KPIs.

Every endpoint answers bad input with a 400 and a message, unknown ids with a 404, and a unit that
cannot be sent or moved with a 409 (the one error shape of ``gis_core.api.errors``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_agency, make_fix, make_incident, make_incident_type, make_station, make_unit
from factories.gis_core import make_region
from rest_framework.test import APIClient

from fleet.models import AgencyKind, AuditEntry, UnitStatus
from gis_core.routing.hour_band_engines import engine_for_now
from gis_core.routing.registry import engine_for
from incidents.models import Assignment, IncidentStatus, StatusChange

pytestmark = pytest.mark.django_db
CENTRE = (103.6131, -1.5913)
DAMKAR_HQ = (103.595769, -1.619313)  # jambi/fire_station_jambi_unverified.csv
RSUD_ABDUL_MANAP = (103.579035273099606, -1.6410166)  # jambi/health_facilities_jambi_osm.geojson


@pytest.fixture
def user(jambi_region):
    return make_user("dispatcher1", "dispatcher", password="pw")


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert body["code"] == code, body
    return body["message"]


def test_anonymous_is_refused() -> None:
    assert APIClient().get("/api/units/").status_code == 401


# -- units and stations -------------------------------------------------------------------------------


def test_units_geojson_at_fix_or_station(api, jambi_region, django_assert_max_num_queries) -> None:
    psc = make_agency(region=jambi_region, code="psc119", kind=AgencyKind.EMS)
    station = make_station(agency=psc, code="manap", name="RSUD Abdul Manap", geom=RSUD_ABDUL_MANAP)
    at_fix = make_unit(agency=psc, call_sign="A-1", capabilities=["als", "bls"], home_station=station)
    make_fix(unit=at_fix, geom=DAMKAR_HQ, recorded_at=timezone.now() - timedelta(seconds=30))
    make_unit(agency=psc, call_sign="A-2", home_station=station)
    make_unit(agency=psc, call_sign="A-3")
    for i in range(20):  # enough rows that an N+1 query would break the budget
        make_unit(agency=psc, call_sign=f"B-{i:02d}", home_station=station)
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    make_unit(agency=make_agency(region=ambon), call_sign="AMBON-1")
    # Region lookup, units (agency, type, station, fix joined), capabilities prefetch.
    with django_assert_max_num_queries(3):
        response = api.get("/api/units/?region=kota-jambi")
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "FeatureCollection"
    features = {f["properties"]["call_sign"]: f for f in body["features"]}
    assert len(features) == 23
    assert "AMBON-1" not in features
    a1 = features["A-1"]
    assert a1["geometry"] == {"type": "Point", "coordinates": list(DAMKAR_HQ)}
    props = a1["properties"]
    assert (props["position_source"], props["position_stale"], props["status"]) == ("gps", False, "available")
    assert 30 <= props["position_age_s"] < 60
    assert (props["agency"], props["capabilities"]) == ("psc119", ["als", "bls"])
    assert props["station"] == {"id": station.pk, "code": "manap", "name": "RSUD Abdul Manap"}
    assert props["id"] == a1["id"] == at_fix.pk
    a2 = features["A-2"]
    assert a2["geometry"]["coordinates"] == list(RSUD_ABDUL_MANAP)
    # One vocabulary with the live messages and recommendations (was "station" here alone).
    assert (a2["properties"]["position_source"], a2["properties"]["position_age_s"]) == ("home_station", None)
    assert (features["A-3"]["geometry"], features["A-3"]["properties"]["position_source"]) == (None, None)
    # Without region: the units of the user's regions, never everything (Ambon is another centre's).
    assert {f["properties"]["call_sign"] for f in api.get("/api/units/").json()["features"]} == set(features)


def test_stations_geojson(api, jambi_region, django_assert_max_num_queries) -> None:
    damkar = make_agency(region=jambi_region, code="damkar", kind=AgencyKind.FIRE)
    hq = make_station(agency=damkar, code="mako", geom=DAMKAR_HQ)
    for _ in range(2):
        make_unit(agency=damkar, home_station=hq)
    for i in range(10):
        make_station(agency=damkar, code=f"posko-{i}")
    with django_assert_max_num_queries(3):  # the role check, region, stations with agency and unit count
        response = api.get("/api/stations/?region=15.71")
    assert response.status_code == 200
    features = {f["properties"]["code"]: f for f in response.json()["features"]}
    assert len(features) == 11
    mako = features["mako"]
    assert mako["geometry"]["coordinates"] == list(DAMKAR_HQ)
    assert (mako["properties"]["agency"], mako["properties"]["agency_kind"], mako["properties"]["units"]) == (
        "damkar",
        "fire",
        2,
    )


def test_unknown_region_is_a_404_naming_the_users_own(api, jambi_region) -> None:
    for path in ("/api/units/?region=atlantis", "/api/stations/?region=atlantis"):
        assert "unknown region 'atlantis'; your regions: kota-jambi" in _error(api.get(path), 404, "not_found")


# -- recommendations ----------------------------------------------------------------------------------


def test_recommendations_query_budget(api, jambi_network, django_assert_max_num_queries) -> None:
    psc = make_agency(region=jambi_network, code="psc119", kind=AgencyKind.EMS)
    station = make_station(agency=psc, geom=RSUD_ABDUL_MANAP)
    for i in range(30):
        unit = make_unit(agency=psc, call_sign=f"A-{i:02d}", home_station=station)
        if i % 2:
            make_fix(unit=unit, geom=DAMKAR_HQ)
    incident = make_incident(
        region=jambi_network, geom=CENTRE, incident_type=make_incident_type(needs=[("ems", "als", 1)])
    )
    engine_for_now(jambi_network)  # loading the network (and its hour band) is a one-off, not part of the budget
    # The report, its type's needs, the candidates (positions, stations and capabilities in one), the active
    # network version.
    with django_assert_max_num_queries(5):  # + the role check
        response = api.get(f"/api/incidents/{incident.pk}/recommendations/")
    assert len(response.json()["needs"][0]["suggestions"]) == 30


def test_recommendations_with_routes(api, jambi_network) -> None:
    psc = make_agency(region=jambi_network, code="psc119", kind=AgencyKind.EMS)
    near = make_unit(agency=psc, call_sign="NEAR")
    make_fix(unit=near, geom=DAMKAR_HQ)
    far = make_unit(agency=psc, call_sign="FAR", home_station=make_station(agency=psc, geom=RSUD_ABDUL_MANAP))
    itype = make_incident_type(needs=[("ems", "als", 1)])
    incident = make_incident(region=jambi_network, geom=CENTRE, incident_type=itype)
    response = api.get(f"/api/incidents/{incident.pk}/recommendations/?routes=1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["reference"] == incident.reference
    rows = body["needs"][0]["suggestions"]
    assert [r["call_sign"] for r in rows] == ["NEAR", "FAR"]
    engine = engine_for(jambi_network)
    # Expected: the engine's ETA from each unit's position (NEAR: its fix; FAR: no fix, its station).
    assert rows[0]["eta_s"] == round(engine.travel_times_to([DAMKAR_HQ], CENTRE)[0].eta_s, 1)
    assert rows[1]["eta_s"] == round(engine.travel_times_to([RSUD_ABDUL_MANAP], CENTRE)[0].eta_s, 1)
    assert [r["ranked_from"] for r in rows] == ["gps", "home_station"]
    assert rows[0]["route"]["type"] == "LineString"
    assert {"unit", "eta_s", "distance_m", "position_age_s"} <= set(rows[0])
    plain = api.get(f"/api/incidents/{incident.pk}/recommendations/?capabilities=als&limit=1").json()
    assert [r["call_sign"] for r in plain["needs"][0]["suggestions"]] == ["NEAR"]
    assert "route" not in plain["needs"][0]["suggestions"][0]
    assert far.pk == rows[1]["unit"]
    # The route of one unit on request, without routing the others.
    one = api.get(f"/api/incidents/{incident.pk}/recommendations/?route_units={far.pk}").json()
    assert [(r["call_sign"], r.get("route", {}).get("type")) for r in one["needs"][0]["suggestions"]] == [
        ("NEAR", None),
        ("FAR", "LineString"),
    ]
    bad = api.get(f"/api/incidents/{incident.pk}/recommendations/?route_units=FAR")
    assert "route_units: expected comma-separated unit ids" in _error(bad, 400, "invalid")


def test_recommendations_bad_input(api, jambi_region) -> None:
    incident = make_incident(incident_type=make_incident_type(needs=[("ems", "als", 1)]))
    url = f"/api/incidents/{incident.pk}/recommendations/"
    assert "routes" in _error(api.get(url + "?routes=maybe"), 400, "invalid")
    assert "limit" in _error(api.get(url + "?limit=0"), 400, "invalid")
    assert "unknown capability warp" in _error(api.get(url + "?capabilities=warp"), 400, "recommendation_input")
    assert "no report with id 999999" in _error(api.get("/api/incidents/999999/recommendations/"), 404, "not_found")
    no_location = make_incident(geom=None, incident_type=incident.incident_type)
    message = _error(api.get(f"/api/incidents/{no_location.pk}/recommendations/"), 409, "incident_location_missing")
    assert "has no location yet" in message
    # The region has no road network loaded: a 409 that says so, not a 500.
    _error(api.get(url), 409, "no_network")


def test_an_untyped_report_gets_units_for_the_capability_asked(api, jambi_network) -> None:
    psc = make_agency(region=jambi_network, code="psc119", kind=AgencyKind.EMS)
    near = make_unit(agency=psc, call_sign="NEAR", capabilities=["bls"])
    make_fix(unit=near, geom=DAMKAR_HQ)
    untyped = make_incident(region=jambi_network, geom=CENTRE, channel="whatsapp")  # a WhatsApp report, untriaged
    url = f"/api/incidents/{untyped.pk}/recommendations/"
    message = _error(api.get(url), 409, "incident_type_missing")
    assert "has no incident type" in message
    assert "capabilities=" in message  # says how to ask anyway
    body = api.get(url + "?capabilities=bls").json()
    assert [(n["capability"], [r["call_sign"] for r in n["suggestions"]]) for n in body["needs"]] == [("bls", ["NEAR"])]
    created = api.post(f"/api/incidents/{untyped.pk}/assignments/", {"unit_id": near.pk, "capability": "bls"},
                       format="json")  # fmt: skip
    assert created.status_code == 201, created.content


# -- units ETA ----------------------------------------------------------------------------------------


def test_units_eta_ranks_every_unit_of_the_region(api, jambi_network, django_assert_max_num_queries) -> None:
    psc = make_agency(region=jambi_network, code="psc119", kind=AgencyKind.EMS)
    damkar = make_agency(region=jambi_network, code="damkar", kind=AgencyKind.FIRE)
    near = make_unit(agency=psc, call_sign="NEAR")
    make_fix(unit=near, geom=DAMKAR_HQ)
    far = make_unit(agency=psc, call_sign="FAR", home_station=make_station(agency=psc, geom=RSUD_ABDUL_MANAP))
    busy = make_unit(agency=damkar, call_sign="ENGINE", capabilities=["fire_engine"], status=UnitStatus.ON_SCENE)
    make_fix(unit=busy, geom=CENTRE)
    make_unit(agency=damkar, call_sign="NOWHERE", capabilities=[])
    other_region = make_unit(agency=make_agency(region=make_region(code="81.71", slug="kota-ambon")))
    engine = engine_for_now(jambi_network)  # the hour band's engine, loaded outside the budget
    expected = {  # the engine's ETA from each unit's position: NEAR its fix, FAR its station, ENGINE its fix
        "NEAR": round(engine.travel_times_to([DAMKAR_HQ], CENTRE)[0].eta_s, 1),
        "FAR": round(engine.travel_times_to([RSUD_ABDUL_MANAP], CENTRE)[0].eta_s, 1),
        "ENGINE": round(engine.travel_times_to([CENTRE], CENTRE)[0].eta_s, 1),
    }
    # The region, the candidates (positions, stations and capabilities in one), the active network version.
    with django_assert_max_num_queries(4):  # + the role check
        response = api.post("/api/units/eta/", {"region": "kota-jambi", "destination": CENTRE}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    rows = {r["call_sign"]: r for r in body["results"]}
    assert set(rows) == {"NEAR", "FAR", "ENGINE", "NOWHERE"}  # not the Ambon unit
    assert {name: rows[name]["eta_s"] for name in expected} == expected
    etas = [r["eta_s"] for r in body["results"][:3]]
    assert etas == sorted(etas)
    assert body["results"][-1]["call_sign"] == "NOWHERE"
    assert rows["NOWHERE"]["reason"] == "no valid GPS fix and no home station"
    assert (rows["ENGINE"]["status"], rows["ENGINE"]["capabilities"]) == ("on_scene", ["fire_engine"])
    assert [rows[n]["ranked_from"] for n in ("NEAR", "FAR")] == ["gps", "home_station"]
    assert rows["FAR"]["unit"] == far.pk
    assert other_region.pk not in {r["unit"] for r in body["results"]}

    def names(**extra) -> list[str]:
        payload = {"region": "15.71", "destination": {"type": "Point", "coordinates": list(CENTRE)}, **extra}
        response = api.post("/api/units/eta/", payload, format="json")
        assert response.status_code == 200, response.content
        return [r["call_sign"] for r in response.json()["results"]]

    assert names(available_only=True) == [*sorted(["NEAR", "FAR"], key=lambda n: expected[n]), "NOWHERE"]
    assert names(units=[far.pk, busy.pk]) == sorted(["FAR", "ENGINE"], key=lambda n: expected[n])
    assert names(agencies=["psc119"]) == sorted(["NEAR", "FAR"], key=lambda n: expected[n])
    assert names(capabilities=["fire_engine"]) == ["ENGINE"]
    assert names(limit=1) == [min(expected, key=expected.get)]


def test_units_eta_bad_input(api, jambi_network) -> None:
    ambon_unit = make_unit(agency=make_agency(region=make_region(code="81.71", slug="kota-ambon")))
    url, base = "/api/units/eta/", {"region": "kota-jambi", "destination": CENTRE}

    def post(**changes):
        return api.post(url, {**base, **changes}, format="json")

    message = _error(post(units=[ambon_unit.pk]), 400, "recommendation_input")
    assert f"no unit {ambon_unit.pk} in region kota-jambi" in message
    assert "unknown agency warp" in _error(post(agencies=["warp"]), 400, "recommendation_input")
    assert "unknown capability warp" in _error(post(capabilities=["warp"]), 400, "recommendation_input")
    assert "unknown region 'atlantis'" in _error(post(region="atlantis"), 404, "not_found")
    assert "destination" in _error(post(destination=[-1.59, 103.61]), 400, "invalid")  # lat, lon swapped
    assert "destination" in _error(api.post(url, {"region": "kota-jambi"}, format="json"), 400, "invalid")
    # Ambon: no Jambi road near it. Named as the route endpoint names it, not "point #0" (an origin's index).
    message = _error(post(destination=[128.18, -3.69]), 400, "outside_network")
    assert message.startswith("destination (128.180000, -3.690000) is "), message
    assert "#" not in message
    assert "limit" in _error(post(limit=0), 400, "invalid")


# -- assignments and cancel ---------------------------------------------------------------------------


def test_assign_then_cancel(api, user, jambi_region) -> None:
    unit = make_unit(capabilities=["als"])
    incident = make_incident()
    response = api.post(f"/api/incidents/{incident.pk}/assignments/", {"unit_id": unit.pk, "capability": "als"},
                        format="json", REMOTE_ADDR="10.1.2.3")  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["incident"], body["reference"], body["unit_id"], body["unit"]) == (
        incident.pk,
        incident.reference,
        unit.pk,
        unit.call_sign,
    )
    assert (body["status"], body["capability"]) == ("active", "als")
    assert AuditEntry.objects.get(action="dispatch.assign").remote_addr == "10.1.2.3"
    listed = api.get(f"/api/incidents/{incident.pk}/assignments/").json()
    assert [a["id"] for a in listed] == [body["id"]]

    again = api.post(f"/api/incidents/{make_incident().pk}/assignments/", {"unit_id": unit.pk}, format="json")
    assert f"is dispatched for {incident.reference}" in _error(again, 409, "unit_unavailable")

    cancelled = api.post(f"/api/assignments/{body['id']}/cancel/", {"reason": "duplicate call"}, format="json")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"
    unit.refresh_from_db()
    incident.refresh_from_db()
    assert (unit.status, incident.status) == (UnitStatus.AVAILABLE, IncidentStatus.OPEN)
    assert StatusChange.objects.filter(unit=unit).last().actor_user == user
    twice = api.post(f"/api/assignments/{body['id']}/cancel/", {}, format="json")
    assert "already cancelled" in _error(twice, 409, "assignment_not_active")


def test_assignment_bad_input(api, jambi_region) -> None:
    unit = make_unit(capabilities=["bls"])
    incident = make_incident()
    url = f"/api/incidents/{incident.pk}/assignments/"
    assert "unit_id" in _error(api.post(url, {}, format="json"), 400, "invalid")
    assert "unit_id" in _error(api.post(url, {"unit_id": "abc"}, format="json"), 400, "invalid")
    assert "no unit with id 999999" in _error(api.post(url, {"unit_id": 999999}, format="json"), 404, "not_found")
    missing = api.post("/api/incidents/999999/assignments/", {"unit_id": unit.pk}, format="json")
    assert "no report with id 999999" in _error(missing, 404, "not_found")
    warp = api.post(url, {"unit_id": unit.pk, "capability": "warp"}, format="json")
    assert "unknown capability 'warp'; known: bls" in _error(warp, 400, "invalid")
    make_unit(capabilities=["fire_engine"])
    lacking = api.post(url, {"unit_id": unit.pk, "capability": "fire_engine"}, format="json")
    assert "has no capability fire_engine; it has: bls" in _error(lacking, 409, "dispatch_refused")
    assert "no assignment with id 999999" in _error(api.post("/api/assignments/999999/cancel/"), 404, "not_found")
    assert not Assignment.objects.exists()


# -- unit status --------------------------------------------------------------------------------------


def test_unit_status_by_a_dispatcher(api, user, jambi_region) -> None:
    unit = make_unit()
    ok = api.post(f"/api/units/{unit.pk}/status/", {"status": "out_of_service", "note": "flat tyre"}, format="json")
    assert ok.status_code == 200, ok.content
    assert (ok.json()["status"], ok.json()["allowed_next"]) == ("out_of_service", ["available"])
    change = StatusChange.objects.get(unit=unit)
    assert (change.actor_kind, change.actor_user, change.note) == ("dispatcher", user, "flat tyre")

    illegal = api.post(f"/api/units/{unit.pk}/status/", {"status": "on_scene"}, format="json")
    message = _error(illegal, 409, "illegal_transition")
    assert "cannot go from out_of_service to on_scene; allowed next: available" in message
    unknown = api.post(f"/api/units/{unit.pk}/status/", {"status": "flying"}, format="json")
    assert '"flying" is not a unit status; known: available' in _error(unknown, 400, "invalid")
    missing = api.post("/api/units/999999/status/", {"status": "available"}, format="json")
    assert "no unit with id 999999" in _error(missing, 404, "not_found")


# -- KPIs ---------------------------------------------------------------------------------------------


def test_kpis_endpoint(api, jambi_region) -> None:
    t0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    unit = make_unit(agency=make_agency(region=jambi_region, code="damkar", kind=AgencyKind.FIRE))
    incident = make_incident(received_at=t0)
    a = Assignment(incident=incident, unit=unit, status="cleared", dispatched_at=t0 + timedelta(seconds=60),
                   on_scene_at=t0 + timedelta(seconds=540), cleared_at=t0 + timedelta(hours=1))  # fmt: skip
    a.full_clean()
    a.save()
    # "+" of the zone left unescaped in the query string (it arrives as a space) is accepted too.
    response = api.get("/api/kpis/response/?region=kota-jambi&since=2026-03-02T07:00:00+07:00&until=2026-03-03")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["group_by"] == "agency"
    # One report, 540 s to on scene, within the 900 s fire default.
    (group,) = body["groups"]
    assert (group["key"], group["response_s"], group["share_within_target"]) == (
        "damkar",
        {"n": 1, "mean": 540.0, "p90": 540.0},
        1.0,
    )
    assert api.get("/api/kpis/response/?region=kota-jambi&group_by=priority").json()["groups"] == []  # last 30 days


def test_kpis_dates_without_an_offset_are_the_regions_local_time(api, user, jambi_region) -> None:
    from factories.gis_core import make_region

    from access.services import membership_grant

    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    membership_grant(user=user, region=ambon, role="dispatcher")  # the KPIs of a region the user is a member of
    make_incident(region=ambon, geom=None, received_at=datetime(2026, 2, 28, 15, 30, tzinfo=UTC))  # 00:30 WIT 1 March
    body = api.get("/api/kpis/response/?region=kota-ambon&since=2026-03-01&until=2026-03-02&group_by=day").json()
    # since 2026-03-01 in Ambon is 00:00 WIT = 2026-02-28 15:00 UTC, so the report counts, on its local day.
    assert (body["since"], body["until"]) == ("2026-03-01T00:00:00+09:00", "2026-03-02T00:00:00+09:00")
    assert [(g["key"], g["reports"]) for g in body["groups"]] == [("2026-03-01", 1)]
    body = api.get("/api/kpis/response/?region=kota-jambi&since=2026-03-01&until=2026-03-02").json()
    assert body["since"] == "2026-03-01T00:00:00+07:00"  # Jambi's midnight is WIB


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("", "region: required"),
        (
            "region=kota-jambi&group_by=colour",
            '"colour" is not a grouping; use one of agency, priority, kecamatan, day',
        ),
        ("region=kota-jambi&since=yesterday", "since: "),
        ("region=kota-jambi&since=2026-03-02T00:00:00%2B07:00&until=2026-03-01T00:00:00%2B07:00", "must be before"),
    ],
)
def test_kpis_bad_input(api, jambi_region, query, needle) -> None:
    assert needle in _error(api.get(f"/api/kpis/response/?{query}"), 400, "invalid")


def test_kpis_of_an_unknown_region_are_a_404(api, jambi_region) -> None:
    assert "unknown region 'atlantis'" in _error(api.get("/api/kpis/response/?region=atlantis"), 404, "not_found")


# -- concurrency through the API ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_api_assignments_one_201_the_rest_409() -> None:
    n = 8
    unit = make_unit()
    incidents = [make_incident() for _ in range(n)]
    users = [make_user(f"d{i}", "dispatcher", password="pw") for i in range(n)]
    barrier = threading.Barrier(n)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        client = APIClient()
        client.force_authenticate(users[i])
        try:
            barrier.wait(timeout=30)
            r = client.post(f"/api/incidents/{incidents[i].pk}/assignments/", {"unit_id": unit.pk}, format="json")
            with lock:
                answers.append((r.status_code, r.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = sorted(code for code, _ in answers)
    assert statuses == [201] + [409] * (n - 1), answers
    winner = next(body for code, body in answers if code == 201)
    refusals = [body["error"] for code, body in answers if code == 409]
    assert all(e["code"] == "unit_unavailable" for e in refusals)
    assert all(f"is dispatched for {winner['reference']}" in e["message"] for e in refusals)
    assert Assignment.objects.filter(unit=unit).count() == 1
