"""A small seeded history for the reports tests: reports, dispatches and unit status changes at given times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from factories.fleet import make_agency, make_incident, make_incident_type, make_unit
from fleet.models import ActorKind, AgencyKind
from gis_core.models import Kecamatan
from incidents.models import Assignment, AssignmentStatus, Channel, Outcome, ResponseTarget, StatusChange


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def report(region, at: datetime, **fields):
    """A report received ``at`` (aware), with ``fields`` as the model's (channel, priority, outcome, kecamatan...)."""
    return make_incident(region=region, received_at=at, **fields)


def assign(incident, unit, dispatched_s: float, on_scene_s: float | None = None, *, en_route_s=None, cancelled=False):
    """One dispatch of ``unit`` to ``incident``, its phases in seconds after the report was received."""

    def t(s):
        return None if s is None else incident.received_at + timedelta(seconds=s)

    last = max(s for s in (dispatched_s, en_route_s, on_scene_s) if s is not None) + 60
    a = Assignment(
        incident=incident,
        unit=unit,
        status=AssignmentStatus.CANCELLED if cancelled else AssignmentStatus.CLEARED,
        dispatched_at=t(dispatched_s),
        en_route_at=t(en_route_s),
        on_scene_at=t(on_scene_s),
        cancelled_at=t(last) if cancelled else None,
        cleared_at=None if cancelled else t(last),
    )
    a.full_clean()
    a.save()
    return a


def status_change(unit, at: datetime, from_status: str, to_status: str) -> StatusChange:
    change = StatusChange(unit=unit, from_status=from_status, to_status=to_status, at=at, actor_kind=ActorKind.SYSTEM)
    change.full_clean()
    change.save()
    return change


def seed_history(region):
    """Kota Jambi (WIB, UTC+7; its kecamatan loaded) with the reports R1..R11 and units D1, D2, P1, P2 of
    tests/reports/test_period_report.py's docstring, where their figures are computed by hand."""
    k01, k02 = Kecamatan.objects.get(code="15.71.01"), Kecamatan.objects.get(code="15.71.02")
    fire = make_incident_type(code="fire", name="Fire", category="fire")
    medical = make_incident_type(code="medical", name="Medical emergency", category="medical")
    damkar = make_agency(region=region, code="damkar", name="Damkar", kind=AgencyKind.FIRE, response_target_s=None)
    psc = make_agency(region=region, code="psc119", name="PSC 119", kind=AgencyKind.EMS, response_target_s=600)
    ResponseTarget.objects.create(agency=psc, priority=2, target_s=1200)
    d1, d2 = make_unit(agency=damkar, call_sign="D1"), make_unit(agency=damkar, call_sign="D2")
    p1 = make_unit(agency=psc, call_sign="P1")
    p2 = make_unit(agency=psc, call_sign="P2")
    genuine, prank = Outcome.GENUINE, Outcome.PRANK
    wa = Channel.WHATSAPP
    r = {}
    r[1] = report(region, utc(2026, 9, 30, 17, 30), incident_type=fire, kecamatan=k01, priority=1, outcome=genuine)
    r[2] = report(region, utc(2026, 10, 10, 16, 55), incident_type=fire, kecamatan=k01, priority=1, outcome=genuine)
    r[3] = report(region, utc(2026, 10, 31, 16, 50), incident_type=fire, kecamatan=k02, priority=1, outcome=genuine,
                  channel=wa, caller_phone="+6281100000003")  # fmt: skip
    r[4] = report(region, utc(2026, 10, 31, 17, 10), kecamatan=k01, priority=3, outcome=prank)
    r[5] = report(region, utc(2026, 9, 30, 16, 50), incident_type=fire, kecamatan=k01, priority=1, outcome=genuine)
    r[6] = report(region, utc(2026, 10, 5, 3, 0), priority=2, outcome=prank, channel=wa, caller_phone="+6281100000006")
    r[7] = report(region, utc(2026, 10, 12, 7, 0), incident_type=medical, kecamatan=k02, priority=2, outcome=genuine,
                  caller_phone="+6281100000007")  # fmt: skip
    r[8] = report(region, utc(2026, 10, 19, 20, 0), priority=3, outcome=Outcome.SILENT)
    r[9] = report(region, utc(2026, 10, 15, 7, 0), incident_type=fire, kecamatan=k02, priority=2,
                  outcome=Outcome.FALSE_ALARM)  # fmt: skip
    r[10] = report(region, utc(2026, 10, 2, 1, 0), kecamatan=k01, priority=3, outcome=prank)
    r[11] = report(region, utc(2026, 11, 3, 3, 0), priority=3, outcome=prank)
    assign(r[1], d1, 60, 600)
    assign(r[1], p1, 30, 480)
    assign(r[2], d1, 120, 840)
    assign(r[3], d2, 60, 1200)
    assign(r[7], p1, 30, cancelled=True)
    assign(r[7], p2, 120, 900)
    assign(r[9], d1, 60, en_route_s=120)
    assign(r[5], d1, 60, 300)
    # D1's status history; D2 has none (available throughout); P1 changes only after October.
    status_change(d1, utc(2026, 9, 30, 10, 0), "available", "out_of_service")
    status_change(d1, utc(2026, 10, 1, 0, 0), "out_of_service", "available")
    status_change(d1, utc(2026, 10, 1, 1, 0), "available", "dispatched")
    status_change(d1, utc(2026, 10, 1, 1, 10), "dispatched", "en_route")
    status_change(d1, utc(2026, 10, 1, 1, 30), "en_route", "on_scene")
    status_change(d1, utc(2026, 10, 1, 2, 30), "on_scene", "available")
    status_change(p1, utc(2026, 11, 5, 0, 0), "out_of_service", "available")
    return {"region": region, "reports": r, "units": {"D1": d1, "D2": d2, "P1": p1, "P2": p2}}
