"""Ranking on hand-made cases (tests/gazetteer/conftest.py's town) through GET /api/regions/{slug}/search/."""

from __future__ import annotations

import pytest

from gis_core.models import Region

URL = "/api/regions/kota-jambi/search/"


def results(client, **params) -> list[dict]:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_the_street_inside_the_named_kelurahan_ranks_first(town, dispatcher) -> None:
    # Two streets named Gang Melati; the caller names the kelurahan of the eastern one.
    first = results(dispatcher, q="gang melati talang banjar")[0]
    assert (first["name"], first["kelurahan"], first["kecamatan"]) == ("Gang Melati", "Talang Banjar", "Jambi Timur")
    first = results(dispatcher, q="gg melati kel sungai putri")[0]
    assert (first["name"], first["kelurahan"]) == ("Gang Melati", "Sungai Putri")


def test_near_bias_picks_the_nearer_of_two_same_named_streets(town, dispatcher) -> None:
    west = results(dispatcher, q="gang melati", near="103.593,-1.616")[0]
    east = results(dispatcher, q="gang melati", near="103.623,-1.604")[0]
    assert west["kelurahan"] == "Sungai Putri"
    assert east["kelurahan"] == "Talang Banjar"


def test_a_streets_point_is_nearest_to_the_bias_else_its_middle(town, dispatcher) -> None:
    # Jalan Sultan Thaha runs along lat -1.610 from lon 103.612 to 103.628.
    middle = results(dispatcher, q="jalan sultan thaha")[0]["point"]
    assert middle == pytest.approx([103.620, -1.610], abs=1e-6)  # the middle of the straight line
    biased = results(dispatcher, q="jalan sultan thaha", near="103.615,-1.609")[0]["point"]
    assert biased == pytest.approx([103.615, -1.610], abs=1e-6)  # the foot of the perpendicular


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Jl. Sultan Thaha", "Jalan Sultan Thaha"),
        ("sultan taha", "Jalan Sultan Thaha"),  # typo, Jalan dropped
        ("SULTAN THAHA", "Jalan Sultan Thaha"),
        ("jl pasar", "Jalan Sultan Thaha"),  # alternative name
        ("gatot subroto", "Jalan Jenderal Gatot Subroto"),  # title and Jalan dropped
        ("jl jend gatot subroto", "Jalan Jenderal Gatot Subroto"),
        ("mesjid al ikhlas", "Masjid Al-Ikhlas"),
        ("masjid alikhlas", "Masjid Al-Ikhlas"),
        ("sdn 47", "SD Negeri 47 Kota Jambi"),
        ("SD N 47", "SD Negeri 47 Kota Jambi"),
        ("rs raden mataher", "RSUD Raden Mattaher"),
        ("lrg pinang 2", "Lorong Pinang II"),
        ("talang banjar", "Talang Banjar"),
        ("sultan th", "Jalan Sultan Thaha"),  # while typing
    ],
)
def test_what_callers_say_finds_the_place(town, dispatcher, query: str, expected: str) -> None:
    assert results(dispatcher, q=query)[0]["name"] == expected


def test_each_suggestion_says_what_and_where(town, dispatcher) -> None:
    first = results(dispatcher, q="masjid al ikhlas", limit=3)[0]
    assert set(first) == {"id", "name", "kind", "kelurahan", "kecamatan", "point", "confidence"}
    assert first["kind"] == "landmark"
    assert first["point"] == pytest.approx([103.6215, -1.6061])
    assert 0.9 <= first["confidence"] <= 1.0


def test_limit_and_no_match(town, dispatcher) -> None:
    assert len(results(dispatcher, q="gang", limit=1)) == 1
    assert results(dispatcher, q="zzqxv wkkp") == []


def test_other_regions_names_are_not_found(town, client_as) -> None:
    ambon = Region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752, time_zone="Asia/Jayapura")
    ambon.full_clean()
    ambon.save()
    dispatcher = client_as("dispatcher")  # a member of both: Ambon's search holds none of Jambi's names
    response = dispatcher.get("/api/regions/kota-ambon/search/", {"q": "sultan thaha"})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_search_costs_a_fixed_number_of_queries(town, dispatcher, django_assert_max_num_queries) -> None:
    # Session/user lookups, the region, the permission's group check, the area lookup, the common words,
    # set_config and the candidates: independent of how many names match.
    with django_assert_max_num_queries(9):
        assert results(dispatcher, q="gang melati talang banjar", near="103.62,-1.60")
