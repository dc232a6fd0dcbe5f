"""Run queued jobs through procrastinate's own worker, in the test's process, against the test database.

The worker is the one ``manage.py procrastinate worker`` runs (its fetch with ``SKIP LOCKED``, its task
middleware, our tasks' bodies): only its loop ends once nothing is left to do (``wait=False``) rather than
waiting for more. A job's rows must be committed for a worker to see them, so tests that use it take the
``transactional_db`` fixture (``pytest.mark.django_db(transaction=True)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.db import connection
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob


def run_jobs(*, queues: Sequence[str] | None = None, concurrency: int = 1) -> dict[str, int]:
    """Work through every job that is due now (of ``queues``, default all); returns how many of those queues'
    jobs are in each status, the ones finished before this run left out."""
    before = set(ProcrastinateJob.objects.values_list("id", flat=True).filter(status__in=["succeeded", "failed"]))
    # The worker's threads end with its loop here (in a server they live on): their database connections must
    # close after each task (procrastinate's Django middleware does when CONN_MAX_AGE says so), not be dropped.
    db_settings = connection.settings_dict
    saved, db_settings["CONN_MAX_AGE"] = db_settings["CONN_MAX_AGE"], 0
    try:
        with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
            worker_app.run_worker(
                queues=list(queues) if queues else None,
                wait=False,
                install_signal_handlers=False,
                listen_notify=False,
                concurrency=concurrency,
            )
    finally:
        db_settings["CONN_MAX_AGE"] = saved
    counts: dict[str, int] = {}
    ran = ProcrastinateJob.objects.exclude(id__in=before)
    if queues:
        ran = ran.filter(queue_name__in=list(queues))
    for status in ran.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def purge_queue() -> None:
    """Forget every queued job: the flush between transactional tests leaves procrastinate's tables alone."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_periodic_defers")
        cursor.execute("DELETE FROM procrastinate_jobs")


@pytest.fixture
def run_queued(transactional_db):
    """``run_queued()`` runs every job due now through the real worker (see :func:`run_jobs`); the queue starts
    empty, whatever an earlier test left in it."""
    purge_queue()
    yield run_jobs
    purge_queue()
