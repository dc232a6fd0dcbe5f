"""A device request while PostgreSQL is away (restarting, failing over) is a 503 with Retry-After, never a 500.

Found by bench/drills.py: OsmAnd fixes, batches, crew statuses and reports sent while the drill's PostgreSQL was
restarting were answered 500. Traccar Client resends after either, but a 500 says the server is broken and
pages nobody about the right thing; a 503 with Retry-After says "send it again shortly".
"""

from __future__ import annotations

import base64
from unittest import mock

import pytest
from django.db import OperationalError
from factories.fleet import make_device, make_unit
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _away(*args, **kwargs):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


def test_an_osmand_fix_while_the_database_is_away_is_a_503(jambi_region) -> None:
    make_device(unit=make_unit(), identifier="away-01", secret="s3cret")
    with mock.patch("fleet.api.device_endpoint.inbound_message_store", _away):
        query = {"id": "away-01", "lat": -1.59, "lon": 103.61, "key": "s3cret"}
        response = APIClient().get("/api/ingest/osmand", query)
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "database_unavailable"


def test_a_batch_while_the_database_is_away_is_a_503(jambi_region) -> None:
    make_device(unit=make_unit(), identifier="away-02", secret="s3cret")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"away-02:s3cret").decode())
    with mock.patch("fleet.api.device_endpoint.inbound_message_store", _away):
        response = client.post("/api/ingest/batch", {"fixes": [{"lon": 103.61, "lat": -1.59}]}, format="json")
    assert response.status_code == 503, response.content
