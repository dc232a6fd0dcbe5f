"""What the incidents app does when the fleet announces something (connected in ``IncidentsConfig.ready``)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from fleet.models import Unit, UnitStatus
from fleet.signals import unit_moved
from incidents.live import live_unit_changed
from incidents.services import dispatch

logger = logging.getLogger(__name__)

# A unit in these statuses has no active assignment whose ETA a move could change.
NO_ASSIGNMENT_STATUSES = frozenset({UnitStatus.AVAILABLE, UnitStatus.RETURNING})


@receiver(unit_moved, sender=Unit, dispatch_uid="incidents.eta_refresh_on_move")
def eta_refresh_on_move(sender, *, unit: Unit, status: str, **kwargs) -> None:
    """Refresh the ETA of the unit's active assignment from its new position."""
    if status in NO_ASSIGNMENT_STATUSES:
        return
    try:
        dispatch.assignment_eta_refresh(unit=unit)
    except Exception:
        # The fix is stored and the unit moved; a failed ETA refresh must not make the device resend.
        logger.exception("assignment_eta_refresh failed for unit %s", unit.pk)


@receiver(unit_moved, sender=Unit, dispatch_uid="incidents.live_on_move")
def live_on_move(sender, *, unit: Unit, **kwargs) -> None:
    """Tell the consoles open on the unit's region (after commit)."""
    live_unit_changed(unit.pk)
