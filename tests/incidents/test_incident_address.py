"""A report's address: a person's is kept; without one, the place at its location (reverse geocoding) is
stored and follows the location; an address alone is a report awaiting its location.

Over the gazetteer's hand-made town (tests/factories/gazetteer.py). The expected texts are worked out by
hand from the town's coordinates (a degree is about 111.3 km of longitude and 110.6 km of latitude here).
"""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.utils import timezone
from factories.fleet import make_incident_type
from factories.gazetteer import make_town

from fleet.models import AuditEntry
from incidents.models import AddressSource, Channel, IncidentStatus, LocationSource
from incidents.services.incidents import (
    incident_classify,
    incident_create,
    incident_location_set,
    location_offer_apply,
    location_offer_create,
)

# 0.0004 deg north of Gang Melati (east half, Talang Banjar) and (0.0003, 0.0007) deg from Masjid Al-Ikhlas:
# sqrt(33.4^2 + 77.4^2) = 84 m, shown rounded to 80 m.
BY_THE_MASJID = (103.6212, -1.6054)
BY_THE_MASJID_TEXT = "Gang Melati, 80 m dari Masjid Al-Ikhlas, Talang Banjar"
# (0.0001, 0.0002) deg from SD Negeri 47 (25 m, shown as 20 m); Jalan Jenderal Gatot Subroto runs 0.0052 deg
# (575 m) north, the nearest street; west half: Sungai Putri.
BY_THE_SCHOOL = (103.6001, -1.6102)
BY_THE_SCHOOL_TEXT = "Jalan Jenderal Gatot Subroto, 20 m dari SD Negeri 47 Kota Jambi, Sungai Putri"


@pytest.fixture
def town(jambi_region):
    return make_town(jambi_region)


@pytest.fixture
def medical(db):
    return make_incident_type(code="medical")


def _report(town, **kwargs):
    return incident_create(region=town, channel=Channel.PHONE, incident_type="medical", **kwargs)


def test_a_click_without_an_address_stores_the_place_there(town, medical) -> None:
    incident = _report(town, location=BY_THE_MASJID)
    assert (incident.address_text, incident.address_source) == (BY_THE_MASJID_TEXT, AddressSource.REVERSE)
    audit = AuditEntry.objects.get(action="incident.create", object_id=str(incident.pk))
    assert audit.data["address_source"] == "reverse"


@pytest.mark.parametrize("source", [LocationSource.CALLER_GPS, LocationSource.WHATSAPP])
def test_a_gps_or_whatsapp_location_without_an_address_is_reverse_geocoded(town, medical, source) -> None:
    incident = _report(town, location=BY_THE_SCHOOL, location_source=source)
    assert (incident.address_text, incident.address_source) == (BY_THE_SCHOOL_TEXT, AddressSource.REVERSE)


def test_an_address_a_person_typed_is_kept(town, medical) -> None:
    incident = _report(town, location=BY_THE_MASJID, address_text="  rumah biru, gang buntu  ")
    assert (incident.address_text, incident.address_source) == ("rumah biru, gang buntu", AddressSource.PERSON)


def test_a_geocoded_location_is_not_reverse_geocoded(town, medical) -> None:
    # Its point came from an address: without that address there is nothing to name it by but the point.
    incident = _report(town, location=BY_THE_MASJID, location_source=LocationSource.GEOCODED)
    assert (incident.address_text, incident.address_source) == ("", "")


def test_a_reverse_geocoded_address_follows_the_location(town, medical) -> None:
    incident = _report(town, location=BY_THE_MASJID)
    incident = incident_location_set(incident=incident, location=BY_THE_SCHOOL)
    assert (incident.address_text, incident.address_source) == (BY_THE_SCHOOL_TEXT, AddressSource.REVERSE)
    audit = AuditEntry.objects.get(action="incident.location_set", object_id=str(incident.pk))
    assert (audit.data["before"]["address"], audit.data["after"]["address"]) == (BY_THE_MASJID_TEXT, BY_THE_SCHOOL_TEXT)
    # Moved to a geocoded point: the old place's name would be wrong there, so it goes.
    incident = incident_location_set(incident=incident, location=BY_THE_MASJID, source=LocationSource.GEOCODED)
    assert (incident.address_text, incident.address_source) == ("", "")


