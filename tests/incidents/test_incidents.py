"""incident_create / incident_location_set / location offers / incident_classify / incident_close over the real
Kota Jambi boundaries in PostGIS."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from factories.fleet import make_incident_type, make_unit
from factories.gis_core import make_region

from fleet.actors import Actor
from fleet.models import AuditEntry
from gis_core.importers.boundaries import import_boundaries
from incidents.errors import (
    InvalidLocationError,
    InvalidReportError,
    NotFoundError,
    OutsideRegionError,
    ReportStateError,
    UnknownIncidentTypeError,
    UnknownOutcomeError,
)
from incidents.models import Assignment, Channel, Incident, IncidentStatus, LocationOffer, Outcome
from incidents.services.incidents import (
    incident_classify,
    incident_close,
    incident_create,
    incident_location_set,
    location_offer_apply,
    location_offer_create,
)

# Real places (lon, lat). Expected areas come from shapely on the source GeoJSON (run while writing these
# tests), an answer independent of PostGIS: Damkar HQ (fire_station_jambi_unverified.csv) lies in Kota Baru /
# Simpang III Sipin; RSUD Abdul Manap (health_facilities_jambi_osm.geojson) in Alam Barajo / 15.71.09.1003.
DAMKAR_HQ = (103.595769, -1.619313)
RSUD_ABDUL_MANAP = (103.579035273099606, -1.6410166)
JAKARTA_MONAS = (106.8272, -6.1754)
# The easternmost vertex of the union of the 11 kecamatan (shapely on kecamatan_jambi.geojson) is
# (103.6810556, -1.6192778); 0.004 deg further east (about 445 m at this latitude) lies outside every
# kecamatan but well within the 2 km tolerance; 0.05 deg (about 5.6 km) lies beyond it.
EAST_VERTEX = (103.6810556, -1.6192778)
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def jambi(jambi_region, data_dir: Path):
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kecamatan_jambi.geojson", level="kecamatan")
    import_boundaries(region=jambi_region, path=data_dir / "jambi" / "kelurahan_jambi.geojson", level="kelurahan")
    return jambi_region


@pytest.fixture
def fire_type(db):
    return make_incident_type(
        code="fire_house", category="fire", default_priority=1, needs=[("fire", "fire_engine", 1)]
    )


@pytest.fixture
def dispatcher(db):
    return get_user_model().objects.create_user(username="calltaker", password="pw")


def _create(region, **kwargs) -> Incident:
    fields = {"channel": Channel.PHONE, "caller_phone": "0812-3456-7890", "incident_type": "fire_house"}
    return incident_create(region=region, **{**fields, **kwargs})


def test_create_with_a_location_fills_areas_reference_priority_and_audit(jambi, fire_type, dispatcher) -> None:
    at = datetime(2026, 3, 14, 9, 30, tzinfo=WIB)
    actor = Actor.person(dispatcher, remote_addr="10.1.1.1")
    incident = _create(jambi, location=DAMKAR_HQ, location_accuracy_m=25, received_at=at, actor=actor,
                       description=" rumah terbakar ")  # fmt: skip
    assert incident.reference == "JMB-2026-000001"
    assert incident.caller_phone == "+6281234567890"
    assert (incident.kecamatan.code, incident.kecamatan.name) == ("15.71.07", "Kota Baru")
    assert incident.kelurahan.code == "15.71.07.1002"
    assert incident.priority == 1  # the type's default
    assert incident.status == IncidentStatus.OPEN
    assert (incident.location_source, incident.location_accuracy_m) == ("dispatcher", 25)
    assert incident.description == "rumah terbakar"
    assert incident.created_by == dispatcher
    entry = AuditEntry.objects.get(action="incident.create")
    assert (entry.object_id, entry.actor_label, entry.remote_addr) == (str(incident.pk), "calltaker", "10.1.1.1")
    assert entry.data["location"] == list(DAMKAR_HQ)
    # A second report the same year gets the next number; an explicit priority beats the type's default.
    second = _create(jambi, address_text="Jl. Kapten Pattimura", priority=3, received_at=at)
    assert (second.reference, second.priority) == ("JMB-2026-000002", 3)


def test_reference_numbers_restart_each_local_year_and_follow_the_region(jambi, fire_type) -> None:
    # 31 Dec 2025 17:30 UTC is already 1 Jan 2026 00:30 in Jambi (WIB, UTC+7): the local year counts.
    new_year = datetime(2025, 12, 31, 17, 30, tzinfo=ZoneInfo("UTC"))
    assert _create(jambi, address_text="x", received_at=new_year).reference == "JMB-2026-000001"
    old = datetime(2025, 6, 1, 12, 0, tzinfo=WIB)
    assert _create(jambi, address_text="x", received_at=old).reference == "JMB-2025-000001"
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    assert _create(ambon, address_text="x", received_at=old).reference == "AMB-2025-000001"
    other = make_region(code="99.99", slug="kota-tanjungpinang", name="Kota Tanjungpinang")
    assert _create(other, address_text="x", received_at=old).reference == "TNJ-2025-000001"


def test_address_only_awaits_location(jambi, fire_type) -> None:
    incident = _create(jambi, address_text="depan Masjid Agung Al-Falah")
    assert incident.status == IncidentStatus.AWAITING_LOCATION
    assert (incident.geom, incident.kecamatan, incident.location_source) == (None, None, "")


def test_bad_input_is_refused_with_a_message(jambi, fire_type) -> None:
    with pytest.raises(OutsideRegionError, match=r"km outside Kota Jambi"):
        _create(jambi, location=JAKARTA_MONAS)
    with pytest.raises(InvalidLocationError, match=r"did you mean \[103.6, -1.6\]"):
        _create(jambi, location=(-1.6, 103.6))
    with pytest.raises(InvalidLocationError, match=r"\(0, 0\)"):
        _create(jambi, location=(0, 0))
    with pytest.raises(UnknownIncidentTypeError, match="known types: fire_house"):
        _create(jambi, incident_type="kebakaran", address_text="x")
    with pytest.raises(InvalidReportError, match="priority"):
        _create(jambi, priority=7, address_text="x")
    with pytest.raises(InvalidReportError, match="channel"):
        _create(jambi, channel="sms", address_text="x")
    with pytest.raises(InvalidReportError, match="accuracy"):
        _create(jambi, location=DAMKAR_HQ, location_accuracy_m=-5)
    assert not Incident.objects.exists()
    assert not AuditEntry.objects.filter(action="incident.create").exists()


def test_near_the_boundary_is_accepted_without_a_kecamatan_farther_is_refused(jambi, fire_type) -> None:
    lon, lat = EAST_VERTEX
    near = _create(jambi, location=(lon + 0.004, lat))
    assert (near.kecamatan, near.status) == (None, IncidentStatus.OPEN)
    with pytest.raises(OutsideRegionError, match=r"5\.\d km outside"):
        _create(jambi, location=(lon + 0.05, lat))


def test_region_without_boundaries_accepts_the_point(jambi_region, fire_type) -> None:
    incident = _create(jambi_region, location=DAMKAR_HQ)
    assert (incident.kecamatan, incident.status) == (None, IncidentStatus.OPEN)


def test_location_set_moves_the_report_and_refills_its_areas(jambi, fire_type, dispatcher) -> None:
    incident = _create(jambi, address_text="dekat RSUD")
    incident = incident_location_set(incident=incident, location=RSUD_ABDUL_MANAP, location_accuracy_m=10,
                                     actor=Actor.person(dispatcher))  # fmt: skip
    assert incident.status == IncidentStatus.OPEN
    assert (incident.kecamatan.code, incident.kecamatan.name) == ("15.71.09", "Alam Barajo")
    assert incident.kelurahan.code == "15.71.09.1003"
    incident = incident_location_set(
        incident=incident, location=DAMKAR_HQ, actor=Actor.person(dispatcher), address_text="Damkar"
    )
    assert (incident.kecamatan.code, incident.address_text) == ("15.71.07", "Damkar")
    entries = AuditEntry.objects.filter(action="incident.location_set").order_by("pk")
    assert [e.data["after"]["location"] for e in entries] == [list(RSUD_ABDUL_MANAP), list(DAMKAR_HQ)]
    assert entries[1].data["before"]["location"] == list(RSUD_ABDUL_MANAP)
    with pytest.raises(OutsideRegionError):
        incident_location_set(incident=incident, location=JAKARTA_MONAS, actor=Actor.person(dispatcher))
    incident.refresh_from_db()
    assert incident.kecamatan.code == "15.71.07"  # unchanged by the refused move


def test_offer_is_applied_in_one_action_once(jambi, fire_type, dispatcher) -> None:
    incident = _create(jambi, address_text="x")
    offer = location_offer_create(
        incident=incident, location=RSUD_ABDUL_MANAP, label="RSUD", received_at=timezone.now()
    )
    incident.refresh_from_db()
    assert incident.geom is None  # an offer alone never sets the location
    other = _create(jambi, address_text="y")
    with pytest.raises(NotFoundError, match="has no location offer"):
        location_offer_apply(incident=other, offer_id=offer.pk, actor=Actor.person(dispatcher))

    incident = location_offer_apply(incident=incident, offer_id=offer.pk, actor=Actor.person(dispatcher))
    assert (incident.geom.x, incident.geom.y) == RSUD_ABDUL_MANAP
    assert (incident.location_source, incident.kecamatan.code, incident.status) == ("whatsapp", "15.71.09", "open")
    offer.refresh_from_db()
    assert offer.applied_by == dispatcher
    assert offer.applied_at is not None
    entry = AuditEntry.objects.get(action="incident.location_offer_apply")
    assert entry.data["offer"] == offer.pk
    with pytest.raises(ReportStateError, match="already applied"):
        location_offer_apply(incident=incident, offer_id=offer.pk, actor=Actor.person(dispatcher))


def test_offer_outside_the_region_is_stored_but_cannot_be_applied(jambi, fire_type, dispatcher) -> None:
    incident = _create(jambi, address_text="x")
    offer = location_offer_create(incident=incident, location=JAKARTA_MONAS, received_at=timezone.now())
    with pytest.raises(OutsideRegionError):
        location_offer_apply(incident=incident, offer_id=offer.pk, actor=Actor.person(dispatcher))
    offer.refresh_from_db()
    assert offer.applied_at is None
    assert LocationOffer.objects.count() == 1


def test_classify_sets_type_and_priority(jambi, fire_type, dispatcher) -> None:
    make_incident_type(code="flood", default_priority=2)
    incident = incident_create(region=jambi, channel=Channel.WHATSAPP, caller_phone="+6281234567890")
    assert (incident.incident_type, incident.priority) == (None, 2)  # untriaged: high until a person triages
    incident = incident_classify(incident=incident, incident_type="fire_house", actor=Actor.person(dispatcher))
    assert (incident.incident_type.code, incident.priority) == ("fire_house", 1)  # the type's default
    incident = incident_classify(incident=incident, priority=3, actor=Actor.person(dispatcher))
    assert (incident.incident_type.code, incident.priority) == ("fire_house", 3)
    incident = incident_classify(incident=incident, incident_type="flood", priority=4, actor=Actor.person(dispatcher))
    assert (incident.incident_type.code, incident.priority) == ("flood", 4)
    with pytest.raises(UnknownIncidentTypeError):
        incident_classify(incident=incident, incident_type="nope", actor=Actor.person(dispatcher))
    with pytest.raises(InvalidReportError):
        incident_classify(incident=incident, actor=Actor.person(dispatcher))
    assert AuditEntry.objects.filter(action="incident.classify").count() == 3


def test_triage_fills_in_a_whatsapp_report_field_by_field(jambi, fire_type, dispatcher) -> None:
    incident = incident_create(region=jambi, channel=Channel.WHATSAPP, caller_phone="+6281234567890")
    incident = incident_classify(
        incident=incident, incident_type="fire_house", priority=2, actor=Actor.person(dispatcher)
    )
    incident = incident_classify(
        incident=incident, description="  asap tebal dari dapur ", caller_name="Budi", address_text="Jl. Sudirman 5",
        actor=Actor.person(dispatcher),
    )  # fmt: skip
    incident.refresh_from_db()
    # The texts are set (trimmed); type and the explicit priority 2 are left alone (not reset to the type's 1).
    assert (incident.description, incident.caller_name, incident.address_text) == (
        "asap tebal dari dapur", "Budi", "Jl. Sudirman 5",
    )  # fmt: skip
    assert (incident.incident_type.code, incident.priority) == ("fire_house", 2)
    incident = incident_classify(incident=incident, address_text="", actor=Actor.person(dispatcher))  # empty clears it
    assert (incident.address_text, incident.description) == ("", "asap tebal dari dapur")
    audit = AuditEntry.objects.filter(action="incident.classify").order_by("pk")
    assert audit[1].data == {
        "before": {"description": "", "caller_name": "", "address_text": ""},
        "after": {"description": "asap tebal dari dapur", "caller_name": "Budi", "address_text": "Jl. Sudirman 5"},
    }
    with pytest.raises(InvalidReportError, match="caller_name"):
        incident_classify(incident=incident, caller_name="x" * 129, actor=Actor.person(dispatcher))


def test_close_checks_outcome_state_and_active_units(jambi, fire_type, dispatcher) -> None:
    incident = _create(jambi, location=DAMKAR_HQ)
    with pytest.raises(UnknownOutcomeError, match="genuine, false_alarm, prank, silent"):
        incident_close(incident=incident, outcome="palsu", actor=Actor.person(dispatcher))
    with pytest.raises(UnknownOutcomeError):
        incident_close(incident=incident, outcome=Outcome.UNKNOWN, actor=Actor.person(dispatcher))
    unit = make_unit(call_sign="DMK-01", capabilities=["fire_engine"])
    assignment = Assignment(incident=incident, unit=unit, dispatched_at=timezone.now())
    assignment.full_clean()
    assignment.save()
    with pytest.raises(ReportStateError, match=r"DMK-01.*clear or cancel"):
        incident_close(incident=incident, outcome=Outcome.GENUINE, actor=Actor.person(dispatcher))
    Assignment.objects.filter(pk=assignment.pk).update(status="cleared", cleared_at=timezone.now())

    closed = incident_close(
        incident=incident, outcome=Outcome.GENUINE, note="api padam", actor=Actor.person(dispatcher)
    )
    assert (closed.status, closed.outcome) == ("closed", "genuine")
    assert closed.closed_at is not None
    assert AuditEntry.objects.get(action="incident.close").data["note"] == "api padam"
    with pytest.raises(ReportStateError, match="already closed"):
        incident_close(incident=incident, outcome=Outcome.PRANK, actor=Actor.person(dispatcher))


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_never_repeats_a_reference(data_dir) -> None:
    region = make_region()
    make_incident_type(code="fire_house")
    at = datetime(2026, 5, 1, 8, 0, tzinfo=WIB)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                _create(region, address_text="x", received_at=at + timedelta(seconds=1))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    references = sorted(Incident.objects.values_list("reference", flat=True))
    # 8 threads x 3 reports = 24, numbered 1..24 without a gap or a repeat.
    assert references == [f"JMB-2026-{n:06d}" for n in range(1, 25)]
