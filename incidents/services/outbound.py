"""The outbound queue: messages to crews and agencies, sent after commit, retried, every attempt recorded.

A service that needs a message sent (a dispatch, a hand-off) calls :func:`outbound_enqueue` inside its own
transaction: one row, due now; nothing is sent then, so a slow or refusing receiver never blocks or fails
it. The worker (``manage.py outbound_worker``, a loop over :func:`outbound_process_due`) takes due rows one
at a time with ``SELECT ... FOR UPDATE SKIP LOCKED`` (several workers never send one message twice), sends,
and records the attempt: accepted (``sent``, with the WhatsApp message id), refused for good (``failed``), or
due again after a backoff (``SIAGA_OUTBOUND_BACKOFF_S`` doubling per attempt, or the receiver's Retry-After,
at most ``SIAGA_OUTBOUND_MAX_ATTEMPTS`` attempts). Delivery receipts (the webhook's ``statuses``) move a
WhatsApp message on to ``delivered`` and ``read``, or to ``failed``.

:func:`outbound_process_one` is the unit of work of the loop; on the job queue (``incidents/tasks.py``) each
message gets a job of its own, deferred once its row commits (:func:`outbound_process_message`; a retry is
the same job deferred again for its next attempt), and a periodic sweep sends whatever a job missed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from fleet.models import InboundMessage
from gis_core.models import Region
from incidents.live import live_incident_changed
from incidents.models import Assignment, DeliveryReceipt, OutboundAttempt, OutboundMessage, OutboundState
from incidents.services import cloud_api

logger = logging.getLogger(__name__)

WHATSAPP, WEBHOOK = "whatsapp", "webhook"
# Receipts only move a message forward: a late "delivered" never undoes "read".
_RANK: dict[str, int] = {OutboundState.SENT: 1, OutboundState.DELIVERED: 2, OutboundState.READ: 3}
_STAMP: dict[str, str] = {OutboundState.DELIVERED: "delivered_at", OutboundState.READ: "read_at"}


def outbound_enqueue(
    *,
    region: Region,
    channel: str,
    purpose: str,
    to: str,
    body: dict,
    assignment: Assignment | None = None,
    handoff=None,
    at: datetime | None = None,
) -> OutboundMessage:
    """Queue one message, due now; call it inside the transaction that causes it (it is sent after commit).

    Parameters
    ----------
    channel
        ``whatsapp`` (``to`` an E.164 number, ``body`` a Cloud API message) or ``webhook`` (``to`` a URL).
    purpose
        An :class:`~incidents.models.OutboundPurpose`.
    assignment, handoff
        What the message is about: its state shows on that assignment or hand-off.
    """
    message = OutboundMessage(
        region=region,
        channel=channel,
        purpose=purpose,
        to=to,
        body=body,
        next_attempt_at=at or timezone.now(),
        assignment=assignment,
        handoff=handoff,
    )
    message.full_clean()
    message.save()
    transaction.on_commit(lambda: outbound_defer_send(message.pk))
    return message


def outbound_defer_send(message_id: int, *, at: datetime | None = None) -> None:
    """Queue the job that sends one message (after its row committed). The row stays the truth: if this never
    runs (the process died right after the commit), the periodic sweep sends the message all the same."""
    from incidents.tasks import outbound_send  # the task module imports this one

    try:
        (outbound_send.configure(schedule_at=at) if at else outbound_send).defer(message_id=message_id)
    except Exception:  # the queue is away: the sweep sends it; a message is never lost for want of a job
        logger.warning("outbound message %s: its job could not be queued; the sweep will send it", message_id,
                       exc_info=True)  # fmt: skip


def outbound_process_due(*, limit: int = 50, now: datetime | None = None) -> int:
    """Send up to ``limit`` due messages, one transaction each; the number attempted."""
    done = 0
    while done < limit and outbound_process_one(now=now) is not None:
        done += 1
    return done


def outbound_process_one(*, now: datetime | None = None) -> OutboundMessage | None:
    """Take the oldest due message no other worker holds, send it, record the attempt; None when none is due.

    The row stays locked while its request runs (at most ``SIAGA_OUTBOUND_TIMEOUT_S``), so another worker
    skips it; a crash rolls the attempt back and the message is due again.
    """
    return _process_first(OutboundMessage.objects.order_by("next_attempt_at", "pk"), now=now)


def outbound_process_message(*, message_id: int, now: datetime | None = None) -> OutboundMessage | None:
    """Send message ``message_id`` if it is due and no other worker holds it (its own job, ``incidents.tasks``);
    None when it is not due, already sent or failed, or being sent elsewhere."""
    return _process_first(OutboundMessage.objects.filter(pk=message_id), now=now)


def _process_first(messages, *, now: datetime | None) -> OutboundMessage | None:
    with transaction.atomic():
        message = (
            messages.select_for_update(skip_locked=True)
            .filter(state=OutboundState.QUEUED, next_attempt_at__lte=now or timezone.now())
            .first()
        )
        if message is None:
            return None
        attempt_at = now or timezone.now()
        result = _send(message)
        _record(message, result, at=attempt_at)
    return message


def _send(message: OutboundMessage) -> cloud_api.SendResult:
    try:
        if message.channel == WHATSAPP:
            phone_number_id = message.region.whatsapp_phone_number_id or ""
            return cloud_api.whatsapp_post(phone_number_id=phone_number_id, body=message.body)
        secret = message.handoff.agency.handoff_webhook_secret if message.handoff is not None else ""
        return cloud_api.webhook_post(url=message.to, body=message.body, secret=secret, delivery_id=message.pk)
    except Exception as exc:  # a bug in building the request must not stop the queue
        logger.exception("outbound message %s could not be sent", message.pk)
        return cloud_api.SendResult(None, "", ok=False, retry=True, error=f"not sent: {exc!r}")


def _url(message: OutboundMessage) -> str:
    if message.channel == WHATSAPP:
        return cloud_api.whatsapp_messages_url(message.region.whatsapp_phone_number_id or "")
    return message.to


def _record(message: OutboundMessage, result: cloud_api.SendResult, *, at: datetime) -> None:
    message.attempts += 1
    retry = result.retry and message.attempts < settings.SIAGA_OUTBOUND_MAX_ATTEMPTS
    OutboundAttempt.objects.create(
        message=message,
        at=at,
        url=_url(message)[:500],
        request_body=cloud_api.encode(message.body).decode(),
        http_status=result.http_status,
        response_body=result.response_body,
        error=result.error,
        retry=retry and not result.ok,
    )
    fields = ["attempts", "state", "next_attempt_at", "last_error"]
    if result.ok:
        message.state, message.next_attempt_at, message.last_error = OutboundState.SENT, None, ""
        message.sent_at = at
        message.provider_message_id = result.provider_message_id
        fields += ["sent_at", "provider_message_id"]
    elif retry:
        delay_s = settings.SIAGA_OUTBOUND_BACKOFF_S * 2 ** (message.attempts - 1)
        delay_s = max(delay_s, result.retry_after_s or 0.0)
        message.next_attempt_at, message.last_error = at + timedelta(seconds=delay_s), result.error
    else:
        message.state, message.next_attempt_at, message.last_error = OutboundState.FAILED, None, result.error
        message.failed_at = at
        fields.append("failed_at")
        logger.warning("outbound message %s (%s) failed: %s", message.pk, message.purpose, result.error)
    message.save(update_fields=fields)
    if result.ok and message.handoff_id is not None:
        from incidents.services.handoffs import handoff_mark_sent  # handoffs queues through this module

        handoff_mark_sent(handoff_id=message.handoff_id, at=at)
    _announce(message)


def _announce(message: OutboundMessage) -> None:
    """Tell the consoles: the report's assignment or hand-off shows the message's state."""
    incident_id = None
    if message.assignment_id is not None:
        incident_id = Assignment.objects.filter(pk=message.assignment_id).values_list("incident_id", flat=True).first()
    elif message.handoff is not None:
        incident_id = message.handoff.incident_id
    if incident_id is not None:
        live_incident_changed(incident_id)


def outbound_receipt_record(*, status: dict, inbound: InboundMessage | None = None) -> bool:
    """Record one ``statuses`` entry of a WhatsApp delivery; False when it names no message of ours or is known.

    ``{"id": "wamid...", "status": "sent" | "delivered" | "read" | "failed", "timestamp": "<unix s>",
    "recipient_id", "errors": [{"code", "title", ...}]}``. Idempotent on (id, status).
    """
    wamid, state = str(status.get("id") or "")[:128], str(status.get("status") or "")[:16]
    if not wamid or not state:
        return False
    at = _timestamp(status.get("timestamp")) or timezone.now()
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(provider_message_id=wamid).first()
        try:
            with transaction.atomic():
                DeliveryReceipt.objects.create(
                    message=message, provider_message_id=wamid, status=state, at=at, payload=status, inbound=inbound
                )
        except IntegrityError:
            return False  # this receipt came before: Meta retried the delivery
        if message is None:
            return False
        _apply_receipt(message, state, at, status)
    return True


def _apply_receipt(message: OutboundMessage, state: str, at: datetime, status: dict) -> None:
    if state == OutboundState.FAILED:
        errors = status.get("errors") if isinstance(status.get("errors"), list) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        message.state, message.failed_at = OutboundState.FAILED, at
        message.last_error = f"delivery failed: {first.get('code', '')} {first.get('title', '')}".strip()[:500]
        message.save(update_fields=["state", "failed_at", "last_error"])
    elif state in _RANK:
        stamp = _STAMP.get(state)
        fields = []
        if stamp is not None and getattr(message, stamp) is None:
            setattr(message, stamp, at)
            fields.append(stamp)
        if message.state in _RANK and _RANK[state] > _RANK[message.state]:
            message.state = state
            fields.append("state")
        if fields:
            message.save(update_fields=fields)
    else:
        return
    _announce(message)


def _timestamp(raw: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(raw)), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
