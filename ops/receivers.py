"""Dispatch latency: observed when a report's first assignment is committed.

A metric only watches: listening to the assignment's ``post_save`` keeps the dispatch service free of
monitoring code, and the observation runs after commit, so a rolled-back dispatch is never counted.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from incidents.models import Assignment
from ops.metrics import DISPATCH_LATENCY


@receiver(post_save, sender=Assignment, dispatch_uid="ops.dispatch_latency")
def _first_dispatch(sender, instance: Assignment, created: bool, **kwargs) -> None:
    if not created or kwargs.get("raw"):
        return
    if Assignment.objects.filter(incident_id=instance.incident_id).exclude(pk=instance.pk).exists():
        return  # a second unit for the same report: its latency is the first one's
    received_at = instance.incident.received_at
    latency_s = (instance.dispatched_at - received_at).total_seconds()
    transaction.on_commit(lambda: DISPATCH_LATENCY.observe(max(latency_s, 0.0)))
