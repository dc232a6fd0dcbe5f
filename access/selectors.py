"""Reads of access: the regions a user (or an API token) may see, the one a console opens on, tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from access import roles
from access.models import ApiToken, Membership
from access.tokens import TokenText, api_token_of
from gis_core.models import Region
from gis_core.selectors import region_by_slug_or_code


def regions_for_user(user: Any) -> QuerySet[Region]:
    """The regions whose work ``user`` may see, by code: a superuser sees all, anyone else their memberships.

    Parameters
    ----------
    user
        A Django user or ``AnonymousUser``; an anonymous or inactive user sees none. A request
        authenticated by an API token (``access.tokens.TokenUser``) sees its token's region only.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Region.objects.none()
    token = api_token_of(user)
    if token is not None:
        return Region.objects.filter(pk=token.region_id)
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
    token = api_token_of(user)
    if token is not None:
        return token.region
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


def regions_administered_by(user: Any) -> QuerySet[Region]:
    """The regions whose API tokens ``user`` may make, list and revoke: a superuser all, a holder of the
    admin role (``access.roles.ADMIN``) the regions they are a member of, anyone else none."""
    if user is None or not user.is_authenticated or not user.is_active or api_token_of(user) is not None:
        return Region.objects.none()
    if user.is_superuser:
        return Region.objects.order_by("code")
    if roles.ADMIN not in roles.roles_of(user):
        return Region.objects.none()
    return regions_for_user(user)


def api_token_for_text(text: TokenText) -> ApiToken | None:
    """The token row with ``text``'s prefix (revoked or not; the caller checks the secret), or None."""
    return ApiToken.objects.select_related("region").filter(prefix=text.prefix).first()
