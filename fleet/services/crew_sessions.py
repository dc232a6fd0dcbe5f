"""Pairing a crew's phone browser with a device, and the session credential the crew page then holds.

A dispatcher or region admin makes a one-time pairing token for one device of one unit
(:func:`crew_pairing_create`); the crew page redeems it once, within ``SIAGA_CREW_PAIRING_TTL_S``, for
a session token (:func:`crew_pairing_redeem`). The page sends that token as ``Authorization: Bearer
crew_...`` to the device endpoints and its own. The device's secret is never involved: a paired page
needs no secret in a URL, and re-pairing does not change what the device's tracker app sends.

Both tokens are 256-bit random values; only their SHA-256 is stored (unsalted: a random token cannot be
guessed, and the hash is the lookup key). The pairing token travels in the link's fragment
(``/crew/#pair=...``), which browsers never send to a server, so no access log holds it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fleet.actors import SYSTEM, Actor
from fleet.errors import CrewSessionInvalidError, PairingInvalidError
from fleet.models import CrewPairing, CrewSession, Device
from fleet.services.audit import audit_record
from gis_core.credentials import credential_check

SESSION_PREFIX = "crew_"
TOKEN_BYTES = 32


def token_digest(token: str) -> str:
    """The stored form of a pairing or session token."""
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def crew_pairing_create(*, device: Device, actor: Actor = SYSTEM) -> tuple[CrewPairing, str]:
    """A one-time pairing token for ``device``, valid ``SIAGA_CREW_PAIRING_TTL_S`` seconds.

    Returns
    -------
    tuple
        ``(pairing, token)``; the token is returned this once (put it in the link's fragment).
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    pairing = CrewPairing(
        device=device, token_hash=token_digest(token), created_at=now,
        expires_at=now + timedelta(seconds=settings.SIAGA_CREW_PAIRING_TTL_S),
        created_by=actor.person_user,
    )  # fmt: skip
    pairing.full_clean()
    pairing.save()
    audit_record(
        action="crew.pairing_create", actor=actor, obj=pairing,
        data={"device": device.identifier, "unit_id": device.unit_id, "expires_at": pairing.expires_at.isoformat()},
    )  # fmt: skip
    return pairing, token


@transaction.atomic
def crew_pairing_redeem(*, token: str, remote_addr: str | None = None) -> tuple[CrewSession, str]:
    """Exchange a pairing token, once, for a crew session on its device.

    Returns
    -------
    tuple
        ``(session, session_token)``; the session token is returned this once.

    Raises
    ------
    PairingInvalidError
        The token is unknown, was used already, has expired, or its device is deactivated.
    """
    credential_check(token, name="the pairing token")
    pairing = (
        CrewPairing.objects.select_for_update().select_related("device__unit").filter(token_hash=token_digest(token))
    ).first()
    now = timezone.now()
    if pairing is None or pairing.used_at is not None or pairing.expires_at <= now:
        reason = "unknown" if pairing is None else "already used" if pairing.used_at else "expired"
        raise PairingInvalidError(f"this pairing link is {reason}: ask the dispatcher for a new one")
    if not pairing.device.is_active:
        raise PairingInvalidError(f"device {pairing.device.identifier!r} is deactivated: ask the dispatcher")
    pairing.used_at = now
    pairing.save(update_fields=["used_at"])
    session_token = SESSION_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    session = CrewSession(
        device=pairing.device, pairing=pairing, token_hash=token_digest(session_token), created_at=now
    )
    session.full_clean()
    session.save()
    audit_record(
        action="crew.paired", actor=Actor.crew(pairing.device, remote_addr=remote_addr), obj=session,
        data={"pairing": pairing.pk, "unit_id": pairing.device.unit_id},
    )  # fmt: skip
    return session, session_token


def crew_session_authenticate(token: str) -> Device:
    """The device of a live crew session token (``crew_...``), with its unit and agency loaded.

    Raises
    ------
    CrewSessionInvalidError
        Unknown or revoked token, or a deactivated device (pair again).
    """
    credential_check(token, name="the crew session token")
    session = (
        CrewSession.objects.select_related("device__unit__agency")
        .filter(token_hash=token_digest(token), revoked_at__isnull=True)
        .first()
    )
    if session is None or not session.device.is_active:
        raise CrewSessionInvalidError("this crew page is not paired (or its pairing was revoked): pair it again")
    now = timezone.now()
    if session.last_seen_at is None or (now - session.last_seen_at).total_seconds() >= 60:
        CrewSession.objects.filter(pk=session.pk).update(last_seen_at=now)
    return session.device


@transaction.atomic
def crew_sessions_revoke(*, device: Device, actor: Actor = SYSTEM) -> int:
    """End every crew session of ``device`` (a lost phone); returns how many were live."""
    count = CrewSession.objects.filter(device=device, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(
        action="crew.sessions_revoke", actor=actor, obj=device, data={"revoked": count},
    )  # fmt: skip
    return count
