"""Prometheus exposition: the fleet's ingest counters, dispatch latency, and gauges read at scrape time.

Counters and histograms are kept where things happen (``fleet.metrics``; ``DISPATCH_LATENCY`` here, observed by
``ops.receivers``). Under the production stack (``scripts/serve-production.sh``) each process writes them to
``PROMETHEUS_MULTIPROC_DIR`` and a scrape of any one API worker sums every process: the gunicorn workers, Daphne
and the MQTT bridges (prometheus_client's multiprocess mode). The gauges are not kept anywhere: each scrape asks
the database (open reports per region and status, hand-offs not yet acknowledged per region, background jobs
per queue and state) and Redis (the ingest spool's depth), so every worker answers the same figures.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from django.db.models import BooleanField, Count, ExpressionWrapper, Q
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from redis import RedisError

logger = logging.getLogger(__name__)

# Report received -> its first unit dispatched. Buckets around the 112 targets (minutes, not seconds).
DISPATCH_LATENCY = Histogram(
    "siaga_dispatch_latency_seconds",
    "From a report's receipt to its first dispatched unit",
    buckets=(15, 30, 60, 90, 120, 180, 300, 600, 900, 1800, 3600),
)


class DomainCollector(Collector):
    """Gauges read from the database and Redis at each scrape."""

    def collect(self) -> Iterator[Metric]:
        from fleet.services.spool import spool_depth
        from incidents.models import Incident, IncidentStatus

        open_reports = GaugeMetricFamily(
            "siaga_open_reports", "Reports not closed or cancelled, by region and status", labels=["region", "status"]
        )
        counts = (
            Incident.objects.exclude(status__in=[IncidentStatus.CLOSED, IncidentStatus.CANCELLED])
            .values_list("region__slug", "status")
            .annotate(n=Count("id"))
            .order_by("region__slug", "status")
        )
        for slug, status, count in counts:
            open_reports.add_metric([slug, status], count)
        yield open_reports
        yield unacknowledged_handoffs()
        spool = GaugeMetricFamily("siaga_ingest_spool_depth", "Device messages spooled while the database was away")
        try:
            spool.add_metric([], spool_depth())
        except RedisError:  # Redis is away: no figure rather than a wrong zero
            logger.warning("metrics: the ingest spool's depth cannot be read", exc_info=True)
        else:
            yield spool
        yield job_queue_depth()


def job_queue_depth() -> GaugeMetricFamily:
    """Jobs waiting (``todo``) and running (``doing``) per queue, from procrastinate's table."""
    from jobs.selectors import queue_depth

    gauge = GaugeMetricFamily(
        "siaga_job_queue_depth",
        "Background jobs waiting (todo) or running (doing), by queue",
        labels=["queue", "state"],
    )
    for queue, state, count in queue_depth():
        gauge.add_metric([queue, state], count)
    return gauge


def unacknowledged_handoffs() -> GaugeMetricFamily:
    """Hand-offs pending or sent (not acknowledged), per region and whether they were escalated."""
    from incidents.models import Handoff, HandoffStatus

    gauge = GaugeMetricFamily(
        "siaga_handoffs_unacknowledged",
        "Hand-offs to agencies not yet acknowledged (pending or sent), by region and whether escalated",
        labels=["region", "escalated"],
    )
    counts = (
        Handoff.objects.filter(status__in=[HandoffStatus.PENDING, HandoffStatus.SENT])
        .annotate(escalated=ExpressionWrapper(Q(escalated_at__isnull=False), output_field=BooleanField()))
        .values_list("incident__region__slug", "escalated")
        .annotate(n=Count("id"))
        .order_by("incident__region__slug", "escalated")
    )
    for slug, escalated, count in counts:
        gauge.add_metric([slug, "true" if escalated else "false"], count)
    return gauge


def exposition() -> bytes:
    """Every metric in Prometheus' text format (the processes' counters and this scrape's gauges)."""
    domain = CollectorRegistry(auto_describe=True)
    domain.register(DomainCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
        return generate_latest(processes) + generate_latest(domain)
    return generate_latest(REGISTRY) + generate_latest(domain)
