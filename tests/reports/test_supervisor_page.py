"""The supervisor's page: the console's shell with the report's config, for report readers only."""

from __future__ import annotations

import pytest
from factories.access import make_user

pytestmark = pytest.mark.django_db


def test_page_hands_the_script_its_urls_and_indonesian_strings(client, history):
    client.force_login(make_user("page-planner", "planner"))
    response = client.get("/reports/")
    assert response.status_code == 200
    config = response.context["config"]
    assert config["report_urls"]["period"] == "/api/reports/period/"
    assert config["report_urls"]["period-pdf"] == "/api/reports/period.pdf"
    assert config["report_strings"]["prank_share"] == "Bagian panggilan iseng"
    assert len(config["default_period"]) == 7  # the region's current month, 2026-12
    assert "Laporan pusat" in response.content.decode()


def test_page_of_another_region_is_a_404(client, history):
    client.force_login(make_user("page-planner", "planner"))
    assert client.get("/reports/?region=atlantis").status_code == 404


def test_page_needs_a_login_and_a_role(client, history):
    assert client.get("/reports/").status_code == 302
    client.force_login(make_user("page-nobody"))
    assert client.get("/reports/").status_code == 403
