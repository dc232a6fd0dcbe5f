"""Hand-offs: a report's leg handed to an agency Siaga tracks no units of, with its own status and times.

::

    pending -> sent -> acknowledged -> on_scene -> closed      (forward only; a step may be skipped)

A hand-off is delivered the way the agency works (``fleet.Agency``): to its duty number on WhatsApp (the
template ``WHATSAPP_HANDOFF_TEMPLATE`` with the report's type, address, landmark and reference and one quick
reply, "Diterima", that acknowledges it), else as a POST to its own system (``handoff_webhook_url``, signed
``X-Siaga-Signature-256`` with its secret, retried), else by phone or radio (``manual``: sent at once, the
dispatcher records the rest). It is ``sent`` when the receiver accepted it (the outbound queue says so). The
agency tells the rest (acknowledged, on scene, closed, its own reference number): by the quick reply, by a
signed POST to ``/api/handoffs/<id>/agency/``, or through the dispatcher.

One not acknowledged ``SIAGA_HANDOFF_ACK_TIMEOUT_S`` after it was sent (or created, while undelivered) is
escalated (:func:`handoffs_escalate_due`, run by the outbound worker and ``manage.py handoff_escalate``):
its report's shape flags it and the consoles get a live message.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from fleet.actors import SYSTEM, Actor
from fleet.ingest.fix import without_nul
from fleet.models import ActorKind, Agency, InboundMessage
from fleet.services.audit import audit_record
from incidents.errors import HandoffRefusedError, HandoffSignatureError, HandoffStateError
from incidents.live import live_incident_changed
from incidents.live.messages import handoff_escalated_message
from incidents.live.publisher import publish
from incidents.models import Handoff, HandoffStatus, Incident, IncidentStatus, OutboundPurpose
from incidents.services.cloud_api import SIGNATURE_HEADER, webhook_signature, whatsapp_template_body
from incidents.services.notifications import report_parameters, whatsapp_number
from incidents.services.outbound import WEBHOOK, WHATSAPP, outbound_enqueue

H = HandoffStatus
ORDER = (H.PENDING, H.SENT, H.ACKNOWLEDGED, H.ON_SCENE, H.CLOSED)
STAMP: dict[str, str] = {
    H.SENT: "sent_at",
    H.ACKNOWLEDGED: "acknowledged_at",
    H.ON_SCENE: "on_scene_at",
    H.CLOSED: "closed_at",
}
MANUAL = "manual"
ACK_BUTTON = "Diterima"


def handoff_payload(handoff_id: int) -> str:
    return f"siaga:h:{handoff_id}:acknowledged"


def handoff_create(
    *,
    incident: Incident,
    agency: Agency,
    actor: Actor = SYSTEM,
    source: str = "dispatcher",
    note: str = "",
    at: datetime | None = None,
) -> Handoff:
    """Hand ``incident`` to ``agency`` and queue its delivery (sent after commit).

    Raises
    ------
    HandoffRefusedError
        The agency is of another region, the report is closed, or the agency already has an open leg of it.
    """
    at = at or timezone.now()
    if agency.region_id != incident.region_id:
        raise HandoffRefusedError(f"agency {agency.code} belongs to another region than report {incident.reference}")
    if incident.status in (IncidentStatus.CLOSED, IncidentStatus.CANCELLED):
        raise HandoffRefusedError(f"report {incident.reference} is {incident.status}; reopen it before handing off")
    channel = _channel(agency)
    with transaction.atomic():
        handoff = Handoff(
            incident=incident,
            agency=agency,
            channel=channel,
            source=source,
            note=note,
            created_at=at,
            created_by=actor.person_user,
        )
        if channel == MANUAL:
            handoff.status, handoff.sent_at = H.SENT, at
        handoff.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                handoff.save()
        except IntegrityError:
            raise HandoffRefusedError(
                f"{agency.name} already has an open hand-off of {incident.reference}: update that one"
            ) from None
        _deliver(handoff)
        audit_record(
            action="handoff.create",
            actor=actor,
            obj=handoff,
            data={"incident": incident.reference, "agency": agency.code, "channel": channel, "source": source},
        )
        live_incident_changed(incident.pk)
    return handoff


def handoffs_from_incident_type(*, incident: Incident, actor: Actor = SYSTEM) -> list[Handoff]:
    """Hand the report to every agency of its region whose kind its type needs and that has no tracked units.

    Agencies with an open hand-off of it already are skipped. Raises HandoffRefusedError for a report without
    a type.
    """
    if incident.incident_type is None:
        raise HandoffRefusedError(f"report {incident.reference} has no type yet: choose the agency instead")
    kinds = set(incident.incident_type.needs.values_list("agency_kind", flat=True))
    open_ = Handoff.objects.filter(incident=incident).exclude(status=H.CLOSED).values_list("agency_id", flat=True)
    agencies = (
        Agency.objects.filter(region_id=incident.region_id, kind__in=kinds, units__isnull=True)
        .exclude(pk__in=list(open_))
        .distinct()
        .order_by("code")
    )
    return [handoff_create(incident=incident, agency=a, actor=actor, source="incident_type") for a in agencies]


def handoff_update(
    *,
    handoff: Handoff,
    status: str | None = None,
    agency_reference: str | None = None,
    note: str | None = None,
    at: datetime | None = None,
    actor: Actor = SYSTEM,
) -> Handoff:
    """Move a hand-off forward (acknowledged, on scene, closed) and/or record the agency's reference.

    A status the hand-off has already reached changes nothing (a resent acknowledgement is harmless); the
    newly reached status is stamped (``at``, now by default); a skipped one keeps no time.

    Raises
    ------
    HandoffStateError
        ``status`` is unknown, or earlier than the current one.
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = Handoff.objects.select_for_update().select_related("incident", "agency").get(pk=handoff.pk)
        before = {"status": locked.status, "agency_reference": locked.agency_reference}
        changed: list[str] = []
        if status is not None and status != locked.status:
            if status not in ORDER or status == H.PENDING:
                raise HandoffStateError(f"unknown hand-off status {status!r}; use acknowledged, on_scene or closed")
            if ORDER.index(status) < ORDER.index(locked.status):
                raise HandoffStateError(
                    f"hand-off {locked.pk} is already {locked.status}; it cannot go back to {status}"
                )
            if getattr(locked, STAMP[status]) is None:  # a skipped step keeps no time: nobody said when
                setattr(locked, STAMP[status], at)
                changed.append(STAMP[status])
            locked.status = status
            changed.append("status")
        if agency_reference is not None and agency_reference != locked.agency_reference:
            locked.agency_reference = agency_reference
            changed.append("agency_reference")
        if note is not None and note != locked.note:
            locked.note = note
            changed.append("note")
        if not changed:
            return locked
        locked.full_clean(validate_constraints=False)
        locked.save(update_fields=changed)
        audit_record(
            action="handoff.update",
            actor=actor,
            obj=locked,
            data={
                "incident": locked.incident.reference,
                "agency": locked.agency.code,
                "before": before,
                "after": {"status": locked.status, "agency_reference": locked.agency_reference},
            },
        )
        live_incident_changed(locked.incident_id)
    return locked


