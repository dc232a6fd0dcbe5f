"""positions_prune and the prune_positions command: old fixes go, a unit's last position never does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from factories.fleet import make_device, make_fix, make_unit

from fleet.models import AuditEntry, DeviceRequestKey, InboundMessage, PositionFix, Unit
from fleet.services.retention import RetentionError, positions_prune
from incidents.models import WhatsAppMessage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
CENTRE = (103.6131, -1.5913)


def _message(channel: str, *, days_ago: float, outcome: str = "accepted") -> InboundMessage:
    message = InboundMessage.objects.create(channel=channel, body="{}", outcome=outcome)
    InboundMessage.objects.filter(pk=message.pk).update(received_at=NOW - timedelta(days=days_ago))
    return message


def _fix(unit: Unit, *, days_ago: float, message: InboundMessage | None = None, set_last: bool = False):
    at = NOW - timedelta(days=days_ago)
    fix = make_fix(unit=unit, geom=CENTRE, recorded_at=at, set_last=set_last)
    PositionFix.objects.filter(pk=fix.pk).update(received_at=at, message=message)
    return fix


@pytest.fixture
def history():
    """Two units: A reports daily; B has been silent for 200 days, its last fix is old."""
    a, b = make_unit(call_sign="AMB-A"), make_unit(call_sign="AMB-B")
    m_old = _message("batch", days_ago=200)
    m_old_last = _message("osmand", days_ago=200)
    m_new = _message("batch", days_ago=5)
    rows = {
        "a_old_1": _fix(a, days_ago=200, message=m_old),
        "a_old_2": _fix(a, days_ago=190, message=m_old),
        "a_old_3": _fix(a, days_ago=181),
        "a_new": _fix(a, days_ago=5, message=m_new, set_last=True),
        "b_last": _fix(b, days_ago=200, message=m_old_last, set_last=True),
    }
    messages = {
        "old": m_old,  # only old fixes: goes with them
        "old_last": m_old_last,  # holds B's last fix: kept
        "new": m_new,
        "old_rejected": _message("osmand", days_ago=300, outcome="rejected"),  # no fix, processed: goes
        "old_unprocessed": _message("owntracks", days_ago=300, outcome="received"),  # never processed: kept
        "old_error": _message("batch", days_ago=300, outcome="error"),  # may need a replay: kept
        "old_status": _message("crew_status", days_ago=300),  # not a position channel: kept
        "old_whatsapp": _message("whatsapp", days_ago=300),  # citizen reports are not fleet history: kept
    }
    return a, b, rows, messages


def test_prune_deletes_old_fixes_but_never_a_units_last_fix(history) -> None:
    a, b, rows, messages = history
    result = positions_prune(older_than=timedelta(days=180), dry_run=False, now=NOW)
    # Old fixes a_old_1..3 go (3); b_last is older than 180 days but is B's last position.
    assert (result.fixes_deleted, result.last_fixes_kept) == (3, 1)
    assert set(PositionFix.objects.values_list("pk", flat=True)) == {rows["a_new"].pk, rows["b_last"].pk}
    assert Unit.objects.get(pk=b.pk).last_fix_id == rows["b_last"].pk
    assert Unit.objects.get(pk=a.pk).last_fix_id == rows["a_new"].pk
    # Messages: "old" (its fixes are gone) and "old_rejected" go; every other is kept for its reason.
    assert result.messages_deleted == 2
    kept = set(InboundMessage.objects.values_list("pk", flat=True))
    assert kept == {m.pk for k, m in messages.items() if k not in {"old", "old_rejected"}}
    assert PositionFix.objects.get(pk=rows["b_last"].pk).message_id == messages["old_last"].pk
    entry = AuditEntry.objects.get(action="positions.prune")
    assert (entry.data["fixes"], entry.data["messages"], entry.data["last_fixes_kept"]) == (3, 2, 1)


def test_dry_run_counts_the_same_and_changes_nothing(history) -> None:
    fixes_before, messages_before = PositionFix.objects.count(), InboundMessage.objects.count()
    dry = positions_prune(older_than=timedelta(days=180), dry_run=True, now=NOW)
    assert (PositionFix.objects.count(), InboundMessage.objects.count()) == (fixes_before, messages_before)
    assert not AuditEntry.objects.filter(action="positions.prune").exists()
    real = positions_prune(older_than=timedelta(days=180), dry_run=False, now=NOW)
    assert (dry.fixes_deleted, dry.messages_deleted, dry.last_fixes_kept) == (
        real.fixes_deleted,
        real.messages_deleted,
        real.last_fixes_kept,
    )


def test_a_message_linked_to_a_whatsapp_message_is_never_deleted(history) -> None:
    _, _, _, messages = history
    # A raw delivery filed under a position channel by mistake but referenced by a WhatsApp message.
    WhatsAppMessage.objects.create(
        message_id="wamid.X", from_phone="+6281234567890", kind="text", sent_at=NOW, payload={},
        inbound=messages["old_rejected"],
    )  # fmt: skip
    positions_prune(older_than=timedelta(days=180), dry_run=False, now=NOW)
    assert InboundMessage.objects.filter(pk=messages["old_rejected"].pk).exists()


def test_an_old_batch_goes_with_its_idempotency_key_and_a_new_key_stays(history) -> None:
    a, _, _, messages = history
    device = make_device(unit=a)
    old_key = DeviceRequestKey.objects.create(device=device, key="old", channel="batch", message=messages["old"])
    DeviceRequestKey.objects.filter(pk=old_key.pk).update(created_at=NOW - timedelta(days=200))
    new_key = DeviceRequestKey.objects.create(device=device, key="new", channel="batch", message=messages["new"])
    positions_prune(older_than=timedelta(days=180), dry_run=False, now=NOW)
    assert not InboundMessage.objects.filter(pk=messages["old"].pk).exists()
    assert list(DeviceRequestKey.objects.values_list("pk", flat=True)) == [new_key.pk]


def test_prune_in_chunks_deletes_everything_old(monkeypatch) -> None:
    from fleet.services import retention

    monkeypatch.setattr(retention, "CHUNK_ROWS", 3)
    unit = make_unit()
    for i in range(10):
        _fix(unit, days_ago=400 + i)
    _fix(unit, days_ago=1, set_last=True)
    result = positions_prune(older_than=timedelta(days=30), dry_run=False, now=NOW)
    assert result.fixes_deleted == 10  # chunks of 3, 3, 3, 1
    assert PositionFix.objects.count() == 1


def test_a_cutoff_that_is_not_in_the_past_is_refused() -> None:
    with pytest.raises(RetentionError, match="must be positive"):
        positions_prune(older_than=timedelta(0), dry_run=True)


def test_command_dry_run_and_run(history) -> None:
    out = StringIO()
    # --days is counted from the real clock: 180 days back from now; the fixtures are dated from NOW,
    # so pass a cutoff that keeps the same split (a_old_3 at NOW - 181 d is the youngest old fix).
    days = (datetime.now(UTC) - (NOW - timedelta(days=180))).total_seconds() / 86400
    call_command("prune_positions", "--days", f"{days:.6f}", "--raw-days", f"{days:.6f}", "--dry-run", stdout=out)
    assert out.getvalue().startswith("would delete 3 fixes received before ")
    assert " and 2 raw device messages received before " in out.getvalue()
    assert PositionFix.objects.count() == 5
    out = StringIO()
    call_command("prune_positions", "--days", f"{days:.6f}", "--raw-days", f"{days:.6f}", stdout=out)
    assert out.getvalue().startswith("deleted 3 fixes received before ")
    assert " and 2 raw device messages received before " in out.getvalue()
    assert "kept 1 older fixes that are a unit's last position" in out.getvalue()
    assert PositionFix.objects.count() == 2


@pytest.mark.parametrize("days", ["0", "-3"])
def test_command_refuses_a_non_positive_age(days: str) -> None:
    with pytest.raises(CommandError, match="--days must be a positive number"):
        call_command("prune_positions", "--days", days)


def test_raw_messages_go_by_their_own_longer_retention(history) -> None:
    _, _, rows, messages = history
    # Fixes after 180 days, raw messages after 250: the fixes of "old" (200 days) go, its raw request stays
    # as the evidence of what was sent; the 300-day-old rejected request goes.
    result = positions_prune(older_than=timedelta(days=180), raw_older_than=timedelta(days=250), dry_run=False, now=NOW)
    assert (result.fixes_deleted, result.messages_deleted) == (3, 1)
    assert (result.cutoff, result.raw_cutoff) == (NOW - timedelta(days=180), NOW - timedelta(days=250))
    kept = set(InboundMessage.objects.values_list("pk", flat=True))
    assert kept == {m.pk for k, m in messages.items() if k != "old_rejected"}
    assert not PositionFix.objects.filter(pk__in=[rows["a_old_1"].pk, rows["a_old_2"].pk]).exists()
    entry = AuditEntry.objects.get(action="positions.prune")
    assert entry.data["raw_cutoff"] == (NOW - timedelta(days=250)).isoformat()
    # Later, past the raw retention too: "old" goes now that no fix needs it.
    later = NOW + timedelta(days=60)
    again = positions_prune(
        older_than=timedelta(days=180), raw_older_than=timedelta(days=250), dry_run=False, now=later
    )
    assert (again.fixes_deleted, again.messages_deleted) == (0, 1)
    assert not InboundMessage.objects.filter(pk=messages["old"].pk).exists()
    assert InboundMessage.objects.filter(pk=messages["old_last"].pk).exists()  # B's last fix still needs it


def test_a_raw_retention_shorter_than_the_fixes_is_refused() -> None:
    with pytest.raises(RetentionError, match="raw messages are kept at least as long as fixes"):
        positions_prune(older_than=timedelta(days=180), raw_older_than=timedelta(days=90), dry_run=True)


def test_command_takes_the_raw_retention_from_the_settings(history, settings) -> None:
    settings.SIAGA_RAW_RETENTION_DAYS = 10_000  # nothing raw is that old; longer than --days, so it holds
    days = (datetime.now(UTC) - (NOW - timedelta(days=180))).total_seconds() / 86400
    out = StringIO()
    call_command("prune_positions", "--days", f"{days:.6f}", stdout=out)
    assert out.getvalue().startswith("deleted 3 fixes received before ")
    assert " and 0 raw device messages received before " in out.getvalue()
    assert InboundMessage.objects.count() == len(history[3])


def test_the_retention_settings_are_validated(monkeypatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from config.settings import _env_retention_days

    monkeypatch.delenv("SIAGA_FIX_RETENTION_DAYS", raising=False)
    monkeypatch.delenv("SIAGA_RAW_RETENTION_DAYS", raising=False)
    assert _env_retention_days() == (180.0, 180.0)  # raw requests as long as their fixes by default
    monkeypatch.setenv("SIAGA_FIX_RETENTION_DAYS", "400")
    assert _env_retention_days() == (400.0, 400.0)  # follows the fixes
    monkeypatch.setenv("SIAGA_FIX_RETENTION_DAYS", "180")
    monkeypatch.setenv("SIAGA_RAW_RETENTION_DAYS", "730")
    assert _env_retention_days() == (180.0, 730.0)
    for junk, message in [
        ("90", "shorter than SIAGA_FIX_RETENTION_DAYS=180"), ("0", "must be a positive number"),
        ("inf", "must be a positive number"), ("a year", "is not a number"),
    ]:  # fmt: skip
        monkeypatch.setenv("SIAGA_RAW_RETENTION_DAYS", junk)
        with pytest.raises(ImproperlyConfigured, match=message):
            _env_retention_days()
