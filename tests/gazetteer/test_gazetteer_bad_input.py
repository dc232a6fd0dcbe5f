"""Bad input and access on the gazetteer endpoints: a clear 4xx (or an empty list), never a 500."""

from __future__ import annotations

import pytest

SEARCH = "/api/regions/kota-jambi/search/"
REVERSE = "/api/regions/kota-jambi/reverse/"


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "a"},
        {"q": " a  "},
        {"q": "x" * 10_000},
        {"q": "gang\x00melati"},
        {"q": "gang\x07melati"},
        {"q": "gang\nmelati"},
        {"q": "gang melati", "near": "abc"},
        {"q": "gang melati", "near": "103.6"},
        {"q": "gang melati", "near": "103.6,-1.6,5"},
        {"q": "gang melati", "near": "nan,-1.6"},
        {"q": "gang melati", "near": "400,-1.6"},
        {"q": "gang melati", "near": "1" * 10_000 + ",1"},
        {"q": "gang melati", "limit": "0"},
        {"q": "gang melati", "limit": "51"},
        {"q": "gang melati", "limit": "ten"},
        {"q": "gang melati", "limit": "-1"},
    ],
)
def test_bad_search_input_is_a_400_that_says_what_to_fix(town, dispatcher, params) -> None:
    response = dispatcher.get(SEARCH, params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "gazetteer_query_invalid"
    assert error["message"]


@pytest.mark.parametrize("q", ["..", "--", "!!!", "  ..  "])
def test_a_query_with_no_letters_or_digits_gives_an_empty_list(town, dispatcher, q: str) -> None:
    response = dispatcher.get(SEARCH, {"q": q})
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"lon": "103.6"},
        {"lat": "-1.6"},
        {"lon": "abc", "lat": "-1.6"},
        {"lon": "103.6", "lat": "inf"},
        {"lon": "103.6", "lat": "-91"},
        {"lon": "103.6\x00", "lat": "-1.6"},
        {"lon": "1" * 10_000, "lat": "-1.6"},
    ],
)
def test_bad_reverse_input_is_a_400(town, dispatcher, params) -> None:
    response = dispatcher.get(REVERSE, params)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "gazetteer_query_invalid"


@pytest.mark.parametrize(
    "url", ["/api/regions/kota-nowhere/search/?q=gang", "/api/regions/kota-nowhere/reverse/?lon=1&lat=1"]
)
def test_an_unknown_region_is_a_404(town, dispatcher, url: str) -> None:
    assert dispatcher.get(url).status_code == 404


@pytest.mark.parametrize("url", [SEARCH + "?q=gang+melati", REVERSE + "?lon=103.62&lat=-1.61"])
def test_only_dispatchers_and_admins_may_call(town, client_as, url: str) -> None:
    from rest_framework.test import APIClient

    assert APIClient().get(url).status_code in {401, 403}
    assert client_as().get(url).status_code == 403
    assert client_as("planner").get(url).status_code == 403
    assert client_as("dispatcher").get(url).status_code == 200
    assert client_as("admin").get(url).status_code == 200
