"""dispatch_assign / dispatch_cancel / assignment_eta_refresh against PostGIS: states, audit, ETA, concurrency."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from factories.fleet import make_agency, make_device, make_fix, make_incident, make_station, make_unit
from factories.gis_core import make_band_factors, make_region

from fleet.actors import Actor
from fleet.ingest.fix import CanonicalFix
from fleet.models import ActorKind, AgencyKind, AuditEntry, UnitStatus
from fleet.services.positions import position_record
from gis_core.models import Region, RoadNetworkVersion
from gis_core.routing.hour_band_engines import engine_for_band
from gis_core.routing.registry import engine_for
from incidents.errors import (
    AssignmentNotActiveError,
    DispatchRefusedError,
    IllegalTransitionError,
    UnitUnavailableError,
)
from incidents.models import Assignment, AssignmentStatus, Incident, IncidentStatus, StatusChange
from incidents.representations import assignment_public
from incidents.services.dispatch import dispatch_assign, dispatch_cancel
from incidents.services.status import unit_status_set

pytestmark = pytest.mark.django_db
S = UnitStatus

# Real places in Kota Jambi (lon, lat). Damkar HQ: jambi/fire_station_jambi_unverified.csv; RSUD Abdul
# Manap: jambi/health_facilities_jambi_osm.geojson; the centre is near the Batanghari riverfront.
CENTRE = (103.6131, -1.5913)
DAMKAR_HQ = (103.595769, -1.619313)
RSUD_ABDUL_MANAP = (103.579035273099606, -1.6410166)


@pytest.fixture
def dispatcher(db):
    return get_user_model().objects.create_user("dispatcher1", password="x")


def test_assign_sends_the_unit_marks_the_report_and_audits(dispatcher) -> None:
    unit = make_unit(capabilities=["als", "bls"])
    incident = make_incident()
    at = timezone.now().replace(microsecond=0)
    assignment = dispatch_assign(
        incident=incident, unit=unit, actor=Actor.person(dispatcher, remote_addr="10.0.0.7"), capability="als", at=at
    )
    assert (assignment.status, assignment.dispatched_at, assignment.capability.code) == ("active", at, "als")
    assert assignment.dispatched_by == dispatcher
    # No road network loaded: the ETA is left empty rather than blocking the dispatch.
    assert assignment.eta_s_at_dispatch is None
    unit.refresh_from_db()
    incident.refresh_from_db()
    assert (unit.status, unit.status_changed_at) == (S.DISPATCHED, at)
    assert incident.status == IncidentStatus.DISPATCHED
    change = StatusChange.objects.get(unit=unit)
    assert (change.from_status, change.to_status, change.actor_kind, change.actor_user, change.assignment) == (
        "available",
        "dispatched",
        ActorKind.DISPATCHER,
        dispatcher,
        assignment,
    )
    entry = AuditEntry.objects.get(action="dispatch.assign")
    assert (entry.actor_kind, entry.actor_label, entry.remote_addr) == ("dispatcher", "dispatcher1", "10.0.0.7")
    assert (entry.object_type, entry.object_id) == ("assignment", str(assignment.pk))
    assert entry.data == {
        "incident": incident.reference,
        "unit": unit.call_sign,
        "capability": "als",
        "eta_s_at_dispatch": None,
    }
    assert AuditEntry.objects.filter(action="unit.status_set", object_id=str(unit.pk)).count() == 1


def test_a_busy_unit_is_refused_and_nothing_is_written(dispatcher) -> None:
    unit = make_unit()
    first, second = make_incident(), make_incident()
    dispatch_assign(incident=first, unit=unit, actor=Actor.person(dispatcher))
    with pytest.raises(UnitUnavailableError, match=rf"{unit.call_sign} is dispatched for {first.reference}"):
        dispatch_assign(incident=second, unit=unit, actor=Actor.person(dispatcher))
    assert Assignment.objects.count() == 1
    assert AuditEntry.objects.filter(action="dispatch.assign").count() == 1
    second.refresh_from_db()
    assert second.status == IncidentStatus.OPEN


@pytest.mark.parametrize("status", [S.OUT_OF_SERVICE, S.RETURNING, S.ON_SCENE])
def test_a_unit_not_available_is_refused(status) -> None:
    unit = make_unit(status=status)
    with pytest.raises(UnitUnavailableError, match=f"is {status}"):
        dispatch_assign(incident=make_incident(), unit=unit)
    assert not Assignment.objects.exists()


def test_refusals_that_make_no_sense(dispatcher) -> None:
    unit = make_unit(capabilities=["bls"])
    with pytest.raises(DispatchRefusedError, match="has no capability fire_engine; it has: bls"):
        dispatch_assign(incident=make_incident(), unit=unit, capability="fire_engine")
    closed = make_incident(status=IncidentStatus.CLOSED)
    with pytest.raises(DispatchRefusedError, match="is closed"):
        dispatch_assign(incident=closed, unit=unit)
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    with pytest.raises(DispatchRefusedError, match="another region"):
        dispatch_assign(incident=make_incident(region=ambon), unit=unit)
    assert not Assignment.objects.exists()
    unit.refresh_from_db()
    assert unit.status == S.AVAILABLE


def test_cancel_returns_the_unit_reopens_the_report_and_audits(dispatcher) -> None:
    unit = make_unit()
    incident = make_incident()
    assignment = dispatch_assign(incident=incident, unit=unit, actor=Actor.person(dispatcher))
    unit_status_set(unit=unit, to_status=S.EN_ROUTE, actor=Actor(kind=ActorKind.CREW_DEVICE))
    cancelled = dispatch_cancel(
        assignment=assignment, actor=Actor.person(dispatcher, remote_addr="::1"), reason="caller cancelled"
    )
    assert cancelled.status == AssignmentStatus.CANCELLED
    assert cancelled.cancelled_at is not None
    assert cancelled.cleared_at is None
    unit.refresh_from_db()
    incident.refresh_from_db()
    assert unit.status == S.AVAILABLE
    assert incident.status == IncidentStatus.OPEN
    last = StatusChange.objects.filter(unit=unit).last()
    assert (last.from_status, last.to_status, last.note, last.assignment) == (
        "en_route",
        "available",
        "caller cancelled",
        assignment,
    )
    entry = AuditEntry.objects.get(action="dispatch.cancel")
    assert entry.data == {"incident": incident.reference, "unit": unit.call_sign, "reason": "caller cancelled"}
    assert entry.remote_addr == "::1"
    with pytest.raises(AssignmentNotActiveError, match="already cancelled"):
        dispatch_cancel(assignment=assignment, actor=Actor.person(dispatcher))
    # The unit can be sent again at once.
    dispatch_assign(incident=make_incident(), unit=unit, actor=Actor.person(dispatcher))


def test_cancelling_one_of_two_units_keeps_the_report_dispatched(dispatcher) -> None:
    incident = make_incident()
    a1 = dispatch_assign(incident=incident, unit=make_unit(), actor=Actor.person(dispatcher))
    dispatch_assign(incident=incident, unit=make_unit(), actor=Actor.person(dispatcher))
    dispatch_cancel(assignment=a1, actor=Actor.person(dispatcher))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.DISPATCHED


def test_cancel_after_arrival_is_illegal_and_changes_nothing(dispatcher) -> None:
    unit = make_unit()
    assignment = dispatch_assign(incident=make_incident(), unit=unit, actor=Actor.person(dispatcher))
    for to in (S.EN_ROUTE, S.ON_SCENE):
        unit_status_set(unit=unit, to_status=to, actor=Actor(kind=ActorKind.CREW_DEVICE))
    with pytest.raises(IllegalTransitionError, match="after arrival set it returning"):
        dispatch_cancel(assignment=assignment, actor=Actor.person(dispatcher))
    assignment.refresh_from_db()
    unit.refresh_from_db()
    assert (assignment.status, unit.status) == (AssignmentStatus.ACTIVE, S.ON_SCENE)
    assert not AuditEntry.objects.filter(action="dispatch.cancel").exists()


@pytest.mark.parametrize(
    ("start", "to", "message"),
    [
        (S.AVAILABLE, S.ON_SCENE, "cannot go from available to on_scene; allowed next: dispatched, out_of_service"),
        (S.AVAILABLE, S.DISPATCHED, "dispatched by assigning it to a report"),
        (S.OUT_OF_SERVICE, S.EN_ROUTE, "allowed next: available$"),
        (S.RETURNING, S.TRANSPORTING, "allowed next: available, out_of_service"),
    ],
)
def test_illegal_transitions_are_refused_with_the_allowed_ones(start, to, message) -> None:
    unit = make_unit(status=start)
    with pytest.raises(IllegalTransitionError, match=message):
        unit_status_set(unit=unit, to_status=to, actor=Actor(kind=ActorKind.DISPATCHER))
    unit.refresh_from_db()
    assert unit.status == start
    assert not StatusChange.objects.exists()
    assert not AuditEntry.objects.exists()


def test_dispatched_unit_cannot_simply_become_available(dispatcher) -> None:
    unit = make_unit()
    dispatch_assign(incident=make_incident(), unit=unit, actor=Actor.person(dispatcher))
    with pytest.raises(IllegalTransitionError, match=r"cancel its assignment \(POST /api/assignments/"):
        unit_status_set(unit=unit, to_status=S.AVAILABLE, actor=Actor(kind=ActorKind.DISPATCHER))


# -- ETA on the real Kota Jambi network ---------------------------------------------------------------


def _engine_eta_s(region, origin, destination) -> float:
    return round(engine_for(region).travel_times_to([origin], destination)[0].eta_s, 1)


def test_eta_at_dispatch_and_following_the_unit(jambi_network, dispatcher) -> None:
    region = jambi_network
    agency = make_agency(region=region, kind=AgencyKind.EMS)
    unit = make_unit(agency=agency, home_station=make_station(agency=agency, geom=RSUD_ABDUL_MANAP))
    device = make_device(unit=unit, identifier="amb-01")
    now = timezone.now()
    # Five minutes before: a believable drive to the next fix (the ingest flags teleports).
    make_fix(unit=unit, geom=RSUD_ABDUL_MANAP, recorded_at=now - timedelta(seconds=300))
    incident = make_incident(region=region, geom=CENTRE)
    assignment = dispatch_assign(incident=incident, unit=unit, actor=Actor.person(dispatcher))
    # Expected: the engine's own one-origin answer from the same fix to the same report.
    at_dispatch_s = _engine_eta_s(region, RSUD_ABDUL_MANAP, CENTRE)
    assert assignment.eta_s_at_dispatch == at_dispatch_s == assignment.current_eta_s
    assert at_dispatch_s > 300  # about 7 km across the city: minutes, not seconds

    # The crew reports from Damkar HQ, nearer the report: the ETA follows through the ingest service.
    fix = CanonicalFix(device_identifier="amb-01", lon=DAMKAR_HQ[0], lat=DAMKAR_HQ[1], recorded_at=now)
    result = position_record(device=device, fixes=[fix], protocol="test")
    assert result.last_fix_changed, result.fixes[0].flags
    assignment.refresh_from_db()
    followed_s = _engine_eta_s(region, DAMKAR_HQ, CENTRE)
    assert assignment.current_eta_s == followed_s < at_dispatch_s
    assert assignment.eta_s_at_dispatch == at_dispatch_s
    assert assignment.eta_updated_at is not None

    # Once on scene, a new fix no longer changes the ETA.
    for to in (S.EN_ROUTE, S.ON_SCENE):
        unit_status_set(unit=unit, to_status=to, actor=Actor.crew(device))
    later_at = now + timedelta(seconds=300)
    later = CanonicalFix(device_identifier="amb-01", lon=CENTRE[0], lat=CENTRE[1], recorded_at=later_at)
    assert position_record(device=device, fixes=[later], protocol="test", now=later_at).last_fix_changed
    assignment.refresh_from_db()
    assert assignment.current_eta_s == followed_s


def test_eta_at_dispatch_from_the_home_station_without_a_fix(jambi_network, dispatcher) -> None:
    region = jambi_network
    agency = make_agency(region=region, kind=AgencyKind.FIRE)
    unit = make_unit(
        agency=agency, capabilities=["fire_engine"], home_station=make_station(agency=agency, geom=DAMKAR_HQ)
    )
    assignment = dispatch_assign(
        incident=make_incident(region=region, geom=CENTRE), unit=unit, actor=Actor.person(dispatcher)
    )
    assert assignment.eta_s_at_dispatch == _engine_eta_s(region, DAMKAR_HQ, CENTRE)
    # What the ETA was computed on, for judging it later (incidents.selectors.eta_accuracy).
    engine = engine_for(region)
    [snap] = engine.snap([CENTRE])
    assert assignment.eta_network_version_id == RoadNetworkVersion.objects.get(region=region, is_active=True).pk
    [edge] = engine.edges_info([snap.edge_index])
    assert (assignment.eta_profile, assignment.eta_road_class) == ("car", edge.highway)
    assert assignment.eta_road_class  # the Jambi extract tags every edge with its class


def test_the_assignment_keeps_the_hour_band_whose_speeds_its_eta_used(jambi_network, dispatcher) -> None:
    region = jambi_network
    version = make_band_factors(region, band="16-20", factor=0.5)  # half speed from 16 to 20 local
    agency = make_agency(region=region, kind=AgencyKind.FIRE)
    station = make_station(agency=agency, geom=DAMKAR_HQ)
    evening_unit, noon_unit = (
        make_unit(agency=agency, capabilities=["fire_engine"], home_station=station) for _ in range(2)
    )
    wib = ZoneInfo("Asia/Jakarta")
    evening = dispatch_assign(
        incident=make_incident(region=region, geom=CENTRE), unit=evening_unit, actor=Actor.person(dispatcher),
        at=datetime(2026, 12, 1, 17, 30, tzinfo=wib),
    )  # fmt: skip
    noon = dispatch_assign(
        incident=make_incident(region=region, geom=CENTRE), unit=noon_unit, actor=Actor.person(dispatcher),
        at=datetime(2026, 12, 1, 12, 0, tzinfo=wib),
    )  # fmt: skip
    assert (evening.eta_hour_band, noon.eta_hour_band) == ("16-20", "all")  # no factors stored for 10-16
    # Expected: the band engine's own answer from the station; the evening's drive is twice as long.
    band_eta_s = round(engine_for_band(region, "16-20").travel_times_to([DAMKAR_HQ], CENTRE)[0].eta_s, 1)
    assert evening.eta_s_at_dispatch == band_eta_s
    assert noon.eta_s_at_dispatch == _engine_eta_s(region, DAMKAR_HQ, CENTRE) < band_eta_s
    shown = assignment_public(Assignment.objects.select_related("incident", "unit__agency").get(pk=evening.pk))
    assert shown["eta_basis"] == {
        "network_version": version.pk, "profile": "car", "road_class": evening.eta_road_class, "hour_band": "16-20",
    }  # fmt: skip


def test_a_region_whose_crs_cannot_route_still_dispatches_without_an_eta(jambi_network, dispatcher) -> None:
    """A metric_srid saved before the check (geographic here) must not block a dispatch; the ETA stays empty."""
    region = jambi_network
    Region.objects.filter(pk=region.pk).update(metric_srid=4326)
    region.refresh_from_db()
    agency = make_agency(region=region, kind=AgencyKind.FIRE)
    unit = make_unit(
        agency=agency, capabilities=["fire_engine"], home_station=make_station(agency=agency, geom=DAMKAR_HQ)
    )
    assignment = dispatch_assign(
        incident=make_incident(region=region, geom=CENTRE), unit=unit, actor=Actor.person(dispatcher)
    )
    assert assignment.status == AssignmentStatus.ACTIVE
    assert assignment.eta_s_at_dispatch is None


# -- concurrency --------------------------------------------------------------------------------------

N_THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_assignments_of_one_unit_exactly_one_wins() -> None:
    """Eight dispatchers send the same unit to eight reports at the same instant: one wins, seven are refused."""
    unit = make_unit()
    incidents = [make_incident() for _ in range(N_THREADS)]
    users = [get_user_model().objects.create_user(f"disp{i}", password="x") for i in range(N_THREADS)]
    barrier = threading.Barrier(N_THREADS)
    won: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            assignment = dispatch_assign(incident=incidents[i], unit=unit, actor=Actor.person(users[i]))
            with lock:
                won.append(assignment.incident_id)
        except UnitUnavailableError as exc:
            with lock:
                refused.append(str(exc))
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(won) == 1, (won, refused)
    assert len(refused) == N_THREADS - 1
    winner = Incident.objects.get(pk=won[0])
    # Each refusal names the report that got the unit, so the dispatcher knows why.
    assert all(f"is dispatched for {winner.reference}" in msg for msg in refused), refused
    assert Assignment.objects.filter(unit=unit).count() == 1
    assert Assignment.objects.get(unit=unit).incident_id == winner.pk
    assert list(StatusChange.objects.filter(unit=unit).values_list("to_status", flat=True)) == ["dispatched"]
    assert AuditEntry.objects.filter(action="dispatch.assign").count() == 1
    assert set(Incident.objects.exclude(pk=winner.pk).values_list("status", flat=True)) == {IncidentStatus.OPEN}
