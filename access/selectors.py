"""Reads of membership: the regions a user may see, and the one the user's console opens on."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from access.models import Membership
from gis_core.models import Region
from gis_core.selectors import region_by_slug_or_code


def regions_for_user(user: Any) -> QuerySet[Region]:
    """The regions whose work ``user`` may see, by code: a superuser sees all, anyone else their memberships.

    Parameters
    ----------
    user
        A Django user or ``AnonymousUser``; an anonymous or inactive user sees none.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Region.objects.none()
    if user.is_superuser:
        return Region.objects.order_by("code")
    return Region.objects.filter(memberships__user=user).order_by("code")


def home_region_for_user(user: Any) -> Region | None:
    """The region ``user``'s console opens on: the home membership, else the first membership by code.

    A superuser without memberships opens on the first region (by code) with kecamatan loaded, else the
    first region. None when the user may see no region at all.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    membership = (
        Membership.objects.filter(user=user).select_related("region").order_by("-is_home", "region__code").first()
    )
    if membership is not None:
        return membership.region
    if not user.is_superuser:
        return None
    with_areas = Region.objects.filter(kecamatan__isnull=False).order_by("code").distinct().first()
    return with_areas or Region.objects.order_by("code").first()


def region_for_user(user: Any, *, slug_or_code: str) -> Region | None:
    """The region named by ``slug_or_code`` if ``user`` may see it, else None (unknown and not allowed alike,
    so a caller answers both with the same 404 and never confirms that another centre's region exists)."""
    return region_by_slug_or_code(slug_or_code, among=regions_for_user(user))
