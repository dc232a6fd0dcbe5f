"""Quick replies: a crew's button moves its unit; an agency's "Diterima" acknowledges its hand-off.

A WhatsApp message whose button payload starts with ``siaga:`` is a reply to a message Siaga sent
(``incidents.services.notifications``, ``incidents.services.handoffs``): the template's quick reply arrives
as ``{"type": "button", "button": {"payload", "text"}, "context": {"id"}}``, an interactive button as
``{"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id", "title"}}}``.
The message is already stored (``WhatsAppMessage``, unique on its id, so a duplicate delivery never gets
here twice); this module decides what it does and writes the outcome on it:

- ``applied``: the unit's status changed through the one state machine (``unit_status_set``), audited as
  the crew's (actor ``crew``, labelled with the number and the call sign); or the hand-off was acknowledged;
- ``illegal``: the move is not allowed now (or the dispatch is no longer active): the crew is answered
  why, in Bahasa Indonesia, and nothing changes;
- ``refused``: the number is not that unit's crew (or that agency's duty number): kept, audited, unanswered;
- ``unknown``: the payload names nothing of this region.
"""

from __future__ import annotations

import logging
import re

from fleet.actors import Actor
from fleet.models import ActorKind
from fleet.services.audit import audit_record
from gis_core.models import Region
from incidents.errors import HandoffError, IllegalTransitionError
from incidents.models import Assignment, AssignmentStatus, Handoff, HandoffStatus, OutboundPurpose, WhatsAppMessage
from incidents.services.cloud_api import whatsapp_text_body
from incidents.services.handoffs import handoff_update
from incidents.services.notifications import whatsapp_number
from incidents.services.outbound import WHATSAPP, outbound_enqueue
from incidents.services.status import unit_status_set

logger = logging.getLogger(__name__)

_PAYLOAD = re.compile(r"^siaga:(a|h):(\d{1,12}):([a-z_]{1,32})$")
STATUS_ID = {
    "available": "siaga",
    "dispatched": "ditugaskan",
    "en_route": "berangkat",
    "on_scene": "tiba di lokasi",
    "transporting": "membawa pasien",
    "at_hospital": "di rumah sakit",
    "returning": "kembali (selesai)",
    "out_of_service": "tidak beroperasi",
}


def quick_reply_payload(message: dict) -> str | None:
    """The button payload of a quick reply meant for Siaga, else None."""
    payload = None
    if message.get("type") == "button" and isinstance(message.get("button"), dict):
        payload = message["button"].get("payload")
    elif message.get("type") == "interactive" and isinstance(message.get("interactive"), dict):
        reply = message["interactive"].get("button_reply")
        payload = reply.get("id") if isinstance(reply, dict) else None
    return payload if isinstance(payload, str) and payload.startswith("siaga:") else None


def quick_reply_handle(*, wa: WhatsAppMessage, region: Region, payload: str) -> str:
    """Apply one stored quick reply (see the module docstring); its outcome, also saved on ``wa``."""
    match = _PAYLOAD.match(payload)
    if match is None:
        return _done(wa, "unknown", f"payload {payload[:80]!r} is not one Siaga sends")
    kind, pk, action = match.group(1), int(match.group(2)), match.group(3)
    if kind == "a":
        return _crew_reply(wa=wa, region=region, assignment_id=pk, to_status=action)
    return _agency_reply(wa=wa, region=region, handoff_id=pk, action=action)


