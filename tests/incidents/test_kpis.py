"""response_kpis: response times per agency, priority and kecamatan, checked against hand-computed figures.

The scene (times in seconds after each report was received):

====  ========  =====  ==========  ====================================================================
rep   priority  kec    agency      dispatched / en route / on scene
====  ========  =====  ==========  ====================================================================
I1    1         01     damkar      60 / 120 / 600
I1                     psc119      30 / 90 / 480
I2    2         01     damkar      120 / 240 / 1200
I3    1         02     psc119      30 / 90 / 720
I4    2         none   damkar      60 / - / -   (cancelled before arrival: does not count)
I5    3         02     polisi      10 / 20 / 300
I6    1         01     psc119      received before the window: not counted
====  ========  =====  ==========  ====================================================================

Targets: damkar (fire) has none set, so DOMAIN.md's 15 min (900 s) applies; psc119 sets 600 s; the
police have none and no default, so they are left out of the share. p90 is the linear-interpolation
percentile: for sorted v[0..n-1], h = 0.9 (n - 1), p90 = v[floor h] + (h - floor h)(v[floor h + 1] - v[floor h]).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from factories.fleet import make_agency, make_incident, make_unit

from fleet.models import Agency, AgencyKind
from gis_core.models import Kecamatan
from incidents.models import Assignment, AssignmentStatus, ResponseTarget
from incidents.selectors.kpis import DEFAULT_TARGET_S, percentile_linear, response_kpis

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
SINCE, UNTIL = T0, T0 + timedelta(days=1)


def _assign(incident, unit, dispatched_s, en_route_s=None, on_scene_s=None, *, cancelled=False):
    at = incident.received_at

    def t(s):
        return None if s is None else at + timedelta(seconds=s)

    end = t(max(s for s in (dispatched_s, en_route_s, on_scene_s) if s is not None) + 60)
    a = Assignment(
        incident=incident,
        unit=unit,
        status=AssignmentStatus.CANCELLED if cancelled else AssignmentStatus.CLEARED,
        dispatched_at=t(dispatched_s),
        en_route_at=t(en_route_s),
        on_scene_at=t(on_scene_s),
        cancelled_at=end if cancelled else None,
        cleared_at=None if cancelled else end,
    )
    a.full_clean()
    a.save()
    return a


@pytest.fixture
def scene(jambi_kecamatan):
    region = jambi_kecamatan
    k01, k02 = Kecamatan.objects.get(code="15.71.01"), Kecamatan.objects.get(code="15.71.02")
    damkar = make_unit(agency=make_agency(region=region, code="damkar", kind=AgencyKind.FIRE, response_target_s=None))
    psc = make_unit(agency=make_agency(region=region, code="psc119", kind=AgencyKind.EMS, response_target_s=600))
    polisi = make_unit(agency=make_agency(region=region, code="polisi", kind=AgencyKind.POLICE, response_target_s=None))

    def report(hours, priority, kec):
        return make_incident(region=region, received_at=T0 + timedelta(hours=hours), priority=priority, kecamatan=kec)

    i1, i2, i3 = report(1, 1, k01), report(2, 2, k01), report(3, 1, k02)
    i4, i5, i6 = report(4, 2, None), report(5, 3, k02), report(-1, 1, k01)
    _assign(i1, damkar, 60, 120, 600)
    _assign(i1, psc, 30, 90, 480)
    _assign(i2, damkar, 120, 240, 1200)
    _assign(i3, psc, 30, 90, 720)
    _assign(i4, damkar, 60, cancelled=True)
    _assign(i5, polisi, 10, 20, 300)
    _assign(i6, psc, 10, 20, 30)
    return region


def _groups(region, group_by):
    result = response_kpis(region=region, since=SINCE, until=UNTIL, group_by=group_by)
    assert result["group_by"] == group_by
    return {g["key"]: g for g in result["groups"]}


def test_percentile_is_linear_interpolation() -> None:
    # By hand: h = 0.9 * 3 = 2.7 -> 30 + 0.7 * (40 - 30) = 37.
    assert percentile_linear([40, 10, 30, 20], 90) == pytest.approx(37.0)
    assert percentile_linear([], 90) is None


def test_per_agency(scene) -> None:
    groups = _groups(scene, "agency")
    assert set(groups) == {"damkar", "psc119", "polisi"}
    damkar = groups["damkar"]
    # I1 600 s, I2 1200 s (I4 never arrived and was cancelled: not one of its reports).
    assert (damkar["reports"], damkar["responded"]) == (2, 2)
    # mean (600 + 1200) / 2 = 900; p90: h = 0.9 -> 600 + 0.9 * 600 = 1140.
    assert damkar["response_s"] == {"n": 2, "mean": 900.0, "p90": 1140.0}
    # Default fire target 900 s (DOMAIN.md); 600 within, 1200 not -> 1/2.
    assert damkar["target_s"] == DEFAULT_TARGET_S[AgencyKind.FIRE] == 900
    assert (damkar["share_within_target"], damkar["judged_against_target"]) == (0.5, 2)
    # Phases of I1 and I2: dispatched 60, 120 -> mean 90; turnout 60, 120 -> 90; travel 480, 960 -> 720.
    assert damkar["received_to_dispatched_s"] == {"n": 2, "mean": 90.0, "p90": 114.0}  # 60 + 0.9 * 60
    assert damkar["dispatched_to_en_route_s"]["mean"] == 90.0
    assert damkar["en_route_to_on_scene_s"] == {"n": 2, "mean": 720.0, "p90": 912.0}  # 480 + 0.9 * 480
    psc = groups["psc119"]
    # I1 480 s, I3 720 s (I6 is before the window): mean 600; p90 480 + 0.9 * 240 = 696; target 600 -> 1/2.
    assert psc["response_s"] == {"n": 2, "mean": 600.0, "p90": 696.0}
    assert (psc["target_s"], psc["share_within_target"]) == (600, 0.5)
    polisi = groups["polisi"]
    # One report at 300 s; no target for the police: no share.
    assert polisi["response_s"] == {"n": 1, "mean": 300.0, "p90": 300.0}
    assert (polisi["target_s"], polisi["share_within_target"], polisi["judged_against_target"]) == (None, None, 0)


def test_per_priority_judges_each_report_on_its_first_arriving_agency(scene) -> None:
    groups = _groups(scene, "priority")
    assert set(groups) == {1, 2, 3}
    p1 = groups[1]
    # I1: first on scene is psc119 at 480 (target 600: within); I3: psc119 720 (not within).
    assert p1["response_s"] == {"n": 2, "mean": 600.0, "p90": 696.0}
    assert p1["share_within_target"] == 0.5
    p2 = groups[2]
    # I2: damkar 1200 (target 900: not within); I4: no unit arrived (counted, no response time).
    assert (p2["reports"], p2["responded"]) == (2, 1)
    assert p2["response_s"] == {"n": 1, "mean": 1200.0, "p90": 1200.0}
    assert p2["share_within_target"] == 0.0
    assert groups[3]["share_within_target"] is None  # the police only: no target
    assert p1["label"] == "1 critical"


def test_targets_per_priority_override_the_agency_target(scene) -> None:
    psc, damkar = Agency.objects.get(code="psc119"), Agency.objects.get(code="damkar")
    ResponseTarget.objects.create(agency=psc, priority=1, target_s=300)  # psc119: 600 s otherwise
    ResponseTarget.objects.create(agency=damkar, priority=2, target_s=1500)  # damkar: the fire default 900 otherwise
    agency = _groups(scene, "agency")
    # psc119 reached I1 (priority 1) in 480 s and I3 (priority 1) in 720 s: both over 300 -> 0 (was 1/2).
    assert (agency["psc119"]["share_within_target"], agency["psc119"]["judged_against_target"]) == (0.0, 2)
    assert (agency["psc119"]["target_s"], agency["psc119"]["target_by_priority_s"]) == (600, {1: 300})
    # damkar: I1 (priority 1) 600 <= 900, I2 (priority 2) 1200 <= 1500 -> 1 (was 1/2).
    assert agency["damkar"]["share_within_target"] == 1.0
    assert agency["polisi"]["target_by_priority_s"] == {}
    priority = _groups(scene, "priority")
    # Priority 1: I1 and I3, psc119 first at 480 and 720 against 300 -> 0; priority 2: I2 1200 <= 1500 -> 1.
    assert (priority[1]["share_within_target"], priority[2]["share_within_target"]) == (0.0, 1.0)
    assert "target_by_priority_s" not in priority[1]


def test_a_priority_target_is_unique_per_agency_and_positive(scene) -> None:
    psc = Agency.objects.get(code="psc119")
    with pytest.raises(ValidationError, match="target_s"):
        ResponseTarget(agency=psc, priority=1, target_s=0).full_clean()
    ResponseTarget.objects.create(agency=psc, priority=1, target_s=300)
    with translation.override("en"), pytest.raises(ValidationError, match="Agency and Priority already exists"):
        ResponseTarget(agency=psc, priority=1, target_s=400).full_clean()


def test_per_kecamatan(scene) -> None:
    groups = _groups(scene, "kecamatan")
    assert set(groups) == {"15.71.01", "15.71.02", None}
    k01 = groups["15.71.01"]
    # I1 480 (psc119 first), I2 1200: mean 840; p90 480 + 0.9 * 720 = 1128; 480 <= 600 yes, 1200 > 900 no.
    assert k01["response_s"] == {"n": 2, "mean": 840.0, "p90": 1128.0}
    assert (k01["label"], k01["share_within_target"]) == ("Telanaipura", 0.5)
    k02 = groups["15.71.02"]
    # I3 720 and I5 300: mean 510; p90 300 + 0.9 * 420 = 678; only I3 has a target (600): not within -> 0.
    assert k02["response_s"] == {"n": 2, "mean": 510.0, "p90": 678.0}
    assert (k02["share_within_target"], k02["judged_against_target"]) == (0.0, 1)
    assert (groups[None]["reports"], groups[None]["responded"], groups[None]["label"]) == (1, 0, "no kecamatan")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="group_by must be one of agency, priority, kecamatan"):
        response_kpis(region=None, since=SINCE, until=UNTIL, group_by="colour")
    with pytest.raises(ValueError, match="must be before until"):
        response_kpis(region=None, since=UNTIL, until=SINCE)


def test_per_day_and_month_count_the_regions_local_days() -> None:
    from factories.gis_core import make_region

    jambi = make_region()  # WIB, UTC+7
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)  # WIT, UTC+9
    # 2026-03-31 16:30 UTC is 23:30 WIB and 01:30 WIT (1 April); 17:30 UTC is 00:30 WIB on 1 April.
    for at in (datetime(2026, 3, 31, 16, 30, tzinfo=UTC), datetime(2026, 3, 31, 17, 30, tzinfo=UTC)):
        make_incident(region=jambi, received_at=at)
        make_incident(region=ambon, received_at=at, geom=None)
    window = {"since": datetime(2026, 3, 30, tzinfo=UTC), "until": datetime(2026, 4, 2, tzinfo=UTC)}

    def reports(region, group_by):
        result = response_kpis(region=region, group_by=group_by, **window)
        return result["time_zone"], {g["key"]: g["reports"] for g in result["groups"]}

    assert reports(jambi, "day") == ("Asia/Jakarta", {"2026-03-31": 1, "2026-04-01": 1})
    assert reports(ambon, "day") == ("Asia/Jayapura", {"2026-04-01": 2})
    assert reports(jambi, "month") == ("Asia/Jakarta", {"2026-03": 1, "2026-04": 1})
    assert reports(ambon, "month") == ("Asia/Jayapura", {"2026-04": 2})
