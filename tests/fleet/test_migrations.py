"""Data migrations keep what is stored: rows written under the old schema read the same after it."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from fleet.models import InboundMessage, Incident

BEFORE = [("fleet", "0004_names_in_two_languages")]
AFTER = [("fleet", "0005_inbound_message_query")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _migrate_to_latest() -> None:
    """Every app at its newest migration again, as the tests that follow expect the schema."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_0005_moves_old_query_strings_to_the_query_field() -> None:
    _migrate(BEFORE)
    try:
        rows = [  # what the old _store wrote: a GET's query as body, a JSON POST's query in a header
            ("osmand", {"Method": "GET"}, "id=1&lat=-1.6&key=***"),
            ("traccar_json", {"Method": "POST", "Query-String": "key=***"}, '{"device_id": "1"}'),
            ("osmand", {"Method": "POST"}, "id=1&lat=-1.6"),  # a form POST: its query string was never kept
        ]
        with connection.cursor() as cursor:
            for channel, headers, body in rows:
                cursor.execute(
                    "INSERT INTO fleet_inboundmessage (channel, received_at, headers, body, outcome, error)"
                    " VALUES (%s, now(), %s::jsonb, %s, 'rejected', '')",
                    [channel, json.dumps(headers), body],
                )
    finally:
        _migrate(AFTER)
    get, json_post, form_post = InboundMessage.objects.order_by("pk")
    assert (get.query, get.body, get.headers) == ("id=1&lat=-1.6&key=***", "", {"Method": "GET"})
    assert (json_post.query, json_post.body) == ("key=***", '{"device_id": "1"}')
    assert "Query-String" not in json_post.headers
    assert (form_post.query, form_post.body) == ("", "id=1&lat=-1.6")
    _migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_0006_counts_every_address_stored_before_it_as_a_persons() -> None:
    from factories.gis_core import make_region

    region = make_region()
    _migrate([("fleet", "0005_inbound_message_query")])
    try:
        with connection.cursor() as cursor:
            for reference, address in (("JMB-2026-000001", "Jl. Sultan Thaha 12"), ("JMB-2026-000002", "")):
                cursor.execute(
                    "INSERT INTO fleet_incident (region_id, reference, channel, caller_phone, caller_name, priority,"
                    " description, address_text, location_source, status, outcome, caller_flags, received_at)"
                    " VALUES (%s, %s, 'phone', '', '', 2, '', %s, '', 'awaiting_location', 'unknown', '{}', now())",
                    [region.pk, reference, address],
                )
    finally:
        _migrate_to_latest()
    typed, blank = Incident.objects.order_by("reference")
    assert (typed.address_text, typed.address_source) == ("Jl. Sultan Thaha 12", "person")
    assert (blank.address_text, blank.address_source) == ("", "")
