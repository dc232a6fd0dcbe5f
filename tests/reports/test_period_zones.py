"""Periods are the region's local dates (Ambon WIT, UTC+9; Jambi WIB, UTC+7); the SQL agrees with the KPI selector."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from factories.gis_core import make_region
from factories.reports import report

from incidents.models import Outcome
from incidents.selectors.kpis import response_kpis
from reports.errors import ReportPeriodError
from reports.periods import period_parse
from reports.selectors.period import period_report

pytestmark = pytest.mark.django_db


def test_ambon_counts_its_own_local_month():
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    jambi = make_region()
    # 2026-09-30 15:30 UTC is Oct 1 00:30 WIT (October in Ambon) but Sep 30 22:30 WIB.
    report(ambon, datetime(2026, 9, 30, 15, 30, tzinfo=UTC), outcome=Outcome.PRANK)
    # 2026-10-31 15:30 UTC is Nov 1 00:30 WIT: November in Ambon.
    report(ambon, datetime(2026, 10, 31, 15, 30, tzinfo=UTC))
    report(jambi, datetime(2026, 10, 10, 3, 0, tzinfo=UTC))  # Jambi's: never in Ambon's report
    period = period_parse(time_zone=ambon.time_zone, period="2026-10")
    assert period.since.isoformat() == "2026-10-01T00:00:00+09:00"
    counts = period_report(region=ambon, period=period)["counts"]
    assert counts["reports"] == 1
    assert [h["key"] for h in counts["by_hour"] if h["reports"]] == [0]  # 00:30 WIT
    assert counts["prank_trend"] == [{"month": "2026-10", "reports": 1, "prank": 1, "prank_share": 1.0}]


@pytest.mark.parametrize("group_by", ["agency", "priority", "kecamatan"])
def test_sql_figures_equal_the_kpi_selectors(history, group_by):
    region = history["region"]
    period = period_parse(time_zone=region.time_zone, period="2026-Q4")
    ours = period_report(region=region, period=period)["response"]
    kpis = response_kpis(region=region, since=period.since, until=period.until, group_by=group_by)
    rows = {"agency": ours["by_agency"], "priority": ours["by_priority"], "kecamatan": ours["by_kecamatan"]}[group_by]
    mine = {r["key"]: (r["reports"], r["responded"], r["mean_s"], r["p90_s"], r["share_within_target"]) for r in rows}
    theirs = {
        g["key"]: (
            g["reports"],
            g["responded"],
            g["response_s"]["mean"],
            g["response_s"]["p90"],
            g["share_within_target"],
        )
        for g in kpis["groups"]
    }
    assert mine == theirs


@pytest.mark.parametrize(
    ("kwargs", "first", "last"),
    [
        ({"period": "2026-02"}, "2026-02-01", "2026-02-28"),
        ({"period": "2028-02"}, "2028-02-01", "2028-02-29"),
        ({"period": "2026-Q4"}, "2026-10-01", "2026-12-31"),
        ({"period": "2026"}, "2026-01-01", "2026-12-31"),
        ({"first": "2026-01-01", "last": "2026-10-30"}, "2026-01-01", "2026-10-30"),
    ],
)
def test_periods(kwargs, first, last):
    period = period_parse(time_zone="Asia/Jakarta", **kwargs)
    assert (period.first.isoformat(), period.last.isoformat()) == (first, last)


def test_period_labels_in_indonesian():
    assert period_parse(time_zone="Asia/Jakarta", period="2026-10").label_id() == "Oktober 2026"
    assert period_parse(time_zone="Asia/Jakarta", period="2026-Q4").label_id() == "Triwulan IV 2026"
    ranged = period_parse(time_zone="Asia/Jakarta", first="2026-01-01", last="2026-10-30")
    assert ranged.label_id() == "1 Januari 2026 - 30 Oktober 2026"


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"period": "2026-13"},
        {"period": "2026-Q5"},
        {"period": "october"},
        {"period": "2026-10", "first": "2026-10-01"},
        {"first": "2026-10-02", "last": "2026-10-01"},
        {"first": "2026-10-01"},
        {"first": "2020-01-01", "last": "2026-01-01"},
        {"first": "2026-10-01\x00", "last": "2026-10-02"},
        {"period": "x" * 10000},
        {"period": "1900"},
    ],
)
def test_bad_periods_say_what_to_write(kwargs):
    with pytest.raises(ReportPeriodError):
        period_parse(time_zone="Asia/Jakarta", **kwargs)
