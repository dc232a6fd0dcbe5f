"""The queue's own upkeep: jobs whose worker was lost are queued again or failed (``SIAGA_JOB_STALLED_CRON``).

procrastinate keeps each worker's heartbeat (``procrastinate_workers``); a job still ``doing`` on a worker that
stopped beating stays so forever unless something acts on it. This periodic job does, through procrastinate's own
manager: ``jobs.services.jobs_stalled_recover``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate import JobContext
from procrastinate.contrib.django import app

from jobs.services import jobs_stalled_recover

logger = logging.getLogger(__name__)


@app.periodic(cron=settings.SIAGA_JOB_STALLED_CRON)
@app.task(queue="maintenance", name="jobs.stalled_recover", queueing_lock="jobs_stalled_recover", pass_context=True)
async def jobs_stalled_recover_job(context: JobContext, timestamp: int) -> None:
    """Recover the jobs of lost workers (every minute by default), with the running worker's job manager."""
    result = await jobs_stalled_recover(manager=context.app.job_manager)
    if result.retried or result.failed:
        logger.warning("%s", result.summary())
