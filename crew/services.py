"""Pairing links for the crew page: which device of a unit, the link and its QR code.

The tokens and sessions themselves are the fleet's (``fleet.services.crew_sessions``); this module picks
the device (or registers one for the crew page when the unit has none) and draws the link.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import segno

from crew.errors import CrewDeviceChoiceError
from fleet.actors import SYSTEM, Actor
from fleet.models import Device, Unit
from fleet.services.crew_sessions import crew_pairing_create
from fleet.services.devices import device_create


@dataclass(frozen=True)
class PairingLink:
    pairing_id: int
    device: str
    unit_id: int
    call_sign: str
    url: str  # the token is in the fragment (#pair=...), which a browser never sends to a server
    expires_at: datetime
    qr_svg: str


def _device_for(unit: Unit, device_id: int | None, *, actor: Actor) -> Device:
    devices = list(unit.devices.filter(is_active=True).order_by("pk"))
    if device_id is not None:
        chosen = [d for d in devices if d.pk == device_id]
        if not chosen:
            raise CrewDeviceChoiceError(f"device {device_id} is not an active device of unit {unit.call_sign}")
        return chosen[0]
    if len(devices) == 1:
        return devices[0]
    if devices:
        names = ", ".join(f"{d.pk} ({d.identifier})" for d in devices)
        raise CrewDeviceChoiceError(f"unit {unit.call_sign} has several devices: name one as device ({names})")
    device, _secret = device_create(  # the secret is never shown: the crew page pairs by session
        unit=unit, identifier=f"crew-{unit.agency.code}-{unit.call_sign}".lower()[:64], actor=actor
    )
    return device


def crew_pairing_link(*, unit: Unit, device_id: int | None, page_url: str, actor: Actor = SYSTEM) -> PairingLink:
    """A one-time pairing link for one device of ``unit`` (the only one, the one named, or a new one).

    Parameters
    ----------
    unit
        The unit, already checked to be in the caller's regions.
    device_id
        Which of its devices, when it has several.
    page_url
        The crew page's absolute URL (``https://siaga.example/crew/``).

    Raises
    ------
    CrewDeviceChoiceError
        ``device_id`` is not one of the unit's active devices, or it has several and none was named.
    """
    device = _device_for(unit, device_id, actor=actor)
    pairing, token = crew_pairing_create(device=device, actor=actor)
    url = f"{page_url}#pair={token}"
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=4, border=2, xmldecl=False)
    return PairingLink(
        pairing_id=pairing.pk, device=device.identifier, unit_id=unit.pk, call_sign=unit.call_sign, url=url,
        expires_at=pairing.expires_at, qr_svg=svg.getvalue().decode(),
    )  # fmt: skip
