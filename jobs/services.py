"""Enqueue a job with its record, run its body, and write its progress where a person can read it.

:func:`job_enqueue` writes the :class:`~jobs.models.Job` row and defers the procrastinate task in one
transaction (procrastinate's Django connector uses the request's own connection): the job exists if and only
if what asked for it was committed, and a worker never sees it before. A task's body runs through
:func:`job_run`, which marks the record running, hands the body a :class:`Progress`, and ends the record
succeeded or failed with a reason: an error the app names as expected (a ``DomainError`` of bad input: the
network cannot reach, a file that is no road file) becomes that message; anything else is recorded as an
internal error and raised again so the worker logs it with its traceback.

A job whose worker was lost (killed, its host gone) stays ``doing`` in the queue: :func:`jobs_stalled_recover`,
the periodic ``jobs.stalled_recover`` (``jobs/tasks.py``), finds such jobs by procrastinate's own worker heartbeats
(``JobManager.get_stalled_jobs``) and queues again those whose task is marked :func:`retry_when_stalled` (it can
run again from the start: a coverage run, an import), up to ``SIAGA_JOB_MAX_ATTEMPTS`` runs; any other is failed,
and its record says "worker lost".

This app knows no other: what a job does, and which errors are the person's to fix, the caller says.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from jobs.models import FINISHED, Job, JobState

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.5  # at most two progress writes a second; the first and the last always go
MESSAGE_MAX = 200


def job_enqueue(
    *,
    task: Any,
    kind: str,
    region: Any = None,
    created_by: Any = None,
    params: dict | None = None,
    message: str = "waiting for a worker",
) -> Job:
    """Record a job and defer ``task(job_id=...)`` in the same transaction; returns the queued record.

    Parameters
    ----------
    task
        A procrastinate task (``@app.task``) taking ``job_id``; its queue is the task's own.
    kind
        What runs, ``<app>.<what>`` (``coverage.report``).
    region, created_by
        Where the work is and who asked (None for a command); the owning app scopes reads by them.
    params
        What the task needs, JSON-ready.
    """
    with transaction.atomic():
        job = Job(kind=kind, region=region, created_by=created_by, params=params or {}, message=message)
        job.full_clean()
        job.save()
        job.queue_job_id = task.defer(job_id=job.pk)
        job.save(update_fields=["queue_job_id"])
    return job


class Progress:
    """What a running job reports through: ``progress(0.4, "travel times")``, at most every 0.5 s.

    :meth:`factory` gives the shape the coverage services and tqdm-style callers take:
    ``factory(total, description)`` returns ``update(n)``, each call advancing ``n`` of ``total`` steps.
    A write from inside a transaction (an import writes its network in one) goes over a connection of its
    own, so the person sees it before that transaction commits.
    """

    def __init__(self, job_id: int, *, interval_s: float = PROGRESS_INTERVAL_S) -> None:
        self.job_id = job_id
        self.interval_s = interval_s
        self.fraction = 0.0
        self.message = ""
        self._written_at = 0.0
        self._side: psycopg.Connection | None = None

    def __call__(self, fraction: float, message: str | None = None) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        changed = message is not None and message[:MESSAGE_MAX] != self.message
        self.fraction = fraction
        if message is not None:
            self.message = message[:MESSAGE_MAX]
        now = time.monotonic()
        if changed or fraction >= 1.0 or now - self._written_at >= self.interval_s:
            self._written_at = now
            self._write(progress=self.fraction, message=self.message)

    def factory(self, total: int, description: str) -> Callable[[int], None]:
        done = [0]
        total = max(1, int(total))
        self(0.0, description)

        def update(n: int = 1) -> None:
            done[0] += n
            self(done[0] / total, description)

        return update

    def _write(self, **fields: Any) -> None:
        if not connection.in_atomic_block:
            Job.objects.filter(pk=self.job_id).update(**fields)
            return
        try:
            side = self._side_connection()
            side.execute(
                "UPDATE jobs_job SET progress = %s, message = %s WHERE id = %s",
                [fields["progress"], fields["message"], self.job_id],
            )
        except psycopg.Error:  # progress is news, never a reason to stop the job
            logger.warning("job %s: progress not written", self.job_id, exc_info=True)

    def _side_connection(self) -> psycopg.Connection:
        if self._side is None or self._side.closed:
            params = connection.settings_dict
            conninfo = {
                "dbname": params["NAME"],
                "user": params.get("USER") or None,
                "password": params.get("PASSWORD") or None,
                "host": params.get("HOST") or None,
                "port": params.get("PORT") or None,
                "application_name": "siaga-job-progress",
            }
            self._side = psycopg.connect(autocommit=True, **{k: v for k, v in conninfo.items() if v})
        return self._side

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def job_run(
    job_id: int,
    body: Callable[[Job, Progress], str],
    *,
    expected: tuple[type[BaseException], ...] = (),
) -> Job | None:
    """Run ``body(job, progress)`` for the queued job ``job_id``; it returns the result's URL.

    A job already finished (a second delivery of the same queue job) is left as it is; a record that no
    longer exists (its region was deleted) is skipped. ``expected`` errors end the job failed with their
    message (and their ``code``, when they carry one); any other error is recorded as internal and raised.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            logger.warning("job %s no longer exists: nothing to run", job_id)
            return None
        if job.state in FINISHED:
            logger.info("job %s already %s: not run again", job_id, job.state)
            return job
        job.state, job.started_at, job.progress, job.message = JobState.RUNNING, timezone.now(), 0.0, "started"
        job.save(update_fields=["state", "started_at", "progress", "message"])
    progress = Progress(job_id)
    try:
        result_url = body(job, progress)
    except expected as exc:
        _finish(job, state=JobState.FAILED, error=str(exc), code=getattr(exc, "code", "") or "")
        return job
    except Exception as exc:
        _finish(
            job,
            state=JobState.FAILED,
            error=f"internal error ({type(exc).__name__}: {exc}); the worker's log has the details",
            code="internal_error",
        )
        raise
    finally:
        progress.close()
    _finish(job, state=JobState.SUCCEEDED, result_url=result_url or "")
    return job


