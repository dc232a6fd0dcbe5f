"""period_report on the seeded history of conftest.py, against figures computed by hand.

Kota Jambi is WIB (UTC+7): October 2026 is 2026-09-30 17:00 UTC to 2026-10-31 17:00 UTC.

====  ================  ==============  ========  =======  =====  ====  ===========  ===========================
rep   received (UTC)    local (WIB)     channel   type     kec    prio  outcome      dispatches (s after received)
====  ================  ==============  ========  =======  =====  ====  ===========  ===========================
R1    09-30 17:30       10-01 00:30     phone     fire     01     1     genuine      D1 on scene 600, P1 480
R2    10-10 16:55       10-10 23:55     phone     fire     01     1     genuine      D1 on scene 840 (00:09, next day)
R3    10-31 16:50       10-31 23:50     whatsapp  fire     02     1     genuine      D2 on scene 1200 (Nov 1 00:10)
R4    10-31 17:10       11-01 00:10     phone     -        01     3     prank        - (November, though Oct 31 in UTC)
R5    09-30 16:50       09-30 23:50     phone     fire     01     1     genuine      D1 300 (September in WIB)
R6    10-05 03:00       10-05 10:00     whatsapp  -        -      2     prank        -
R7    10-12 07:00       10-12 14:00     phone     medical  02     2     genuine      P1 cancelled before arrival; P2 900
R8    10-19 20:00       10-20 03:00     phone     -        -      3     silent       -
R9    10-15 07:00       10-15 14:00     phone     fire     02     2     false alarm  D1 dispatched, never on scene
R10   10-02 01:00       10-02 08:00     phone     -        01     3     prank        -
R11   11-03 03:00       11-03 10:00     phone     -        -      3     prank        -
====  ================  ==============  ========  =======  =====  ====  ===========  ===========================

October: R1, R2, R3, R6, R7, R8, R9, R10 (8 reports). Targets: Damkar none set, so the fire default 900 s;
PSC 119 600 s, 1200 s for priority 2. p90 by linear interpolation: h = 0.9 (n - 1), v[floor h] + frac(h) x
(v[floor h + 1] - v[floor h]).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reports.periods import period_parse
from reports.selectors.period import period_report

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 1, tzinfo=UTC)
OCTOBER_S = 31 * 86400


def _report(history, period="2026-10", **kw):
    region = history["region"]
    return period_report(region=region, period=period_parse(time_zone=region.time_zone, period=period, **kw), now=NOW)


def _by_key(rows):
    return {row["key"]: row for row in rows}


def test_counts_by_channel_type_kecamatan_in_local_time(history):
    counts = _report(history)["counts"]
    assert counts["reports"] == 8
    assert {r["key"]: r["reports"] for r in counts["by_channel"]} == {"phone": 6, "whatsapp": 2}
    assert {r["key"]: r["reports"] for r in counts["by_type"]} == {"fire": 4, "medical": 1, None: 3}
    assert {r["key"]: r["reports"] for r in counts["by_kecamatan"]} == {"15.71.01": 3, "15.71.02": 3, None: 2}
    assert _by_key(counts["by_channel"])["whatsapp"]["share"] == 0.25  # 2 / 8


def test_hour_of_day_is_local(history):
    hours = {r["key"]: r["reports"] for r in _report(history)["counts"]["by_hour"] if r["reports"]}
    # R1 00:30, R10 08:00, R6 10:00, R8 03:00, R7 and R9 14:00, R2 23:55 and R3 23:50 (WIB, not UTC).
    assert hours == {0: 1, 3: 1, 8: 1, 10: 1, 14: 2, 23: 2}


def test_outcomes_and_prank_share(history):
    counts = _report(history)["counts"]
    assert {r["key"]: r["reports"] for r in counts["outcomes"]} == {
        "genuine": 4, "false_alarm": 1, "prank": 2, "silent": 1, "unknown": 0,
    }  # fmt: skip
    assert counts["prank"] == 2
    assert counts["prank_share"] == 0.25  # R6, R10 of 8


def test_prank_trend_per_local_month(history):
    counts = _report(history, period="2026-Q4")["counts"]
    assert counts["reports"] == 10  # October's 8, R4 and R11
    assert counts["prank_trend"] == [
        {"month": "2026-10", "reports": 8, "prank": 2, "prank_share": 0.25},
        {"month": "2026-11", "reports": 2, "prank": 2, "prank_share": 1.0},  # R4 (Nov 1 00:10 WIB), R11
        {"month": "2026-12", "reports": 0, "prank": 0, "prank_share": None},
    ]


def test_response_overall_and_per_priority(history):
    response = _report(history)["response"]
    # First unit on scene: R1 480 (P1, target 600), R2 840 (900), R3 1200 (900), R7 900 (P2; P1's cancelled
    # dispatch does not count; target 1200). R9 was never reached, R6, R8, R10 had no unit.
    overall = response["overall"]
    assert (overall["reports"], overall["responded"]) == (8, 4)
    assert overall["mean_s"] == 855.0  # (480 + 840 + 900 + 1200) / 4
    assert overall["p90_s"] == 1110.0  # h = 2.7: 900 + 0.7 x 300
    assert overall["share_within_target"] == 0.75  # 3 of 4
    p = _by_key(response["by_priority"])
    assert (p[1]["mean_s"], p[1]["p90_s"], p[1]["share_within_target"]) == (840.0, 1128.0, 0.6667)  # 480, 840, 1200
    assert (p[2]["reports"], p[2]["responded"], p[2]["mean_s"], p[2]["share_within_target"]) == (3, 1, 900.0, 1.0)
    assert (p[3]["reports"], p[3]["responded"], p[3]["mean_s"], p[3]["p90_s"]) == (2, 0, None, None)


def test_response_per_kecamatan(history):
    k = _by_key(_report(history)["response"]["by_kecamatan"])
    assert (k["15.71.01"]["reports"], k["15.71.01"]["mean_s"], k["15.71.01"]["p90_s"]) == (3, 660.0, 804.0)  # 480, 840
    assert k["15.71.01"]["share_within_target"] == 1.0
    assert (k["15.71.02"]["mean_s"], k["15.71.02"]["p90_s"]) == (1050.0, 1170.0)  # 900, 1200: 900 + 0.9 x 300
    assert k["15.71.02"]["share_within_target"] == 0.5  # R7 within 1200, R3 over 900
    assert (k[None]["reports"], k[None]["responded"]) == (2, 0)


def test_response_per_agency_judges_each_on_its_own_units(history):
    a = _by_key(_report(history)["response"]["by_agency"])
    # Damkar: R1 600, R2 840, R3 1200, R9 never on scene; target 900 (fire default).
    assert (a["damkar"]["reports"], a["damkar"]["responded"], a["damkar"]["target_s"]) == (4, 3, 900)
    assert (a["damkar"]["mean_s"], a["damkar"]["p90_s"]) == (880.0, 1128.0)  # 2640 / 3; 840 + 0.8 x 360
    assert a["damkar"]["share_within_target"] == 0.6667
    # PSC 119: R1 480 (priority 1, 600), R7 900 (priority 2, 1200).
    assert (a["psc119"]["reports"], a["psc119"]["mean_s"], a["psc119"]["p90_s"]) == (2, 690.0, 858.0)
    assert a["psc119"]["share_within_target"] == 1.0
    assert [(r["key"], r["mean_s"]) for r in a["psc119"]["by_priority"]] == [(1, 480.0), (2, 900.0)]
    assert [(r["key"], r["responded"]) for r in a["damkar"]["by_priority"]] == [(1, 3), (2, 0)]


def test_units_time_per_status(history):
    times = _report(history)["unit_time"]
    units = {u["call_sign"]: u for u in times["units"]}
    d1 = units["D1"]["seconds_by_status"]
    # Out of service from before the period to Oct 1 00:00 UTC (7 h after the period's start), then available
    # 1 h, dispatched 10 min, en route 20 min, on scene 1 h, available to the end.
    assert d1["out_of_service"] == 7 * 3600
    assert (d1["dispatched"], d1["en_route"], d1["on_scene"]) == (600, 1200, 3600)
    assert d1["available"] == OCTOBER_S - 7 * 3600 - 600 - 1200 - 3600
    assert units["D1"]["total_s"] == OCTOBER_S
    assert units["D2"]["seconds_by_status"]["available"] == OCTOBER_S  # no change ever: its status now
    assert units["P1"]["seconds_by_status"]["out_of_service"] == OCTOBER_S  # the first change after says so
    damkar = {a["agency"]: a for a in times["agencies"]}["damkar"]
    assert damkar["units"] == 2
    assert damkar["share_by_status"]["on_scene"] == round(3600 / (2 * OCTOBER_S), 4)


def test_units_time_is_cut_at_now(history):
    region = history["region"]
    now = datetime(2026, 10, 10, 17, 0, tzinfo=UTC)  # Oct 11 00:00 WIB: ten days in
    report = period_report(region=region, period=period_parse(time_zone=region.time_zone, period="2026-10"), now=now)
    units = {u["call_sign"]: u for u in report["unit_time"]["units"]}
    assert units["D2"]["total_s"] == 10 * 86400


def test_range_with_both_days_included(history):
    counts = _report(history, period=None, first="2026-10-31", last="2026-11-01")["counts"]
    assert counts["reports"] == 2  # R3 (Oct 31 23:50 WIB) and R4 (Nov 1 00:10 WIB)
