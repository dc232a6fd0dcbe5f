"""Jobs of a lost worker (kill -9, a host gone): found by procrastinate's heartbeats, queued again when their task
is safe to run twice, otherwise failed with "worker lost" on the record the run's page and API show.

No worker is killed here: a worker row whose heartbeat is ten minutes old holds the job, as a killed one leaves it.
"""

from __future__ import annotations

import threading

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection
from factories.access import make_user
from procrastinate.contrib.django import DjangoApp, app
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.test import APIClient

from coverage.models import CoverageRun, RunKind
from jobs.models import Job, JobState
from jobs.services import WORKER_LOST, Progress, job_enqueue, job_run, jobs_stalled_recover, retry_when_stalled

ran: list[int] = []
lock = threading.Lock()


def rerunnable_body(job_id: int) -> None:
    def body(job: Job, progress: Progress) -> str:
        with lock:
            ran.append(job_id)
        return "/done/"

    job_run(job_id, body)


def once_body(job_id: int) -> None:
    job_run(job_id, lambda job, progress: "")


def _tasks_app(connector) -> DjangoApp:
    tasks_app = DjangoApp(connector=connector)
    retry_when_stalled(tasks_app.task(queue="tests", name="tests.rerunnable")(rerunnable_body))
    tasks_app.task(queue="tests", name="tests.once")(once_body)
    return tasks_app


deferring = _tasks_app(app.connector)
rerunnable, once = deferring.tasks["tests.rerunnable"], deferring.tasks["tests.once"]


