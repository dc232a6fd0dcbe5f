"""Words the reports show for stored codes (channels, outcomes, unit statuses), translated by Django i18n.

The models' choice labels are English and untranslated; a report read at a council hearing is in
Bahasa Indonesia (``locale/id/LC_MESSAGES/django.po``), so the reports name each code here once.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CHANNELS = {"phone": _("Phone"), "whatsapp": _("WhatsApp"), "other": _("Other")}
OUTCOMES = {
    "genuine": _("Genuine"),
    "false_alarm": _("False alarm"),
    "prank": _("Prank"),
    "silent": _("Silent"),
    "unknown": _("Not closed yet"),
}
UNIT_STATUSES = {
    "available": _("Available"),
    "dispatched": _("Dispatched"),
    "en_route": _("En route"),
    "on_scene": _("On scene"),
    "transporting": _("Transporting"),
    "at_hospital": _("At hospital"),
    "returning": _("Returning"),
    "out_of_service": _("Out of service"),
}
PRIORITIES = {1: _("1 critical"), 2: _("2 high"), 3: _("3 medium"), 4: _("4 low")}
PHASES = {
    "received_to_dispatched_s": _("Report to dispatch"),
    "dispatched_to_en_route_s": _("Dispatch to en route"),
    "en_route_to_on_scene_s": _("En route to on scene"),
}
NO_KECAMATAN = _("No kecamatan")
NO_TYPE = _("No type yet")


def label(table: dict, key) -> str:
    """The translated word for ``key`` in ``table``, or the key itself for a code the table lacks."""
    return str(table.get(key, key))
