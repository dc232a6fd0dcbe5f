"""Roles: Django groups (dispatcher, planner, admin), and the checks pages and API permissions use.

Crew devices authenticate with their device secret on the ingest endpoints and never log in here; the
WhatsApp webhook proves itself with Meta's signature. Each app's API says which role it needs in its own
permissions module (``fleet/api/permissions.py``, ``coverage/api/permissions.py``); the default for a
view that names none is ``access.permissions.HasRole``.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission

DISPATCHER = "dispatcher"
PLANNER = "planner"
ADMIN = "admin"
ROLES = (DISPATCHER, PLANNER, ADMIN)
# The admin role edits Siaga's own tables in /admin/ (agencies, stations, units, devices, the incident-type
# table, boundaries, coverage runs); the model admins keep what must not change (unit status, the audit log)
# read-only. Users and groups stay with superusers.
ADMIN_APPS = ("fleet", "incidents", "gis_core", "coverage", "gazetteer")


def roles_of(user: AbstractBaseUser | AnonymousUser) -> set[str]:
    """The console roles a user holds; a superuser holds them all."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(ROLES)
    return {name for name in user.groups.values_list("name", flat=True) if name in ROLES}


def can_dispatch(user) -> bool:
    return bool(roles_of(user) & {DISPATCHER, ADMIN})


def can_plan(user) -> bool:
    return bool(roles_of(user) & {PLANNER, ADMIN})


def has_role(user) -> bool:
    """Any console role: what reading the shared map (boundaries, roads, units, routing) needs."""
    return bool(roles_of(user))


def groups_ensure() -> list[Group]:
    """Create the console's groups if missing and give the admin group the permissions of ``ADMIN_APPS``
    (idempotent); returns them in ``ROLES`` order."""
    groups = [Group.objects.get_or_create(name=name)[0] for name in ROLES]
    admin = groups[ROLES.index(ADMIN)]
    admin.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
    return groups
