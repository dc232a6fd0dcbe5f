"""History partitions: created ahead, rows routed by arrival, the default partition, retention by dropping.

The test database has the partitions its migration made (around the day it was created); these tests
make their own for periods in 2025, which no test database holds, inside each test's transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from factories.fleet import make_agency, make_device, make_fix, make_unit

from fleet.ingest.fix import CanonicalFix
from fleet.models import AuditEntry, InboundMessage, PositionFix, Unit
from fleet.selectors.positions import unit_fixes_between
from fleet.selectors.units import unit_position
from fleet.services.inbound import inbound_message_store
from fleet.services.partitions import (
    HISTORY_TABLES,
    PartitionError,
    gaps,
    partitions_ensure,
    partitions_list,
    period_next,
    period_start,
)
from fleet.services.positions import position_record
from fleet.services.retention import history_maintain, positions_prune
from incidents.models import WhatsAppMessage
from incidents.selectors.units import unit_states

pytestmark = pytest.mark.django_db

JAN = datetime(2025, 1, 1, tzinfo=UTC)
FEB = datetime(2025, 2, 1, tzinfo=UTC)
MAR = datetime(2025, 3, 1, tzinfo=UTC)
CENTRE = (103.6131, -1.5913)
FIX, MESSAGE = HISTORY_TABLES


def _partition_of(table: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tableoid::regclass::text FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _names(table: str) -> set[str]:
    return {p.name for p in partitions_list(table)}


def _received(model, pk: int, at: datetime) -> None:
    model.objects.filter(pk=pk).update(received_at=at)  # moves the row to the partition of that time


def test_periods_and_gaps() -> None:
    assert period_start(datetime(2025, 12, 31, 23, 59, tzinfo=UTC), "month") == datetime(2025, 12, 1, tzinfo=UTC)
    assert period_next(datetime(2025, 12, 1, tzinfo=UTC), "month") == datetime(2026, 1, 1, tzinfo=UTC)
    assert period_start(datetime(2025, 1, 1, 12, tzinfo=UTC), "week") == datetime(2024, 12, 30, tzinfo=UTC)  # Monday
    assert gaps(JAN, MAR, [(JAN, FEB)]) == [(FEB, MAR)]
    assert gaps(JAN, MAR, [(JAN - timedelta(days=3), JAN + timedelta(days=4))]) == [(JAN + timedelta(days=4), MAR)]
    assert gaps(JAN, FEB, [(JAN, MAR)]) == []
    with pytest.raises(PartitionError, match="unknown partition period 'day'"):
        period_start(JAN, "day")


def test_ensure_creates_both_tables_partitions_ahead_once() -> None:
    result = partitions_ensure(ahead=1, period="month", now=JAN + timedelta(days=10))
    created = {(p.table, p.start, p.end) for p in result.created}
    assert created == {(t, s, e) for t in HISTORY_TABLES for s, e in [(JAN, FEB), (FEB, MAR)]}
    assert {f"{FIX}_p20250101", f"{FIX}_p20250201", f"{FIX}_default"} <= _names(FIX)
    assert {f"{MESSAGE}_p20250101", f"{MESSAGE}_p20250201", f"{MESSAGE}_default"} <= _names(MESSAGE)
    assert partitions_ensure(ahead=1, period="month", now=JAN).created == []  # again: nothing to do
    # Weekly from here on: only what the months leave uncovered is created, no overlap.
    weekly = partitions_ensure(ahead=0, period="week", now=MAR - timedelta(days=1))
    assert {(p.start, p.end) for p in weekly.created} == {(MAR, datetime(2025, 3, 3, tzinfo=UTC))}
    dry = partitions_ensure(ahead=0, period="month", now=MAR + timedelta(days=40), dry_run=True)
    assert {p.name for p in dry.created} == {f"{FIX}_p20250401", f"{MESSAGE}_p20250401"}
    assert f"{FIX}_p20250401" not in _names(FIX)


def test_a_fix_is_stored_in_the_partition_of_its_arrival_whatever_its_device_clock(jambi_kecamatan) -> None:
    device = make_device(unit=make_unit(agency=make_agency(region=jambi_kecamatan)), identifier="clock-off")
    now = timezone.now()
    partitions_ensure(ahead=0, now=now)
    fixes = [
        CanonicalFix(device_identifier="clock-off", lon=CENTRE[0], lat=CENTRE[1], recorded_at=at)
        for at in (datetime(1999, 8, 22, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC), None, now)
    ]
    message = inbound_message_store(channel="batch", body=b"{}", headers={}, remote_addr=None)
    rows = position_record(device=device, fixes=fixes, protocol="batch", message=message, now=now).fixes
    current = f"{FIX}_p{period_start(now, 'month'):%Y%m%d}"
    assert [_partition_of(FIX, row.pk) for row in rows] == [current] * 4
    assert [row.flags for row in rows] == [["stale_timestamp"], ["future_timestamp"], ["missing_timestamp"], []]
    assert _partition_of(MESSAGE, message.pk) == f"{MESSAGE}_p{period_start(now, 'month'):%Y%m%d}"


def test_a_row_outside_every_partition_lands_in_default_and_moves_when_its_partition_is_made() -> None:
    unit = make_unit()
    fix = make_fix(unit=unit, geom=CENTRE, recorded_at=JAN + timedelta(days=3))
    message = InboundMessage.objects.create(channel="batch", body="{}", outcome="accepted")
    _received(InboundMessage, message.pk, JAN + timedelta(days=3))
    assert _partition_of(FIX, fix.pk) == f"{FIX}_default"
    assert _partition_of(MESSAGE, message.pk) == f"{MESSAGE}_default"
    result = partitions_ensure(ahead=0, period="month", now=JAN)
    assert result.moved_from_default == 2
    assert _partition_of(FIX, fix.pk) == f"{FIX}_p20250101"  # same id, same row
    assert _partition_of(MESSAGE, message.pk) == f"{MESSAGE}_p20250101"
    assert Unit.objects.get(pk=unit.pk).last_fix_id == fix.pk


def test_a_resend_is_flagged_duplicate_when_the_first_copy_is_in_another_partition(jambi_kecamatan) -> None:
    device = make_device(unit=make_unit(agency=make_agency(region=jambi_kecamatan)), identifier="resend")
    partitions_ensure(ahead=0, now=JAN)
    now = timezone.now()
    fix = CanonicalFix(device_identifier="resend", lon=CENTRE[0], lat=CENTRE[1], recorded_at=now - timedelta(minutes=1))
    [first] = position_record(device=device, fixes=[fix], protocol="batch", now=now).fixes
    _received(PositionFix, first.pk, JAN + timedelta(days=1))  # the first copy arrived in another period
    assert _partition_of(FIX, first.pk) == f"{FIX}_p20250101"
    result = position_record(device=device, fixes=[fix], protocol="batch", now=now)
    assert result.fixes[0].flags == ["duplicate"]
    assert not result.last_fix_changed
    assert Unit.objects.get(pk=device.unit_id).last_fix_id == first.pk


def test_the_track_reads_valid_fixes_across_a_partition_boundary() -> None:
    partitions_ensure(ahead=1, now=JAN)
    unit = make_unit()
    before = make_fix(unit=unit, geom=CENTRE, recorded_at=FEB - timedelta(seconds=30), set_last=False)
    # Recorded before midnight, received after it (an offline queue): the next month's partition.
    after = make_fix(unit=unit, geom=CENTRE, recorded_at=FEB - timedelta(seconds=10), set_last=False)
    _received(PositionFix, after.pk, FEB + timedelta(hours=2))
    assert {_partition_of(FIX, before.pk), _partition_of(FIX, after.pk)} == {f"{FIX}_p20250101", f"{FIX}_p20250201"}
    track = unit_fixes_between(unit_id=unit.pk, start=FEB - timedelta(minutes=1), end=FEB)
    assert [f.pk for f in track] == [before.pk, after.pk]


@pytest.fixture
def old_history():
    """January 2025 in its own partition: A's old fixes, B's only (last) fix, their raw messages."""
    partitions_ensure(ahead=2, period="month", now=JAN)  # January to March 2025
    a, b = make_unit(call_sign="HIST-A"), make_unit(call_sign="HIST-B")
    at = JAN + timedelta(days=5)
    messages = {}
    for key, channel, outcome in [
        ("a_old", "batch", "accepted"), ("b_last", "osmand", "accepted"), ("rejected", "osmand", "rejected"),
        ("whatsapp", "whatsapp", "processed"), ("unprocessed", "owntracks", "received"),
        ("linked", "batch", "accepted"),
    ]:  # fmt: skip
        messages[key] = InboundMessage.objects.create(channel=channel, body="{}", outcome=outcome)
        _received(InboundMessage, messages[key].pk, at)
    WhatsAppMessage.objects.create(
        message_id="wamid.old", from_phone="+628", kind="text", sent_at=at, payload={}, inbound=messages["linked"]
    )
    rows = {
        "a_old": make_fix(unit=a, geom=CENTRE, recorded_at=at, set_last=False),
        "b_last": make_fix(unit=b, geom=CENTRE, recorded_at=at),
        "a_new": make_fix(unit=a, geom=CENTRE, recorded_at=MAR + timedelta(days=2)),
    }
    PositionFix.objects.filter(pk=rows["a_old"].pk).update(message=messages["a_old"])
    PositionFix.objects.filter(pk=rows["b_last"].pk).update(message=messages["b_last"])
    return a, b, rows, messages


def test_retention_drops_old_partitions_and_keeps_every_units_last_fix(old_history) -> None:
    a, b, rows, messages = old_history
    result = positions_prune(older_than=timedelta(days=20), dry_run=False, now=FEB + timedelta(days=25))
    # Cutoff Feb 5: January's partitions go whole; February's does not (its period is not over).
    assert {d.name for d in result.partitions} == {f"{FIX}_p20250101", f"{MESSAGE}_p20250101"}
    assert f"{FIX}_p20250101" not in _names(FIX)
    assert f"{FIX}_p20250201" in _names(FIX)
    assert f"{MESSAGE}_p20250101" not in _names(MESSAGE)
    assert set(PositionFix.objects.filter(unit__in=[a, b]).values_list("pk", flat=True)) == {
        rows["b_last"].pk, rows["a_new"].pk,
    }  # fmt: skip
    assert _partition_of(FIX, rows["b_last"].pk) == f"{FIX}_default"
    b = Unit.objects.select_related("last_fix", "home_station").get(pk=b.pk)
    assert b.last_fix_id == rows["b_last"].pk
    position = unit_position(b, now=FEB + timedelta(days=25))
    assert (position.lonlat, position.source) == (pytest.approx(CENTRE), "stale_gps")
    [state] = unit_states(now=FEB + timedelta(days=25), unit_ids=[b.pk])  # the SQL reader of the map and dispatch
    assert (state.position.lonlat, state.position.source) == (pytest.approx(CENTRE), "stale_gps")
    # Raw messages: B's last fix's, the WhatsApp delivery, the one a WhatsApp message points at and the
    # unprocessed one stay (in the default partition); the others went with January.
    kept = set(InboundMessage.objects.values_list("pk", flat=True))
    assert {messages[k].pk for k in ("b_last", "whatsapp", "unprocessed", "linked")} <= kept
    assert not {messages[k].pk for k in ("a_old", "rejected")} & kept
    assert WhatsAppMessage.objects.get(message_id="wamid.old").inbound_id == messages["linked"].pk
    fix_drop = next(d for d in result.partitions if d.name == f"{FIX}_p20250101")
    message_drop = next(d for d in result.partitions if d.name == f"{MESSAGE}_p20250101")
    assert (fix_drop.rows, fix_drop.kept, message_drop.rows, message_drop.kept) == (2, 1, 6, 4)
    assert (result.fixes_deleted, result.messages_deleted, result.last_fixes_kept) == (1, 2, 1)
    entry = AuditEntry.objects.get(action="positions.prune")
    assert {p["name"] for p in entry.data["partitions"]} == {f"{FIX}_p20250101", f"{MESSAGE}_p20250101"}
    # Once B reports again, its old fix in the default partition is pruned like any other.
    newer = make_fix(unit=b, geom=CENTRE, recorded_at=MAR + timedelta(days=3))
    again = positions_prune(older_than=timedelta(days=20), dry_run=False, now=FEB + timedelta(days=25))
    assert (again.partitions, again.fixes_deleted, again.messages_deleted) == ([], 1, 1)
    assert not PositionFix.objects.filter(pk=rows["b_last"].pk).exists()
    assert PositionFix.objects.filter(pk=newer.pk).exists()


def test_a_dry_run_says_what_it_would_drop_and_changes_nothing(old_history) -> None:
    now = FEB + timedelta(days=25)
    before = (PositionFix.objects.count(), InboundMessage.objects.count(), _names(FIX), _names(MESSAGE))
    out = StringIO()
    call_command("prune_positions", "--days", "20", "--dry-run", stdout=out)  # today: January 2025 is long past
    text = out.getvalue()
    assert f"would drop {FIX}_p20250101 (2025-01-01 to 2025-02-01): 2 rows, 1 of them kept" in text
    assert f"would drop {MESSAGE}_p20250101 (2025-01-01 to 2025-02-01): 6 rows, 4 of them kept" in text
    assert (PositionFix.objects.count(), InboundMessage.objects.count(), _names(FIX), _names(MESSAGE)) == before
    dry = positions_prune(older_than=timedelta(days=20), dry_run=True, now=now)
    real = positions_prune(older_than=timedelta(days=20), dry_run=False, now=now)
    assert (dry.fixes_deleted, dry.messages_deleted, dry.partitions) == (
        real.fixes_deleted, real.messages_deleted, real.partitions,
    )  # fmt: skip


def test_history_maintain_creates_ahead_then_drops(old_history, settings) -> None:
    settings.SIAGA_FIX_RETENTION_DAYS = 20
    settings.SIAGA_RAW_RETENTION_DAYS = 60
    settings.SIAGA_HISTORY_PARTITIONS_AHEAD = 2
    dry = history_maintain(now=FEB + timedelta(days=25), dry_run=True)
    assert f"{FIX}_p20250401" not in _names(FIX)
    assert f"would drop {FIX}_p20250101" in dry.summary()
    result = history_maintain(now=FEB + timedelta(days=25))
    assert {p.name for p in result.ensured.created} == {f"{FIX}_p20250401", f"{MESSAGE}_p20250401"}
    # Fixes' cutoff Feb 5: January's fixes go; raw messages' Dec 27: January's raw requests stay, all six.
    assert {d.name for d in result.pruned.partitions} == {f"{FIX}_p20250101"}
    assert f"{MESSAGE}_p20250101" in _names(MESSAGE)
    assert InboundMessage.objects.filter(pk__in=[m.pk for m in old_history[3].values()]).count() == 6
    assert history_maintain(now=FEB + timedelta(days=25)).pruned.partitions == []
    # Their own retention past too (raw cutoff Feb 8), January's raw partition goes, what is needed kept.
    settings.SIAGA_RAW_RETENTION_DAYS = 30
    later = history_maintain(now=MAR + timedelta(days=10))
    [drop] = later.pruned.partitions
    assert (drop.name, drop.rows, drop.kept) == (f"{MESSAGE}_p20250101", 6, 4)


def test_raw_messages_of_the_default_partition_go_by_the_raw_cutoff(old_history) -> None:
    early = InboundMessage.objects.create(channel="batch", body="{}", outcome="accepted")
    _received(InboundMessage, early.pk, JAN - timedelta(days=12))  # no December partition: the default one
    late = InboundMessage.objects.create(channel="batch", body="{}", outcome="accepted")
    _received(InboundMessage, late.pk, JAN - timedelta(days=2))
    assert {_partition_of(MESSAGE, early.pk), _partition_of(MESSAGE, late.pk)} == {f"{MESSAGE}_default"}
    now = FEB + timedelta(days=25)  # fixes' cutoff Feb 5, raw cutoff Dec 27 (60 days)
    dry = positions_prune(older_than=timedelta(days=20), raw_older_than=timedelta(days=60), dry_run=True, now=now)
    real = positions_prune(older_than=timedelta(days=20), raw_older_than=timedelta(days=60), dry_run=False, now=now)
    assert (dry.fixes_deleted, dry.messages_deleted, dry.partitions) == (
        real.fixes_deleted, real.messages_deleted, real.partitions,
    )  # fmt: skip
    assert real.messages_deleted == 1
    assert not InboundMessage.objects.filter(pk=early.pk).exists()
    assert InboundMessage.objects.filter(pk=late.pk).exists()  # older than the fixes' cutoff, not the raw one
