"""The reports API over the real Kota Jambi boundaries: create (a point with accuracy, or an address to
locate later), the queue, locating, a caller's shared location applied, closing, the caller's record and
flags, and the response times derived from each assigned unit's phase timestamps.

Expected kecamatan and kelurahan are those of ``test_incidents`` (shapely on the source GeoJSON).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_incident, make_incident_type, make_unit
from rest_framework.test import APIClient

from fleet.actors import Actor
from fleet.models import ActorKind, AuditEntry
from gis_core.importers.boundaries import import_boundaries
from incidents.models import CallerFlag, Incident
from incidents.services.dispatch import dispatch_assign
from incidents.services.incidents import location_offer_create
from incidents.services.status import unit_status_set

pytestmark = pytest.mark.django_db

DAMKAR_HQ = (103.595769, -1.619313)  # Kota Baru (15.71.07), kelurahan 15.71.07.1002
RSUD_ABDUL_MANAP = (103.579035273099606, -1.6410166)  # Alam Barajo (15.71.09), kelurahan 15.71.09.1003
JAKARTA_MONAS = (106.8272, -6.1754)
PHONE = "+6281234567890"


@pytest.fixture
def jambi(jambi_region, data_dir: Path):
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kelurahan_jambi.geojson", level="kelurahan")
    make_incident_type(code="fire_house", category="fire", default_priority=1, needs=[("fire", "fire_engine", 1)])
    return jambi_region


@pytest.fixture
def user(jambi_region):
    return make_user("calltaker1", "dispatcher", password="pw")


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _error(response, status: int, code: str | None = None) -> str:
    assert response.status_code == status, response.content
    body = response.json()["error"]
    if code is not None:
        assert body["code"] == code, body
    return str(body)


def _create(api, **fields):
    body = {"region": "kota-jambi", "channel": "phone", "caller_phone": "0812-3456-7890",
            "incident_type": "fire_house", **fields}  # fmt: skip
    return api.post("/api/incidents/", body, format="json", REMOTE_ADDR="10.4.4.4")


def test_anonymous_is_refused(jambi) -> None:
    assert APIClient().post("/api/incidents/", {}, format="json").status_code == 401


def test_a_call_with_a_location_is_created_with_its_areas(api, jambi) -> None:
    response = _create(api, location=list(DAMKAR_HQ), location_accuracy_m=25, priority=2,
                       description="rumah terbakar, dua lantai")  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["reference"].startswith("JMB-")
    assert (body["channel"], body["caller_phone"], body["incident_type"], body["priority"]) == (
        "phone", PHONE, "fire_house", 2,
    )  # fmt: skip
    assert body["location"] == {"type": "Point", "coordinates": list(DAMKAR_HQ)}
    assert (body["location_accuracy_m"], body["location_source"]) == (25.0, "dispatcher")
    assert body["kecamatan"] == {"code": "15.71.07", "name": "Kota Baru"}
    assert body["kelurahan"]["code"] == "15.71.07.1002"
    assert body["needs"] == [{"agency_kind": "fire", "capability": "fire_engine", "count": 1, "optional": False}]
    assert (body["status"], body["description"], body["created_by"]) == ("open", "rumah terbakar, dua lantai",
                                                                         "calltaker1")  # fmt: skip
    entry = AuditEntry.objects.get(action="incident.create")
    assert (entry.actor_label, entry.remote_addr, entry.object_id) == ("calltaker1", "10.4.4.4", str(body["id"]))


def test_an_address_is_located_later_and_the_areas_follow(api, jambi) -> None:
    created = _create(api, address_text="depan RSUD H. Abdul Manap").json()
    assert (created["status"], created["location"], created["kecamatan"]) == ("awaiting_location", None, None)
    url = f"/api/incidents/{created['id']}/location/"
    located = api.patch(url, {"location": list(RSUD_ABDUL_MANAP), "location_source": "geocoded"}, format="json")
    assert located.status_code == 200, located.content
    body = located.json()
    assert (body["status"], body["location_source"]) == ("open", "geocoded")
    assert body["kecamatan"] == {"code": "15.71.09", "name": "Alam Barajo"}
    assert body["kelurahan"]["code"] == "15.71.09.1003"
    assert body["address_text"] == "depan RSUD H. Abdul Manap"
    _error(api.patch(url, {"location": list(JAKARTA_MONAS)}, format="json"), 400, "outside_region")


@pytest.mark.parametrize(
    ("fields", "status", "fragment"),
    [
        ({}, 400, "give a location"),
        ({"location": list(JAKARTA_MONAS)}, 400, "km outside Kota Jambi"),
        ({"location": [-1.6, 103.6]}, 400, "did you mean [103.6, -1.6]"),
        ({"address_text": "x", "incident_type": "kebakaran"}, 400, "known types: fire_house"),
        ({"address_text": "x", "priority": 9}, 400, "priority"),
        ({"address_text": "x", "channel": "sms"}, 400, "channel"),
        ({"address_text": "x", "caller_phone": "12"}, 400, "phone"),
        ({"address_text": "x", "region": "kota-atlantis"}, 400, "region"),
    ],
)
def test_bad_reports_are_a_400_with_a_message(api, jambi, fields: dict, status: int, fragment: str | None) -> None:
    message = _error(_create(api, **fields), status)
    if fragment is not None:
        assert fragment in message
    assert not Incident.objects.exists()


def test_the_queue_is_geojson_with_reports_awaiting_their_location(api, jambi, django_assert_max_num_queries) -> None:
    _create(api, location=list(DAMKAR_HQ))
    _create(api, address_text="Pasar Angso Duo")
    with django_assert_max_num_queries(8):
        response = api.get("/api/incidents/?region=kota-jambi")
    assert response.status_code == 200, response.content
    features = response.json()["features"]
    geometries = sorted(str(f["geometry"]) for f in features)
    assert geometries == ["None", str({"type": "Point", "coordinates": list(DAMKAR_HQ)})]
    assert {f["properties"]["status"] for f in features} == {"open", "awaiting_location"}
    awaiting = api.get("/api/incidents/?status=awaiting_location").json()["features"]
    assert [f["properties"]["address_text"] for f in awaiting] == ["Pasar Angso Duo"]
    _error(api.get("/api/incidents/?status=burning"), 400)


def test_a_shared_location_is_applied_by_a_person_once(api, jambi) -> None:
    created = _create(api, channel="whatsapp", address_text="dekat rumah sakit").json()
    incident = Incident.objects.get(pk=created["id"])
    offer = location_offer_create(incident=incident, location=RSUD_ABDUL_MANAP, label="RSUD",
                                  received_at=timezone.now())  # fmt: skip
    pending = api.get(f"/api/incidents/{incident.pk}/").json()
    assert (pending["location"], pending["location_offers"][0]["applied_at"]) == (None, None)
    url = f"/api/incidents/{incident.pk}/location-offers/{offer.pk}/apply/"
    applied = api.post(url, format="json")
    assert applied.status_code == 200, applied.content
    body = applied.json()
    assert (body["location_source"], body["kecamatan"]["code"], body["status"]) == ("whatsapp", "15.71.09", "open")
    assert body["location_offers"][0]["applied_by"] == "calltaker1"
    _error(api.post(url, format="json"), 409, "report_state")
    _error(api.post(f"/api/incidents/{incident.pk}/location-offers/999999/apply/", format="json"), 404)


def test_a_call_taker_sets_what_a_whatsapp_report_lacks(api, jambi) -> None:
    incident = make_incident(region=jambi, channel="whatsapp", geom=None, caller_phone=PHONE)  # no type, no details
    url = f"/api/incidents/{incident.pk}/"
    body = {"incident_type": "fire_house", "priority": 2, "description": "asap dari dapur", "caller_name": "Budi",
            "address_text": "Jl. Sudirman 5"}  # fmt: skip
    response = api.patch(url, body, format="json")
    assert response.status_code == 200, response.content
    got = response.json()
    assert {k: got[k] for k in body} == body
    assert got["needs"] == [{"agency_kind": "fire", "capability": "fire_engine", "count": 1, "optional": False}]
    # One field at a time: the others stay, the explicit priority too.
    got = api.patch(url, {"description": "api sudah padam"}, format="json").json()
    assert (got["description"], got["caller_name"], got["priority"]) == ("api sudah padam", "Budi", 2)
    assert "at least one of" in _error(api.patch(url, {}, format="json"), 400, "invalid_report")
    assert "caller_name" in _error(api.patch(url, {"caller_name": "x" * 129}, format="json"), 400, "invalid")
    assert "NUL" in _error(api.patch(url, {"description": "a\x00b"}, format="json"), 400, "parse_error")
    assert "description" in _error(api.patch(url, {"description": ["a"]}, format="json"), 400, "invalid")
    _error(api.patch(url, {"incident_type": "warp"}, format="json"), 400, "unknown_incident_type")


def test_three_pranks_flag_the_number_the_next_report_is_marked_and_a_lift_is_audited(api, jambi) -> None:
    # SIAGA_PRANK_FLAG_COUNT = 3 in SIAGA_PRANK_WINDOW_DAYS = 30 (settings defaults).
    for _ in range(3):
        report = _create(api, address_text="Jl. Sultan Thaha").json()
        closed = api.post(f"/api/incidents/{report['id']}/close/", {"outcome": "prank"}, format="json")
        assert closed.status_code == 200, closed.content
        assert closed.json()["outcome"] == "prank"
    marked = _create(api, address_text="Jl. Gatot Subroto")
    assert marked.status_code == 201  # never refused
    assert marked.json()["caller_flags"] == ["flagged"]
    record = api.get("/api/callers/081234567890/").json()
    assert (record["phone"], record["outcome_counts"]["prank"], record["pranks_counted"]) == (PHONE, 3, 3)
    [flag] = record["active_flags"]
    policy_entry = AuditEntry.objects.get(action="caller.flag")
    assert (policy_entry.actor_kind, policy_entry.object_id) == (ActorKind.SYSTEM, str(flag["id"]))

    lift_url = f"/api/callers/{PHONE}/flags/{flag['id']}/lift/"
    _error(api.post(lift_url, {}, format="json"), 400)  # a lift needs its reason
    lifted = api.post(lift_url, {"reason": "spoke to the parents"}, format="json", REMOTE_ADDR="10.5.5.5")
    assert lifted.status_code == 200, lifted.content
    assert lifted.json()["lifted_at"] is not None
    entry = AuditEntry.objects.get(action="caller.flag_lift")
    assert (entry.actor_label, entry.remote_addr) == ("calltaker1", "10.5.5.5")
    assert _create(api, address_text="Jl. Kapten Pattimura").json()["caller_flags"] == []
    assert CallerFlag.objects.count() == 1  # the lifted flag stays on record


def test_a_person_blocks_a_number_and_its_reports_are_still_created(api, jambi) -> None:
    blocked = api.post(f"/api/callers/{PHONE}/flags/", {"kind": "block", "reason": "prank spree"}, format="json")
    assert blocked.status_code == 201, blocked.content
    assert blocked.json()["expires_at"] is not None  # 24 hours by default
    report = _create(api, address_text="Pasar")
    assert (report.status_code, report.json()["caller_flags"]) == (201, ["blocked"])
    assert AuditEntry.objects.filter(action="caller.block").count() == 1
    _error(api.post(f"/api/callers/{PHONE}/flags/", {"kind": "ban", "reason": "x"}, format="json"), 400)


def test_response_times_come_from_each_units_phase_timestamps(api, jambi) -> None:
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    incident = make_incident(region=jambi, geom=DAMKAR_HQ, received_at=t0)
    unit = make_unit(call_sign="AMB-1")
    dispatch_assign(incident=incident, unit=unit, at=t0 + timedelta(seconds=60))
    # Minutes after receipt, by hand: en route 2, on scene 10, transporting 15, at hospital 25, returning 30.
    for to, seconds in (("en_route", 120), ("on_scene", 600), ("transporting", 900), ("at_hospital", 1500),
                        ("returning", 1800)):  # fmt: skip
        unit_status_set(
            unit=unit, to_status=to, actor=Actor(kind=ActorKind.CREW_DEVICE), at=t0 + timedelta(seconds=seconds)
        )
    [assignment] = api.get(f"/api/incidents/{incident.pk}/assignments/").json()
    assert assignment["status"] == "cleared"
    assert assignment["times_s"] == {
        "dispatch_s": 60.0,  # received -> dispatched
        "turnout_s": 60.0,  # dispatched (60) -> en route (120)
        "travel_s": 480.0,  # en route (120) -> on scene (600)
        "response_s": 600.0,  # received -> on scene
        "on_scene_s": 300.0,  # on scene (600) -> transporting (900)
        "transport_s": 600.0,  # transporting (900) -> at hospital (1500)
        "total_s": 1740.0,  # dispatched (60) -> cleared (1800)
    }
    detail = api.get(f"/api/incidents/{incident.pk}/").json()
    assert detail["times_s"] == {"first_dispatch_s": 60.0, "first_on_scene_s": 600.0, "open_s": None}
