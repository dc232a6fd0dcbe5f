"""One coverage or siting request cannot take the server: its grid (refused at once, 400) and its siting matrix
(the run's job fails with the reason) are bounded."""

from __future__ import annotations

import re

import pytest
from factories.access import api_client
from factories.coverage import make_agency, make_station, node_at
from factories.jobs import run_jobs


@pytest.fixture
def planner(tiny_region):
    damkar = make_agency(tiny_region)
    make_station(damkar, code="sw", **dict(zip(("lon", "lat"), node_at(tiny_region, 0, 0), strict=True)))
    return api_client("planner")


def _error(response) -> str:
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["code"] == "coverage_too_large"
    return response.json()["error"]["message"]


@pytest.mark.django_db
def test_a_grid_of_too_many_cells_is_refused_with_the_cell_size_that_fits(planner, settings) -> None:
    settings.SIAGA_COVERAGE_MAX_CELLS = 50
    body = {"region": "tiny", "sources": {"agencies": ["damkar"]}, "cell_m": 100}
    message = _error(planner.post("/api/coverage/report/", body, format="json"))
    assert "at most 50" in message
    smallest_m = int(re.search(r"cell_m of at least (\d+)", message).group(1))
    # The suggestion is the side of a cell that gives at most the limit over the region's area.
    accepted = planner.post("/api/coverage/report/", {**body, "cell_m": smallest_m}, format="json")
    assert accepted.status_code == 202, accepted.content[:300]  # the same check passed: queued
    siting = {"region": "tiny", "model": "mclp", "k": 1, "cell_m": 100}
    _error(planner.post("/api/coverage/siting/", siting, format="json"))


def _run(planner, body: dict) -> dict:
    queued = planner.post("/api/coverage/siting/", body, format="json")
    assert queued.status_code == 202, queued.content[:300]
    run_jobs(queues=["coverage"])
    return planner.get(queued.json()["url"]).json()


def test_a_siting_matrix_of_too_many_travel_times_is_refused_with_the_candidates_that_fit(
    planner, settings, run_queued
) -> None:
    settings.SIAGA_SITING_MAX_PAIRS = 2_000
    body = {"region": "tiny", "model": "mclp", "k": 1, "n_candidates": 500, "sources": {"agencies": ["damkar"]}}
    failed = _run(planner, body)
    assert (failed["state"], failed["error"]["code"]) == ("failed", "coverage_too_large")
    message = failed["error"]["message"]
    assert "at most 2,000" in message
    fitting = int(re.search(r"give at most ([\d,]+) candidates", message).group(1).replace(",", ""))
    assert _run(planner, {**body, "n_candidates": fitting})["state"] == "succeeded"
