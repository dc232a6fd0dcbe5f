"""Coverage endpoints over HTTP on the tiny grid region: every kind of run, stored runs, CSV, PNG and bad input."""

from __future__ import annotations

import csv
import io

import pytest
from factories.access import api_client
from factories.coverage import make_agency, make_station, make_unit, node_at
from factories.jobs import run_jobs
from rest_framework.test import APIClient

from coverage.models import CoverageRun
from fleet.models import UnitStatus
from gis_core.routing.registry import engine_for

# The runs are computed by the job worker, which sees only committed rows: those tests are transactional
# (``run_queued``); a request refused before anything is queued needs no worker.


@pytest.fixture
def api(tiny_region) -> APIClient:
    """A planner's client: the API's permissions ask for a console role (tests/access checks who is refused)."""
    return api_client("planner")


@pytest.fixture
def fleet(tiny_region):
    """damkar with a south-west station; psc119 with two stations, one unit available and one dispatched."""
    damkar = make_agency(tiny_region)
    make_station(damkar, code="sw", **dict(zip(("lon", "lat"), node_at(tiny_region, 0, 0), strict=True)))
    psc = make_agency(tiny_region, code="psc119", kind="ems")
    sw = make_station(psc, code="sw", **dict(zip(("lon", "lat"), node_at(tiny_region, 0, 0), strict=True)))
    ne = make_station(psc, code="ne", **dict(zip(("lon", "lat"), node_at(tiny_region, 1, 1), strict=True)))
    make_unit(psc, call_sign="A1", station=sw)
    make_unit(psc, call_sign="A2", station=ne, status=UnitStatus.DISPATCHED)
    return tiny_region


def _post(api, path: str, body: dict, status: int = 200) -> dict:
    """POST a run (202 with its URL), let the worker compute it, and return the run as its URL shows it.

    ``status`` 200 expects a computed run; a 4xx either refuses the request itself (bad input, 400) or ends
    the run's job failed with the service's error (then the 4xx is the status the error carries)."""
    response = api.post(f"/api/coverage/{path}/", body, format="json")
    if response.status_code != 202:
        assert response.status_code == status, response.content[:500]
        return response.json()
    queued = response.json()
    assert response["Location"].endswith(queued["url"])
    assert queued["state"] == "queued"
    run_jobs(queues=["coverage"])
    shown = api.get(queued["url"])
    assert shown.status_code == 200
    run = shown.json()
    if status == 200:
        assert run["state"] == "succeeded", run["error"]
        assert run["progress"] == 1.0
    else:
        assert run["state"] == "failed", run
        assert run["results"] is None
        return {"error": run["error"]}
    return run


def test_report_then_show_list_and_compare(api, fleet, run_queued, django_assert_max_num_queries) -> None:
    body = {"region": "tiny", "sources": {"agencies": ["damkar"]}, "thresholds_s": [60, 120]}
    one = _post(api, "report", body)
    assert [row["name"] for row in one["kecamatan"]] == ["West", "East"]
    assert one["thresholds_s"] == [60, 120]
    assert one["sources"][0]["ref"] == "sw"
    body["sources"]["points"] = [list(node_at(fleet, 1, 1))]
    two = _post(api, "report", body)
    shown = api.get(f"/api/coverage/runs/{one['run_id']}/").json()
    assert shown["results"]["kecamatan"] == one["kecamatan"]  # shown again exactly as computed
    assert shown["inputs"]["spec"]["agencies"] == ["damkar"]
    with django_assert_max_num_queries(3):  # + the role check
        listed = api.get("/api/coverage/runs/", {"region": "tiny", "kind": "coverage"}).json()["results"]
    assert [r["run_id"] for r in listed] == [two["run_id"], one["run_id"]]
    compared = api.get(f"/api/coverage/runs/{one['run_id']}/compare/{two['run_id']}/").json()
    # The added north-east point only adds people: every change is >= 0, and some > 0.
    changes = [t["change"] for t in compared["totals"]]
    assert min(changes) >= 0
    assert max(changes) > 0


def test_a_run_says_the_profile_and_hour_band_it_routed_on(api, fleet, run_queued) -> None:
    body = {"region": "tiny", "sources": {"agencies": ["psc119"]}, "thresholds_s": [60, 120]}
    planned = _post(api, "report", body)  # psc119's units are ambulances (car), no band asked
    assert (planned["profile"], planned["hour_band"], planned["inputs"]["profile_from"]) == (
        "car", "all", "the units' profiles (car 2)",
    )  # fmt: skip
    asked = _post(api, "report", {**body, "profile": "motorbike", "hour_band": "06-10"})
    assert (asked["profile"], asked["hour_band"], asked["inputs"]["hour_band_asked"]) == ("motorbike", "all", "06-10")
    assert asked["network_version"] == planned["network_version"] is not None


