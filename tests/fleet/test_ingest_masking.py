"""Secrets masked in the stored copy of a request, everything else byte for byte as sent."""

from __future__ import annotations

import json

from fleet.ingest.masking import mask_body, mask_json, mask_query


def test_query_masks_every_secret_name_and_keeps_the_rest_in_order() -> None:
    query = "id=356938035643809&key=s3cret&lat=-1.59&Password=pw&%6Bey=again&token=&keyboard=1&key"
    assert mask_query(query) == "id=356938035643809&key=***&lat=-1.59&Password=***&%6Bey=***&token=***&keyboard=1&key"


def test_json_masks_strings_and_numbers_at_any_depth_and_keeps_the_text() -> None:
    text = '{"device_id": "x", "key" : "a\\"b", "extras": {"secret": 123, "passwd": true}, "keys": ["k"]}'
    masked = mask_json(text)
    assert masked == '{"device_id": "x", "key" : "***", "extras": {"secret": "***", "passwd": "***"}, "keys": ["k"]}'
    assert json.loads(masked)["keys"] == ["k"]
    assert (
        mask_json(
            '{"token": "abc',
        )
        == '{"token": "abc'
    )  # an unterminated string: nothing to mask safely


def test_body_is_read_as_json_or_as_a_form() -> None:
    assert mask_body('{"key": "s"}', content_type="text/plain") == '{"key": "***"}'
    assert mask_body("id=1&key=s", content_type="application/x-www-form-urlencoded") == "id=1&key=***"
    assert mask_body("", content_type="") == ""