def _finish(job: Job, *, state: str, error: str = "", code: str = "", result_url: str = "") -> None:
    job.state, job.finished_at = state, timezone.now()
    job.error, job.error_code, job.result_url = error, code[:64], result_url
    if state == JobState.SUCCEEDED:
        job.progress, job.message = 1.0, "done"
    else:
        job.message = "failed"
    job.save(update_fields=["state", "finished_at", "error", "error_code", "result_url", "progress", "message"])


# -- jobs whose worker was lost ------------------------------------------------------------------------------

WORKER_LOST = "worker_lost"
_RETRY_WHEN_STALLED: set[str] = set()


def retry_when_stalled(task: Any) -> Any:
    """Mark a procrastinate task safe to run again from the start when its worker is lost mid-way (put above
    ``@app.task``): it writes its result in one transaction at the end, or is idempotent, so a second run after a
    crash stores it once. A task not marked is failed instead (an outbound send: its row is the truth and the
    outbound sweep decides what is still due, so a retried job could only race it)."""
    _RETRY_WHEN_STALLED.add(task.name)
    return task


def retried_when_stalled(task_name: str) -> bool:
    return task_name in _RETRY_WHEN_STALLED


@dataclass(frozen=True)
class StalledJobsResult:
    """What :func:`jobs_stalled_recover` did: procrastinate job ids queued again, and failed as worker lost."""

    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return f"jobs of lost workers: {len(self.retried)} queued again, {len(self.failed)} failed"