def test_surface_is_geojson_in_seconds(api, fleet, run_queued, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(40):
        data = _post(api, "surface", {"region": "tiny", "sources": {"agencies": ["damkar"]}})
    grid, kelurahan = data["grid"], data["kelurahan"]
    assert grid["type"] == "FeatureCollection"
    assert grid["features"][0]["geometry"]["type"] == "Polygon"
    times = [f["properties"]["time_s"] for f in grid["features"]]
    assert all(t is not None and 0 <= t < 300 for t in times)  # the tiny grid is crossed in about 200 s
    assert [f["properties"]["name"] for f in kelurahan["features"]] == ["West Satu", "East Satu"]
    assert kelurahan["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}


def test_gaps_csv_and_png(api, fleet, run_queued) -> None:
    data = _post(api, "gaps", {"region": "tiny", "sources": {"agencies": ["damkar"]}, "target_s": 60})
    assert data["gaps"]["kecamatan"][0]["name"] == "East"  # farthest from the south-west station, most people
    response = api.get(data["links"]["gaps_csv"])
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    kecamatan = [r for r in rows if r["level"] == "kecamatan"]
    assert [r["name"] for r in kecamatan] == ["East", "West"]
    assert float(kecamatan[0]["population_beyond_target"]) == data["gaps"]["kecamatan"][0]["population_beyond_target"]
    cells = [r for r in rows if r["level"] == "cell"]
    assert len(cells) == len(data["gaps"]["cells"])
    assert all(103.5 < float(r["centre_lon"]) < 103.6 and -1.7 < float(r["centre_lat"]) < -1.6 for r in cells)
    png = api.get(data["links"]["map_png"])
    assert png.status_code == 200
    assert png["Content-Type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert 10_000 < len(png.content) < 2_000_000


def test_siting_endpoint_and_its_map(api, fleet, run_queued) -> None:
    body = {
        "region": "tiny",
        "model": "mclp",
        "k": 1,
        "threshold_s": 60,
        "existing": {"agencies": ["damkar"]},
        "candidates": [list(node_at(fleet, 1, 1)), list(node_at(fleet, 0.5, 0.5))],
    }
    data = _post(api, "siting", body)
    assert len(data["chosen"]) == 1
    assert data["chosen"][0]["kecamatan"] in {"West", "East"}
    assert data["covered_after"] >= data["covered_before"]
    assert data["existing"][0]["ref"] == "sw"
    assert "cells" not in data  # the grid stays in the stored run, behind the map link
    assert api.get(data["links"]["map_png"]).content[:4] == b"\x89PNG"
    lscp = _post(api, "siting", {**body, "model": "lscp", "required_share": 0.2})
    assert lscp["model"] == "lscp"


def test_live_endpoint(api, fleet, run_queued) -> None:
    data = _post(api, "live", {"region": "tiny", "agencies": ["psc119"], "threshold_s": 90})
    assert [u["ref"] for u in data["available_units"]] == ["A1"]
    assert data["uncovered_by_dispatch_population"] > 0
    # A1 is the only available unit: moving it to the north-east station gains there but loses the south-west.
    for move in data["moveups"]:
        assert move["unit"] == "A1"
        assert move["to_station"] == "ne"


def test_whatif_endpoint_leaves_the_live_network(api, fleet, run_queued) -> None:
    engine = engine_for(fleet)
    edges = engine.graph.n_edges
    middle = node_at(fleet, 0.5, 0.5)
    data = _post(
        api,
        "whatif",
        {"region": "tiny", "sources": {"agencies": ["damkar"]}, "close_near": list(middle), "close_tolerance_m": 5},
    )
    assert len(data["closed_edges"]) >= 2  # both directions of every street meeting at that node
    assert data["delta"]["totals"][0]["change"] <= 0
    assert engine_for(fleet) is engine
    assert engine.graph.n_edges == edges
    assert CoverageRun.objects.get(pk=data["run_id"]).kind == "whatif"


# Refused by the request's own checks (400, nothing queued) or, marked FAILS, queued and then ended failed by
# the service with its reason and code (the status is the one that error carries).
FAILS = "fails"
BAD = [
    ("report", {"region": "nowhere", "sources": {"agencies": ["damkar"]}}, 400, "unknown region 'nowhere'"),
    ("report", {"region": "tiny", "sources": {"agencies": ["polisi"]}}, 400, "unknown agency polisi", FAILS),
    ("report", {"region": "tiny", "sources": {}}, 400, "name agencies, unit_types or points"),
    ("report", {"region": "tiny", "sources": {"agencies": ["damkar"]}, "thresholds_s": [0]}, 400, "thresholds_s"),
    ("report", {"region": "tiny", "sources": {"agencies": ["damkar"]}, "thresholds_s": [-60]}, 400, "thresholds_s"),
    ("report", {"region": "tiny", "sources": {"agencies": ["damkar"]}, "target_s": 0}, 400, "target_s"),
    ("report", {"region": "tiny", "sources": {"agencies": ["damkar"]}, "cell_m": 1}, 400, "cell_m"),
    ("report", {"region": "tiny", "sources": {"points": [[200, 0]]}}, 400, "points"),
    ("report", {"region": "tiny", "sources": {"unit_types": ["boat"]}}, 400, "no unit of type boat", FAILS),
    (
        "report",
        {"region": "tiny", "sources": {"points": [[103.9, -1.9]]}},
        400,
        "can be placed on the road network",
        FAILS,
    ),
    ("siting", {"region": "tiny", "model": "mclp"}, 400, "mclp needs k"),
    ("siting", {"region": "tiny", "model": "mclp", "k": 51}, 400, "k"),
    ("siting", {"region": "tiny", "model": "mclp", "k": 0}, 400, "k"),
    (
        "siting",
        {"region": "tiny", "model": "mclp", "k": 3, "candidates": [[103.551, -1.66]]},
        400,
        "k=3 new sites",
        FAILS,
    ),
    ("siting", {"region": "tiny", "model": "lscp"}, 400, "required_share"),
    ("siting", {"region": "tiny", "model": "lscp", "required_share": 1.5}, 400, "required_share"),
    ("siting", {"region": "tiny", "model": "pmedian", "k": 1}, 400, "model"),
    ("siting", {"region": "tiny", "model": "mclp", "k": 1, "threshold_s": 0}, 400, "threshold_s"),
    (
        "siting",
        {"region": "tiny", "model": "lscp", "required_share": 1, "threshold_s": 5, "candidates": [[103.551, -1.66]]},
        422,
        "cannot be reached",
        FAILS,
    ),
    ("live", {"region": "tiny", "agencies": []}, 400, "agencies"),
    (
        "report",
        {"region": "tiny", "sources": {"agencies": ["damkar"]}, "profile": "tank"},
        400,
        "use one of car, fire_engine, motorbike",
    ),
    ("live", {"region": "tiny", "agencies": ["psc119"], "hour_band": "7"}, 400, "use one of 00-06, 06-10"),
    ("live", {"region": "tiny", "agencies": ["polisi"]}, 400, "unknown agency polisi", FAILS),
    ("live", {"region": "tiny", "agencies": ["psc119"], "max_moves": 11}, 400, "max_moves"),
    ("whatif", {"region": "tiny", "sources": {"agencies": ["damkar"]}}, 400, "nothing to compare"),
    (
        "whatif",
        {"region": "tiny", "sources": {"agencies": ["damkar"]}, "close_edge_ids": [999999]},
        400,
        "999999",
        FAILS,
    ),
    (
        "whatif",
        {"region": "tiny", "sources": {"agencies": ["damkar"]}, "close_near": {"type": "Polygon", "coordinates": []}},
        400,
        "close_near",
    ),
    (
        "whatif",
        {"region": "tiny", "sources": {"agencies": ["damkar"]}, "close_near": [103.9, -1.9], "close_tolerance_m": 5},
        400,
        "no road lies within 5 m",
        FAILS,
    ),
]


REFUSED = [b for b in BAD if b[-1] != FAILS]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "body", "status", "message"), REFUSED, ids=[f"{b[0]}-{b[3][:24]}" for b in REFUSED])
def test_bad_input_is_a_4xx_with_a_message(api, fleet, path, body, status, message) -> None:
    error = _post(api, path, body, status=status)["error"]
    assert message in error["message"]
    assert error["code"]
    assert not CoverageRun.objects.exists()  # refused before anything was queued


def test_a_run_that_cannot_be_computed_fails_with_the_reason(api, fleet, run_queued) -> None:
    """Each is queued (202), then its job ends failed with the service's message and code, and no figures."""
    queued = []
    for path, body, _status, message, _ in [b for b in BAD if b[-1] == FAILS]:
        response = api.post(f"/api/coverage/{path}/", body, format="json")
        assert response.status_code == 202, response.content[:300]
        queued.append((response.json()["url"], message))
    assert run_queued(queues=["coverage"]) == {
        "succeeded": len(queued)
    }  # the queue job ran to its end: the run failed, recorded
    for url, message in queued:
        run = api.get(url).json()
        assert run["state"] == "failed", (url, message)
        assert message in run["error"]["message"]
        assert run["error"]["code"] not in {"", "internal_error"}
        assert run["results"] is None
        figures = api.get(run["links"]["gaps_csv"])
        assert figures.status_code == 409
        assert figures.json()["error"]["code"] == "coverage_run_not_ready"


def test_bad_run_requests(api, fleet, run_queued) -> None:
    assert api.get("/api/coverage/runs/999999/").status_code == 404
    assert "no coverage run 999999" in api.get("/api/coverage/runs/999999/").json()["error"]["message"]
    response = api.get("/api/coverage/runs/", {"kind": "everything"})
    assert response.status_code == 400
    assert "unknown kind" in response.json()["error"]["message"]
    live = _post(api, "live", {"region": "tiny", "agencies": ["psc119"], "threshold_s": 90})
    siting = _post(api, "siting", {"region": "tiny", "model": "mclp", "k": 1, "n_candidates": 10})
    # A siting run ranks no gaps: its CSV is refused with a message (its map is drawn).
    response = api.get(f"/api/coverage/runs/{siting['run_id']}/gaps.csv")
    assert response.status_code == 400
    assert "holds no gap ranking" in response.json()["error"]["message"]
    assert api.get(f"/api/coverage/runs/{live['run_id']}/gaps.csv").status_code == 200
