"""The history tables' upkeep as a periodic job: partitions created ahead, history past retention dropped.

The job only calls the retention service's public function (``fleet.services.retention.history_maintain``,
as ``manage.py history_maintain`` does): partitions ``SIAGA_HISTORY_PARTITIONS_AHEAD`` periods ahead, then
whole partitions older than ``SIAGA_FIX_RETENTION_DAYS`` (fixes, every unit's last fix kept) and
``SIAGA_RAW_RETENTION_DAYS`` (raw messages) dropped. A worker runs
it in autocommit, outside any transaction, as that function requires.
"""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate.contrib.django import app

from fleet.services.retention import history_maintain

logger = logging.getLogger(__name__)


@app.periodic(cron=settings.SIAGA_RETENTION_CRON)
@app.task(queue="maintenance", name="fleet.history_maintain", queueing_lock="history_maintain")
def history_maintain_job(timestamp: int) -> None:
    """Keep the history partitions (``SIAGA_RETENTION_CRON``, daily by default)."""
    result = history_maintain(dry_run=False)
    logger.info("history upkeep: %s", result.summary())
