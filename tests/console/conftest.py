"""Console fixtures: users in each role, logged-in clients, a tiny road network."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import LineString, Point
from factories.access import make_user


@pytest.fixture
def user_factory(db):
    """``user_factory("ani", "dispatcher")``: a user (password ``pw-ani``) in those role groups."""
    return make_user


@pytest.fixture
def role_client(db, client):
    """``role_client("dispatcher")``: the test client logged in as a new user with those roles (and
    ``regions=`` as ``make_user`` takes them)."""

    def login(*role_names: str, regions=None):
        user = make_user("u-" + "-".join(role_names or ("none",)), *role_names, regions=regions)
        client.force_login(user)
        return client

    return login


@pytest.fixture
def tiny_network(jambi_region):
    """Kota Jambi with a three-node network: a two-way street A-B (two edges) and a one-way B->C."""
    from gis_core.models import RoadEdge, RoadNetworkVersion, RoadNode

    version = RoadNetworkVersion(region=jambi_region, source="test", source_kind="graph", is_active=True)
    version.full_clean()
    version.save()
    coords = [(103.6100, -1.5900), (103.6110, -1.5900), (103.6110, -1.5910)]
    nodes = [RoadNode.objects.create(version=version, geom=Point(*c, srid=4326)) for c in coords]

    def edge(a: int, b: int, *, oneway: bool = False) -> RoadEdge:
        row = RoadEdge(
            version=version, source=nodes[a], target=nodes[b], highway="primary", name=f"Jalan {a}{b}",
            oneway=oneway, length_m=111.0, speed_kph=40.0, speed_source="table", travel_time_s=10.0,
            geom=LineString(coords[a], coords[b], srid=4326),
        )  # fmt: skip
        row.full_clean()
        row.save()
        return row

    return jambi_region, [edge(0, 1), edge(1, 0), edge(1, 2, oneway=True)]
