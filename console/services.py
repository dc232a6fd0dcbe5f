"""Writes for the console: demo accounts for the roles, members of the demo's regions with their role in each,
and each region's own demo accounts (``jambi.dispatcher``, ``ambon.supervisor``, ``jambi.psc119``), members of
that region only, so that one centre's console can be seen not to show another's work, and a PSC 119 desk
not to show the other agencies' units."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from access import roles
from access.services import membership_grant
from fleet.models import Agency
from gis_core.models import Region

# Demo accounts only: the passwords are public (printed, and in this file). Never use them on a real centre.
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("dispatcher", "demo-dispatcher", roles.DISPATCHER),
    ("planner", "demo-planner", roles.PLANNER),
    ("admin", "demo-admin", roles.REGION_ADMIN),
)
# Each region's own accounts: ``<city>.<name>`` (the slug without "kota-"), password ``demo-<username>``; the
# name, the role, and the agency code the account is limited to (None: every agency of the region).
REGION_DEMO_ACCOUNTS: tuple[tuple[str, str, str | None], ...] = (
    ("dispatcher", roles.DISPATCHER, None),
    ("planner", roles.PLANNER, None),
    ("supervisor", roles.SUPERVISOR, None),
    ("admin", roles.REGION_ADMIN, None),
    ("psc119", roles.DISPATCHER, "psc119"),  # a PSC 119 desk: made once the region has that agency (its fleet)
)
REGION_DEMO_ROLES: tuple[str, ...] = tuple(role for _, role, _ in REGION_DEMO_ACCOUNTS)


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    created: bool
    region: str | None = None  # the one region of a region's own account; None: a member of every region
    agency: str | None = None  # the one agency a region's account sees units of; None: every agency


def region_demo_usernames(region: Region) -> list[str]:
    """The usernames of ``region``'s own demo accounts that exist or can be made now: ``ambon.dispatcher``,
    ``ambon.planner``, ``ambon.supervisor``, ``ambon.admin`` and, once Ambon has a ``psc119`` agency,
    ``ambon.psc119``."""
    return [username for username, _, _ in _region_accounts(region)]


def _region_accounts(region: Region) -> list[tuple[str, str, Agency | None]]:
    city = region.slug.removeprefix("kota-")
    out = []
    for name, role, agency_code in REGION_DEMO_ACCOUNTS:
        agency = None
        if agency_code is not None:
            agency = Agency.objects.filter(region=region, code=agency_code).first()
            if agency is None:
                continue
        out.append((f"{city}.{name}", role, agency))
    return out


def demo_users_create(*, reset_passwords: bool = True) -> list[DemoUser]:
    """Create (or reset) the dispatcher, planner and admin demo accounts, each holding its role in every
    region loaded (by code, so Kota Jambi, 15.71, is home unless the account has a home), and each region's own.

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
        for username, password, role in DEMO_USERS:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"first_name": "Demo", "last_name": role}
            )
            if created or reset_passwords:
                user.set_password(password)
            user.is_staff = role == roles.REGION_ADMIN  # the demo admin may open /admin/ too
            user.full_clean()
            user.save()
            for region in Region.objects.order_by("code"):
                membership_grant(user=user, region=region, role=role)
            out.append(DemoUser(username=username, password=password, role=role, created=created))
        for region in Region.objects.order_by("code"):
            out += _region_users_create(region=region, reset_passwords=reset_passwords)
    return out


def _region_users_create(*, region: Region, reset_passwords: bool) -> list[DemoUser]:
    """``region``'s own demo accounts, members of it alone (their home), each with its role there."""
    user_model = get_user_model()
    out = []
    for username, role, agency in _region_accounts(region):
        password = f"demo-{username}"
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"first_name": "Demo", "last_name": f"{role} {region.name}"}
        )
        if created or reset_passwords:
            user.set_password(password)
        user.is_staff = role == roles.REGION_ADMIN  # the region's admin opens /admin/ for that region
        user.full_clean()
        user.save()
        membership_grant(user=user, region=region, home=True, role=role, agencies=[agency] if agency else [])
        out.append(
            DemoUser(
                username=username,
                password=password,
                role=role,
                created=created,
                region=region.slug,
                agency=agency.code if agency else None,
            )
        )
    return out


def demo_users_join(*, region: Region) -> list[DemoUser]:
    """Make the demo accounts that exist members of ``region`` (a region the demo just loaded), each with
    its role; idempotent.

    Their home region stays what it was. Where the demo accounts exist (a demo server), ``region``'s own
    accounts are made too, as ``demo_users_create`` would. Returns the accounts that are members now (the
    existing ones' passwords are not reset, nor shown: ``password`` is empty for them).
    """
    user_model = get_user_model()
    role_of = {username: role for username, _, role in DEMO_USERS}
    with transaction.atomic():
        users = list(user_model.objects.filter(username__in=role_of).order_by("username"))
        for user in users:
            membership_grant(user=user, region=region, role=role_of[user.username])
        out = [DemoUser(username=u.username, password="", role=role_of[u.username], created=False) for u in users]
        if users:
            out += _region_users_create(region=region, reset_passwords=False)
    return out
