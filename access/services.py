"""Writes of membership: make a user a member of a region."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from access.models import Membership
from gis_core.models import Region


def membership_grant(*, user: Any, region: Region, home: bool = False) -> Membership:
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

    Returns
    -------
    Membership
    """
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
