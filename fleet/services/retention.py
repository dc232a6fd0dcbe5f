"""Retention of crews' GPS history: prune old fixes, and the raw device messages they came from.

What is kept whatever its age:

- every unit's current ``last_fix`` (dispatch ranks a unit from it, however old it is);
- any raw message a remaining row of any table still points at (``PositionFix.message``, and the
  foreign keys other apps hold, such as the incidents app's ``WhatsAppMessage.inbound``, are found from
  the model graph: deleting the message would silently cut that link, so it is not deleted);
- raw messages that were never processed (outcome ``received``) or failed (``error``): they may
  still need a replay, and no fix was made from them;
- anything that is not a device position channel: WhatsApp deliveries, crew status requests.

Idempotency keys (``DeviceRequestKey``) of requests received before the cutoff go with them: a resend
that late is long past any offline queue.

Age is measured by ``received_at`` (the server's clock, always set and indexed), not by the
device's ``recorded_at``, which may be missing or wrong: a fix is pruned when it arrived more than
``older_than`` ago. Deletes run in chunks in plain SQL, so a months-long backlog neither holds one
huge transaction nor loads rows into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from fleet.models import DeviceRequestKey, InboundMessage, PositionFix, Unit
from fleet.services.audit import audit_record

POSITION_CHANNELS = ("osmand", "traccar_json", "owntracks", "batch")
KEPT_OUTCOMES = ("received", "error")
CHUNK_ROWS = 10_000


class RetentionError(ValueError):
    """The retention request makes no sense (e.g. a cutoff that is not in the past)."""


@dataclass(frozen=True)
class PositionsPruneResult:
    """What ``positions_prune`` deleted (or, in a dry run, would delete)."""

    cutoff: datetime
    dry_run: bool
    fixes_deleted: int
    messages_deleted: int
    last_fixes_kept: int

    def summary(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        return (
            f"{verb} {self.fixes_deleted} fixes and {self.messages_deleted} raw device messages received before "
            f"{self.cutoff.isoformat()}; kept {self.last_fixes_kept} older fixes that are a unit's last position"
        )


def positions_prune(*, older_than: timedelta, dry_run: bool, now: datetime | None = None) -> PositionsPruneResult:
    """Delete fixes received more than ``older_than`` ago, never a unit's current last fix.

    Parameters
    ----------
    older_than
        Age beyond which a fix (by its ``received_at``) is deleted; must be positive.
    dry_run
        Only count what would be deleted; change nothing.
    now
        The clock the cutoff is taken from (default: now).

    Returns
    -------
    PositionsPruneResult
        Counts of deleted fixes and raw messages, and of old fixes kept as a unit's last position.

    Raises
    ------
    RetentionError
        ``older_than`` is zero or negative.
    """
    if older_than <= timedelta(0):
        raise RetentionError(f"older_than must be positive, got {older_than}")
    cutoff = (now or timezone.now()) - older_than
    kept = PositionFix.objects.filter(received_at__lt=cutoff, pk__in=_last_fix_ids()).count()
    if dry_run:
        fixes = PositionFix.objects.filter(received_at__lt=cutoff).exclude(pk__in=_last_fix_ids()).count()
        messages = _prunable_messages(cutoff).count()
        return PositionsPruneResult(cutoff, True, fixes, messages, kept)
    DeviceRequestKey.objects.filter(Q(created_at__lt=cutoff) | Q(message__received_at__lt=cutoff)).delete()
    fixes = _delete_chunked(_FIXES_SQL, cutoff)
    messages = _delete_chunked(_messages_sql(), cutoff)
    audit_record(
        action="positions.prune",
        data={"cutoff": cutoff.isoformat(), "fixes": fixes, "messages": messages, "last_fixes_kept": kept},
    )
    return PositionsPruneResult(cutoff, False, fixes, messages, kept)


def _last_fix_ids():
    return Unit.objects.filter(last_fix__isnull=False).values("last_fix_id")


def _prunable_messages(cutoff: datetime):
    """For a dry run: the raw messages ``_MESSAGES_SQL`` deletes once the old fixes are gone."""
    remaining = PositionFix.objects.filter(Q(received_at__gte=cutoff) | Q(pk__in=_last_fix_ids()))
    return (
        InboundMessage.objects.filter(channel__in=POSITION_CHANNELS, received_at__lt=cutoff)
        .exclude(outcome__in=KEPT_OUTCOMES)
        .exclude(pk__in=remaining.filter(message__isnull=False).values("message_id"))
        .exclude(_referenced_elsewhere())
    )


def _other_referrers() -> list:
    """The foreign keys onto raw messages other than the fixes' own, whichever app holds them."""
    return [
        rel.field
        for rel in InboundMessage._meta.related_objects
        if not rel.many_to_many and rel.related_model not in (PositionFix, DeviceRequestKey)
    ]


def _referenced_elsewhere() -> Q:
    q = Q(pk__in=[])
    for field in _other_referrers():
        q |= Q(pk__in=field.model.objects.filter(**{f"{field.name}__isnull": False}).values(field.attname))
    return q


_FIX = PositionFix._meta.db_table
_UNIT = Unit._meta.db_table
_MESSAGE = InboundMessage._meta.db_table

_FIXES_SQL = f"""
    DELETE FROM {_FIX} WHERE id IN (
        SELECT f.id FROM {_FIX} f
        WHERE f.received_at < %(cutoff)s
          AND NOT EXISTS (SELECT 1 FROM {_UNIT} u WHERE u.last_fix_id = f.id)
        LIMIT %(chunk)s
    )
"""
_MESSAGES_SQL_HEAD = f"""
    DELETE FROM {_MESSAGE} WHERE id IN (
        SELECT m.id FROM {_MESSAGE} m
        WHERE m.received_at < %(cutoff)s
          AND m.channel = ANY(%(channels)s)
          AND m.outcome <> ALL(%(kept_outcomes)s)
          AND NOT EXISTS (SELECT 1 FROM {_FIX} f WHERE f.message_id = m.id)
          {{elsewhere}}
        LIMIT %(chunk)s
    )
"""


def _messages_sql() -> str:
    """The chunk delete of raw messages, with a NOT EXISTS for every other table that points at them."""
    elsewhere = "".join(
        f"AND NOT EXISTS (SELECT 1 FROM {f.model._meta.db_table} r WHERE r.{f.column} = m.id) "
        for f in _other_referrers()
    )
    return _MESSAGES_SQL_HEAD.replace("{elsewhere}", elsewhere)


def _delete_chunked(sql: str, cutoff: datetime) -> int:
    params: dict[str, Any] = {
        "cutoff": cutoff,
        "chunk": CHUNK_ROWS,
        "channels": list(POSITION_CHANNELS),
        "kept_outcomes": list(KEPT_OUTCOMES),
    }
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
