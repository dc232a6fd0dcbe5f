"""The job queue through procrastinate's own worker: progress seen while a job runs, a failure recorded with its
reason, each job taken exactly once by two workers at once, and the periodic jobs scheduled."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
from croniter import croniter
from django.conf import settings
from django.db import connection, transaction
from procrastinate.contrib.django import DjangoApp, app
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.periodic import PeriodicDeferrer

from coverage.errors import CoverageInputError
from jobs.models import Job, JobState
from jobs.selectors import queue_depth
from jobs.services import Progress, job_enqueue, job_run

seen: dict[str, list] = {"progress": [], "ran": []}
lock = threading.Lock()


def _read_job(job_id: int) -> tuple[float, str, str]:
    """The job's row as another process sees it (committed data only)."""
    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432}
    with psycopg.connect(**params) as other:
        return other.execute("SELECT progress, message, state FROM jobs_job WHERE id = %s", [job_id]).fetchone()


def halfway_body(job_id: int) -> None:
    def body(job: Job, progress: Progress) -> str:
        with transaction.atomic():  # an import writes its network in one transaction: progress still shows
            progress(0.5, "half of it")
            seen["progress"].append(_read_job(job_id))
        return "/somewhere/1/"

    job_run(job_id, body)


def refused_body(job_id: int) -> None:
    def body(job: Job, progress: Progress) -> str:
        raise CoverageInputError("no station of agency polisi lies on the network: name another agency")

    job_run(job_id, body, expected=(CoverageInputError,))


def broken_body(job_id: int) -> None:
    def body(job: Job, progress: Progress) -> str:
        raise ZeroDivisionError("division by zero")

    job_run(job_id, body, expected=(CoverageInputError,))


def counted_body(job_id: int) -> None:
    def body(job: Job, progress: Progress) -> str:
        time.sleep(0.02)  # long enough for the other worker to try the same rows
        with lock:
            seen["ran"].append((job_id, threading.current_thread().name))
        return ""

    job_run(job_id, body)


def _tasks_app(connector) -> DjangoApp:
    """A throwaway app with the test tasks (procrastinate's advice: they stay off the app Siaga runs); one per
    worker, as each worker process has its own."""
    tasks_app = DjangoApp(connector=connector)
    for body in (halfway_body, refused_body, broken_body, counted_body):
        tasks_app.task(queue="tests", name=f"tests.{body.__name__.removesuffix('_body')}")(body)
    return tasks_app


deferring = _tasks_app(app.connector)  # defers in the caller's transaction (Django's connection)
halfway, refused, broken, counted = (deferring.tasks[f"tests.{n}"] for n in ("halfway", "refused", "broken", "counted"))


def _work(*, concurrency: int = 1) -> None:
    """One worker, as ``manage.py procrastinate worker --queues tests`` runs it, until nothing is left."""
    _tasks_app(app.connector.get_worker_connector()).run_worker(
        queues=["tests"], wait=False, install_signal_handlers=False, listen_notify=False, concurrency=concurrency
    )


@pytest.fixture(autouse=True)
def _connections_closed_after_each_task():
    """The workers' threads end with their loops here: their connections close after each task (as
    procrastinate's middleware does when CONN_MAX_AGE says so) rather than being dropped open."""
    saved, connection.settings_dict["CONN_MAX_AGE"] = connection.settings_dict["CONN_MAX_AGE"], 0
    yield
    connection.settings_dict["CONN_MAX_AGE"] = saved


@pytest.fixture(autouse=True)
def _fresh(run_queued):
    for values in seen.values():
        values.clear()


def test_a_queued_job_shows_its_progress_while_it_runs_and_its_result() -> None:
    job = job_enqueue(task=halfway, kind="tests.halfway", params={"n": 1}, message="waiting for a worker")
    assert (job.state, job.message) == (JobState.QUEUED, "waiting for a worker")
    assert ProcrastinateJob.objects.get(id=job.queue_job_id).status == "todo"
    assert ("tests", "todo", 1) in queue_depth()
    _work()
    # Seen from another connection while the job's own transaction was still open.
    assert seen["progress"] == [(0.5, "half of it", JobState.RUNNING)]
    job.refresh_from_db()
    assert (job.state, job.progress, job.result_url, job.error) == (JobState.SUCCEEDED, 1.0, "/somewhere/1/", "")
    assert job.started_at <= job.finished_at
    assert ProcrastinateJob.objects.get(id=job.queue_job_id).status == "succeeded"
    assert not [n for queue, _, n in queue_depth() if queue == "tests" and n]


