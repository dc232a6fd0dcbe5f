"""Retention as a periodic job: history older than ``SIAGA_FIX_RETENTION_DAYS`` pruned once a day.

The job only calls the retention service's public function (``fleet.services.retention``), as
``manage.py prune_positions`` does; how history is pruned is that module's.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from procrastinate.contrib.django import app

from fleet.services.retention import positions_prune

logger = logging.getLogger(__name__)


@app.periodic(cron=settings.SIAGA_RETENTION_CRON)
@app.task(queue="maintenance", name="fleet.retention_prune", queueing_lock="retention_prune")
def retention_prune(timestamp: int) -> None:
    """Prune the history past the retention period (``SIAGA_RETENTION_CRON``, daily by default)."""
    result = positions_prune(older_than=timedelta(days=settings.SIAGA_FIX_RETENTION_DAYS), dry_run=False)
    logger.info("retention: %s", result.summary())
