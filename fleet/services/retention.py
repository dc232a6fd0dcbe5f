"""Retention of crews' GPS history: drop old partitions of fixes and raw device messages, keep what is needed.

Both history tables are partitioned by ``received_at`` (``fleet.services.partitions``), and each has its
own retention: fixes ``SIAGA_FIX_RETENTION_DAYS``, raw requests ``SIAGA_RAW_RETENTION_DAYS`` (at least as
long: a raw request is the evidence of what a crew or a citizen sent). A partition
whose whole period ended before its table's cutoff is detached and dropped (no row-by-row DELETE, no bloat,
no vacuum debt); rows of the current period stay until their whole period is past, so history is kept
at least ``older_than`` and at most one period longer. Before a partition goes, what must outlive it
moves into the table's default partition, in the transaction that detaches it (ids unchanged, so
``Unit.last_fix`` and every reader find them as before):

- every unit's current ``last_fix`` (dispatch ranks a unit from it, however old it is);
- any raw message a remaining row of any table still points at (``PositionFix.message``, and the
  foreign keys other apps hold, such as the incidents app's ``WhatsAppMessage.inbound``, found from the
  model graph: dropping the message would silently cut that link);
- raw messages that were never processed (outcome ``received``) or failed (``error``): they may
  still need a replay, and no fix was made from them;
- anything that is not a device position channel: WhatsApp deliveries, crew status requests, hand-offs.

The default partition itself is pruned by DELETE, in chunks, by the same rules (it holds few rows:
the kept ones, and rows that arrived while no partition covered their time). Idempotency keys
(``DeviceRequestKey``) of requests received before the cutoff go too: a resend that late is long past
any offline queue.

``history_maintain`` is the periodic job: partitions ahead, then retention, with the settings'
values. Run it daily (``manage.py history_maintain``); running it twice changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from fleet.models import DeviceRequestKey, InboundMessage, PositionFix, Unit
from fleet.services.audit import audit_record
from fleet.services.partitions import (
    Partition,
    PartitionError,
    PartitionsEnsureResult,
    default_partition_name,
    detached_leftovers,
    lock_refused,
    lock_timeout_set,
    partitions_ensure,
    partitions_list,
)

POSITION_CHANNELS = ("osmand", "traccar_json", "owntracks", "batch")
KEPT_OUTCOMES = ("received", "error")
CHUNK_ROWS = 10_000

_FIX = PositionFix._meta.db_table
_UNIT = Unit._meta.db_table
_MESSAGE = InboundMessage._meta.db_table
_LAST_FIX_IDS = f"SELECT u.last_fix_id FROM {_UNIT} u WHERE u.last_fix_id IS NOT NULL"
# A fix ``f`` that this run keeps: a unit's last fix, or one neither in a partition about to be dropped
# (``%(dropped)s``, named in a dry run; in a real run they are gone already) nor an old row of the default
# partition (older than the fixes' ``%(cutoff)s``). The same rule for a dry run and a real one, so both count alike.
_FIX_SURVIVES = f"""(
    f.id IN ({_LAST_FIX_IDS})
    OR (f.tableoid::regclass::text <> ALL(%(dropped)s::text[])
        AND NOT (f.tableoid = '{_FIX}_default'::regclass AND f.received_at < %(cutoff)s))
)"""


class RetentionError(ValueError):
    """The retention request makes no sense (e.g. a cutoff that is not in the past), or its lock was refused."""


@dataclass(frozen=True)
class PartitionDrop:
    """One partition retention dropped (or would drop): its rows, and how many of them were kept."""

    name: str
    start: datetime
    end: datetime
    rows: int
    kept: int

    def summary(self, dry_run: bool) -> str:
        verb = "would drop" if dry_run else "dropped"
        return (
            f"{verb} {self.name} ({self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}): {self.rows} rows, "
            f"{self.kept} of them kept in the default partition"
        )


@dataclass(frozen=True)
class PositionsPruneResult:
    """What ``positions_prune`` deleted (or, in a dry run, would delete)."""

    cutoff: datetime
    raw_cutoff: datetime
    dry_run: bool
    fixes_deleted: int
    messages_deleted: int
    last_fixes_kept: int
    partitions: list[PartitionDrop] = field(default_factory=list)

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        lines = [drop.summary(self.dry_run) for drop in self.partitions]
        lines.append(
            f"{verb} {self.fixes_deleted} fixes received before {self.cutoff.isoformat()} and "
            f"{self.messages_deleted} raw device messages received before {self.raw_cutoff.isoformat()}; "
            f"kept {self.last_fixes_kept} older fixes that are a unit's last position"
        )
        return "\n".join(lines)


def positions_prune(
    *, older_than: timedelta, raw_older_than: timedelta | None = None, dry_run: bool, now: datetime | None = None
) -> PositionsPruneResult:
    """Drop the history partitions that ended more than ``older_than`` ago, never a unit's current last fix.

    Parameters
    ----------
    older_than
        Age beyond which fixes go (by ``received_at``); must be positive. A partition goes when its
        whole period is older; the default partition's rows go one by one.
    raw_older_than
        Age beyond which raw messages go, the same way; at least ``older_than`` (default: ``older_than``).
    dry_run
        Only say what would be dropped and deleted; change nothing.
    now
        The clock the cutoff is taken from (default: now).

    Returns
    -------
    PositionsPruneResult
        The partitions dropped (each with its rows and how many were kept), the fixes and raw messages
        deleted in all, and how many old fixes were kept as a unit's last position.

    Raises
    ------
    RetentionError
        ``older_than`` is zero or negative, ``raw_older_than`` shorter than it, or a table's lock was not
        granted in time (nothing of that partition changed; run it again).
    """
    if older_than <= timedelta(0):
        raise RetentionError(f"older_than must be positive, got {older_than}")
    raw_older_than = older_than if raw_older_than is None else raw_older_than
    if raw_older_than < older_than:
        raise RetentionError(
            f"raw messages are kept at least as long as fixes: raw_older_than {raw_older_than} < {older_than}"
        )
    now = now or timezone.now()
    cutoff, raw_cutoff = now - older_than, now - raw_older_than
    kept = PositionFix.objects.filter(received_at__lt=cutoff, pk__in=_last_fix_ids()).count()
    fix_parts = _expired(_FIX, cutoff)
    message_parts = _expired(_MESSAGE, raw_cutoff)
    try:
        if dry_run:
            return _dry_run(cutoff, raw_cutoff, kept, fix_parts, message_parts)
        for leftover in detached_leftovers(_FIX) + detached_leftovers(_MESSAGE):
            _drop_table(leftover)
        drops = [_fix_partition_drop(p) for p in fix_parts] + [
            _message_partition_drop(p, cutoff, raw_cutoff) for p in message_parts
        ]
    except PartitionError as exc:
        raise RetentionError(str(exc)) from exc
    # A resend that late is long past any offline queue: the keys go with the fixes' (earlier) cutoff.
    DeviceRequestKey.objects.filter(created_at__lt=cutoff).delete()
    DeviceRequestKey.objects.filter(message__received_at__lt=cutoff).delete()
    fixes = _delete_chunked(_default_fixes_sql(), cutoff, raw_cutoff)
    messages = _delete_chunked(_default_messages_sql(), cutoff, raw_cutoff)
    fixes += sum(d.rows - d.kept for d in drops if d.name.startswith(f"{_FIX}_"))
    messages += sum(d.rows - d.kept for d in drops if d.name.startswith(f"{_MESSAGE}_"))
    audit_record(
        action="positions.prune",
        data={
            "cutoff": cutoff.isoformat(), "raw_cutoff": raw_cutoff.isoformat(),
            "fixes": fixes, "messages": messages, "last_fixes_kept": kept,
            "partitions": [{"name": d.name, "rows": d.rows, "kept": d.kept} for d in drops],
        },
    )  # fmt: skip
    return PositionsPruneResult(cutoff, raw_cutoff, False, fixes, messages, kept, drops)


@dataclass(frozen=True)
class HistoryMaintainResult:
    """What ``history_maintain`` did: the partitions it created ahead, and what retention dropped."""

    ensured: PartitionsEnsureResult
    pruned: PositionsPruneResult

    def summary(self) -> str:
        return f"{self.ensured.summary()}\n{self.pruned.summary()}"


def history_maintain(*, dry_run: bool = False, now: datetime | None = None) -> HistoryMaintainResult:
    """The history tables' periodic job: create partitions ahead, then drop what retention allows.

    Uses ``SIAGA_HISTORY_PARTITIONS_AHEAD`` and ``SIAGA_HISTORY_PARTITION_PERIOD`` (``partitions_ensure``)
    and ``SIAGA_FIX_RETENTION_DAYS`` and ``SIAGA_RAW_RETENTION_DAYS`` (``positions_prune``). Safe to run
    at any time and as often as wanted (daily is plenty: partitions exist months ahead); two runs at once
    are serialised by the tables' locks. ``dry_run`` changes nothing and says what it would create and drop.

    Call it outside a transaction (autocommit, as a job worker or a command runs): each partition is
    detached in its own short transaction, and inside a caller's transaction the table locks would be
    held, and ingest kept waiting, until that transaction ends.

    Raises
    ------
    RetentionError
        A table's lock was not granted within ``fleet.services.partitions.LOCK_TIMEOUT_S`` (or the
        settings make no sense); nothing was half done, run it again.
    """
    try:
        ensured = partitions_ensure(now=now, dry_run=dry_run)
    except PartitionError as exc:
        raise RetentionError(str(exc)) from exc
    pruned = positions_prune(
        older_than=timedelta(days=settings.SIAGA_FIX_RETENTION_DAYS),
        raw_older_than=timedelta(days=settings.SIAGA_RAW_RETENTION_DAYS),
        dry_run=dry_run,
        now=now,
    )
    return HistoryMaintainResult(ensured=ensured, pruned=pruned)


# -- partitions ------------------------------------------------------------------------------------------


def _expired(table: str, cutoff: datetime) -> list[Partition]:
    return [p for p in partitions_list(table) if p.end is not None and p.end <= cutoff]


def _keep_messages_sql(source: str) -> str:
    """The raw messages of ``source`` (a partition) that must outlive it (see the module's list).

    A message is needed by a fix that survives this run (``_FIX_SURVIVES``).
    """
    elsewhere = "".join(
        f"OR m.id IN (SELECT r.{f.column} FROM {f.model._meta.db_table} r "
        f"WHERE r.{f.column} BETWEEN %(lo)s AND %(hi)s) "
        for f in _other_referrers()
    )
    return f"""
        SELECT m.* FROM {source} m
        WHERE m.channel <> ALL(%(channels)s::text[]) OR m.outcome = ANY(%(kept_outcomes)s::text[])
           OR m.id IN (
               SELECT f.message_id FROM {_FIX} f
               WHERE f.message_id BETWEEN %(lo)s AND %(hi)s
                 AND {_FIX_SURVIVES}
           )
           {elsewhere}
    """


def _params(**extra: Any) -> dict[str, Any]:
    return {
        "channels": list(POSITION_CHANNELS), "kept_outcomes": list(KEPT_OUTCOMES), "chunk": CHUNK_ROWS,
        "dropped": [], **extra,
    }  # fmt: skip


def _fix_partition_drop(partition: Partition) -> PartitionDrop:
    """Detach, move the units' last fixes into the default partition, commit; then count and drop."""
    with transaction.atomic(), connection.cursor() as cursor:
        lock_timeout_set(cursor)
        try:
            cursor.execute(f"ALTER TABLE {_FIX} DETACH PARTITION {partition.name}")
        except OperationalError as exc:
            raise lock_refused(_FIX, exc) from exc
        # Under the table's lock no fix can become a last fix meanwhile; the rows keep their ids.
        cursor.execute(f"INSERT INTO {_FIX} SELECT p.* FROM {partition.name} p WHERE p.id IN ({_LAST_FIX_IDS})")
        kept = cursor.rowcount
    return _count_and_drop(partition, kept)


def _message_partition_drop(partition: Partition, cutoff: datetime, raw_cutoff: datetime) -> PartitionDrop:
    """Detach, move the raw messages still needed into the default partition, commit; then count and drop."""
    with transaction.atomic(), connection.cursor() as cursor:
        lock_timeout_set(cursor)
        try:
            cursor.execute(f"ALTER TABLE {_MESSAGE} DETACH PARTITION {partition.name}")
        except OperationalError as exc:
            raise lock_refused(_MESSAGE, exc) from exc
        cursor.execute(f"SELECT min(id), max(id) FROM {partition.name}")
        lo, hi = cursor.fetchone()
        kept = 0
        if lo is not None:
            params = _params(lo=lo, hi=hi, cutoff=cutoff, raw_cutoff=raw_cutoff)
            cursor.execute(f"INSERT INTO {_MESSAGE} {_keep_messages_sql(partition.name)}", params)
            kept = cursor.rowcount
    return _count_and_drop(partition, kept)


def _count_and_drop(partition: Partition, kept: int) -> PartitionDrop:
    # Detached: counting it and dropping it lock nothing that ingest or readers use.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {partition.name}")
        (rows,) = cursor.fetchone()
    _drop_table(partition.name)
    assert partition.start is not None
    assert partition.end is not None
    return PartitionDrop(partition.name, partition.start, partition.end, rows, kept)


def _drop_table(name: str) -> None:
    with connection.cursor() as cursor:
        # Inside a caller's transaction, deferred foreign-key checks on the table's rows must run first
        # (PostgreSQL refuses to drop a table with pending trigger events); in autocommit none are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"DROP TABLE IF EXISTS {name}")


def _dry_run(
    cutoff: datetime, raw_cutoff: datetime, kept: int, fix_parts: list[Partition], message_parts: list[Partition]
) -> PositionsPruneResult:
    drops: list[PartitionDrop] = []
    dropped = [p.name for p in fix_parts]
    with connection.cursor() as cursor:
        for p in fix_parts:
            cursor.execute(f"SELECT count(*), count(*) FILTER (WHERE id IN ({_LAST_FIX_IDS})) FROM {p.name}")
            rows, moved = cursor.fetchone()
            drops.append(PartitionDrop(p.name, p.start, p.end, rows, moved))  # type: ignore[arg-type]
        for p in message_parts:
            cursor.execute(f"SELECT count(*), min(id), max(id) FROM {p.name}")
            rows, lo, hi = cursor.fetchone()
            moved = 0
            if lo is not None:
                cursor.execute(
                    f"SELECT count(*) FROM ({_keep_messages_sql(p.name)}) k",
                    _params(lo=lo, hi=hi, cutoff=cutoff, raw_cutoff=raw_cutoff, dropped=dropped),
                )
                (moved,) = cursor.fetchone()
            drops.append(PartitionDrop(p.name, p.start, p.end, rows, moved))  # type: ignore[arg-type]
        params = _params(cutoff=cutoff, raw_cutoff=raw_cutoff, dropped=dropped)
        cursor.execute(f"SELECT count(*) FROM ({_default_fixes_select()}) d", params)
        (fixes,) = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM ({_default_messages_select()}) d", params)
        (messages,) = cursor.fetchone()
    fixes += sum(d.rows - d.kept for d in drops if d.name.startswith(f"{_FIX}_"))
    messages += sum(d.rows - d.kept for d in drops if d.name.startswith(f"{_MESSAGE}_"))
    return PositionsPruneResult(cutoff, raw_cutoff, True, fixes, messages, kept, drops)


# -- the default partition, row by row -----------------------------------------------------------------


def _last_fix_ids():
    return Unit.objects.filter(last_fix__isnull=False).values("last_fix_id")


def _other_referrers() -> list:
    """The foreign keys onto raw messages other than the fixes' own, whichever app holds them."""
    return [
        rel.field
        for rel in InboundMessage._meta.related_objects
        if not rel.many_to_many and rel.related_model not in (PositionFix, DeviceRequestKey)
    ]


def _default_fixes_select() -> str:
    return f"""
        SELECT f.id FROM {default_partition_name(_FIX)} f
        WHERE f.received_at < %(cutoff)s AND NOT EXISTS (SELECT 1 FROM {_UNIT} u WHERE u.last_fix_id = f.id)
    """


def _default_messages_select() -> str:
    """The default partition's raw messages that may go: the rules of the module's list, row by row."""
    elsewhere = "".join(
        f"AND NOT EXISTS (SELECT 1 FROM {f.model._meta.db_table} r WHERE r.{f.column} = m.id) "
        for f in _other_referrers()
    )
    return f"""
        SELECT m.id FROM {default_partition_name(_MESSAGE)} m
        WHERE m.received_at < %(raw_cutoff)s
          AND m.channel = ANY(%(channels)s::text[])
          AND m.outcome <> ALL(%(kept_outcomes)s::text[])
          AND NOT EXISTS (
              SELECT 1 FROM {_FIX} f WHERE f.message_id = m.id
                AND {_FIX_SURVIVES}
          )
          {elsewhere}
    """


def _default_fixes_sql() -> str:
    table = default_partition_name(_FIX)
    return f"DELETE FROM {table} WHERE id IN ({_default_fixes_select()} LIMIT %(chunk)s)"


def _default_messages_sql() -> str:
    table = default_partition_name(_MESSAGE)
    return f"DELETE FROM {table} WHERE id IN ({_default_messages_select()} LIMIT %(chunk)s)"


def _delete_chunked(sql: str, cutoff: datetime, raw_cutoff: datetime) -> int:
    params = _params(cutoff=cutoff, raw_cutoff=raw_cutoff)
    total = 0
    while True:
        # One transaction per chunk: the NOT EXISTS on last_fix is re-read each time, and ingest
        # running meanwhile only ever points a unit at fixes newer than the cutoff.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            deleted = cursor.rowcount
        total += deleted
        if deleted < CHUNK_ROWS:
            return total
