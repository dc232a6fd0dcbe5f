"""The history tables' partitions: fixes and raw messages, partitioned by the time they arrived.

``fleet_positionfix`` and ``fleet_inboundmessage`` are PostgreSQL RANGE-partitioned on ``received_at``
(migration ``fleet.0010``), one partition per period (``SIAGA_HISTORY_PARTITION_PERIOD``: ``month`` by
default, or ``week``; UTC boundaries), named ``<table>_pYYYYMMDD`` after the period's first day.

Why ``received_at`` and not the device's ``recorded_at``: the server's clock is always set and always
now, so every fix lands in the current partition whatever its device believes (a tracker that says
1999 or 2099 is flagged by validation, ``fleet.services.positions``, and stored like any other fix);
a device's clock can neither scatter rows over the years nor fill a partition that retention is about
to drop; and retention by arrival is what it always was. Readers asking for a unit's track by
``recorded_at`` narrow ``received_at`` from what validation allows (``fleet.selectors.positions``).

Each table also has a default partition (``<table>_default``). It catches a row when no partition
covers its time (the job that creates partitions ahead did not run), so nothing is ever refused, and
it keeps what outlives its period: retention moves every unit's last fix, and the raw messages still
needed, there before dropping a partition (``fleet.services.retention``). When a partition is created
for a time the default partition holds rows of, those rows move into it in the same transaction.

``partitions_ensure`` creates the partitions from the current period to ``ahead`` periods ahead;
``manage.py history_partitions`` runs it, and ``fleet.services.retention.history_maintain`` (the
periodic job) does too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from fleet.models import InboundMessage, PositionFix

HISTORY_TABLES = (PositionFix._meta.db_table, InboundMessage._meta.db_table)
PERIODS = ("month", "week")
# DDL on a history table waits at most this long for its lock, so it never queues ingest behind a long
# query for longer: a job that could not get it says so and is run again.
LOCK_TIMEOUT_S = 5


class PartitionError(ValueError):
    """A partition request makes no sense (unknown period, negative ahead) or its lock was not granted."""


@dataclass(frozen=True)
class Partition:
    """One partition of a history table; ``start`` and ``end`` are None for the default partition."""

    table: str
    name: str
    start: datetime | None
    end: datetime | None

    @property
    def is_default(self) -> bool:
        return self.start is None


@dataclass(frozen=True)
class PartitionsEnsureResult:
    """What ``partitions_ensure`` created, and how many rows it moved out of the default partitions."""

    created: list[Partition]
    moved_from_default: int
    dry_run: bool = False

    def summary(self) -> str:
        if not self.created:
            return "every partition needed exists already"
        names = ", ".join(p.name for p in self.created)
        if self.dry_run:
            return f"would create {len(self.created)} partitions ({names})"
        return f"created {len(self.created)} partitions ({names}); moved {self.moved_from_default} rows from default"


# -- periods (pure) -------------------------------------------------------------------------------------


def period_start(at: datetime, period: str) -> datetime:
    """The first instant (UTC) of the ``period`` (``month``, or ISO ``week`` from Monday) holding ``at``."""
    at = at.astimezone(UTC)
    if period == "month":
        return datetime(at.year, at.month, 1, tzinfo=UTC)
    if period == "week":
        day = datetime(at.year, at.month, at.day, tzinfo=UTC)
        return day - timedelta(days=day.weekday())
    raise PartitionError(f"unknown partition period {period!r}: use one of {', '.join(PERIODS)}")


def period_next(start: datetime, period: str) -> datetime:
    """The start of the period after the one starting at ``start``."""
    if period == "month":
        return (
            start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        )
    if period == "week":
        return start + timedelta(days=7)
    raise PartitionError(f"unknown partition period {period!r}: use one of {', '.join(PERIODS)}")


def gaps(start: datetime, end: datetime, taken: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """The parts of ``[start, end)`` that no range in ``taken`` covers, in order."""
    free, cursor = [], start
    for lo, hi in sorted(taken):
        if hi <= cursor or lo >= end:
            continue
        if lo > cursor:
            free.append((cursor, lo))
        cursor = max(cursor, hi)
        if cursor >= end:
            break
    if cursor < end:
        free.append((cursor, end))
    return free


def partition_name(table: str, start: datetime) -> str:
    """``<table>_pYYYYMMDD`` (with ``HHMM`` when a partition does not start at midnight)."""
    suffix = f"{start:%Y%m%d}" if (start.hour, start.minute) == (0, 0) else f"{start:%Y%m%d%H%M}"
    return f"{table}_p{suffix}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


# -- reading the catalog ----------------------------------------------------------------------------------

_LIST_SQL = r"""
    SELECT c.relname,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = %s::regclass
