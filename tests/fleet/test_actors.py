"""The Actor value: who acted, from where, in what role, as the audit log records it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from factories.access import make_user
from factories.fleet import make_device, make_unit
from factories.gis_core import make_region

from access.services import api_token_create
from access.tokens import TokenUser
from fleet.actors import SYSTEM, Actor
from fleet.models import ActorKind
from fleet.services.audit import audit_record

pytestmark = pytest.mark.django_db


def test_a_request_of_a_person_is_a_dispatcher_kind_actor_with_their_roles_and_address() -> None:
    user = make_user("desk-3", "planner", "dispatcher")
    request = RequestFactory().post("/api/incidents/", REMOTE_ADDR="192.0.2.44")
    request.user = user
    actor = Actor.of_request(request)
    assert (actor.kind, actor.person_user, actor.remote_addr, actor.label) == (
        ActorKind.DISPATCHER, user, "192.0.2.44", "desk-3",
    )  # fmt: skip
    entry = audit_record(action="test.person", actor=actor)
    entry.refresh_from_db()
    assert (entry.actor_kind, entry.actor_user_id, entry.actor_role, entry.remote_addr) == (
        "dispatcher", user.pk, "dispatcher,planner", "192.0.2.44",
    )  # fmt: skip


def test_a_machine_client_is_a_system_actor_naming_its_token_and_no_person() -> None:
    region = make_region(code="99.01", slug="kota-tokenia")
    issued = api_token_create(region=region, name="RSUD ETA", scopes=["eta"])
    actor = Actor.person(TokenUser(issued.token), remote_addr="198.51.100.2")
    assert (actor.kind, actor.person_user, actor.roles) == (ActorKind.SYSTEM, None, "")
    entry = audit_record(action="test.token", actor=actor, data={"via": "eta"})
    assert entry.actor_label == f"api-token:{issued.token.prefix}"
    assert entry.data == {"via": "eta", "api_token": issued.token.prefix, "api_token_name": "RSUD ETA"}


def test_crew_citizen_anonymous_and_system_actors() -> None:
    device = make_device(unit=make_unit(call_sign="AMB-9"), identifier="amb-9-phone")
    crew = Actor.crew(device, remote_addr="10.0.0.9")
    assert (crew.kind, crew.device, crew.label, crew.roles) == (ActorKind.CREW_DEVICE, device, "amb-9-phone", "")
    assert Actor.citizen().kind == ActorKind.CITIZEN
    anonymous = Actor.person(AnonymousUser(), remote_addr="10.0.0.10")
    assert (anonymous.kind, anonymous.person_user, anonymous.remote_addr) == (ActorKind.SYSTEM, None, "10.0.0.10")
    entry = audit_record(action="test.system")
    assert (entry.actor_kind, entry.actor_label, entry.actor_role, entry.remote_addr) == ("system", "", "", None)
    assert (SYSTEM.kind, SYSTEM.user, SYSTEM.device, SYSTEM.roles) == (ActorKind.SYSTEM, None, None, "")


def test_a_role_given_is_recorded_as_given_without_reading_the_person() -> None:
    user = make_user("desk-4", "dispatcher")
    entry = audit_record(action="test.role", actor=Actor(kind=ActorKind.DISPATCHER, user=user, role="supervisor"))
    assert entry.actor_role == "supervisor"
