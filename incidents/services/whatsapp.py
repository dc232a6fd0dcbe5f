"""WhatsApp Cloud API webhook intake: signature, subscription handshake, and citizens' texts and locations.

The order of work for a POST: verify ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app
secret, compared in constant time) before anything is parsed or stored; store the raw delivery as an
``InboundMessage``; then process each message in its own transaction. A message id is stored once
(``WhatsAppMessage.message_id`` is unique), so a retried delivery, even one arriving concurrently,
creates nothing twice; messages of one sender are processed one at a time (their ``Caller`` row is
locked), so a text and a location sent together never open two reports.

What a message does:

- text: appended to the sender's open report from the last ``SIAGA_WHATSAPP_ATTACH_WINDOW_S`` seconds
  (any channel: a caller asked on the phone to share a location lands on the call's report), or a new
  report awaiting its location;
- location: offered (``LocationOffer``) on that open report, or on a new report that awaits its
  location. A shared location is never applied by itself, not even as a report's first location: a
  dispatcher applies it with one action (``location_offer_apply``). The report shows it meanwhile (its
  pending offers are in the queue and the detail);
- anything else (image, audio, reaction, ...): stored, linked to the open report if there is one,
  otherwise ignored; delivery statuses are kept in the raw delivery only.

Which region a message belongs to is decided by the business number that received it: a value's
``metadata.phone_number_id`` is looked up in ``Region.whatsapp_phone_number_id`` (set in the admin). The
messages of a number that no region holds are not stored as messages yet: the delivery keeps them, with
the reason in its ``error`` (outcome ``failed`` or ``partial``), until ``whatsapp_inbound_replay`` runs it
again once the number is set; a message id already stored is skipped, so a replay records nothing twice.

"Open report from the last window" means a report of that number, not closed or cancelled, whose
newest activity (received, or a WhatsApp message on it) is at most the window before the message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from fleet.actors import SYSTEM, Actor
from fleet.ingest.fix import without_nul
from fleet.models import InboundMessage
from fleet.services.audit import audit_record
from gis_core.models import Region
from incidents.errors import InvalidLocationError, ReportError, WebhookPayloadError
from incidents.models import Caller, Channel, Incident, WhatsAppMessage
from incidents.services.callers import phone_normalise
from incidents.services.incidents import OPEN_STATUSES, incident_create, location_offer_create

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
_KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Hub-Signature-256")


@dataclass
class WebhookResult:
    """What one delivery contained and what became of it."""

    inbound: InboundMessage
    messages_new: int = 0
    messages_duplicate: int = 0
    messages_unroutable: int = 0
    statuses: int = 0
    ignored: int = 0
    errors: list[str] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)


def whatsapp_signature_valid(*, body: bytes, signature: str | None, secret: str) -> bool:
    """Whether ``signature`` (``sha256=<hex>``) is the HMAC-SHA256 of the raw ``body`` under ``secret``.

    Compared in constant time. An empty secret validates nothing: an unconfigured server refuses every
    delivery rather than accepting unsigned ones.
    """
    if not secret or not signature:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8", "replace"))


def whatsapp_subscription_challenge(*, mode: str | None, token: str | None, challenge: str | None) -> str | None:
    """The challenge to echo for a valid subscription handshake (``hub.mode=subscribe``), else None."""
    expected = settings.WHATSAPP_VERIFY_TOKEN
    if mode != "subscribe" or not expected or token is None or challenge is None:
        return None
    return challenge if hmac.compare_digest(expected.encode(), token.encode("utf-8", "replace")) else None


def whatsapp_webhook_receive(*, body: bytes, headers: dict[str, str], remote_addr: str | None = None) -> WebhookResult:
    """Store a delivery whose signature has been verified, then process it (see the module docstring).

    Parameters
    ----------
    body
        The raw request body, exactly as signed.
    headers
        Request headers; the signature, content type and user agent are kept with the delivery.

    Raises
    ------
    WebhookPayloadError
        The body is not a webhook envelope; it is stored all the same (outcome ``rejected``).
    """
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    inbound = InboundMessage(
        channel=CHANNEL,
        remote_addr=remote_addr,
        body=text,
        outcome="received",
        headers={k: headers[k] for k in _KEPT_HEADERS if k in headers},
    )
    inbound.full_clean()
    inbound.save()
    return whatsapp_inbound_process(inbound=inbound)


def whatsapp_inbound_process(*, inbound: InboundMessage) -> WebhookResult:
    """Process a stored delivery; safe to run again (a replay after a failure creates nothing twice)."""
    result = WebhookResult(inbound=inbound)
    try:
        document = without_nul(json.loads(inbound.body))
    except ValueError as exc:
        _finish(result, outcome="rejected", error=f"body is not JSON: {exc}")
        raise WebhookPayloadError(f"body is not JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("entry"), list):
        _finish(result, outcome="rejected", error='not a webhook envelope: no "entry" list')
        raise WebhookPayloadError('not a WhatsApp webhook envelope: expected {"object": ..., "entry": [...]}')
    if document.get("object") != "whatsapp_business_account":
        result.ignored += 1
        return _finish(result, outcome="ignored", error=f"object {document.get('object')!r} is not whatsapp")
    for value in _values(document):
        names = {
            str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "") for c in _dicts(value, "contacts")
        }
        result.statuses += len(_dicts(value, "statuses"))
        messages = _dicts(value, "messages")
        if not messages:
            continue
        region, problem = _region_of(value)
        if region is None:
            logger.error("WhatsApp delivery %s: %d message(s) not processed: %s", inbound.pk, len(messages), problem)
            result.messages_unroutable += len(messages)
            result.errors.append(f"{len(messages)} message(s) not processed: {problem}")
            continue
        for message in messages:
            _message_process(message=message, names=names, region=region, result=result)
    return _finish(result)


def whatsapp_inbound_replay(*, inbound: InboundMessage, actor: Actor = SYSTEM) -> WebhookResult:
    """Process a stored WhatsApp delivery again (after its number was set on a region, or a fault fixed).

    Idempotent: a message id already stored (turned into or added to a report) is counted as a duplicate
    and changes nothing. The replay is audited with the outcome before and after.

    Parameters
    ----------
    inbound
        A delivery of the ``whatsapp`` channel.
    actor
        Who asked for the replay (a person in the admin); the system for the command.

    Raises
    ------
    WebhookPayloadError
        The stored body is not a webhook envelope (outcome ``rejected``): replaying cannot help.
    """
    before = {"outcome": inbound.outcome, "error": inbound.error}
    try:
        result = whatsapp_inbound_process(inbound=inbound)
        if before["outcome"] == "accepted" and inbound.outcome == "duplicate":
            # Its own messages, found again: the delivery stays what it was, not a duplicate of itself.
            _finish(result, outcome="accepted")
    finally:
        audit_record(
            action="whatsapp.replay",
            actor=actor,
            obj=inbound,
            data={"before": before, "after": {"outcome": inbound.outcome, "error": inbound.error}},
        )
    return result


def whatsapp_deliveries_to_replay() -> QuerySet[InboundMessage]:
    """WhatsApp deliveries with messages not yet processed (outcome failed or partial), oldest first."""
    return InboundMessage.objects.filter(channel=CHANNEL, outcome__in=("failed", "partial")).order_by(
        "received_at", "pk"
    )


def _values(document: dict) -> list[dict]:
    values = []
    for entry in document["entry"]:
        for change in entry.get("changes") or [] if isinstance(entry, dict) else []:
            if isinstance(change, dict) and change.get("field") == "messages" and isinstance(change.get("value"), dict):
                values.append(change["value"])
    return values


def _dicts(value: dict, key: str) -> list[dict]:
    items = value.get(key)
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _region_of(value: dict) -> tuple[Region | None, str]:
    """The region whose business number received ``value`` (``metadata.phone_number_id``), or the reason why none."""
    found = value.get("metadata")
    metadata: dict = found if isinstance(found, dict) else {}
    number_id = str(metadata.get("phone_number_id") or "").strip()
    if not number_id:
        return None, "no metadata.phone_number_id: the receiving WhatsApp number, hence the region, is unknown"
    region = Region.objects.filter(whatsapp_phone_number_id=number_id[:32]).first()
    if region is None:
        display = str(metadata.get("display_phone_number") or "").strip()[:32]
        shown = f"{number_id[:32]} ({display})" if display else number_id[:32]
        return None, (
            f"WhatsApp number id {shown} is not set on any region: enter it as the region's "
            "WhatsApp phone number id in the admin, then replay this delivery"
        )
    return region, ""


def _finish(result: WebhookResult, *, outcome: str | None = None, error: str = "") -> WebhookResult:
    if outcome is None:
        if result.errors:
            outcome = "partial" if result.messages_new or result.messages_duplicate else "failed"
        elif result.messages_new:
            outcome = "accepted"
        elif result.messages_duplicate:
            outcome = "duplicate"
        else:
            outcome = "ignored"
    inbound = result.inbound
    inbound.outcome, inbound.error = outcome, error or "; ".join(result.errors)
    inbound.save(update_fields=["outcome", "error"])
    return result


def _message_process(*, message: dict, names: dict[str, str], region: Region, result: WebhookResult) -> None:
    message_id = message.get("id")
    if not isinstance(message_id, str) or not message_id:
        result.errors.append("a message without an id was not processed (it is kept in the raw delivery)")
        return
    try:
        with transaction.atomic():
            wa = _store(message=message, names=names, inbound=result.inbound, result=result)
            if wa is None:
                result.messages_duplicate += 1
                return
            if wa.from_phone.startswith("+"):
                Caller.objects.get_or_create(region=region, phone=wa.from_phone)
                # one sender at a time, per centre
                Caller.objects.select_for_update().get(region=region, phone=wa.from_phone)
            wa.incident = _route(wa=wa, region=region)
            wa.save(update_fields=["incident"])
            audit_record(
                action="whatsapp.message",
                actor=Actor.citizen(),
                obj=wa,
                data={
                    "from": wa.from_phone,
                    "kind": wa.kind,
                    "message_id": wa.message_id,
                    "incident": wa.incident.reference if wa.incident else None,
                },
            )
    except Exception as exc:  # one bad message must not lose the others; the raw delivery can be replayed
        logger.exception("WhatsApp message %s failed", message_id)
        result.errors.append(f"message {message_id}: {exc}")
        return
    result.messages_new += 1
    if wa.incident is not None and wa.incident.reference not in result.incidents:
        result.incidents.append(wa.incident.reference)


def _store(*, message: dict, names: dict[str, str], inbound: InboundMessage, result: WebhookResult):
    """Insert the message row, or return None when its id is already stored."""
    raw_from = str(message.get("from") or "")
    try:
        phone = phone_normalise("+" + raw_from) if raw_from else ""
    except ReportError:
        phone = raw_from[:32]
    sent_at = _sent_at(message.get("timestamp"))
    if sent_at is None:
        sent_at = inbound.received_at
        result.errors.append(
            f"message {message['id']}: timestamp {message.get('timestamp')!r} unreadable, the delivery time is used"
        )
    wa = WhatsAppMessage(
        message_id=message["id"][:128],
        from_phone=phone,
        profile_name=names.get(raw_from, "")[:128],
        kind=str(message.get("type") or "unknown")[:16],
        sent_at=sent_at,
        payload=message,
        inbound=inbound,
    )
    wa.full_clean(validate_unique=False, exclude=[] if phone else ["from_phone"])
    try:
        with transaction.atomic():
            wa.save(force_insert=True)
    except IntegrityError:
        if WhatsAppMessage.objects.filter(message_id=wa.message_id).exists():
            return None
        raise
    return wa


def _sent_at(raw: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(str(raw)), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _route(*, wa: WhatsAppMessage, region: Region) -> Incident | None:
    incident = _open_report(region=region, phone=wa.from_phone, at=wa.sent_at)
    if wa.kind == "text":
        body = _text_body(wa.payload)
        if incident is not None:
            _append(incident, wa, body)
            return incident
        return _new_report(region=region, wa=wa, description=body)
    if wa.kind == "location":
        location, label = _location(wa.payload)
        if incident is None:
            intro = "location shared on WhatsApp" + (f": {label}" if label else "")
            incident = _new_report(region=region, wa=wa, description=intro)
        try:
            if location is None:
                raise InvalidLocationError(f"no latitude/longitude in {wa.payload.get('location')!r}")
            location_offer_create(incident=incident, location=location, label=label, received_at=wa.sent_at)
        except InvalidLocationError as exc:
            _append(incident, wa, f"(shared a location that could not be read: {exc})")
        return incident
    return incident


def _open_report(*, region: Region, phone: str, at: datetime) -> Incident | None:
    if not phone.startswith("+"):
        return None
    since = at - timedelta(seconds=settings.SIAGA_WHATSAPP_ATTACH_WINDOW_S)
    return (
        Incident.objects.filter(region=region, caller_phone=phone, status__in=OPEN_STATUSES)
        .annotate(last_activity=Greatest("received_at", Coalesce(Max("whatsapp__sent_at"), "received_at")))
        .filter(last_activity__gte=since)
        .order_by("-last_activity", "-pk")
        .first()
    )


def _new_report(*, region: Region, wa: WhatsAppMessage, description: str) -> Incident:
    return incident_create(
        region=region,
        channel=Channel.WHATSAPP,
        caller_phone=wa.from_phone if wa.from_phone.startswith("+") else "",
        caller_name=wa.profile_name,
        description=description,
        received_at=min(wa.sent_at, timezone.now()),
        actor=Actor.citizen(),
    )


def _append(incident: Incident, wa: WhatsAppMessage, text: str) -> None:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    stamp = timezone.localtime(wa.sent_at, incident.region.zone).strftime("%H:%M %Z")  # the centre's clock: 14:05 WIT
    line = f"[WhatsApp {stamp}] {text}"
    incident.description = f"{incident.description}\n{line}" if incident.description else line
    incident.full_clean()
    incident.save(update_fields=["description"])


def _text_body(payload: dict) -> str:
    text = payload.get("text")
    return str(text.get("body") or "").strip() if isinstance(text, dict) else ""


def _location(payload: dict) -> tuple[tuple[float, float] | None, str]:
    loc = payload.get("location")
    if not isinstance(loc, dict):
        return None, ""
    label = " — ".join(str(loc[k]).strip() for k in ("name", "address") if loc.get(k))
    try:
        return (float(loc["longitude"]), float(loc["latitude"])), label
    except (KeyError, TypeError, ValueError):
        return None, label
