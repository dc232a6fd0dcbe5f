"""Reads of access: the regions a user (or an API token) may see, the one a console opens on, tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from access import roles
from access.models import ApiToken, Membership
from access.tokens import TokenText, api_token_of
from gis_core.models import Region
from gis_core.selectors import region_by_slug_or_code


def regions_for_user(user: Any, capability: str | None = None) -> QuerySet[Region]:
    """The regions where ``user`` may do ``capability``, by code: a superuser all, anyone else the regions
    of their memberships whose role grants it (``access.roles.ROLE_CAPABILITIES``).

    Parameters
    ----------
    user
        A Django user or ``AnonymousUser``; an anonymous or inactive user sees none. A request
        authenticated by an API token (``access.tokens.TokenUser``) reads its token's region only.
    capability
        ``access.roles.READ`` (the default, None: any role), ``DISPATCH``, ``PLAN`` or ``ADMINISTER``. A
        write looks its object up among ``regions_for_user(user, capability=roles.DISPATCH)``. A token
        only reads: for any other capability it has no region.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return Region.objects.none()
    token = api_token_of(user)
    if token is not None:
        if capability not in (None, roles.READ):
            return Region.objects.none()
        return Region.objects.filter(pk=token.region_id)
    if user.is_superuser:
        return Region.objects.order_by("code")
    granting = roles.roles_granting(capability)
    region_ids = sorted({h.region_id for h in roles.memberships_held(user) if h.role in granting})
    return Region.objects.filter(pk__in=region_ids).order_by("code")


def agency_limits_for_user(user: Any) -> dict[int, frozenset[int]]:
    """The agencies ``user`` is limited to, per region id: only the regions whose membership names agencies
    (``Membership.agencies``) are keys; a region not in it is not limited (all its agencies, where the user
    may see it at all). A superuser, an API token and a user without limits get ``{}``.

    The ids come from the membership's own relation table (read with the memberships, ``roles.memberships_held``),
    so access needs no fleet model; the fleet and incidents selectors filter units, stations and positions by
    them (``fleet.selectors.units``).
    """
    if user is None or not user.is_authenticated or not user.is_active or user.is_superuser:
        return {}
    return {h.region_id: h.agency_ids for h in roles.memberships_held(user) if h.agency_ids}


def membership_of(user: Any, region: Region | int) -> Membership | None:
    """``user``'s membership of ``region`` (a Region or its id), or None."""
    if user is None or not user.is_authenticated or api_token_of(user) is not None:
        return None
    return Membership.objects.filter(user=user, region=region).first()


def home_region_for_user(user: Any) -> Region | None:
    """The region ``user``'s console opens on: the home membership, else the first membership by code (only
    memberships with a role count: one without grants nothing).

    A superuser without memberships opens on the first region (by code) with kecamatan loaded, else the
    first region. None when the user may see no region at all.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    token = api_token_of(user)
    if token is not None:
        return token.region
    membership = (
        Membership.objects.filter(user=user)
        .exclude(role="")
        .select_related("region")
        .order_by("-is_home", "region__code")
        .first()
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
    """The regions whose API tokens ``user`` may make, list and revoke (and whose rows they edit in /admin/):
    a superuser all, anyone else the regions where they are a region admin (``access.roles.ADMINISTER``)."""
    if user is None or not user.is_authenticated or not user.is_active or api_token_of(user) is not None:
        return Region.objects.none()
    return regions_for_user(user, capability=roles.ADMINISTER)


def api_token_for_text(text: TokenText) -> ApiToken | None:
    """The token row with ``text``'s prefix (revoked or not; the caller checks the secret), or None."""
    return ApiToken.objects.select_related("region").filter(prefix=text.prefix).first()
