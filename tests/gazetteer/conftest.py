"""A hand-made town for the gazetteer: two kecamatan, one kelurahan each, two streets of the same name."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from factories.gazetteer import make_town
from rest_framework.test import APIClient


@pytest.fixture
def town(jambi_region):
    return make_town(jambi_region)


def _user(name: str, *groups: str, superuser: bool = False) -> User:
    user = User(username=name, is_superuser=superuser)
    user.set_password("pw")
    user.full_clean()
    user.save()
    for group in groups:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def client_as(db):
    """``client_as("dispatcher")``: an API client logged in as a new user in those groups (none: no role)."""

    def make(*groups: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(_user("u-" + "-".join(groups or ("none",)), *groups))
        return client

    return make


@pytest.fixture
def dispatcher(client_as) -> APIClient:
    return client_as("dispatcher")
