"""Caller reputation: phone normalisation, flags and blocks (audited, liftable), the prank policy, and reports
from flagged or blocked numbers being created and marked, never refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from factories.fleet import make_incident
from factories.gis_core import make_region

from fleet.actors import Actor
from fleet.models import AuditEntry
from incidents.errors import InvalidPhoneError, InvalidReportError, ReportStateError
from incidents.models import Caller, CallerFlag, Channel, Incident, Outcome
from incidents.services.callers import (
    caller_block,
    caller_flag,
    caller_flag_lift,
    caller_marks,
    caller_policy_apply,
    phone_normalise,
)
from incidents.services.incidents import incident_close, incident_create

PHONE = "+6281234567890"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("081234567890", PHONE),  # mobile with the trunk 0
        ("0812-3456-7890", PHONE),  # dashes as people write them
        ("0812 3456 7890", PHONE),
        ("6281234567890", PHONE),  # WhatsApp's wa_id form, no plus
        ("+62 812 3456 7890", PHONE),
        ("006281234567890", PHONE),  # international prefix dialled from Indonesia
        ("(0741) 7551234", "+627417551234"),  # Jambi landline, area code 0741
        ("+6591234567", "+6591234567"),  # a Singapore mobile: kept as E.164
    ],
)
def test_phone_normalise_accepts(raw: str, expected: str) -> None:
    assert phone_normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("81234567890", "leading 0"),  # no trunk 0, no country code: not guessed
        ("+62081234567890", "drop the leading 0"),
        ("08123", "7 to 12"),  # 4 digits after 62
        ("0812345678901234", "7 to 12"),  # 15 digits after 62
        ("0812-ABC-7890", "other than digits"),
        ("+12345", "8 to 15"),
        ("   ", "empty"),
    ],
)
def test_phone_normalise_refuses_with_a_hint(raw: str, hint: str) -> None:
    with pytest.raises(InvalidPhoneError, match=hint):
        phone_normalise(raw)


@pytest.fixture
def dispatcher(db):
    return get_user_model().objects.create_user(username="operator1", password="pw")


@pytest.fixture
def region(db):
    return make_region()


def test_flag_and_lift_are_audited_and_kept(dispatcher, region) -> None:
    flag = caller_flag(
        region=region,
        phone="0812-3456-7890",
        reason="abusive caller",
        actor=Actor.person(dispatcher, remote_addr="10.0.0.5"),
    )
    assert (flag.caller.phone, flag.kind, flag.expires_at, flag.created_by) == (PHONE, "flag", None, dispatcher)
    entry = AuditEntry.objects.get(action="caller.flag")
    assert (entry.actor_label, entry.remote_addr, entry.object_id) == ("operator1", "10.0.0.5", str(flag.pk))
    assert entry.data["phone"] == PHONE
    assert caller_marks(caller=flag.caller) == ["flagged"]

    lifted = caller_flag_lift(flag=flag, reason="spoke to the parents", actor=Actor.person(dispatcher))
    assert lifted.lifted_at is not None
    assert lifted.lifted_by == dispatcher
    assert AuditEntry.objects.get(action="caller.flag_lift").data["reason"] == "spoke to the parents"
    assert caller_marks(caller=flag.caller) == []
    assert CallerFlag.objects.count() == 1  # lifted, not deleted
    with pytest.raises(ReportStateError, match="already lifted"):
        caller_flag_lift(flag=flag, reason="again", actor=Actor.person(dispatcher))


def test_block_lasts_24_hours_by_default_then_stops_marking(dispatcher, region) -> None:
    before = timezone.now()
    block = caller_block(region=region, phone=PHONE, reason="12 silent calls tonight", actor=Actor.person(dispatcher))
    # 24 h = 86,400 s, the Bontang policy; allow the few milliseconds the call took.
    assert timedelta(hours=24) <= block.expires_at - before <= timedelta(hours=24, seconds=5)
    assert caller_marks(caller=block.caller) == ["blocked"]
    assert caller_marks(caller=block.caller, at=block.expires_at + timedelta(seconds=1)) == []
    assert AuditEntry.objects.filter(action="caller.block").count() == 1


def test_flag_needs_a_reason_and_a_positive_duration(dispatcher, region) -> None:
    with pytest.raises(InvalidReportError, match="reason"):
        caller_flag(region=region, phone=PHONE, reason="  ", actor=Actor.person(dispatcher))
    with pytest.raises(InvalidReportError, match="duration_s"):
        caller_block(region=region, phone=PHONE, reason="x", duration_s=0, actor=Actor.person(dispatcher))
    assert not CallerFlag.objects.exists()


def _prank(region, *, days_ago: float, n: int) -> Incident:
    return make_incident(
        region=region,
        caller_phone=PHONE,
        outcome=Outcome.PRANK,
        status="closed",
        received_at=timezone.now() - timedelta(days=days_ago),
        reference=f"T-{n}",
    )


def test_policy_flags_after_three_pranks_in_thirty_days(db) -> None:
    region = make_region()
    caller = Caller.objects.create(region=region, phone=PHONE)
    _prank(region, days_ago=40, n=1)  # outside the 30-day window: not counted
    _prank(region, days_ago=20, n=2)
    _prank(region, days_ago=10, n=3)
    assert caller_policy_apply(caller=caller) is None  # 2 counted < 3
    _prank(region, days_ago=1, n=4)
    flag = caller_policy_apply(caller=caller)
    assert flag is not None
    assert flag.kind == "flag"
    assert flag.created_by is None
    assert "T-2, T-3, T-4" in flag.reason
    entry = AuditEntry.objects.get(action="caller.flag")
    assert entry.actor_kind == "system"
    assert entry.data["policy"] is True
    assert caller_policy_apply(caller=caller) is None  # a flag in force: not flagged twice


def test_policy_is_configurable(db, settings) -> None:
    settings.SIAGA_PRANK_FLAG_COUNT = 2
    settings.SIAGA_PRANK_WINDOW_DAYS = 7
    region = make_region()
    caller = Caller.objects.create(region=region, phone=PHONE)
    _prank(region, days_ago=10, n=1)  # outside 7 days
    _prank(region, days_ago=3, n=2)
    assert caller_policy_apply(caller=caller) is None
    _prank(region, days_ago=2, n=3)
    assert caller_policy_apply(caller=caller) is not None


def test_a_lift_resets_the_count(dispatcher) -> None:
    region = make_region()
    caller = Caller.objects.create(region=region, phone=PHONE)
    for n in range(3):
        _prank(region, days_ago=5 - n, n=n)
    flag = caller_policy_apply(caller=caller)
    caller_flag_lift(flag=flag, reason="school visit done", actor=Actor.person(dispatcher))
    assert caller_policy_apply(caller=caller) is None  # the same three pranks do not re-flag at once
    for n in range(3, 6):
        _prank(region, days_ago=0, n=n)  # three new pranks, received after the lift
    assert caller_policy_apply(caller=caller) is not None


def test_closing_the_third_prank_flags_the_number_and_the_next_report_is_marked(dispatcher) -> None:
    region = make_region()
    for n in range(2):
        _prank(region, days_ago=3 + n, n=n)
    report = incident_create(
        region=region,
        channel=Channel.PHONE,
        caller_phone="081234567890",
        actor=Actor.person(dispatcher),
        address_text="Jl. Sultan Thaha",
    )
    assert report.caller_flags == []
    incident_close(incident=report, outcome=Outcome.PRANK, actor=Actor.person(dispatcher))
    assert CallerFlag.objects.filter(caller__phone=PHONE, kind="flag", lifted_at=None).count() == 1

    nxt = incident_create(
        region=region,
        channel=Channel.PHONE,
        caller_phone="0812 3456 7890",
        actor=Actor.person(dispatcher),
        address_text="Jl. Gatot Subroto",
    )
    assert nxt.pk is not None
    assert nxt.caller_flags == ["flagged"]


def test_a_blocked_number_still_gets_its_report_marked(dispatcher) -> None:
    region = make_region()
    caller_block(region=region, phone=PHONE, reason="prank spree", actor=Actor.person(dispatcher))
    caller_flag(region=region, phone=PHONE, reason="known prankster", actor=Actor.person(dispatcher))
    report = incident_create(region=region, channel=Channel.PHONE, caller_phone=PHONE, address_text="Pasar Angso Duo")
    assert report.caller_flags == ["blocked", "flagged"]
    assert Incident.objects.filter(caller_phone=PHONE).count() == 1


def test_a_centres_flags_and_pranks_are_its_own(dispatcher) -> None:
    """The same number at two centres: one centre's block and pranks neither mark nor flag it at the other."""
    jambi = make_region()
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    caller_block(region=jambi, phone=PHONE, reason="prank spree", actor=Actor.person(dispatcher))
    for n in range(3):
        _prank(jambi, days_ago=1 + n, n=n)
    at_ambon = incident_create(region=ambon, channel=Channel.PHONE, caller_phone=PHONE, address_text="Pasar Mardika")
    assert at_ambon.caller_flags == []
    ambon_caller = Caller.objects.get(region=ambon, phone=PHONE)
    assert caller_policy_apply(caller=ambon_caller) is None  # Jambi's pranks are not Ambon's to count
    at_jambi = incident_create(region=jambi, channel=Channel.PHONE, caller_phone=PHONE, address_text="Pasar Angso")
    assert at_jambi.caller_flags == ["blocked", "flagged"]  # its own block, and its own three pranks
    assert Caller.objects.filter(phone=PHONE).count() == 2