"""


def partitions_list(table: str) -> list[Partition]:
    """The partitions of history ``table``, oldest first, the default one last."""
    _check_table(table)
    with connection.cursor() as cursor:
        cursor.execute(_LIST_SQL, [table])
        rows = cursor.fetchall()
    ranged = [Partition(table, name, start, end) for name, start, end in sorted(rows, key=_start) if start is not None]
    default = [Partition(table, name, None, None) for name, start, _ in rows if start is None]
    return ranged + default


def _start(row: tuple) -> datetime:
    return row[1] or datetime.max.replace(tzinfo=UTC)


def detached_leftovers(table: str) -> list[str]:
    """Tables named like ``table``'s partitions that are no partition of it (a retention run stopped
    between detaching and dropping one): retention drops them."""
    _check_table(table)
    with connection.cursor() as cursor:
        cursor.execute(
            r"""
            SELECT c.relname FROM pg_class c
            WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
              AND c.relname ~ ('^' || %s || '_p[0-9]{8}([0-9]{4})?$')
              AND NOT c.relispartition
            ORDER BY c.relname
            """,
            [table],
        )
        return [name for (name,) in cursor.fetchall()]


def _check_table(table: str) -> None:
    if table not in HISTORY_TABLES:
        raise PartitionError(f"{table!r} is not a history table ({', '.join(HISTORY_TABLES)})")


# -- creating ahead ------------------------------------------------------------------------------------------


def partitions_ensure(
    *, ahead: int | None = None, period: str | None = None, now: datetime | None = None, dry_run: bool = False
) -> PartitionsEnsureResult:
    """Create every missing partition of both history tables from the current period to ``ahead`` periods on.

    Parameters
    ----------
    ahead
        How many periods after the current one must exist (default ``SIAGA_HISTORY_PARTITIONS_AHEAD``).
    period
        ``month`` or ``week`` (default ``SIAGA_HISTORY_PARTITION_PERIOD``). Changing it later is safe: a
        new partition fills only what existing ones leave uncovered.
    now
        The clock (default: now); a time in the past creates that period's partitions (a backfill).
    dry_run
        Only list the partitions that would be created.

    Returns
    -------
    PartitionsEnsureResult
        The partitions created (none when all exist: running it again changes nothing) and the rows
        moved into them from the default partitions.

    Raises
    ------
    PartitionError
        Unknown period, negative ``ahead``, or a table's lock not granted within ``LOCK_TIMEOUT_S``.
    """
    ahead = settings.SIAGA_HISTORY_PARTITIONS_AHEAD if ahead is None else ahead
    period = period or settings.SIAGA_HISTORY_PARTITION_PERIOD
    if ahead < 0:
        raise PartitionError(f"ahead must be 0 or more periods, got {ahead}")
    first = period_start(now or timezone.now(), period)
    last = first
    for _ in range(ahead + 1):
        last = period_next(last, period)
    wanted, start = [], first
    while start < last:
        wanted.append((start, period_next(start, period)))
        start = wanted[-1][1]
    created: list[Partition] = []
    moved = 0
    for table in HISTORY_TABLES:
        taken = [(p.start, p.end) for p in partitions_list(table) if p.start is not None and p.end is not None]
        for lo, hi in wanted:
            for gap_lo, gap_hi in gaps(lo, hi, taken):
                if dry_run:
                    partition, rows = Partition(table, partition_name(table, gap_lo), gap_lo, gap_hi), 0
                else:
                    partition, rows = _create(table, gap_lo, gap_hi)
                created.append(partition)
                moved += rows
                taken.append((gap_lo, gap_hi))
    return PartitionsEnsureResult(created=created, moved_from_default=moved, dry_run=dry_run)


def _create(table: str, start: datetime, end: datetime) -> tuple[Partition, int]:
    """Create ``table``'s partition for ``[start, end)``; move the default partition's rows of that time into it."""
    name, default = partition_name(table, start), default_partition_name(table)
    bounds = {"start": start, "end": end}
    with transaction.atomic(), connection.cursor() as cursor:
        lock_timeout_set(cursor)
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {default} WHERE received_at >= %(start)s AND received_at < %(end)s)", bounds
        )
        (strays,) = cursor.fetchone()
        moved = 0
        try:
            if not strays:
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM (%(start)s) TO (%(end)s)", bounds
                )
            else:
                # The default partition may not hold rows of a partition's range: take it off while the rows move.
                # DETACH locks the whole table, so concurrent inserts wait for this transaction (milliseconds).
                cursor.execute(f"ALTER TABLE {table} DETACH PARTITION {default}")
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM (%(start)s) TO (%(end)s)", bounds
                )
                cursor.execute(
                    f"WITH moved AS (DELETE FROM {default} WHERE received_at >= %(start)s AND received_at < %(end)s "
                    f"RETURNING *) INSERT INTO {name} SELECT * FROM moved",
                    bounds,
                )
                moved = cursor.rowcount
                cursor.execute(f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
        except OperationalError as exc:
            raise lock_refused(table, exc) from exc
    return Partition(table, name, start, end), moved


def lock_timeout_set(cursor) -> None:
    """Within the current transaction, give up on a lock after ``LOCK_TIMEOUT_S`` (see there)."""
    cursor.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_S)}s'")


def lock_refused(table: str, exc: OperationalError) -> Exception:
    """A lock timeout as a ``PartitionError`` that says what to do; any other database error as it was
    (``raise lock_refused(table, exc) from exc``)."""
    if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
        return OperationalError(*exc.args)
    return PartitionError(
        f"{table}: the table's lock was not granted within {LOCK_TIMEOUT_S} s (a long query holds it?); "
        f"nothing changed, run it again ({exc})"
    )
