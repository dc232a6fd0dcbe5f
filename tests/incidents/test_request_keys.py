"""An ``Idempotency-Key`` on a console user's report or dispatch: a resend creates nothing a second time.

Found by bench/drills.py: a report whose answer was lost (a worker killed, the proxy's 502, a timeout) and that
the client sent again was stored twice.
"""

from __future__ import annotations

import pytest
from factories.access import make_user
from factories.fleet import make_incident, make_incident_type, make_unit
from rest_framework.test import APIClient

from incidents.models import Assignment, Incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(jambi_region):
    make_incident_type(code="medical_drill", category="medical")
    return make_user("calltaker-keys", "dispatcher", password="pw")


@pytest.fixture
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _report(api, key: str | None, description: str = "sesak napas"):
    body = {"region": "kota-jambi", "channel": "phone", "incident_type": "medical_drill", "description": description,
            "location": [103.6131, -1.5913]}  # fmt: skip
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return api.post("/api/incidents/", body, format="json", **headers)


def test_a_report_resent_with_its_key_is_stored_once(api) -> None:
    first = _report(api, "report-7f3a")
    again = _report(api, "report-7f3a")
    assert (first.status_code, again.status_code) == (201, 201), again.content
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Incident.objects.count() == 1
    assert _report(api, "report-other").json()["id"] != first.json()["id"]  # another key: another report
    assert Incident.objects.count() == 2


def test_without_a_key_each_request_is_a_report(api) -> None:
    assert _report(api, None).status_code == _report(api, None).status_code == 201
    assert Incident.objects.count() == 2


def test_keys_are_per_user(api, jambi_region) -> None:
    other = APIClient()
    other.force_authenticate(make_user("calltaker-other", "dispatcher", password="pw"))
    _report(api, "shared-key")
    _report(other, "shared-key")
    assert Incident.objects.count() == 2


def test_a_malformed_key_is_a_400_and_creates_nothing(api) -> None:
    response = _report(api, "no spaces allowed")
    assert response.status_code == 400, response.content
    assert "Idempotency-Key" in response.json()["error"]["message"]
    assert Incident.objects.count() == 0


def test_a_dispatch_resent_with_its_key_assigns_once(api, jambi_region) -> None:
    unit = make_unit()
    incident = make_incident()
    url = f"/api/incidents/{incident.pk}/assignments/"
    first = api.post(url, {"unit_id": unit.pk}, format="json", HTTP_IDEMPOTENCY_KEY="dispatch-1")
    again = api.post(url, {"unit_id": unit.pk}, format="json", HTTP_IDEMPOTENCY_KEY="dispatch-1")
    assert (first.status_code, again.status_code) == (201, 201), again.content
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Assignment.objects.count() == 1
    # Without the key the resend is refused, the unit being busy with the first: the client cannot tell.
    assert api.post(url, {"unit_id": unit.pk}, format="json").status_code == 409


def test_a_refused_dispatch_claims_no_key(api, jambi_region) -> None:
    unit = make_unit()
    busy = make_incident()
    incident = make_incident()
    assert api.post(f"/api/incidents/{busy.pk}/assignments/", {"unit_id": unit.pk}, format="json").status_code == 201
    url = f"/api/incidents/{incident.pk}/assignments/"
    refused = api.post(url, {"unit_id": unit.pk}, format="json", HTTP_IDEMPOTENCY_KEY="dispatch-2")
    assert refused.status_code == 409, refused.content
    other = make_unit()
    sent = api.post(url, {"unit_id": other.pk}, format="json", HTTP_IDEMPOTENCY_KEY="dispatch-2")
    assert sent.status_code == 201, sent.content
    assert "Idempotent-Replayed" not in sent
    assert Assignment.objects.filter(incident=incident).get().unit_id == other.pk
