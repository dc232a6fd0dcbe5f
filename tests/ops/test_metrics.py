"""Prometheus metrics: only the scraper with the token reads them; the domain's counters and gauges are there."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from factories.access import make_user
from factories.fleet import make_agency, make_device, make_incident, make_unit
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from fleet.ingest.fix import CanonicalFix
from fleet.services.positions import position_record
from incidents.services.dispatch import dispatch_assign

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-for-the-tests-0123456789"


@pytest.fixture
def scrape_token(settings) -> str:
    settings.SIAGA_METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(token: str = TOKEN) -> dict[str, float]:
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def test_without_a_configured_token_nobody_may_scrape(settings) -> None:
    settings.SIAGA_METRICS_TOKEN = ""
    admin = make_user("admin", "admin")
    logged_in = Client()
    logged_in.force_login(admin)
    for client in (Client(), logged_in, Client(HTTP_AUTHORIZATION="Bearer ")):
        assert client.get("/metrics").status_code == 403


def test_only_the_scrape_token_is_let_in(scrape_token) -> None:
    assert Client().get("/metrics").status_code == 403
    assert Client(HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").get("/metrics").status_code == 403
    assert Client(HTTP_AUTHORIZATION=f"Basic {TOKEN}").get("/metrics").status_code == 403
    assert "siaga_dispatch_latency_seconds_count{}" in _scrape()


def test_fixes_received_stored_and_flagged_are_counted(scrape_token, jambi_kecamatan) -> None:
    device = make_device(unit=make_unit(agency=make_agency(region=jambi_kecamatan)), identifier="amb-9")
    before = {
        name: REGISTRY.get_sample_value(name, labels) or 0.0
        for name, labels in [
            ("siaga_fixes_received_total", {"protocol": "batch"}),
            ("siaga_fixes_stored_total", {"protocol": "batch"}),
            ("siaga_fixes_flagged_total", {"flag": "zero_position"}),
        ]
    }
    now = timezone.now()
    fixes = [
        CanonicalFix(device_identifier="amb-9", recorded_at=now - timedelta(seconds=30), lon=103.6131, lat=-1.5913),
        CanonicalFix(device_identifier="amb-9", recorded_at=now - timedelta(seconds=20), lon=0.0, lat=0.0),
    ]
    position_record(device=device, fixes=fixes, protocol="batch")
    samples = _scrape()
    assert samples["siaga_fixes_received_total{protocol=batch}"] == before["siaga_fixes_received_total"] + 2
    assert samples["siaga_fixes_stored_total{protocol=batch}"] == before["siaga_fixes_stored_total"] + 2
    assert samples["siaga_fixes_flagged_total{flag=zero_position}"] == before["siaga_fixes_flagged_total"] + 1


def test_open_reports_per_region_and_status(scrape_token, jambi_region) -> None:
    make_incident(region=jambi_region, reference="JMB-1")
    make_incident(region=jambi_region, reference="JMB-2")
    make_incident(region=jambi_region, reference="JMB-3", status="closed")
    samples = _scrape()
    assert samples["siaga_open_reports{region=kota-jambi,status=open}"] == 2
    assert not any("status=closed" in name for name in samples)


def test_dispatch_latency_is_the_first_dispatch_after_receipt(
    scrape_token, jambi_region, django_capture_on_commit_callbacks
) -> None:
    t0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    incident = make_incident(region=jambi_region, received_at=t0)
    count = REGISTRY.get_sample_value("siaga_dispatch_latency_seconds_count") or 0.0
    total = REGISTRY.get_sample_value("siaga_dispatch_latency_seconds_sum") or 0.0
    le_90 = REGISTRY.get_sample_value("siaga_dispatch_latency_seconds_bucket", {"le": "90.0"}) or 0.0
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_assign(incident=incident, unit=make_unit(call_sign="AMB-1"), at=t0 + timedelta(seconds=75))
        dispatch_assign(incident=incident, unit=make_unit(call_sign="AMB-2"), at=t0 + timedelta(seconds=400))
    samples = _scrape()
    # One observation (the second unit is not the report's first dispatch): 75 s, in the 90 s bucket.
    assert samples["siaga_dispatch_latency_seconds_count{}"] == count + 1
    assert samples["siaga_dispatch_latency_seconds_sum{}"] == pytest.approx(total + 75)
    assert samples["siaga_dispatch_latency_seconds_bucket{le=90.0}"] == le_90 + 1


def test_job_queue_depth_per_queue_and_state(scrape_token, jambi_region) -> None:
    from gis_core.tasks import import_roads_enqueue

    before = _scrape()
    assert before["siaga_job_queue_depth{queue=coverage,state=todo}"] >= 0  # every known queue is reported
    for _ in range(2):
        import_roads_enqueue(region=jambi_region, path=None, place="Kota Jambi", speeds_kph={}, keep_versions=2,
                             clip_buffer_m=None)  # fmt: skip
    after = _scrape()
    key = "siaga_job_queue_depth{queue=imports,state=todo}"
    assert after[key] == before[key] + 2  # queued in this test's transaction, waiting for a worker
    assert (
        after["siaga_job_queue_depth{queue=imports,state=doing}"]
        == before["siaga_job_queue_depth{queue=imports,state=doing}"]
    )


def test_unacknowledged_hand_offs_per_region_escalated_or_not(scrape_token, jambi_region) -> None:
    from incidents.models import Handoff, HandoffStatus
    from incidents.services.handoffs import handoff_create

    incident = make_incident(region=jambi_region)
    agencies = [make_agency(region=jambi_region, code=f"polsek-{i}", kind="police") for i in range(3)]
    legs = [handoff_create(incident=incident, agency=agency) for agency in agencies]  # by phone: sent at once
    Handoff.objects.filter(pk=legs[0].pk).update(escalated_at=timezone.now())  # not acknowledged in time
    Handoff.objects.filter(pk=legs[2].pk).update(status=HandoffStatus.ACKNOWLEDGED, acknowledged_at=timezone.now())
    samples = _scrape()
    assert samples["siaga_handoffs_unacknowledged{escalated=true,region=kota-jambi}"] == 1
    assert samples["siaga_handoffs_unacknowledged{escalated=false,region=kota-jambi}"] == 1
    Handoff.objects.filter(pk__in=[legs[0].pk, legs[1].pk]).update(status=HandoffStatus.CLOSED)
    assert not any(name.startswith("siaga_handoffs_unacknowledged{") for name in _scrape())  # read at each scrape