def _crew_reply(*, wa: WhatsAppMessage, region: Region, assignment_id: int, to_status: str) -> str:
    assignment = (
        Assignment.objects.select_related("unit__agency", "incident")
        .filter(pk=assignment_id, unit__agency__region=region)
        .first()
    )
    if assignment is None:
        return _done(wa, "unknown", f"no assignment {assignment_id} in {region.slug}")
    unit = assignment.unit
    crew = whatsapp_number(unit.crew_whatsapp)
    if not crew or wa.from_phone != crew:
        audit_record(
            action="whatsapp.crew_reply_refused",
            actor=Actor(kind=ActorKind.CITIZEN, name=wa.from_phone),
            obj=wa,
            data={"unit": unit.call_sign, "assignment": assignment.pk, "to": to_status, "from": wa.from_phone},
        )
        return _done(wa, "refused", f"{wa.from_phone or 'the sender'} is not the crew number of {unit.call_sign}")
    if assignment.status != AssignmentStatus.ACTIVE:
        why = f"penugasan {unit.call_sign} ke {assignment.incident.reference} sudah tidak aktif ({assignment.status})"
        _answer(wa, region, f"Status tidak diubah: {why}.")
        return _done(wa, "illegal", why)
    try:
        unit_status_set(
            unit=unit,
            to_status=to_status,
            actor=Actor(kind=ActorKind.CREW, name=f"{wa.from_phone} (crew of {unit.call_sign})"),
            note=f"WhatsApp quick reply {wa.message_id}",
        )
    except IllegalTransitionError as exc:
        allowed = ", ".join(STATUS_ID.get(s, s) for s in exc.allowed) or "tidak ada"
        text = (
            f'Status {unit.call_sign} tidak diubah: dari "{STATUS_ID.get(exc.from_status, exc.from_status)}" '
            f'tidak bisa ke "{STATUS_ID.get(exc.to_status, exc.to_status)}". Yang bisa sekarang: {allowed}.'
        )
        _answer(wa, region, text)
        return _done(wa, "illegal", str(exc))
    return _done(wa, "applied", f"{unit.call_sign} -> {to_status}")


def _agency_reply(*, wa: WhatsAppMessage, region: Region, handoff_id: int, action: str) -> str:
    handoff = (
        Handoff.objects.select_related("agency", "incident").filter(pk=handoff_id, incident__region=region).first()
    )
    if handoff is None or action != HandoffStatus.ACKNOWLEDGED:
        return _done(wa, "unknown", f"no hand-off {handoff_id} to acknowledge in {region.slug}")
    duty = whatsapp_number(handoff.agency.duty_whatsapp)
    if not duty or wa.from_phone != duty:
        audit_record(
            action="whatsapp.handoff_reply_refused",
            actor=Actor(kind=ActorKind.CITIZEN, name=wa.from_phone),
            obj=wa,
            data={"handoff": handoff.pk, "agency": handoff.agency.code, "from": wa.from_phone},
        )
        return _done(wa, "refused", f"{wa.from_phone or 'the sender'} is not the duty number of {handoff.agency.code}")
    try:
        handoff_update(
            handoff=handoff,
            status=HandoffStatus.ACKNOWLEDGED
            if handoff.status in (HandoffStatus.PENDING, HandoffStatus.SENT)
            else handoff.status,
            at=wa.sent_at,
            actor=Actor(kind=ActorKind.AGENCY, name=f"{wa.from_phone} ({handoff.agency.code} duty)"),
        )
    except HandoffError as exc:
        return _done(wa, "illegal", str(exc))
    return _done(wa, "applied", f"hand-off {handoff.pk} acknowledged")


def _answer(wa: WhatsAppMessage, region: Region, text: str) -> None:
    """Answer the crew (queued like every outbound message; within the 24-hour window a text is allowed)."""
    outbound_enqueue(
        region=region, channel=WHATSAPP, purpose=OutboundPurpose.REPLY, to=wa.from_phone,
        body=whatsapp_text_body(to=wa.from_phone, text=text),
    )  # fmt: skip


def _done(wa: WhatsAppMessage, outcome: str, detail: str) -> str:
    wa.outcome, wa.outcome_detail = outcome, detail
    wa.save(update_fields=["outcome", "outcome_detail"])
    if outcome != "applied":
        logger.info("WhatsApp quick reply %s %s: %s", wa.message_id, outcome, detail)
    return outcome