def test_a_persons_address_stays_when_the_location_moves(town, medical) -> None:
    incident = _report(town, location=BY_THE_MASJID, address_text="depan masjid")
    incident = incident_location_set(incident=incident, location=BY_THE_SCHOOL)
    assert (incident.address_text, incident.address_source) == ("depan masjid", AddressSource.PERSON)
    incident = incident_location_set(incident=incident, location=BY_THE_MASJID, address_text="Gang Melati 3")
    assert (incident.address_text, incident.address_source) == ("Gang Melati 3", AddressSource.PERSON)


def test_an_address_only_report_awaits_its_location_then_keeps_its_address(town, medical) -> None:
    incident = _report(town, address_text="Gg. Melati dekat Masjid Al-Ikhlas")
    assert (incident.status, incident.geom, incident.address_source) == (
        IncidentStatus.AWAITING_LOCATION,
        None,
        AddressSource.PERSON,
    )
    incident = incident_location_set(incident=incident, location=BY_THE_MASJID, source=LocationSource.GEOCODED)
    assert incident.status == IncidentStatus.OPEN
    assert (round(incident.geom.x, 6), round(incident.geom.y, 6)) == BY_THE_MASJID
    assert incident.kelurahan.name == "Talang Banjar"
    assert (incident.address_text, incident.address_source) == ("Gg. Melati dekat Masjid Al-Ikhlas", "person")


def test_a_whatsapp_location_applied_names_the_place(town) -> None:
    incident = incident_create(region=town, channel=Channel.WHATSAPP, description="tolong")  # untyped, unlocated
    assert (incident.address_text, incident.address_source) == ("", "")
    offer = location_offer_create(incident=incident, location=BY_THE_SCHOOL, label="", received_at=timezone.now())
    incident = location_offer_apply(incident=incident, offer_id=offer.pk)
    assert (incident.location_source, incident.address_text) == ("whatsapp", BY_THE_SCHOOL_TEXT)
    assert incident.address_source == AddressSource.REVERSE


def test_an_address_set_in_triage_is_a_persons(town, medical) -> None:
    incident = _report(town, location=BY_THE_MASJID)
    incident = incident_classify(incident=incident, address_text="Gang Melati no. 7")
    assert (incident.address_text, incident.address_source) == ("Gang Melati no. 7", AddressSource.PERSON)
    incident = incident_location_set(incident=incident, location=BY_THE_SCHOOL)
    assert incident.address_text == "Gang Melati no. 7"
    incident = incident_classify(incident=incident, address_text="")  # cleared: the next move names the place
    assert (incident.address_text, incident.address_source) == ("", "")
    incident = incident_location_set(incident=incident, location=BY_THE_MASJID)
    assert (incident.address_text, incident.address_source) == (BY_THE_MASJID_TEXT, AddressSource.REVERSE)


def test_a_failing_lookup_gives_no_address_and_the_report_is_still_taken(town, medical, monkeypatch, caplog) -> None:
    from gazetteer import selectors as gazetteer

    def failing(*, region, lon, lat) -> str:  # its query fails, as a broken gazetteer table would
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        return "never"

    monkeypatch.setattr(gazetteer, "place_description", failing)
    with caplog.at_level(logging.ERROR, logger="incidents.services.places"):
        incident = _report(town, location=BY_THE_MASJID, description="pingsan")
    incident.refresh_from_db()  # saved in the same transaction the failed query ran in
    assert (incident.description, incident.address_text, incident.address_source) == ("pingsan", "", "")
    assert "reverse geocoding" in caplog.text


def test_the_api_takes_a_geocoded_point_and_shows_who_wrote_the_address(town, medical, client) -> None:
    from factories.access import make_user

    client.force_login(make_user("ani", "dispatcher", regions=[town]))
    body = {"region": town.slug, "channel": "phone", "incident_type": "medical", "location": list(BY_THE_MASJID)}
    response = client.post(
        "/api/incidents/", {**body, "location_source": "geocoded", "address_text": "Gang Melati"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert (response.json()["location_source"], response.json()["address_source"]) == ("geocoded", "person")
    response = client.post("/api/incidents/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert (response.json()["address_text"], response.json()["address_source"]) == (BY_THE_MASJID_TEXT, "reverse")
    queue = client.get("/api/incidents/", {"region": town.slug}).json()
    assert {f["properties"]["address_source"] for f in queue["features"]} == {"person", "reverse"}
