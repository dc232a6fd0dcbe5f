"""One way to run the reports' SQL: in a transaction with enough sort memory for a year of a large centre.

PostgreSQL's default ``work_mem`` (4 MB) sends the sorts of a year's first-unit-on-scene and percentiles to
disk; ``SET LOCAL`` raises it for this transaction only (``SIAGA_REPORTS_WORK_MEM``, default 64MB).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection, transaction


@contextmanager
def report_cursor() -> Iterator:
    work_mem = str(getattr(settings, "SIAGA_REPORTS_WORK_MEM", "64MB"))
    if not re.fullmatch(r"\d{1,6}(kB|MB|GB)", work_mem):
        raise ValueError(f"SIAGA_REPORTS_WORK_MEM must be like 64MB, not {work_mem!r}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{work_mem}'")
        yield cursor


def fetch_all(sql: str, params: dict | list) -> list[tuple]:
    """All rows of one report query."""
    with report_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
