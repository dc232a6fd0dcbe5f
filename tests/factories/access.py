"""Users for tests: console role groups and region memberships."""

from __future__ import annotations

from django.contrib.auth.models import Group, User


def make_user(username: str, *role_names: str, regions=None, password: str | None = None) -> User:
    """A user in those role groups, a member of ``regions`` (default: every region existing now; the first is home)."""
    from access.services import membership_grant
    from gis_core.models import Region

    user = User(username=username)
    user.set_password(password or "pw-" + username)
    user.full_clean()
    user.save()
    for name in role_names:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    for region in Region.objects.order_by("code") if regions is None else regions:
        membership_grant(user=user, region=region)
    return user


def api_client(*role_names: str, username: str | None = None):
    """An APIClient authenticated as a new user holding ``role_names`` (what the API's permissions ask)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(make_user(username or "api-" + "-".join(role_names or ("none",)), *role_names))
    return client


def basic_header(username: str, password: str) -> str:
    """An ``Authorization`` header value for HTTP Basic."""
    import base64

    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
