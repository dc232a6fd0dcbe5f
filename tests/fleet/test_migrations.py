"""Data migrations keep what is stored: rows written under the old schema read the same after it."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from factories.migrations import migrate, migrate_to_latest

from fleet.models import InboundMessage
from incidents.models import Incident

BEFORE = [("fleet", "0004_names_in_two_languages")]
AFTER = [("fleet", "0005_inbound_message_query")]


@pytest.mark.django_db(transaction=True)
def test_0005_moves_old_query_strings_to_the_query_field() -> None:
    migrate(BEFORE)
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
        migrate(AFTER)
        migrate_to_latest()
    get, json_post, form_post = InboundMessage.objects.order_by("pk")
    assert (get.query, get.body, get.headers) == ("id=1&lat=-1.6&key=***", "", {"Method": "GET"})
    assert (json_post.query, json_post.body) == ("key=***", '{"device_id": "1"}')
    assert "Query-String" not in json_post.headers
    assert (form_post.query, form_post.body) == ("", "id=1&lat=-1.6")


@pytest.mark.django_db(transaction=True)
def test_the_move_to_incidents_keeps_every_row_and_each_permission() -> None:
    """fleet.0006 / incidents.0001 move the reports' models between apps: no table changes, rows stay,
    and the content types (so granted permissions) follow the models."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from factories.fleet import make_incident

    incident = make_incident()
    content_type = ContentType.objects.get(app_label="incidents", model="incident")
    permission = Permission.objects.get(content_type=content_type, codename="view_incident")
    migrate([("fleet", "0005_inbound_message_query"), ("incidents", None)])  # back to before the move
    try:
        assert ContentType.objects.get(pk=content_type.pk).app_label == "fleet"
        with connection.cursor() as cursor:
            cursor.execute("SELECT reference FROM fleet_incident WHERE id = %s", [incident.pk])
            assert cursor.fetchone() == (incident.reference,)
    finally:
        migrate_to_latest()
    assert Incident.objects.get(pk=incident.pk).reference == incident.reference
    assert ContentType.objects.get(pk=content_type.pk).app_label == "incidents"
    assert Permission.objects.get(pk=permission.pk).content_type_id == content_type.pk


@pytest.mark.django_db(transaction=True)
def test_incidents_0002_counts_every_address_stored_before_it_as_a_persons() -> None:
    from factories.gis_core import make_region

    region = make_region()
    migrate([("incidents", "0001_initial")])
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
        migrate_to_latest()
    typed, blank = Incident.objects.order_by("reference")
    assert (typed.address_text, typed.address_source) == ("Jl. Sultan Thaha 12", "person")
    assert (blank.address_text, blank.address_source) == ("", "")
