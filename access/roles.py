"""Roles: what a member of a region may do there (``Membership.role``), and the checks pages and APIs use.

A role is held per region (``access.models.Membership``): a Jambi dispatcher may be an Ambon planner. Each
role grants capabilities (``ROLE_CAPABILITIES``); every check asks for one, in one region or in any:

=================  ======  ==========  ======  ============
role               read    dispatch    plan    administer
=================  ======  ==========  ======  ============
``dispatcher``     yes     yes
``planner``        yes                 yes
``supervisor``     yes     yes         yes
``region_admin``   yes     yes         yes     yes
=================  ======  ==========  ======  ============

``read`` is the region's work (reports, units, map, KPIs, coverage runs); ``dispatch`` is placing reports,
sending units, unit status, closing and flagging; ``plan`` is computing coverage and siting; ``administer``
is the region's API tokens and its rows in /admin/ (with staff status; ``access.backends``). A superuser
holds every capability everywhere. Groups grant nothing (the data migration ``access.0003`` turned the old
global groups into each membership's role).

The view-level permission classes (``fleet/api/permissions.py``, ``coverage/api/permissions.py``) ask for a
capability in any region; the write then looks its object up among the regions where the user holds it
(``access.selectors.regions_for_user(user, capability=...)``), so an object of a region where the user
may not do that is a 404 as one of another centre is. Crew devices authenticate with their device secret
on the ingest endpoints and never log in here; the WhatsApp webhook proves itself with Meta's signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q

from access.models import Membership, Role
from access.tokens import api_token_of

DISPATCHER = Role.DISPATCHER.value
PLANNER = Role.PLANNER.value
SUPERVISOR = Role.SUPERVISOR.value
REGION_ADMIN = Role.REGION_ADMIN.value
ADMIN = REGION_ADMIN  # the old global group's name for the same role
ROLES = (DISPATCHER, PLANNER, SUPERVISOR, REGION_ADMIN)

READ = "read"
DISPATCH = "dispatch"
PLAN = "plan"
ADMINISTER = "administer"
CAPABILITIES = (READ, DISPATCH, PLAN, ADMINISTER)
ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    DISPATCHER: frozenset({READ, DISPATCH}),
    PLANNER: frozenset({READ, PLAN}),
    SUPERVISOR: frozenset({READ, DISPATCH, PLAN}),
    REGION_ADMIN: frozenset({READ, DISPATCH, PLAN, ADMINISTER}),
}
# The region admin edits Siaga's own tables of its region in /admin/ (agencies, stations, units, devices, the
# incident-type overrides, boundaries, coverage runs; ``access.backends``); the model admins keep what must not
# change (unit status, the audit log) read-only. Memberships and jobs of their regions: their own model admins.
# Users stay with superusers.
ADMIN_APPS = ("fleet", "incidents", "gis_core", "coverage", "gazetteer")


@dataclass(frozen=True)
class Held:
    """One membership with a role, as the checks read it: the region id, the role, the agency ids it is
    limited to (empty: every agency of the region)."""

    region_id: int
    role: str
    agency_ids: frozenset[int]


_HELD = "_siaga_memberships"  # the user object's cache, as Django's ModelBackend caches permissions


def memberships_held(user: Any) -> list[Held]:
    """``user``'s memberships that hold a role, with their agency limits: one query, then kept on the user
    object for the request (``access.services.membership_grant`` forgets it). None for anonymous users,
    API tokens and inactive users; superusers are not listed by membership (they hold everything)."""
    if not _is_person(user):
        return []
    cached = getattr(user, _HELD, None)
    if cached is None:
        rows = (
            Membership.objects.filter(user=user)
            .exclude(role="")
            .annotate(limit=ArrayAgg("agencies__id", filter=Q(agencies__isnull=False), default=[]))
            .values_list("region_id", "role", "limit")
        )
        cached = [Held(region_id, role, frozenset(limit)) for region_id, role, limit in rows]
        setattr(user, _HELD, cached)
    return cached


def memberships_forget(user: Any) -> None:
    """Drop the cached memberships of ``user`` (after granting or changing one)."""
    if user is not None and hasattr(user, "__dict__"):
        user.__dict__.pop(_HELD, None)
        user.__dict__.pop("_siaga_region_admin_perm_cache", None)


def _region_id(region: Any) -> int:
    return region if isinstance(region, int) else region.pk


def roles_granting(capability: str | None) -> tuple[str, ...]:
    """The role codes that grant ``capability`` (None: any role)."""
    if capability is None:
        return ROLES
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    return tuple(role for role in ROLES if capability in ROLE_CAPABILITIES[role])


def _is_person(user: Any) -> bool:
    return user is not None and user.is_authenticated and user.is_active and api_token_of(user) is None


def roles_of(user: Any, region: Any = None) -> set[str]:
    """The roles ``user`` holds in ``region`` (a Region or its id), or in any region when None; a superuser
    holds them all. An API token holds none (its scopes decide, ``access.permissions``)."""
    if not _is_person(user):
        return set()
    if user.is_superuser:
        return set(ROLES)
    held = memberships_held(user)
    return {h.role for h in held if region is None or h.region_id == _region_id(region)}


def capabilities_of(user: Any, region: Any = None) -> set[str]:
    """What ``user`` may do in ``region`` (or in at least one region when None): ``CAPABILITIES`` values."""
    return {cap for role in roles_of(user, region) for cap in ROLE_CAPABILITIES[role]}


def may(user: Any, capability: str, region: Any = None) -> bool:
    """Whether ``user`` holds ``capability`` in ``region`` (a Region or its id; None: in any region)."""
    if not _is_person(user):
        return False
    if user.is_superuser:
        return True
    granting = roles_granting(capability)
    return any(
        h.role in granting and (region is None or h.region_id == _region_id(region)) for h in memberships_held(user)
    )


def can_dispatch(user: Any, region: Any = None) -> bool:
    """May place reports and send units: in ``region``, or in at least one region when None."""
    return may(user, DISPATCH, region)


def can_plan(user: Any, region: Any = None) -> bool:
    """May compute coverage and siting: in ``region``, or in at least one region when None."""
    return may(user, PLAN, region)


def can_administer(user: Any, region: Any = None) -> bool:
    """May make the region's API tokens and edit its rows in /admin/: in ``region``, or in any when None."""
    return may(user, ADMINISTER, region)


def has_role(user: Any, region: Any = None) -> bool:
    """Any role (in ``region``, or in any region when None): what reading the region's work and map needs."""
    return may(user, READ, region)
