"""Raw messages: every request a device, tracker bridge or webhook sent, stored before anything can fail.

``inbound_message_store`` writes it in its own commit, as it came (secrets masked by the caller:
``fleet.ingest.masking``); ``inbound_message_close`` records how it ended.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from fleet.metrics import INBOUND_MESSAGES
from fleet.models import Device, InboundMessage


@dataclass(frozen=True)
class RawRequest:
    """A request as it is stored (secrets already masked): what ``inbound_message_store`` takes, and what the
    ingest spool keeps while the database is away (``fleet.services.spool``)."""

    channel: str
    body: str
    headers: dict[str, str]
    remote_addr: str | None
    query: str = ""


def inbound_message_store(
    *,
    channel: str,
    body: bytes | str,
    headers: dict[str, str],
    remote_addr: str | None,
    query: str = "",
    received_at: datetime | None = None,
) -> InboundMessage:
    """Store a raw request as received, in its own commit, before anything about it can fail.

    Parameters
    ----------
    channel
        osmand, traccar_json, owntracks, batch, crew_status.
    body
        The raw body as sent (empty when none was sent). Bytes that are not UTF-8 are kept as
        ``\\xNN`` escapes, and NUL (which PostgreSQL text cannot hold) as ``\\x00``.
    headers
        The headers worth keeping; never a credential (the caller leaves Authorization out).
    remote_addr
        The client's address.
    query
        The query string as sent (a device may send everything there, with a body or without).
    received_at
        When it was received (default now); a spooled request's is when it was spooled.

    The caller masks secrets in ``query`` and ``body`` (``fleet.ingest.masking``).
    """
    text = body.decode("utf-8", errors="backslashreplace") if isinstance(body, bytes) else body
    headers = {name: value.replace("\x00", "\\x00") for name, value in headers.items()}  # jsonb cannot hold NUL either
    message = InboundMessage(
        channel=channel, query=query.replace("\x00", "\\x00"), body=text.replace("\x00", "\\x00"),
        headers=headers, remote_addr=remote_addr, outcome="received", received_at=received_at or timezone.now(),
    )  # fmt: skip
    # Hand-written INSERT: every device request runs it, and Model.save() costs more to build than to run.
    with connection.cursor() as cursor:
        cursor.execute(
            _MESSAGE_INSERT_SQL,
            [
                channel, message.received_at, remote_addr, json.dumps(message.headers), message.query, message.body,
                message.outcome,
            ],
        )  # fmt: skip
        (message.pk,) = cursor.fetchone()
    message._state.adding = False
    message._state.db = connection.alias
    INBOUND_MESSAGES.labels(channel).inc()
    return message


_MESSAGE_TABLE = InboundMessage._meta.db_table
_MESSAGE_INSERT_SQL = f"""
    INSERT INTO {_MESSAGE_TABLE} (channel, received_at, remote_addr, headers, query, body, outcome, error)
    VALUES (%s, %s, %s::inet, %s::jsonb, %s, %s, %s, '') RETURNING id
"""


def inbound_message_close(
    *, message: InboundMessage, outcome: str, error: str = "", device: Device | None = None
) -> None:
    """Record how a stored message ended: accepted, ignored (no fix in it), rejected (with why)."""
    message.outcome = outcome
    message.error = error
    if device is not None:
        message.device = device
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_MESSAGE_TABLE} SET outcome = %s, error = %s, device_id = COALESCE(%s, device_id) WHERE id = %s",
            [outcome, error, None if device is None else device.pk, message.pk],
        )
