"""Writes of access: make a user a member of a region; make, revoke and touch API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from access.models import ApiToken, Membership
from access.roles import memberships_forget
from access.selectors import regions_administered_by
from access.tokens import secret_sha256, token_new
from gis_core.models import Region

# last_used_at is this precise: a busy client's token is written once a minute, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def membership_grant(
    *,
    user: Any,
    region: Region,
    home: bool = False,
    role: str | None = None,
    agencies: Iterable[Any] | None = None,
) -> Membership:
    """Make ``user`` a member of ``region``; idempotent.

    Parameters
    ----------
    user
        The Django user.
    region
        The region (centre) the user joins.
    home
        Make it the user's home region (the console opens on it), replacing the previous home. A user's
        first membership becomes the home region in any case.
    role
        The role the user holds there (``access.models.Role``; "" for none); None keeps the one held
        (none for a new membership).
    agencies
        The agencies (``fleet.Agency`` rows of ``region``) the user is limited to there; empty: none (every
        agency of the region); None keeps the limit held.

    Returns
    -------
    Membership

    Raises
    ------
    django.core.exceptions.ValidationError
        An unknown role, or an agency of another region.
    """
    memberships_forget(user)
    with transaction.atomic():
        membership = _membership_home(user=user, region=region, home=home)
        if role is not None and role != membership.role:
            membership.role = role
            membership.full_clean()
            membership.save(update_fields=["role"])
        if agencies is not None:
            agencies = list(agencies)
            foreign = [str(agency) for agency in agencies if agency.region_id != region.pk]
            if foreign:
                raise ValidationError({"agencies": f"not agencies of {region.name}: {', '.join(foreign)}"})
            membership.agencies.set(agencies)
    memberships_forget(user)
    return membership


def _membership_home(*, user: Any, region: Region, home: bool) -> Membership:
    with transaction.atomic():
        held = list(Membership.objects.select_for_update().filter(user=user))
        membership = next((m for m in held if m.region_id == region.pk), None)
        make_home = home or not any(m.is_home for m in held)
        if make_home:
            Membership.objects.filter(user=user, is_home=True).exclude(region=region).update(is_home=False)
        if membership is None:
            membership = Membership(user=user, region=region, is_home=make_home)
        elif membership.is_home == make_home or membership.is_home:
            return membership
        else:
            membership.is_home = True
        membership.full_clean()
        membership.save()
    return membership


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: the row, and its text (shown once: only the hash is kept)."""

    token: ApiToken
    text: str


def api_token_create(*, region: Region, name: str, scopes: list[str], created_by: Any = None) -> IssuedToken:
    """Make an API token for a machine client of ``region``.

    Parameters
    ----------
    region
        The region the token reads; it never sees another.
    name
        Who uses it (shown in the admin).
    scopes
        ``access.models.Scope`` values: what it may read.
    created_by
        The region admin or superuser making it; None from the command line (the server's operator).

    Returns
    -------
    IssuedToken
        The saved row and the token text, which is not stored and cannot be shown again.

    Raises
    ------
    PermissionDenied
        ``created_by`` is no admin of ``region``.
    django.core.exceptions.ValidationError
        No scope, an unknown scope, or an empty name.
    """
    if created_by is not None and not regions_administered_by(created_by).filter(pk=region.pk).exists():
        raise PermissionDenied(f"{created_by} is no administrator of {region.name}")
    for _ in range(5):  # a prefix is 32 random bits: a clash is rare, and the unique index catches it
        text = token_new()
        if not ApiToken.objects.filter(prefix=text.prefix).exists():
            break
    token = ApiToken(
        region=region,
        name=name,
        prefix=text.prefix,
        secret_sha256=secret_sha256(text.secret),
        scopes=list(scopes),
        created_by=created_by,
    )
    token.full_clean()
    token.save()
    return IssuedToken(token=token, text=str(text))


def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> ApiToken:
    """Revoke ``token`` (idempotent: the first revocation's time stays); its requests are then a 401."""
    if token.revoked_at is None:
        token.revoked_at = now or timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=token.revoked_at)
    return token


def api_token_touch(*, token: ApiToken, now: datetime) -> None:
    """Record that ``token`` was used, at most once per ``LAST_USED_RESOLUTION`` (no write per request)."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    # Conditional, so requests racing on several workers write once between them.
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
