"""incidents 0003-0005: one caller per number becomes one per region, each with the flags it had."""

from __future__ import annotations

import pytest
from django.db import connection
from factories.gis_core import make_region
from factories.migrations import migrate, migrate_to_latest

from incidents.models import Caller


@pytest.mark.django_db(transaction=True)
def test_each_region_the_number_reported_to_gets_its_caller_and_the_flags() -> None:
    jambi = make_region()
    ambon = make_region(code="81.71", slug="kota-ambon", name="Kota Ambon", metric_srid=32752)
    migrate([("incidents", "0002_incident_address_source")])
    try:
        with connection.cursor() as cursor:
            for region, reference in ((jambi, "JMB-1"), (ambon, "AMB-1")):
                cursor.execute(
                    "INSERT INTO fleet_incident (region_id, reference, channel, caller_phone, caller_name, priority,"
                    " description, address_text, address_source, location_source, status, outcome, caller_flags,"
                    " received_at) VALUES (%s, %s, 'phone', '+6281200000001', '', 2, '', '', '', '', 'open',"
                    " 'unknown', '{}', now())",
                    [region.pk, reference],
                )
            for phone in ("+6281200000001", "+6281200000002"):  # the second never reported anywhere
                cursor.execute(
                    "INSERT INTO fleet_caller (phone, first_seen_at) VALUES (%s, now()) RETURNING id", [phone]
                )
                (caller_id,) = cursor.fetchone()
                cursor.execute(
                    "INSERT INTO fleet_callerflag (caller_id, kind, reason, created_at, lift_reason)"
                    " VALUES (%s, 'block', 'silent calls', now() - interval '1 hour', '')",
                    [caller_id],
                )
    finally:
        migrate_to_latest()
    rows = sorted(Caller.objects.values_list("phone", "region__slug"))
    assert rows == [
        ("+6281200000001", "kota-ambon"), ("+6281200000001", "kota-jambi"),
        ("+6281200000002", "kota-ambon"), ("+6281200000002", "kota-jambi"),
    ]  # fmt: skip
    for caller in Caller.objects.all():
        (flag,) = caller.flags.all()
        assert (flag.kind, flag.reason, flag.lifted_at) == ("block", "silent calls", None)
