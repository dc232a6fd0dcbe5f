"""Writes for the console: demo accounts for the three roles, members of the demo's regions, and each
region's own demo dispatcher and planner (``jambi.dispatcher``, ``ambon.dispatcher``), members of that region
only, so that one centre's console can be seen not to show another's work."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from access import roles
from access.services import membership_grant
from gis_core.models import Region

# Demo accounts only: the passwords are public (printed, and in this file). Never use them on a real centre.
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("dispatcher", "demo-dispatcher", roles.DISPATCHER),
    ("planner", "demo-planner", roles.PLANNER),
    ("admin", "demo-admin", roles.ADMIN),
)
# Each region's own accounts: ``<city>.<role>`` (the slug without "kota-"), password ``demo-<username>``.
REGION_DEMO_ROLES: tuple[str, ...] = (roles.DISPATCHER, roles.PLANNER)


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    created: bool
    region: str | None = None  # the one region of a region's own account; None: a member of every region


def region_demo_usernames(region: Region) -> list[str]:
    """The usernames of ``region``'s own demo accounts: ``ambon.dispatcher``, ``ambon.planner``."""
    city = region.slug.removeprefix("kota-")
    return [f"{city}.{role}" for role in REGION_DEMO_ROLES]


def demo_users_create(*, reset_passwords: bool = True) -> list[DemoUser]:
    """Create (or reset) the dispatcher, planner and admin demo accounts, each in its role's group and a
    member of every region loaded (by code, so Kota Jambi, 15.71, is home unless the account has a home).

    Parameters
    ----------
    reset_passwords
        Set an existing demo account's password back to the demo password.

    Returns
    -------
    list of DemoUser
        The accounts with their (public, demo) passwords.
    """
    user_model = get_user_model()
    out = []
    with transaction.atomic():
        groups = dict(zip(roles.ROLES, roles.groups_ensure(), strict=True))
        for username, password, role in DEMO_USERS:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"first_name": "Demo", "last_name": role}
            )
            if created or reset_passwords:
                user.set_password(password)
            user.is_staff = role == roles.ADMIN  # the demo admin may open /admin/ too
            user.full_clean()
            user.save()
            user.groups.add(groups[role])
            for region in Region.objects.order_by("code"):
                membership_grant(user=user, region=region)
            out.append(DemoUser(username=username, password=password, role=role, created=created))
        for region in Region.objects.order_by("code"):
            out += _region_users_create(region=region, groups=groups, reset_passwords=reset_passwords)
    return out


def _region_users_create(*, region: Region, groups: dict, reset_passwords: bool) -> list[DemoUser]:
    """``region``'s own demo dispatcher and planner, members of it alone (their home)."""
    user_model = get_user_model()
    out = []
    for username, role in zip(region_demo_usernames(region), REGION_DEMO_ROLES, strict=True):
        password = f"demo-{username}"
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": "Demo", "last_name": f"{role} {region.name}"}
        )
        if created or reset_passwords:
            user.set_password(password)
        user.full_clean()
        user.save()
        user.groups.add(groups[role])
        membership_grant(user=user, region=region, home=True)
        out.append(DemoUser(username=username, password=password, role=role, created=created, region=region.slug))
    return out


def demo_users_join(*, region: Region) -> list[DemoUser]:
    """Make the demo accounts that exist members of ``region`` (a region the demo just loaded); idempotent.

    Their home region stays what it was. Where the demo accounts exist (a demo server), ``region``'s own
    dispatcher and planner are made too, as ``demo_users_create`` would. Returns the accounts that are
    members now (the existing ones' passwords are not reset, nor shown: ``password`` is empty for them).
    """
    user_model = get_user_model()
    names = [username for username, _, _ in DEMO_USERS]
    with transaction.atomic():
        users = list(user_model.objects.filter(username__in=names).order_by("username"))
        for user in users:
            membership_grant(user=user, region=region)
        out = [DemoUser(username=u.username, password="", role="", created=False) for u in users]
        if users:
            groups = dict(zip(roles.ROLES, roles.groups_ensure(), strict=True))
            out += _region_users_create(region=region, groups=groups, reset_passwords=False)
    return out