def _lost_reason(task_name: str, attempts: int, max_attempts: int) -> str:
    if retried_when_stalled(task_name):
        return (
            f"worker lost: the worker running this job stopped (killed or its host lost) on each of {attempts} runs; "
            "not tried again: look at the workers' logs (memory?), then ask for it again"
        )
    return "worker lost: the worker running this job stopped (killed or its host lost); ask for it again"


async def jobs_stalled_recover(
    *, manager: JobManager, stalled_after_s: float | None = None, max_attempts: int | None = None
) -> StalledJobsResult:
    """Queue again, or fail, every running job whose worker sent no heartbeat for ``stalled_after_s``.

    Parameters
    ----------
    manager
        The procrastinate job manager of the running app (a task's ``context.app.job_manager``).
    stalled_after_s
        A worker silent this long is lost (default ``SIAGA_JOB_STALLED_AFTER_S``; workers beat every 10 s).
    max_attempts
        Runs a retry-safe job gets in all (default ``SIAGA_JOB_MAX_ATTEMPTS``); the last lost one fails it.

    Returns
    -------
    StalledJobsResult
        The queue's job ids retried and failed. A job that finished meanwhile (a slow heartbeat, not a lost
        worker) is left as it ended.
    """
    stalled_after_s = settings.SIAGA_JOB_STALLED_AFTER_S if stalled_after_s is None else stalled_after_s
    max_attempts = settings.SIAGA_JOB_MAX_ATTEMPTS if max_attempts is None else max_attempts
    retried: list[int] = []
    failed: list[int] = []
    for queued in await manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after_s):
        assert queued.id is not None
        runs = queued.attempts + 1
        try:
            if retried_when_stalled(queued.task_name) and runs < max_attempts:
                await manager.retry_job(queued)  # from "doing" to "todo", attempts + 1: any worker takes it
                message = f"worker lost; queued again (run {runs + 1} of at most {max_attempts})"
                await sync_to_async(_record_requeued)(queued.id, message)
                retried.append(queued.id)
            else:
                await manager.finish_job(queued, status=Status.FAILED, delete_job=False)
                reason = _lost_reason(queued.task_name, runs, max_attempts)
                await sync_to_async(_record_lost)(queued.id, reason, timezone.now())
                failed.append(queued.id)
        except queue_errors.ConnectorException:  # it left "doing" meanwhile: its worker was alive after all
            logger.info("job %s (%s) finished while being recovered: left as it is", queued.id, queued.task_name)
            continue
        logger.warning("job %s (%s): worker lost, %s", queued.id, queued.task_name,
                       "queued again" if queued.id in retried else "failed")  # fmt: skip
    failed += await sync_to_async(_records_of_failed_queue_jobs_end)(timezone.now())
    return StalledJobsResult(retried=retried, failed=failed)


def _record_requeued(queue_job_id: int, message: str) -> None:
    Job.objects.filter(queue_job_id=queue_job_id).exclude(state__in=FINISHED).update(
        state=JobState.QUEUED, progress=0.0, started_at=None, message=message[:MESSAGE_MAX]
    )


def _record_lost(queue_job_id: int, reason: str, at: datetime) -> None:
    Job.objects.filter(queue_job_id=queue_job_id).exclude(state__in=FINISHED).update(
        state=JobState.FAILED, finished_at=at, error=reason, error_code=WORKER_LOST, message="failed: worker lost"
    )


def _records_of_failed_queue_jobs_end(at: datetime) -> list[int]:
    """Records still queued or running whose queue job already failed (a recovery stopped between the queue and
    the record; a record's body always ends it before raising): ended as worker lost. Their queue job ids."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    failed_ids = ProcrastinateJob.objects.filter(status=Status.FAILED.value).values("id")
    open_records = Job.objects.exclude(state__in=FINISHED).filter(queue_job_id__in=failed_ids)
    ids = [i for i in open_records.values_list("queue_job_id", flat=True) if i is not None]
    for queue_job_id in ids:
        _record_lost(queue_job_id, "worker lost: the worker running this job stopped; ask for it again", at)
    return ids
