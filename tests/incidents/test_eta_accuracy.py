"""ETA accuracy: the ETA given at dispatch against the time taken, figures worked by hand.

Kota Jambi is WIB (UTC+7). The window is 31 Oct 00:00 to 3 Nov 00:00 WIB. Judged trips (error = actual - ETA):

    trip  agency  dispatched (WIB)     ETA s  actual s  error s  road class
    A0    PSC     31 Oct 12:00          100      160       +60   primary
    A1    PSC      1 Nov 06:30          300      420      +120   primary      (31 Oct 23:30 UTC)
    A2    PSC      1 Nov 08:10          600      540       -60   residential
    A3    PSC      1 Nov 08:30          200      500      +300   residential
    B1    Damkar   2 Nov 23:59          400      400         0   (unknown)

Not judged: A4 (cancelled, never on scene), B2 (on scene, no ETA at dispatch); outside the window: a trip
dispatched 30 Oct 23:59 WIB, and an Ambon trip.

All five: errors sorted -60, 0, 60, 120, 300: median 60, bias 420/5 = 84; |errors| 0, 60, 60, 120, 300:
mean 108, p90 at rank 3.6 = 120 + 0.6 (300 - 120) = 228; actual times median 420, ETAs median 300.
PSC: errors -60, 60, 120, 300: median 90, bias 105; |errors| 60, 60, 120, 300: mean 135, p90 at rank 2.7 =
120 + 0.7 (180) = 246.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from factories.access import make_user
from factories.fleet import make_agency, make_incident, make_unit
from factories.gis_core import make_region
from rest_framework.test import APIClient

from access.services import api_token_create
from fleet.models import AgencyKind
from incidents.models import Assignment, AssignmentStatus
from incidents.selectors.eta_accuracy import eta_accuracy

pytestmark = pytest.mark.django_db

WIB = ZoneInfo("Asia/Jakarta")
SINCE = datetime(2026, 10, 31, tzinfo=WIB)
UNTIL = datetime(2026, 11, 3, tzinfo=WIB)


def _trip(agency, dispatched: datetime, *, eta_s, actual_s, road_class="", hour_band="", region=None, cancelled=False):
    unit = make_unit(agency=agency)
    incident = make_incident(region=region or agency.region, received_at=dispatched - timedelta(seconds=60))
    return Assignment.objects.create(
        incident=incident,
        unit=unit,
        status=AssignmentStatus.CANCELLED if cancelled else AssignmentStatus.CLEARED,
        dispatched_at=dispatched,
        on_scene_at=None if actual_s is None else dispatched + timedelta(seconds=actual_s),
        cancelled_at=dispatched + timedelta(seconds=30) if cancelled else None,
        eta_s_at_dispatch=eta_s,
        eta_profile="car" if eta_s is not None else "",
        eta_road_class=road_class,
        eta_hour_band=hour_band,
    )


@pytest.fixture
def history():
    jambi = make_region()
    psc = make_agency(region=jambi, code="psc119", name="PSC 119", kind=AgencyKind.EMS)
    damkar = make_agency(region=jambi, code="damkar", name="Damkar", kind=AgencyKind.FIRE)
    _trip(psc, datetime(2026, 10, 31, 12, 0, tzinfo=WIB), eta_s=100, actual_s=160, road_class="primary",
          hour_band="all")  # fmt: skip
    _trip(psc, datetime(2026, 11, 1, 6, 30, tzinfo=WIB), eta_s=300, actual_s=420, road_class="primary",
          hour_band="06-10")  # fmt: skip
    _trip(psc, datetime(2026, 11, 1, 8, 10, tzinfo=WIB), eta_s=600, actual_s=540, road_class="residential",
          hour_band="06-10")  # fmt: skip
    _trip(psc, datetime(2026, 11, 1, 8, 30, tzinfo=WIB), eta_s=200, actual_s=500, road_class="residential",
          hour_band="06-10")  # fmt: skip
    _trip(damkar, datetime(2026, 11, 2, 23, 59, tzinfo=WIB), eta_s=400, actual_s=400)
    _trip(psc, datetime(2026, 11, 1, 9, 0, tzinfo=WIB), eta_s=250, actual_s=None, cancelled=True)  # A4
    _trip(damkar, datetime(2026, 11, 1, 10, 0, tzinfo=WIB), eta_s=None, actual_s=700)  # B2
    _trip(psc, datetime(2026, 10, 30, 23, 59, tzinfo=WIB), eta_s=100, actual_s=5000)  # before the window
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon")
    _trip(make_agency(region=ambon), datetime(2026, 11, 1, 12, 0, tzinfo=WIB), eta_s=100, actual_s=9000)
    return jambi, psc, damkar


def _figures(row) -> tuple:
    keys = ("n", "median_error_s", "bias_s", "mean_abs_error_s", "p90_abs_error_s")
    return tuple(row[k] for k in keys)


def test_overall_and_per_agency_errors_are_the_hand_worked_ones(history) -> None:
    jambi, psc, damkar = history
    report = eta_accuracy(region=jambi, since=SINCE, until=UNTIL, group_by="agency")
    assert _figures(report["overall"]) == (5, 60.0, 84.0, 108.0, 228.0)
    assert (report["overall"]["median_actual_s"], report["overall"]["median_eta_s"]) == (420.0, 300.0)
    assert report["excluded"] == {"no_arrival": 1, "no_eta": 1}
    by_agency = {g["label"]: _figures(g) for g in report["groups"]}
    assert by_agency == {"PSC 119": (4, 90.0, 105.0, 135.0, 246.0), "Damkar": (1, 0.0, 0.0, 0.0, 0.0)}
    assert [g["key"] for g in report["groups"]] == sorted([psc.pk, damkar.pk])


def test_months_and_hours_are_the_regions_local_calendar(history) -> None:
    jambi, _, _ = history
    months = eta_accuracy(region=jambi, since=SINCE, until=UNTIL, group_by="month")
    # A1 left at 06:30 WIB on 1 November, still 31 October in UTC: it counts in November.
    assert [(g["key"], g["n"], g["median_error_s"]) for g in months["groups"]] == [
        ("2026-10", 1, 60.0), ("2026-11", 4, 60.0),
    ]  # fmt: skip
    hours = eta_accuracy(region=jambi, since=SINCE, until=UNTIL, group_by="hour")
    assert [(g["key"], g["label"], g["n"]) for g in hours["groups"]] == [
        (6, "06:00-06:59", 1), (8, "08:00-08:59", 2), (12, "12:00-12:59", 1), (23, "23:00-23:59", 1),
    ]  # fmt: skip
    assert next(g for g in hours["groups"] if g["key"] == 8)["median_error_s"] == 120.0


def test_road_classes_with_the_unknown_class_last(history) -> None:
    jambi, _, _ = history
    report = eta_accuracy(region=jambi, since=SINCE, until=UNTIL, group_by="road_class")
    assert [(g["label"], g["n"], g["median_error_s"]) for g in report["groups"]] == [
        ("primary", 2, 90.0), ("residential", 2, 120.0), ("unknown", 1, 0.0),
    ]  # fmt: skip


def test_hour_bands_of_the_speeds_used_with_the_unknown_band_last(history) -> None:
    jambi, _, _ = history
    report = eta_accuracy(region=jambi, since=SINCE, until=UNTIL, group_by="hour_band")
    # 06-10: A1, A2, A3, errors 120, -60, 300: median 120; all-day weights: A0 (+60); B1 stored no band.
    assert [(g["key"], g["label"], g["n"], g["median_error_s"]) for g in report["groups"]] == [
        ("06-10", "06-10", 3, 120.0), ("all", "all-day weights", 1, 60.0), (None, "unknown", 1, 0.0),
    ]  # fmt: skip


def test_an_empty_window_has_no_figures() -> None:
    region = make_region()
    report = eta_accuracy(region=region, since=SINCE, until=UNTIL)
    assert _figures(report["overall"]) == (0, None, None, None, None)
    assert (report["groups"], report["excluded"]) == ([], {"no_arrival": 0, "no_eta": 0})


def test_the_api_serves_the_figures_the_chart_and_refuses_what_it_cannot_answer(history) -> None:
    jambi, _, _ = history
    client = APIClient()
    client.force_authenticate(make_user("planner-eta", "planner", regions=[jambi]))
    query = {"region": "kota-jambi", "since": "2026-10-31", "until": "2026-11-03", "group_by": "road_class"}
    answer = client.get("/api/kpis/eta-accuracy/", query)
    assert answer.status_code == 200, answer.content
    assert (answer.json()["overall"]["n"], answer.json()["since"]) == (5, SINCE.isoformat())
    chart = client.get("/api/kpis/eta-accuracy.png", query)
    assert (chart.status_code, chart["Content-Type"], chart.content[:8]) == (200, "image/png", b"\x89PNG\r\n\x1a\n")
    wrong = client.get("/api/kpis/eta-accuracy/", {**query, "group_by": "weather"})
    assert wrong.status_code == 400
    assert "is not a grouping" in str(wrong.json())
    backwards = client.get("/api/kpis/eta-accuracy/", {**query, "since": "2026-11-04"})
    assert backwards.status_code == 400
    assert client.get("/api/kpis/eta-accuracy/", {**query, "region": "kota-ambon"}).status_code == 404
    assert client.get("/api/kpis/eta-accuracy/", {"group_by": "agency"}).status_code == 400


def test_a_token_with_the_kpis_scope_reads_its_own_region_only(history) -> None:
    jambi, _, _ = history
    issued = api_token_create(region=jambi, name="Dinkes dashboard", scopes=["kpis"])
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {issued.text}")
    query = {"since": "2026-10-31", "until": "2026-11-03"}
    assert client.get("/api/kpis/eta-accuracy/", {**query, "region": "kota-jambi"}).json()["overall"]["n"] == 5
    assert client.get("/api/kpis/eta-accuracy/", {**query, "region": "kota-ambon"}).status_code == 404
