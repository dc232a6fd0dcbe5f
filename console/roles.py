"""Console roles: Django groups, and the checks the pages use.

Crew devices authenticate with their device secret on the ingest endpoints and never log in here.
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
ADMIN_APPS = ("fleet", "gis_core", "coverage", "gazetteer")


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


def groups_ensure() -> list[Group]:
    """Create the console's groups if missing and give the admin group the permissions of ``ADMIN_APPS``
    (idempotent); returns them in ``ROLES`` order."""
    groups = [Group.objects.get_or_create(name=name)[0] for name in ROLES]
    admin = groups[ROLES.index(ADMIN)]
    admin.permissions.set(Permission.objects.filter(content_type__app_label__in=ADMIN_APPS))
    return groups
