"""Reverse geocoding (GET /api/regions/{slug}/reverse/) checked against PostGIS queries written here."""

from __future__ import annotations

import pytest
from django.db import connection

URL = "/api/regions/kota-jambi/reverse/"


def brute_force_nearest(region_id: int, lon: float, lat: float, kinds: tuple[str, ...]) -> tuple[str, float]:
    """Every entry of those kinds measured on the spheroid; no index, no KNN operator."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT name, ST_Distance(geom::geography, ST_SetSRID(ST_Point(%s, %s), 4326)::geography, true) AS d
               FROM gazetteer_gazetteerentry WHERE region_id = %s AND kind = ANY(%s) ORDER BY d LIMIT 1""",
            [lon, lat, region_id, list(kinds)],
        )
        return cursor.fetchone()


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(103.6212, -1.6058), (103.613, -1.6095), (103.5935, -1.6152), (103.616, -1.6179), (103.6001, -1.6102)],
)
def test_nearest_street_and_landmark_agree_with_postgis(town, dispatcher, lon: float, lat: float) -> None:
    body = dispatcher.get(URL, {"lon": lon, "lat": lat}).json()
    street, street_m = brute_force_nearest(town.pk, lon, lat, ("street",))
    assert body["street"]["name"] == street
    assert body["street"]["distance_m"] == pytest.approx(street_m, abs=0.1)
    landmark, landmark_m = brute_force_nearest(town.pk, lon, lat, ("landmark", "local"))
    if landmark_m <= 300:
        assert body["landmark"] == {"name": landmark, "distance_m": pytest.approx(landmark_m, abs=0.1)}
    else:
        assert body["landmark"] is None


def test_display_text_reads_as_a_place(town, dispatcher) -> None:
    # 0.0004 deg of latitude north of Gang Melati (east) and about 50 m from the masjid: a PostGIS check below.
    body = dispatcher.get(URL, {"lon": 103.6212, "lat": -1.6054}).json()
    _, masjid_m = brute_force_nearest(town.pk, 103.6212, -1.6054, ("landmark",))
    rounded = round(masjid_m / 10) * 10
    assert body["display"] == f"Gang Melati, {rounded} m dari Masjid Al-Ikhlas, Talang Banjar"
    assert body["kelurahan"] == {"code": "15.71.03.1001", "name": "Talang Banjar"}
    assert body["kecamatan"] == {"code": "15.71.03", "name": "Jambi Timur"}


def test_no_landmark_beyond_a_few_hundred_metres(town, dispatcher) -> None:
    # The far east corner of the town: every landmark is more than 1 km away.
    body = dispatcher.get(URL, {"lon": 103.6295, "lat": -1.6195}).json()
    assert body["landmark"] is None
    assert "dari" not in body["display"]


def test_a_point_far_outside_the_region_is_a_400(town, dispatcher) -> None:
    response = dispatcher.get(URL, {"lon": 106.8, "lat": -6.2})  # Jakarta
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "point_outside_region"


def test_a_point_just_outside_the_boundary_still_answers(town, dispatcher) -> None:
    # 0.005 deg (about 550 m) east of the town's edge: within the 2 km tolerance, no kelurahan.
    body = dispatcher.get(URL, {"lon": 103.635, "lat": -1.61}).json()
    assert body["kelurahan"] is None
    assert body["street"]["name"] == "Jalan Sultan Thaha"
