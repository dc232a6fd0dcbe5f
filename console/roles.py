"""Console roles: Django groups, and the checks the pages use.

Crew devices authenticate with their device secret on the ingest endpoints and never log in here.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

DISPATCHER = "dispatcher"
PLANNER = "planner"
ADMIN = "admin"
ROLES = (DISPATCHER, PLANNER, ADMIN)


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
    """Create the console's groups if missing (idempotent); returns them in ``ROLES`` order."""
    return [Group.objects.get_or_create(name=name)[0] for name in ROLES]
