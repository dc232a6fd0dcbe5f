"""A hand-made town for the gazetteer: two kecamatan, one kelurahan each, two streets of the same name."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from factories.access import role_for
from factories.gazetteer import make_town
from rest_framework.test import APIClient

from access.services import membership_grant
from gis_core.models import Region


@pytest.fixture
def town(jambi_region):
    return make_town(jambi_region)


def _user(name: str, *groups: str, superuser: bool = False) -> User:
    """A user with the role those names add up to in every region existing now (the town's Kota Jambi)."""
    user = User(username=name, is_superuser=superuser)
    user.set_password("pw")
    user.full_clean()
    user.save()
    for region in Region.objects.all():
        membership_grant(user=user, region=region, role=role_for(*groups))
    return user


@pytest.fixture
def client_as(jambi_region):
    """``client_as("dispatcher")``: an API client logged in as a new user in those groups (none: no role),
    a member of Kota Jambi."""

    def make(*groups: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(_user("u-" + "-".join(groups or ("none",)), *groups))
        return client

    return make


@pytest.fixture
def dispatcher(client_as) -> APIClient:
    return client_as("dispatcher")
