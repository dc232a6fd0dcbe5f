"""Vehicle profiles in recommendation, /api/units/eta/ and dispatch, on the kampung network (factories.fleet_fixtures).

From the station at A to a caller at E: the ambulance (car) takes the gang A-D and drives off the network
to E; the fire engine may not take the gang (2.5 m wide) nor the footway D-E: it goes round by B and C and
the crew walks D-E; the motorbike rides the gang and the footway. Hand calculations (edge lengths are
osmnx's great-circle ones, R = 6,371,009 m: 0.005 deg is 556.0 m of latitude and 555.8 m of longitude
there, D-E 222.4 m; straight legs are measured in UTM 48S, where E-D is 221.1 m):

* car: 556.0 m at 30 km/h = 66.7 s, then 221.1 m off the network at 15 km/h = 53.1 s: 119.8 s.
* fire engine: 555.8 + 556.0 + 555.8 = 1667.5 m at its 25 km/h = 240.1 s, then 221.1 m on foot (straight,
  shorter than the 222.4 m of footway) at 3.6 km/h = 221.1 s: 461.2 s.
* motorbike: 556.0 m at 30 km/h = 66.7 s, then 222.4 m of footway at 12 km/h = 66.7 s: 133.4 s.
"""

from __future__ import annotations

import pytest
from factories.access import make_user
from factories.fleet import (
    make_agency,
    make_fix,
    make_incident,
    make_incident_type,
    make_station,
    make_unit,
    make_unit_type,
)
from factories.fleet_fixtures import KAMPUNG_A, KAMPUNG_D, KAMPUNG_E
from rest_framework.test import APIClient

from fleet.models import AgencyKind
from incidents.selectors.recommend import units_recommend
from incidents.services.dispatch import assignment_eta_refresh, dispatch_assign

pytestmark = pytest.mark.django_db
B = (103.6050, -1.6000)


@pytest.fixture
def fleet_at_a(kampung_network):
    fire = make_agency(region=kampung_network, code="damkar", kind=AgencyKind.FIRE)
    ems = make_agency(region=kampung_network, code="psc119", kind=AgencyKind.EMS)
    posko = make_station(agency=fire, geom=KAMPUNG_A)
    puskesmas = make_station(agency=ems, geom=KAMPUNG_A)
    units = {
        "ENGINE": make_unit(
            agency=fire,
            call_sign="ENGINE",
            home_station=posko,
            unit_type=make_unit_type(capabilities=["fire_engine"], routing_profile="fire_engine"),
        ),
        "AMBULANCE": make_unit(agency=ems, call_sign="AMBULANCE", home_station=puskesmas, capabilities=["als"]),
        "MOTOR": make_unit(
            agency=ems,
            call_sign="MOTOR",
            home_station=puskesmas,
            unit_type=make_unit_type(capabilities=["moto_ambulance"], routing_profile="motorbike"),
        ),
    }
    itype = make_incident_type(needs=[("fire", "fire_engine", 1), ("ems", "als", 1), ("ems", "moto_ambulance", 1)])
    incident = make_incident(region=kampung_network, geom=KAMPUNG_E, incident_type=itype)
    return units, incident


@pytest.fixture
def api(kampung_network) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user("dispatcher1", "dispatcher", password="pw"))
    return client


def test_each_unit_is_timed_on_its_profile_and_the_walk_is_shown_apart(api, fleet_at_a) -> None:
    _, incident = fleet_at_a
    response = api.get(f"/api/incidents/{incident.pk}/recommendations/?routes=1")
    assert response.status_code == 200, response.content
    rows = {s["call_sign"]: s for need in response.json()["needs"] for s in need["suggestions"]}
    engine, ambulance, motor = rows["ENGINE"], rows["AMBULANCE"], rows["MOTOR"]
    assert (engine["profile"], ambulance["profile"], motor["profile"]) == ("fire_engine", "car", "motorbike")
    assert ambulance["eta_s"] == pytest.approx(119.8, abs=0.5)
    assert ambulance["access_on_foot_s"] == 0
    assert ambulance["reachable_point"] is None
    assert engine["eta_s"] == pytest.approx(461.2, abs=0.5)
    assert engine["access_on_foot_s"] == pytest.approx(221.1, abs=0.3)
    assert engine["access_on_foot_m"] == pytest.approx(221.1, abs=0.3)
    assert engine["reachable_point"] == pytest.approx(list(KAMPUNG_D), abs=1e-6)
    assert engine["distance_m"] == pytest.approx(1667.5, abs=0.5)
    assert motor["eta_s"] == pytest.approx(133.4, abs=0.5)
    assert motor["access_on_foot_s"] == 0
    # The engine's route goes round by B to D, where it stops; the ambulance's takes the gang.
    engine_route, ambulance_route = engine["route"]["coordinates"], ambulance["route"]["coordinates"]
    assert any(c == pytest.approx(list(B), abs=1e-6) for c in engine_route)
    assert engine_route[-1] == pytest.approx(list(KAMPUNG_D), abs=1e-6)
    assert not any(c == pytest.approx(list(B), abs=1e-6) for c in ambulance_route)


