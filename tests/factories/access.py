"""Users for tests: console role groups and region memberships."""

from __future__ import annotations

from django.contrib.auth.models import Group, User


def make_user(username: str, *role_names: str, regions=None) -> User:
    """A user in those role groups, a member of ``regions`` (default: every region existing now; the first is home)."""
    from access.services import membership_grant
    from gis_core.models import Region

    user = User(username=username)
    user.set_password("pw-" + username)
    user.full_clean()
    user.save()
    for name in role_names:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    for region in Region.objects.order_by("code") if regions is None else regions:
        membership_grant(user=user, region=region)
    return user