def handoff_mark_sent(*, handoff_id: int, at: datetime) -> None:
    """The receiver accepted the hand-off's delivery (called by the outbound queue)."""
    Handoff.objects.filter(pk=handoff_id, status=H.PENDING).update(status=H.SENT, sent_at=at)


def handoffs_escalate_due(*, now: datetime | None = None) -> list[Handoff]:
    """Escalate every hand-off not acknowledged ``SIAGA_HANDOFF_ACK_TIMEOUT_S`` after it was sent or created."""
    now = now or timezone.now()
    deadline = now - timedelta(seconds=settings.SIAGA_HANDOFF_ACK_TIMEOUT_S)
    escalated: list[Handoff] = []
    with transaction.atomic():
        due = (
            Handoff.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("incident", "agency")
            .annotate(since=Coalesce("sent_at", "created_at"))
            .filter(Q(status=H.PENDING) | Q(status=H.SENT), escalated_at__isnull=True, since__lte=deadline)
        )
        for handoff in due:
            handoff.escalated_at = now
            handoff.save(update_fields=["escalated_at"])
            waited_s = round((now - handoff.since).total_seconds())
            audit_record(
                action="handoff.escalate",
                obj=handoff,
                data={"incident": handoff.incident.reference, "agency": handoff.agency.code, "waited_s": waited_s},
            )
            transaction.on_commit(partial(publish, handoff_escalated_message, handoff.pk))
            live_incident_changed(handoff.incident_id)
            escalated.append(handoff)
    return escalated