def _queue_then_fail() -> None:
    with transaction.atomic():
        job_enqueue(task=halfway, kind="tests.halfway")
        raise RuntimeError("the request failed after queueing")


def test_a_job_deferred_in_a_transaction_that_rolls_back_never_exists() -> None:
    with pytest.raises(RuntimeError):
        _queue_then_fail()
    assert not Job.objects.exists()
    assert not ProcrastinateJob.objects.filter(task_name="tests.halfway").exists()


def test_a_failed_job_says_why() -> None:
    expected = job_enqueue(task=refused, kind="tests.refused")
    internal = job_enqueue(task=broken, kind="tests.broken")
    _work()
    expected.refresh_from_db()
    assert expected.state == JobState.FAILED
    assert expected.error == "no station of agency polisi lies on the network: name another agency"
    assert expected.error_code == "coverage_error"
    assert expected.as_dict()["error"] == {"code": "coverage_error", "message": expected.error}
    internal.refresh_from_db()
    assert internal.state == JobState.FAILED
    assert internal.error_code == "internal_error"
    assert "ZeroDivisionError: division by zero" in internal.error
    # The person's error ended the job as planned; the internal one is raised, so the queue records it too.
    statuses = dict(ProcrastinateJob.objects.filter(task_name__startswith="tests.").values_list("task_name", "status"))
    assert statuses == {"tests.refused": "succeeded", "tests.broken": "failed"}


def test_two_workers_take_each_job_exactly_once() -> None:
    jobs = [job_enqueue(task=counted, kind="tests.counted").pk for _ in range(24)]
    workers = [threading.Thread(target=_work, kwargs={"concurrency": 2}, name=f"worker-{i}") for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    ran = [job_id for job_id, _ in seen["ran"]]
    assert sorted(ran) == sorted(jobs)  # every job once, none twice
    assert set(Job.objects.filter(pk__in=jobs).values_list("state", flat=True)) == {JobState.SUCCEEDED}
    assert ProcrastinateJob.objects.filter(task_name="tests.counted", status="succeeded").count() == len(jobs)


def test_a_finished_job_delivered_again_is_not_run_again() -> None:
    job = job_enqueue(task=counted, kind="tests.counted")
    _work()
    counted.defer(job_id=job.pk)  # the same record queued a second time
    _work()
    assert [job_id for job_id, _ in seen["ran"]] == [job.pk]


def _tasks_deferred_at(at: float) -> set[tuple[str, int]]:
    async def defer() -> None:
        async with worker_app.open_async():
            for _ in range(2):  # two workers' deferrers at the same tick: the database keeps one
                deferrer = PeriodicDeferrer(registry=worker_app.periodic_registry)
                await deferrer.defer_jobs(deferrer.get_previous_tasks(at=at))

    with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
        asyncio.run(defer())
    return {(job.task_name, job.args["timestamp"]) for job in ProcrastinateJob.objects.all()}


def test_retention_and_the_outbound_sweep_are_scheduled(run_queued) -> None:
    periodic = {pt.task.name: pt for pt in app.periodic_registry.periodic_tasks.values()}
    assert periodic["fleet.history_maintain"].cron == settings.SIAGA_RETENTION_CRON
    assert periodic["incidents.outbound_sweep"].cron == settings.SIAGA_OUTBOUND_SWEEP_CRON
    # The first retention tick after noon UTC today, seen 5 s later by two workers: one retention job.
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0).timestamp()
    tick = int(croniter(settings.SIAGA_RETENTION_CRON, noon).get_next(float))
    deferred = _tasks_deferred_at(tick + 5)
    assert ("fleet.history_maintain", tick) in deferred
    assert ProcrastinateJob.objects.filter(task_name="fleet.history_maintain").count() == 1
    assert ProcrastinateJob.objects.get(task_name="fleet.history_maintain").queue_name == "maintenance"
    # Run by the real worker, it calls the retention service (nothing to prune in an empty database); the
    # worker's deferrer may queue this minute's recovery of lost workers' jobs beside it (jobs/tasks.py).
    assert set(run_queued(queues=["maintenance"])) == {"succeeded"}
    assert ProcrastinateJob.objects.get(task_name="fleet.history_maintain").status == "succeeded"
