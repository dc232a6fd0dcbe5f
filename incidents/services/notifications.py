"""The dispatch notification: the crew's WhatsApp gets the job, with quick replies that move the unit.

When a unit is dispatched and has a crew number (``Unit.crew_whatsapp``), the approved template
``WHATSAPP_DISPATCH_TEMPLATE`` is queued to it (``incidents.services.outbound``) with four body parameters:
the report's type, its address, the nearest landmark and a link to the crew page, and three quick-reply
buttons ("Berangkat", "Tiba di lokasi", "Selesai") whose payloads name the assignment and the status each
moves to (``siaga:a:<assignment id>:<status>``; ``incidents.services.replies`` reads them back).

The crew page link: ``SIAGA_CREW_PAGE_URL`` when set; else ``SIAGA_PUBLIC_BASE_URL`` + the path of the URL
named ``crew:home`` once the crew app is installed; else "-" (no link).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from fleet.models import UnitStatus
from gazetteer import selectors as gazetteer
from incidents.errors import ReportError
from incidents.models import Assignment, Incident, OutboundMessage, OutboundPurpose
from incidents.services.callers import phone_normalise
from incidents.services.cloud_api import whatsapp_template_body
from incidents.services.outbound import WHATSAPP, outbound_enqueue

logger = logging.getLogger(__name__)

# The quick replies of the dispatch template, in the template's button order: (title, status it moves to).
CREW_BUTTONS: tuple[tuple[str, str], ...] = (
    ("Berangkat", UnitStatus.EN_ROUTE),
    ("Tiba di lokasi", UnitStatus.ON_SCENE),
    ("Selesai", UnitStatus.RETURNING),
)
NONE_TEXT = "-"  # a template parameter may not be empty


def crew_payload(assignment_id: int, to_status: str) -> str:
    return f"siaga:a:{assignment_id}:{to_status}"


def crew_page_url() -> str:
    """The crew page's address for the message, or "" (see the module docstring)."""
    if settings.SIAGA_CREW_PAGE_URL:
        return settings.SIAGA_CREW_PAGE_URL
    try:
        path = reverse("crew:home")
    except NoReverseMatch:
        return ""
    return f"{settings.SIAGA_PUBLIC_BASE_URL}{path}" if settings.SIAGA_PUBLIC_BASE_URL else ""


def whatsapp_number(raw: str) -> str:
    """``raw`` as E.164, or "" when it is empty or unreadable (logged)."""
    if not raw.strip():
        return ""
    try:
        return phone_normalise(raw)
    except ReportError:
        logger.warning("WhatsApp number %r cannot be read as a phone number", raw)
        return ""


def landmark_text(incident: Incident) -> str:
    """The nearest named landmark to the report's point ("Masjid Agung, 120 m"), or "" (never an error)."""
    if incident.geom is None:
        return ""
    try:
        with transaction.atomic():
            place = gazetteer.place_at(region=incident.region, lon=incident.geom.x, lat=incident.geom.y)
    except Exception:  # a landmark is a nicety; the message goes without it
        logger.info("no landmark for %s", incident.reference, exc_info=True)
        return ""
    if place.landmark is None:
        return ""
    return f"{place.landmark.name}, {round(place.landmark.distance_m)} m"


def template_text(text: str, *, max_chars: int = 500) -> str:
    """``text`` as a template parameter: one line (the Cloud API refuses newlines, tabs and runs of spaces)."""
    return " ".join(text.split())[:max_chars] or NONE_TEXT


def report_parameters(incident: Incident) -> list[str]:
    """Type, address and landmark of a report, as template parameters (each "-" when unknown)."""
    itype = incident.incident_type
    return [
        template_text(itype.name_in("id") if itype is not None else ""),
        template_text(incident.address_text or ""),
        template_text(landmark_text(incident)),
    ]


def dispatch_notification_enqueue(
    *, assignment: Assignment, parameters: list[str] | None = None
) -> OutboundMessage | None:
    """Queue the dispatch message to the unit's crew; None when the unit has no crew number.

    Runs inside the dispatch's transaction, in a savepoint: whatever goes wrong here is logged and the
    dispatch stands (the assignment then shows no notification). ``parameters``: the report's
    (:func:`report_parameters`), read before the unit row was locked so the lock is not held for the
    landmark lookup; read here when not given.
    """
    to = whatsapp_number(assignment.unit.crew_whatsapp)
    if not to:
        return None
    try:
        with transaction.atomic():
            incident = assignment.incident
            body = whatsapp_template_body(
                to=to,
                template=settings.WHATSAPP_DISPATCH_TEMPLATE,
                parameters=[*(parameters or report_parameters(incident)), crew_page_url() or NONE_TEXT],
                button_payloads=[crew_payload(assignment.pk, status) for _, status in CREW_BUTTONS],
            )
            return outbound_enqueue(
                region=incident.region,
                channel=WHATSAPP,
                purpose=OutboundPurpose.DISPATCH,
                to=to,
                body=body,
                assignment=assignment,
            )
    except Exception:
        logger.exception("dispatch notification for assignment %s not queued", assignment.pk)
        return None