def test_units_eta_answers_each_units_profile(api, fleet_at_a) -> None:
    response = api.post("/api/units/eta/", {"region": "kota-jambi", "destination": KAMPUNG_E}, format="json")
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [r["call_sign"] for r in rows] == ["AMBULANCE", "MOTOR", "ENGINE"]  # by eta_s
    engine = rows[-1]
    assert (engine["profile"], engine["access_on_foot_s"]) == ("fire_engine", pytest.approx(221.1, abs=0.3))
    # At D itself the engine drives all the way: no walk, the same 240.1 s round by B and C.
    at_d = api.post("/api/units/eta/", {"region": "kota-jambi", "destination": KAMPUNG_D}, format="json").json()
    engine_at_d = next(r for r in at_d["results"] if r["call_sign"] == "ENGINE")
    assert engine_at_d["eta_s"] == pytest.approx(240.1, abs=0.5)
    assert engine_at_d["access_on_foot_s"] == 0
    assert engine_at_d["reachable_point"] is None


def test_dispatch_records_the_profile_and_its_eta(fleet_at_a) -> None:
    units, incident = fleet_at_a
    engine = dispatch_assign(incident=incident, unit=units["ENGINE"], capability="fire_engine")
    ambulance = dispatch_assign(incident=incident, unit=units["AMBULANCE"], capability="als")
    assert (engine.eta_profile, ambulance.eta_profile) == ("fire_engine", "car")
    assert engine.eta_s_at_dispatch == pytest.approx(461.2, abs=0.5)
    assert ambulance.eta_s_at_dispatch == pytest.approx(119.8, abs=0.5)
    assert engine.eta_road_class == "residential"  # the street it stops on


def test_the_live_eta_follows_the_unit_on_its_profile(fleet_at_a) -> None:
    units, incident = fleet_at_a
    dispatch_assign(incident=incident, unit=units["ENGINE"], capability="fire_engine")
    make_fix(unit=units["ENGINE"], geom=B)
    refreshed = assignment_eta_refresh(unit=units["ENGINE"])
    # From B round by C to D: 555.8 + 556.0 m at 25 km/h = 160.1 s, then the 221.1 s on foot.
    assert refreshed.current_eta_s == pytest.approx(160.1 + 221.1, abs=0.5)


def test_the_longest_useful_eta_counts_the_walk_and_keeps_each_profile(fleet_at_a) -> None:
    units, incident = fleet_at_a
    # A car-sized Damkar rescue car at A with the fire_engine capability: 119.8 s, as the ambulance.
    fire = units["ENGINE"].agency
    make_unit(agency=fire, call_sign="RESCUE", home_station=units["ENGINE"].home_station, capabilities=["fire_engine"])

    def fire_rows(max_eta_s: float) -> list[dict]:
        result = units_recommend(incident=incident, capabilities=["fire_engine"], max_eta_s=max_eta_s)
        return result["needs"][0]["suggestions"]

    # The engine drives 240.1 s and its crew walks 221.1 s: 461.2 s in all, beyond a bound of 400 s although
    # its drive alone is within it; the rescue car is reached, so the engine is listed after it, unsearched.
    rescue, engine = fire_rows(400.0)
    assert (rescue["call_sign"], rescue["eta_s"]) == ("RESCUE", pytest.approx(119.8, abs=0.5))
    assert (engine["call_sign"], engine["eta_s"], engine["reason_code"]) == ("ENGINE", None, "beyond_max_eta")
    # Within 500 s it is timed on its own profile, walk included, as without a bound.
    assert fire_rows(500.0) == fire_rows(float("inf"))
    assert fire_rows(500.0)[1]["eta_s"] == pytest.approx(461.2, abs=0.5)
    assert fire_rows(500.0)[1]["profile"] == "fire_engine"