def handoff_agency_update(*, handoff_id: int, body: bytes, signature: str | None, remote_addr: str | None) -> Handoff:
    """An agency's system tells us about its leg: ``{"status"?, "reference"?, "at"?}``, signed with its secret.

    The raw request is stored first (``InboundMessage``, channel ``handoff``), then the signature is checked
    against the agency's ``handoff_webhook_secret`` (HMAC-SHA256 of the raw body, ``sha256=<hex>``).

    Raises
    ------
    HandoffSignatureError
        Unknown hand-off, an agency without a secret, or a signature that does not match (all alike: 403).
    HandoffStateError
        The body is not such an object, or the move goes backwards.
    """
    text = body.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    inbound = InboundMessage(
        channel="handoff",
        remote_addr=remote_addr,
        body=text,
        outcome="received",
        headers={SIGNATURE_HEADER: (signature or "")[:200]},
    )
    inbound.full_clean()
    inbound.save()
    handoff = Handoff.objects.select_related("agency").filter(pk=handoff_id).first()
    secret = handoff.agency.handoff_webhook_secret if handoff is not None else ""
    if handoff is None or not secret or not signature or not _signature_ok(body, signature, secret):
        _outcome(inbound, "rejected", "unknown hand-off or a signature that does not match")
        raise HandoffSignatureError(f"{SIGNATURE_HEADER} does not match the body signed with the agency's secret")
    try:
        data = without_nul(json.loads(text))
        if not isinstance(data, dict):
            raise ValueError("not an object")
        status, reference = data.get("status"), data.get("reference")
        if (status is not None and not isinstance(status, str)) or (
            reference is not None and not isinstance(reference, str)
        ):
            raise ValueError("status and reference are strings")
        at = _at(data.get("at"))
        updated = handoff_update(
            handoff=handoff,
            status=status,
            agency_reference=reference[:64] if reference is not None else None,
            at=at,
            actor=Actor(kind=ActorKind.AGENCY, name=f"{handoff.agency.code} (own system)", remote_addr=remote_addr),
        )
    except (ValueError, HandoffStateError) as exc:
        _outcome(inbound, "rejected", str(exc))
        if isinstance(exc, HandoffStateError):
            raise
        raise HandoffStateError(f'body must be {{"status"?, "reference"?, "at"?}}: {exc}') from None
    _outcome(inbound, "accepted", "")
    return updated


def _signature_ok(body: bytes, signature: str, secret: str) -> bool:
    import hmac

    expected = webhook_signature(body=body, secret=secret)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode("utf-8", "replace"))


def _at(raw: object) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ValueError("at is an ISO 8601 time with its offset")
    parsed = datetime.fromisoformat(raw)
    if timezone.is_naive(parsed):
        raise ValueError("at needs its UTC offset")
    return parsed


def _outcome(inbound: InboundMessage, outcome: str, error: str) -> None:
    inbound.outcome, inbound.error = outcome, error[:2000]
    inbound.save(update_fields=["outcome", "error"])


def _channel(agency: Agency) -> str:
    if whatsapp_number(agency.duty_whatsapp):
        return WHATSAPP
    if agency.handoff_webhook_url:
        return WEBHOOK
    return MANUAL


def _deliver(handoff: Handoff) -> None:
    incident, agency = handoff.incident, handoff.agency
    if handoff.channel == WHATSAPP:
        to = whatsapp_number(agency.duty_whatsapp)
        body = whatsapp_template_body(
            to=to,
            template=settings.WHATSAPP_HANDOFF_TEMPLATE,
            parameters=[*report_parameters(incident), incident.reference],
            button_payloads=[handoff_payload(handoff.pk)],
        )
    elif handoff.channel == WEBHOOK:
        to = agency.handoff_webhook_url
        body = handoff_webhook_body(handoff)
    else:
        return
    outbound_enqueue(
        region=incident.region, channel=handoff.channel, purpose=OutboundPurpose.HANDOFF, to=to, body=body,
        handoff=handoff,
    )  # fmt: skip


def handoff_webhook_body(handoff: Handoff) -> dict:
    """What an agency's system receives: the hand-off and the report, points ``[lon, lat]`` (EPSG:4326)."""
    incident = handoff.incident
    itype = incident.incident_type
    return {
        "type": "siaga.handoff",
        "handoff": handoff.pk,
        "agency": handoff.agency.code,
        "reply_url": f"{settings.SIAGA_PUBLIC_BASE_URL}/api/handoffs/{handoff.pk}/agency/",
        "incident": {
            "reference": incident.reference,
            "incident_type": itype.code if itype is not None else None,
            "incident_type_name": itype.name_in("id") if itype is not None else None,
            "priority": incident.priority,
            "description": incident.description,
            "address_text": incident.address_text,
            "location": None if incident.geom is None else [incident.geom.x, incident.geom.y],
            "caller_phone": incident.caller_phone,
            "received_at": incident.received_at.isoformat(),
        },
    }
