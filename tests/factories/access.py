"""Users for tests: region memberships, each with the role the names given add up to."""

from __future__ import annotations

from django.contrib.auth.models import User


def role_for(*role_names: str) -> str:
    """The membership role ``role_names`` add up to, as the old global groups did (``access.0003``): ``admin``
    (or ``region_admin``) a region admin, ``dispatcher`` and ``planner`` together a supervisor; none: ""."""
    names = set(role_names)
    if names & {"admin", "region_admin"}:
        return "region_admin"
    if "supervisor" in names or {"dispatcher", "planner"} <= names:
        return "supervisor"
    unknown = names - {"dispatcher", "planner"}
    if unknown:
        raise ValueError(f"unknown role names {sorted(unknown)}")
    return next(iter(names), "")


def make_user(
    username: str, *role_names: str, regions=None, password: str | None = None, agencies=None, staff: bool = False
) -> User:
    """A user holding the role ``role_names`` add up to (``role_for``) in each of ``regions`` (default: every
    region existing now; the first is home), limited there to the ``agencies`` of that region when given."""
    from access.services import membership_grant
    from gis_core.models import Region

    user = User(username=username, is_staff=staff)
    user.set_password(password or "pw-" + username)
    user.full_clean()
    user.save()
    role = role_for(*role_names)
    for region in Region.objects.order_by("code") if regions is None else regions:
        limit = None if agencies is None else [agency for agency in agencies if agency.region_id == region.pk]
        membership_grant(user=user, region=region, role=role, agencies=limit)
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
