"""The names as vector tiles (GET /api/regions/{slug}/names/{z}/{x}/{y}.mvt) for the console map's labels.

Tiles are decoded here by a few lines of protobuf reading (the MVT spec, version 2), independent of PostGIS.
"""

from __future__ import annotations

import math

import pytest
from django.test import Client
from factories.access import make_user
from factories.gis_core import make_region


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile holding a point (the OpenStreetMap wiki's slippy-map formula)."""
    n = 2**z
    lat_r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(lat_r)) / math.pi) / 2 * n)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _fields(data: bytes):
    """(field number, value) of a protobuf message: ints for varints, bytes for length-delimited fields."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        else:
            raise AssertionError(f"unexpected wire type {wire} in an MVT")
        yield number, value


def decode(tile: bytes) -> dict[str, list[dict]]:
    """Layer name -> the features' string properties (MVT: tile.layers = 3; layer name 1, features 2, keys 3,
    values 4; feature tags 2 as packed key/value indexes; value string_value 1)."""
    layers: dict[str, list[dict]] = {}
    for number, layer in _fields(tile):
        assert number == 3
        parts = list(_fields(layer))
        name = next(v for n, v in parts if n == 1).decode()
        keys = [v.decode() for n, v in parts if n == 3]
        values = [next((s.decode() for k, s in _fields(v) if k == 1), None) for n, v in parts if n == 4]
        features = []
        for feature in (v for n, v in parts if n == 2):
            packed = next(v for n, v in _fields(feature) if n == 2)
            tags, pos = [], 0
            while pos < len(packed):
                tag, pos = _varint(packed, pos)
                tags.append(tag)
            features.append({keys[k]: values[v] for k, v in zip(tags[::2], tags[1::2], strict=True)})
        layers[name] = features
    return layers


@pytest.fixture
def dispatcher_client(town) -> Client:
    client = Client()
    client.force_login(make_user("ani", "dispatcher", regions=[town]))
    return client


def _url(z: int, x: int, y: int, slug: str = "kota-jambi") -> str:
    return f"/api/regions/{slug}/names/{z}/{x}/{y}.mvt"


def test_a_tile_holds_the_streets_and_places_inside_it(dispatcher_client, django_assert_max_num_queries) -> None:
    # The east half of the town at zoom 16: Gang Melati (east), Jalan Sultan Thaha, Masjid Al-Ikhlas, Talang Banjar.
    x, y = tile_of(103.6215, -1.6061, 16)
    with django_assert_max_num_queries(8):
        response = dispatcher_client.get(_url(16, x, y))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    layers = decode(response.content)
    assert {f["name"] for f in layers["streets"]} >= {"Gang Melati"}
    assert {"name": "Masjid Al-Ikhlas", "kind": "landmark"} in layers["places"]
    # Only what lies in this tile: the west half's streets and school are 2 km away (many tiles at zoom 16).
    names = {f["name"] for layer in layers.values() for f in layer}
    assert not names & {"Jalan Jenderal Gatot Subroto", "SD Negeri 47 Kota Jambi", "Sungai Putri"}


def test_a_tile_with_no_names_is_empty(dispatcher_client) -> None:
    x, y = tile_of(103.70, -1.70, 15)  # south-east of the town, outside it
    response = dispatcher_client.get(_url(15, x, y))
    assert (response.status_code, response.content) == (200, b"")


@pytest.mark.parametrize(
    ("z", "x", "y", "words"),
    [(5, 0, 0, "from zoom 12 to 20"), (21, 0, 0, "from zoom 12 to 20"), (12, 4096, 0, "x and y run from 0 to 4095")],
)
def test_a_tile_outside_the_grid_or_the_label_zooms_is_a_400(dispatcher_client, z, x, y, words) -> None:
    response = dispatcher_client.get(_url(z, x, y))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "gazetteer_query_invalid"
    assert words in response.json()["error"]["message"]


def test_another_centres_region_is_a_404_and_a_planner_is_refused(town, dispatcher_client) -> None:
    make_region(slug="kota-ambon", code="81.71", name="Kota Ambon", metric_srid=32752)
    assert dispatcher_client.get(_url(15, 0, 0, slug="kota-ambon")).status_code == 404
    assert dispatcher_client.get(_url(15, 0, 0, slug="no-such-city")).status_code == 404
    planner = Client()
    planner.force_login(make_user("budi", "planner", regions=[town]))
    assert planner.get(_url(15, 0, 0)).status_code == 403
    assert Client().get(_url(15, 0, 0)).status_code in (401, 403)
