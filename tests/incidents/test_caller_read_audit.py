"""A person's read of a caller's number or history is audited: who, when, from where (UU PDP 27/2022)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from factories.access import basic_header, make_user
from factories.fleet import make_incident
from rest_framework.test import APIClient

from fleet.models import AuditEntry
from incidents.models import Caller
from incidents.services.callers import caller_read_record

pytestmark = pytest.mark.django_db

PHONE = "+6281234567890"
CLIENT_ADDR = "10.20.30.40"


@pytest.fixture
def dispatcher(jambi_region):
    user = make_user("desk-1", "dispatcher", password="pw-desk-1")
    client = APIClient(REMOTE_ADDR=CLIENT_ADDR)
    client.force_login(user)
    return user, client


def _reads():
    return list(AuditEntry.objects.filter(action="caller.read").order_by("pk"))


def test_reading_a_callers_record_is_audited_with_who_when_and_where(dispatcher, jambi_region) -> None:
    user, client = dispatcher
    make_incident(caller_phone=PHONE)
    caller = Caller.objects.create(region=jambi_region, phone=PHONE)
    before = timezone.now()
    assert client.get("/api/callers/081234567890/").status_code == 200
    (entry,) = _reads()
    assert (entry.actor_kind, entry.actor_user_id, entry.actor_label) == ("dispatcher", user.pk, "desk-1")
    assert (entry.remote_addr, entry.object_type, entry.object_id) == (CLIENT_ADDR, "caller", str(caller.pk))
    assert entry.data == {"phone": PHONE, "via": "caller_detail"}
    assert before <= entry.at <= timezone.now()


def test_a_number_without_reports_reveals_nothing_and_records_nothing(dispatcher) -> None:
    _, client = dispatcher
    assert client.get("/api/callers/081299999999/").status_code == 404
    assert _reads() == []


def test_a_report_in_full_shows_the_callers_number_so_its_read_is_audited(dispatcher) -> None:
    _, client = dispatcher
    incident = make_incident(caller_phone=PHONE)
    silent = make_incident(caller_phone="")  # no number: nothing personal to audit
    assert client.get(f"/api/incidents/{incident.pk}/").status_code == 200
    assert client.get(f"/api/incidents/{silent.pk}/").status_code == 200
    (entry,) = _reads()
    assert (entry.object_type, entry.object_id, entry.data) == (
        "incident", str(incident.pk), {"phone": PHONE, "via": "incident_detail"}
    )  # fmt: skip
    # A triage edit answers with the report in full too: that read is recorded as well as the write.
    assert client.patch(f"/api/incidents/{incident.pk}/", {"priority": 1}, format="json").status_code == 200
    assert len(_reads()) == 2


def test_http_basic_reads_are_audited_too(jambi_region) -> None:
    make_user("desk-2", "dispatcher", password="pw-desk-2")
    incident = make_incident(caller_phone=PHONE)
    client = APIClient(REMOTE_ADDR="192.0.2.7", HTTP_AUTHORIZATION=basic_header("desk-2", "pw-desk-2"))
    assert client.get(f"/api/incidents/{incident.pk}/").status_code == 200
    (entry,) = _reads()
    assert (entry.actor_label, entry.remote_addr) == ("desk-2", "192.0.2.7")


@pytest.mark.parametrize("role", [None, "planner"])
def test_a_refused_caller_gets_no_data_and_leaves_no_read(jambi_region, role) -> None:
    incident = make_incident(caller_phone=PHONE)
    client = APIClient()
    if role:
        client.force_login(make_user("someone", role))
    for url in ("/api/callers/081234567890/", f"/api/incidents/{incident.pk}/"):
        assert client.get(url).status_code in (401, 403)
    assert _reads() == []


def test_the_service_records_nothing_for_no_person() -> None:
    from django.contrib.auth.models import AnonymousUser

    from fleet.actors import Actor

    assert caller_read_record(phone=PHONE, actor=Actor.person(AnonymousUser()), via="caller_detail") is None
    assert _reads() == []


def test_a_machine_clients_read_of_a_report_with_its_caller_is_audited_as_its_token(jambi_region) -> None:
    from access.services import api_token_create

    incident = make_incident(region=jambi_region, caller_phone=PHONE)
    issued = api_token_create(region=jambi_region, name="RSUD dashboard", scopes=["read-incidents"])
    client = APIClient(REMOTE_ADDR=CLIENT_ADDR)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.text}")
    assert client.get(f"/api/incidents/{incident.pk}/").status_code == 200
    (entry,) = _reads()
    assert (entry.actor_kind, entry.actor_user_id, entry.remote_addr) == ("system", None, CLIENT_ADDR)
    assert entry.actor_label == f"api-token:{issued.token.prefix}"
    assert entry.data == {
        "phone": PHONE, "via": "incident_detail", "api_token": issued.token.prefix, "api_token_name": "RSUD dashboard",
    }  # fmt: skip
