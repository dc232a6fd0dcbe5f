"""The reports API: region-scoped, for report readers, period by name or by local dates, bad input a 400."""

from __future__ import annotations

import pytest
from factories.access import make_user
from factories.gis_core import make_region
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
URL = "/api/reports/period/"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def planner(history):
    return make_user("report-planner", "planner")


def test_period_report_as_json(planner):
    response = _client(planner).get(URL, {"region": "kota-jambi", "period": "2026-10"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["region_name"] == "Kota Jambi"
    assert body["period"]["since"] == "2026-10-01T00:00:00+07:00"
    assert body["period"]["label_id"] == "Oktober 2026"
    assert body["counts"]["reports"] == 8  # as tests/reports/test_period_report.py counts them
    assert body["response"]["overall"]["mean_s"] == 855.0


def test_range_by_local_dates(planner):
    response = _client(planner).get(URL, {"region": "15.71", "from": "2026-10-31", "to": "2026-11-01"})
    assert response.status_code == 200
    assert response.json()["counts"]["reports"] == 2


def test_another_centres_region_is_a_404(history):
    make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    from gis_core.models import Region

    ambon_only = make_user("ambon-planner", "planner", regions=Region.objects.filter(slug="kota-ambon"))
    response = _client(ambon_only).get(URL, {"region": "kota-jambi", "period": "2026-10"})
    assert response.status_code == 404
    assert _client(ambon_only).get(URL, {"region": "kota-ambon", "period": "2026-10"}).status_code == 200


def test_a_user_without_a_role_is_refused(history):
    assert _client(make_user("nobody")).get(URL, {"region": "kota-jambi", "period": "2026-10"}).status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        {"period": "2026-10"},
        {"region": "kota-jambi"},
        {"region": "kota-jambi", "period": "2026-13"},
        {"region": "kota-jambi", "period": "2026-10\x00"},
        {"region": "kota-jambi", "period": "9" * 10000},
        {"region": "kota-jambi", "from": "2026-10-01"},
        {"region": "k" * 10000, "period": "2026-10"},
    ],
)
def test_bad_input_is_a_400_that_says_what_to_write(planner, query):
    response = _client(planner).get(URL, query)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "report_period_invalid"


def test_an_api_token_with_the_kpis_scope_reads_its_region(history):
    from access.services import api_token_create

    token = api_token_create(region=history["region"], name="dashboard", scopes=["kpis"]).text
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get(URL, {"region": "kota-jambi", "period": "2026-10"}).status_code == 200
    assert client.get("/api/reports/period.pdf", {"region": "kota-jambi", "period": "2026-10"}).status_code == 403
