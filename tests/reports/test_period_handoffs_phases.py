"""The period report's hand-offs per agency and response phases, on the seeded history (conftest.py).

Phases (test_period_report.py's table, October): Damkar's first unit on scene was dispatched 60 s (R1),
120 s (R2) and 60 s (R3) after the report, none with an en-route time; PSC 119's 30 s (R1, P1) and 120 s
(R7, P2; P1's cancelled dispatch does not count).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from factories.fleet import make_agency
from factories.reports import utc

from fleet.models import AgencyKind
from incidents.models import Handoff, HandoffStatus
from incidents.selectors.kpis import response_kpis
from reports.periods import period_parse
from reports.selectors.period import period_report

pytestmark = pytest.mark.django_db


def _report(history, period="2026-10"):
    region = history["region"]
    return period_report(region=region, period=period_parse(time_zone=region.time_zone, period=period),
                         now=datetime(2026, 12, 1, tzinfo=UTC))  # fmt: skip


def _handoff(incident, agency, created, *, sent_s=None, ack_s=None, escalated=False):
    def at(s):
        return None if s is None else created + timedelta(seconds=s)

    status = HandoffStatus.SENT if sent_s is not None else HandoffStatus.PENDING
    status = HandoffStatus.ACKNOWLEDGED if ack_s is not None else status
    h = Handoff(incident=incident, agency=agency, channel="manual", source="dispatcher", status=status,
                created_at=created, sent_at=at(sent_s), acknowledged_at=at(ack_s),
                escalated_at=at(900) if escalated else None)  # fmt: skip
    h.full_clean()
    h.save()
    return h


@pytest.fixture
def handoffs(history):
    region, r = history["region"], history["reports"]
    polisi = make_agency(region=region, code="polresta", name="Polresta", kind=AgencyKind.POLICE)
    satpol = make_agency(region=region, code="satpolpp", name="Satpol PP", kind=AgencyKind.OTHER)
    # Created 23:45 WIB on 31 October, acknowledged 00:16 WIB on 1 November: October's, 1,800 s after it was sent.
    _handoff(r[3], polisi, utc(2026, 10, 31, 16, 45), sent_s=60, ack_s=1860)
    _handoff(r[2], polisi, utc(2026, 10, 10, 3, 0), sent_s=0, ack_s=300)
    _handoff(r[7], polisi, utc(2026, 10, 12, 7, 5), sent_s=10, escalated=True)  # sent, never acknowledged
    _handoff(r[4], polisi, utc(2026, 10, 31, 17, 5), sent_s=0, ack_s=60)  # 00:05 WIB 1 November: November's
    _handoff(r[9], satpol, utc(2026, 10, 20, 1, 0))  # never delivered
    return history


def test_handoffs_per_agency(handoffs):
    rows = {r["key"]: r for r in _report(handoffs)["hand_offs"]["by_agency"]}
    assert set(rows) == {"polresta", "satpolpp"}
    p = rows["polresta"]
    assert (p["handoffs"], p["sent"], p["acknowledged"], p["unacknowledged"], p["escalated"]) == (3, 3, 2, 1, 1)
    assert p["acknowledged_share"] == 0.6667  # 2 of the 3 sent
    assert p["ack_s"] == {"n": 2, "mean": 1050.0, "p90": 1650.0}  # (300 + 1800) / 2; 300 + 0.9 x 1500
    s = rows["satpolpp"]
    assert (s["handoffs"], s["sent"], s["acknowledged_share"], s["ack_s"]["mean"]) == (1, 0, None, None)
    november = {r["key"]: r for r in _report(handoffs, "2026-11")["hand_offs"]["by_agency"]}
    assert november["polresta"]["handoffs"] == 1
    assert november["polresta"]["ack_s"]["mean"] == 60.0


def test_no_handoffs_is_an_empty_table(history):
    assert _report(history)["hand_offs"] == {"by_agency": []}


def test_response_phases_per_agency(history):
    agencies = {r["key"]: r for r in _report(history)["response"]["by_agency"]}
    damkar, psc = agencies["damkar"]["phases"], agencies["psc119"]["phases"]
    # Damkar: 60, 60, 120 -> mean 80, p90 60 + 0.8 x 60 = 108; PSC 119: 30, 120 -> mean 75, p90 30 + 0.9 x 90.
    assert damkar["received_to_dispatched_s"] == {"n": 3, "mean_s": 80.0, "p90_s": 108.0}
    assert damkar["dispatched_to_en_route_s"] == {"n": 0, "mean_s": None, "p90_s": None}
    assert psc["received_to_dispatched_s"] == {"n": 2, "mean_s": 75.0, "p90_s": 111.0}
    # The same figures as the KPI API's, by its rules.
    region = history["region"]
    period = period_parse(time_zone=region.time_zone, period="2026-10")
    kpis = {g["key"]: g for g in response_kpis(region=region, since=period.since, until=period.until)["groups"]}
    for code, row in agencies.items():
        for phase, figures in row["phases"].items():
            expected = kpis[code][phase]
            assert [figures["n"], figures["mean_s"], figures["p90_s"]] == [expected[k] for k in ("n", "mean", "p90")]