def _taken_by_a_worker(job: Job, *, heartbeat_age_s: float, attempts: int = 0) -> int:
    """Let a worker take the job as procrastinate's own worker does (register, fetch), the record marked running
    halfway as ``job_run`` leaves it, then age the worker's heartbeat: the state a kill -9 leaves behind."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT worker_id FROM procrastinate_register_worker_v1()")
        (worker_id,) = cursor.fetchone()
        cursor.execute("UPDATE procrastinate_jobs SET attempts = %s WHERE id = %s", [attempts, job.queue_job_id])
        cursor.execute("SELECT id FROM procrastinate_fetch_job_v2(%s::varchar[], %s)", [["tests"], worker_id])
        assert cursor.fetchone()[0] == job.queue_job_id
        cursor.execute(
            "UPDATE procrastinate_workers SET last_heartbeat = now() - make_interval(secs => %s) WHERE id = %s",
            [heartbeat_age_s, worker_id],
        )
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, progress=0.4, message="travel times")
    return worker_id


def _recover():
    return async_to_sync(jobs_stalled_recover)(manager=app.job_manager)


def _queue_status(job: Job) -> tuple[str, int]:
    row = ProcrastinateJob.objects.get(id=job.queue_job_id)
    return row.status, row.attempts


@pytest.mark.django_db
def test_a_retry_safe_job_of_a_lost_worker_is_queued_again_and_another_is_failed_worker_lost() -> None:
    safe = job_enqueue(task=rerunnable, kind="tests.rerunnable")
    unsafe = job_enqueue(task=once, kind="tests.once")
    _taken_by_a_worker(safe, heartbeat_age_s=600)
    _taken_by_a_worker(unsafe, heartbeat_age_s=600)
    result = _recover()
    assert (result.retried, result.failed) == ([safe.queue_job_id], [unsafe.queue_job_id])
    assert _queue_status(safe) == ("todo", 1)  # any worker takes it again
    safe.refresh_from_db()
    assert (safe.state, safe.progress, safe.error) == (JobState.QUEUED, 0.0, "")
    assert safe.message == "worker lost; queued again (run 2 of at most 3)"
    assert _queue_status(unsafe)[0] == "failed"
    unsafe.refresh_from_db()
    assert (unsafe.state, unsafe.error_code) == (JobState.FAILED, WORKER_LOST)
    assert unsafe.error.startswith("worker lost: the worker running this job stopped")
    assert unsafe.finished_at is not None
    assert unsafe.as_dict()["error"] == {"code": "worker_lost", "message": unsafe.error}
    assert (_recover().retried, _recover().failed) == ([], [])  # nothing is recovered twice


@pytest.mark.django_db
def test_a_retry_safe_job_lost_on_its_last_run_is_failed() -> None:
    job = job_enqueue(task=rerunnable, kind="tests.rerunnable")
    _taken_by_a_worker(job, heartbeat_age_s=600, attempts=settings.SIAGA_JOB_MAX_ATTEMPTS - 1)  # its third run
    assert _recover().failed == [job.queue_job_id]
    job.refresh_from_db()
    assert (job.state, job.error_code) == (JobState.FAILED, WORKER_LOST)
    assert "on each of 3 runs" in job.error


@pytest.mark.django_db
def test_a_job_of_a_worker_that_beats_is_left_running() -> None:
    job = job_enqueue(task=once, kind="tests.once")
    _taken_by_a_worker(job, heartbeat_age_s=settings.SIAGA_JOB_STALLED_AFTER_S - 20)  # two beats late: alive
    assert (_recover().retried, _recover().failed) == ([], [])
    assert _queue_status(job) == ("doing", 0)
    assert Job.objects.get(pk=job.pk).state == JobState.RUNNING


@pytest.mark.django_db
def test_a_record_left_running_when_its_queue_job_already_failed_is_ended() -> None:
    job = job_enqueue(task=once, kind="tests.once")
    _taken_by_a_worker(job, heartbeat_age_s=0)
    with connection.cursor() as cursor:  # a recovery that stopped between the queue's row and the record
        cursor.execute("SELECT procrastinate_finish_job_v1(%s, 'failed', false)", [job.queue_job_id])
    assert _recover().failed == [job.queue_job_id]
    assert Job.objects.get(pk=job.pk).error_code == WORKER_LOST


@pytest.mark.django_db
def test_the_run_api_says_worker_lost(jambi_kecamatan) -> None:
    job = job_enqueue(task=once, kind="coverage.surface", region=jambi_kecamatan)
    run = CoverageRun.objects.create(region=jambi_kecamatan, kind=RunKind.SURFACE, inputs={}, job=job)
    _taken_by_a_worker(job, heartbeat_age_s=600)
    _recover()
    client = APIClient()
    client.force_authenticate(make_user("planner-lost", "planner", regions=[jambi_kecamatan]))
    shown = client.get(f"/api/coverage/runs/{run.pk}/").json()
    assert shown["state"] == "failed"
    assert shown["error"]["code"] == "worker_lost"
    assert shown["error"]["message"].startswith("worker lost")


def test_which_tasks_run_again_after_a_lost_worker() -> None:
    from jobs.services import retried_when_stalled

    # Written in one transaction at the end: a second run stores the result once.
    assert all(retried_when_stalled(name) for name in ("coverage.run", "gis_core.import_roads", "gazetteer.import"))
    # The outbound row is the truth and its sweep sends what is still due: a retried job would only race it.
    assert not any(retried_when_stalled(name) for name in ("incidents.outbound_send", "fleet.history_maintain"))


def test_the_recovery_runs_every_minute_on_the_maintenance_queue() -> None:
    periodic = {pt.task.name: pt for pt in app.periodic_registry.periodic_tasks.values()}
    recover = periodic["jobs.stalled_recover"]
    assert (recover.cron, recover.task.queue) == (settings.SIAGA_JOB_STALLED_CRON, "maintenance")


def test_the_periodic_recovery_on_a_real_worker_then_the_job_runs_again(run_queued) -> None:
    ran.clear()
    job = job_enqueue(task=rerunnable, kind="tests.rerunnable")
    _taken_by_a_worker(job, heartbeat_age_s=600)
    app.tasks["jobs.stalled_recover"].defer(timestamp=0)
    # The worker's periodic deferrer may queue this minute's recovery beside it: each run succeeds.
    assert set(run_queued(queues=["maintenance"])) == {"succeeded"}
    assert Job.objects.get(pk=job.pk).state == JobState.QUEUED
    saved, connection.settings_dict["CONN_MAX_AGE"] = connection.settings_dict["CONN_MAX_AGE"], 0
    try:  # the worker's threads end with its loop here: their connections close after each task
        _tasks_app(app.connector.get_worker_connector()).run_worker(
            queues=["tests"], wait=False, install_signal_handlers=False, listen_notify=False
        )
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = saved
    job.refresh_from_db()
    assert (job.state, job.result_url, ran) == (JobState.SUCCEEDED, "/done/", [job.pk])
    assert _queue_status(job) == ("succeeded", 2)  # procrastinate counts both runs, the lost one and this
