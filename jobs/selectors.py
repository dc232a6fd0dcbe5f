"""Reads of the queue: how many jobs wait or run, per queue (the metrics' gauge)."""

from __future__ import annotations

from django.db.models import Count
from procrastinate.contrib.django.models import ProcrastinateJob

# Queues Siaga's tasks use (each task names its own); the gauge reports each, 0 when empty.
QUEUES = ("coverage", "imports", "outbound", "maintenance")
WAITING_STATES = ("todo", "doing")


def queue_depth() -> list[tuple[str, str, int]]:
    """``(queue, status, jobs)`` for every known queue and for ``todo`` (waiting) and ``doing`` (running)."""
    counts = {
        (queue, status): n
        for queue, status, n in ProcrastinateJob.objects.filter(status__in=WAITING_STATES)
        .values_list("queue_name", "status")
        .annotate(n=Count("id"))
        .order_by()
    }
    queues = sorted(set(QUEUES) | {queue for queue, _ in counts})
    return [(queue, status, counts.get((queue, status), 0)) for queue in queues for status in WAITING_STATES]
