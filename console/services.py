"""Writes for the console: demo accounts for the three roles, members of the demo's regions."""

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


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    created: bool


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
    return out


def demo_users_join(*, region: Region) -> list[str]:
    """Make the demo accounts that exist members of ``region`` (a region the demo just loaded); idempotent.

    Their home region stays what it was. Returns the usernames that are members now.
    """
    user_model = get_user_model()
    names = [username for username, _, _ in DEMO_USERS]
    with transaction.atomic():
        users = list(user_model.objects.filter(username__in=names).order_by("username"))
        for user in users:
            membership_grant(user=user, region=region)
    return [user.username for user in users]
