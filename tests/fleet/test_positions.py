"""position_record against PostGIS: store first, flag every bad fix, never move a unit backwards.

Places (lon, lat) in and around Kota Jambi; their distances to the union of the 11 kecamatan
polygons were measured with PostGIS on the imported boundaries (``ST_Distance(union::geography,
point::geography)``): the margin around the city is 5 km.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from factories.fleet import make_agency, make_device, make_unit

from fleet.errors import DeviceUnitMismatchError
from fleet.ingest.batch import UNIT_ID_ATTRIBUTE
from fleet.ingest.checks import WARNING_FLAGS, haversine_m
from fleet.ingest.fix import CanonicalFix
from fleet.models import InboundMessage, PositionFix, Unit, UnitStatus
from fleet.services import positions
from fleet.services.inbound import inbound_message_store
from fleet.services.positions import position_record
from incidents.services import dispatch

pytestmark = pytest.mark.django_db

CENTRE = (103.6131, -1.5913)  # Jl. Sultan Thaha area; inside kecamatan Pasar Jambi
EAST_3KM = (103.71, -1.62)  # 3,222 m outside the city boundary (PostGIS): inside the 5 km margin
EAST_7KM = (103.74, -1.62)  # 6,560 m outside (PostGIS): outside_region
MONAS_JAKARTA = (106.8272, -6.1754)  # 609,955 m away (PostGIS)
NOW = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)  # 08:00 WIB; passed to position_record as its clock


@pytest.fixture
def device(jambi_kecamatan):
    return make_device(unit=make_unit(agency=make_agency(region=jambi_kecamatan)), identifier="psc119-amb-01")


def _fix(lonlat=CENTRE, *, ago_s: float | None = 60.0, identifier: str = "psc119-amb-01", **fields) -> CanonicalFix:
    lon, lat = lonlat if lonlat is not None else (None, None)
    recorded_at = None if ago_s is None else NOW - timedelta(seconds=ago_s)
    return CanonicalFix(device_identifier=identifier, lon=lon, lat=lat, recorded_at=recorded_at, **fields)


def _record(device, *fixes, protocol: str = "batch", message=None):
    return position_record(device=device, fixes=list(fixes), protocol=protocol, message=message, now=NOW)


def _last_recorded_at(unit_id: int):
    unit = Unit.objects.select_related("last_fix").get(pk=unit_id)
    return None if unit.last_fix is None else unit.last_fix.recorded_at


def test_a_good_fix_is_stored_valid_and_becomes_the_last_position(device) -> None:
    message = inbound_message_store(channel="batch", body=b"{}", headers={}, remote_addr="127.0.0.1")
    result = _record(device, _fix(speed_kph=32.0, accuracy_m=8.0), message=message)
    [row] = result.fixes
    row.refresh_from_db()
    assert (row.flags, row.is_valid) == ([], True)
    assert (row.geom.x, row.geom.y) == CENTRE
    assert (row.unit_id, row.device_id, row.message_id, row.protocol) == (
        device.unit_id,
        device.pk,
        message.pk,
        "batch",
    )
    assert result.last_fix_changed
    assert result.last_fix == row
    assert Unit.objects.get(pk=device.unit_id).last_fix_id == row.pk
    message.refresh_from_db()
    assert (message.outcome, message.device_id) == ("accepted", device.pk)
    device.refresh_from_db()
    assert device.last_seen_at == NOW


@pytest.mark.parametrize(
    ("fix_kwargs", "expected_flags"),
    [
        ({"lonlat": (0.0, 0.0)}, ["zero_position"]),
        ({"lonlat": (103.6, 91.0)}, ["out_of_range"]),
        ({"lonlat": (183.6, -1.6)}, ["out_of_range"]),
        ({"lonlat": (float("nan"), -1.6)}, ["out_of_range"]),
        ({"lonlat": None}, ["missing_position"]),
        ({"lonlat": EAST_7KM}, ["outside_region"]),
        ({"lonlat": MONAS_JAKARTA}, ["outside_region"]),
        ({"lonlat": EAST_3KM}, []),
        ({"ago_s": -301.0}, ["future_timestamp"]),  # SIAGA_FIX_MAX_FUTURE_S = 300
        ({"ago_s": -299.0}, []),
        ({"ago_s": 7 * 86400 + 1.0}, ["stale_timestamp"]),  # SIAGA_FIX_MAX_PAST_S = 7 days
        ({"ago_s": None}, ["missing_timestamp"]),
        ({"accuracy_m": 251.0}, ["poor_accuracy"]),  # SIAGA_FIX_MAX_ACCURACY_M = 250
        ({"accuracy_m": 250.0}, []),
        ({"attributes": {"valid": False}}, ["device_invalid"]),
        (
            {"lonlat": (0.0, 0.0), "ago_s": None, "accuracy_m": 900.0},
            ["zero_position", "missing_timestamp", "poor_accuracy"],
        ),
    ],
)
def test_each_flag_is_stored_never_dropped(device, fix_kwargs: dict, expected_flags: list[str]) -> None:
    [row] = _record(device, _fix(**fix_kwargs)).fixes
    row.refresh_from_db()
    assert row.flags == expected_flags
    assert row.is_valid == all(flag in WARNING_FLAGS for flag in expected_flags)
    assert PositionFix.objects.filter(unit_id=device.unit_id).count() == 1


def test_out_of_range_keeps_the_numbers_but_no_geometry(device) -> None:
    [row] = _record(device, _fix((103.6, 91.0))).fixes
    row.refresh_from_db()
    assert (row.lon, row.lat, row.geom) == (103.6, 91.0, None)


def test_poor_accuracy_is_a_warning_the_fix_still_moves_the_unit(device) -> None:
    result = _record(device, _fix(accuracy_m=400.0))
    assert result.fixes[0].flags == ["poor_accuracy"]
    assert result.fixes[0].is_valid
    assert result.last_fix_changed


def test_flagged_fixes_never_become_the_last_position(device) -> None:
    good = _record(device, _fix(ago_s=120)).fixes[0]
    _record(device, _fix((0.0, 0.0), ago_s=60), _fix(MONAS_JAKARTA, ago_s=30), _fix(ago_s=-3600))
    assert Unit.objects.get(pk=device.unit_id).last_fix_id == good.pk


def test_impossible_speed_against_the_previous_valid_fix(device) -> None:
    _record(device, _fix(CENTRE, ago_s=720))
    # By hand: dx = 0.0639 deg x 111.195 km x cos(1.6 deg) = 7.102 km, dy = 0.0237 deg x 111.195 km
    # = 2.635 km, so 7.575 km; 60 s later that is 454 km/h > SIAGA_FIX_MAX_SPEED_KPH = 200.
    far = (103.6770, -1.6150)
    assert haversine_m(*CENTRE, *far) == pytest.approx(7_575, rel=0.002)
    [jump] = _record(device, _fix(far, ago_s=660)).fixes
    assert jump.flags == ["impossible_speed"]
    assert not jump.is_valid
    # 11 minutes after the first fix the same place is reachable (7.575 km / 660 s = 41 km/h).
    [later] = _record(device, _fix(far, ago_s=60)).fixes
    assert later.flags == []
    assert later.is_valid


def test_gps_jitter_within_the_accuracy_radii_is_not_a_jump(device) -> None:
    _record(device, _fix(CENTRE, ago_s=61, accuracy_m=30.0))
    # 1 s later 55 m away (lat + 0.0005 deg = 55.6 m): 200 km/h raw, but within 30 m + 30 m of accuracy.
    [row] = _record(device, _fix((CENTRE[0], CENTRE[1] + 0.0005), ago_s=60, accuracy_m=30.0)).fixes
    assert row.flags == []


def test_impossible_speed_inside_one_burst_is_judged_fix_by_fix(device) -> None:
    far = (103.6770, -1.6150)
    result = _record(device, _fix(CENTRE, ago_s=30), _fix(far, ago_s=20), _fix(CENTRE, ago_s=10))
    assert [row.flags for row in result.fixes] == [[], ["impossible_speed"], []]
    assert result.last_fix.recorded_at == NOW - timedelta(seconds=10)


def test_duplicates_of_stored_fixes_and_inside_one_request(device) -> None:
    first = _record(device, _fix(ago_s=60, speed_kph=30.0)).fixes[0]
    # A retried delivery: same time and place (other fields may differ after a client round trip).
    result = _record(device, _fix(ago_s=60, speed_kph=31.0), _fix(ago_s=50), _fix(ago_s=50))
    assert [row.flags for row in result.fixes] == [["duplicate"], [], ["duplicate"]]
    assert PositionFix.objects.filter(unit_id=device.unit_id).count() == 4  # nothing dropped
    assert Unit.objects.get(pk=device.unit_id).last_fix_id == result.fixes[1].pk != first.pk
    # Same time, another place: not a duplicate (and 0 s apart: not compared for speed either).
    [moved] = _record(device, _fix((103.6140, -1.5913), ago_s=50)).fixes
    assert moved.flags == []


def test_late_burst_fills_history_without_moving_the_unit_back(device) -> None:
    newest = _record(device, _fix(ago_s=10)).fixes[0]
    # The phone was offline: five buffered fixes from 10 to 6 minutes ago arrive now, newest first.
    burst = [_fix((CENTRE[0] - 0.002 * i, CENTRE[1]), ago_s=600 - 60 * i) for i in range(4, -1, -1)]
    result = _record(device, *burst)
    assert all(row.is_valid for row in result.fixes)
    assert not result.last_fix_changed
    assert Unit.objects.get(pk=device.unit_id).last_fix_id == newest.pk
    assert PositionFix.objects.filter(unit_id=device.unit_id, is_valid=True).count() == 6


def test_out_of_order_burst_moves_the_unit_to_its_newest_fix_only(device) -> None:
    _record(device, _fix(ago_s=100))
    result = _record(device, _fix(ago_s=40), _fix(ago_s=20), _fix(ago_s=60), _fix(ago_s=30))
    assert result.last_fix_changed
    assert result.last_fix == result.fixes[1]
    assert _last_recorded_at(device.unit_id) == NOW - timedelta(seconds=20)
    # An older fix alone, and a fix at the very same time, leave it where it is.
    assert not _record(device, _fix(ago_s=25)).last_fix_changed
    assert not _record(device, _fix((103.6132, -1.5913), ago_s=20)).last_fix_changed
    assert _last_recorded_at(device.unit_id) == NOW - timedelta(seconds=20)


def test_a_late_fix_is_checked_against_the_fix_before_it_in_time(device) -> None:
    far = (103.6770, -1.6150)  # 7.575 km from CENTRE
    _record(device, _fix(CENTRE, ago_s=600), _fix(far, ago_s=0))  # 600 s apart: 45 km/h, fine
    # A late fix 300 s ago at `far`: its previous valid fix by recorded_at is CENTRE at -600 s
    # (7.575 km in 300 s = 91 km/h, fine); 1 s after CENTRE it would be impossible.
    [late_ok, late_bad] = _record(device, _fix(far, ago_s=300), _fix(far, ago_s=599)).fixes
    assert (late_ok.flags, late_bad.flags) == ([], ["impossible_speed"])


@pytest.mark.parametrize("span_limit", [5000, 2])
def test_a_batch_is_checked_against_the_stored_fixes_between_its_times(device, monkeypatch, span_limit) -> None:
    # With a limit of 2 the span read stops at -800 and -700 s: each time's previous fix is then read on its own.
    monkeypatch.setattr(positions, "_SPAN_LIMIT", span_limit)
    for ago_s in (900, 800, 700, 300):
        assert _record(device, _fix(CENTRE, ago_s=ago_s)).fixes[0].is_valid
    near = (CENTRE[0] + 0.02, CENTRE[1])  # 2.2 km east: 20 km/h after -700 s, impossible 1 s after -300 s
    [first, jump] = _record(device, _fix(CENTRE, ago_s=899), _fix(near, ago_s=299)).fixes
    assert (first.flags, jump.flags) == ([], ["impossible_speed"])


def test_a_fix_for_another_device_or_unit_is_refused_and_nothing_recorded(device) -> None:
    other_unit = make_unit()
    with pytest.raises(DeviceUnitMismatchError, match="fix 1 names device 'psc119-amb-02'"):
        _record(device, _fix(), _fix(identifier="psc119-amb-02"))
    with pytest.raises(DeviceUnitMismatchError, match=f"fix 0 names unit {other_unit.pk}"):
        _record(device, _fix(attributes={UNIT_ID_ATTRIBUTE: other_unit.pk}))
    assert not PositionFix.objects.exists()
    # Naming its own unit is fine.
    assert _record(device, _fix(attributes={UNIT_ID_ATTRIBUTE: device.unit_id})).fixes[0].is_valid


def test_a_failing_validation_keeps_the_fixes_stored_unvalidated(device, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boundary cache broken")

    monkeypatch.setattr(positions, "_outside_region", broken)
    message = inbound_message_store(channel="batch", body=b"{}", headers={}, remote_addr=None)
    result = _record(device, _fix(), message=message)
    row = PositionFix.objects.get(pk=result.fixes[0].pk)
    assert (row.flags, row.is_valid) == (["unvalidated"], False)
    assert not result.last_fix_changed
    assert Unit.objects.get(pk=device.unit_id).last_fix_id is None
    message.refresh_from_db()
    assert message.outcome == "accepted"


def test_no_fix_in_a_message_is_ignored(device) -> None:
    message = inbound_message_store(channel="owntracks", body=b'{"_type":"lwt"}', headers={}, remote_addr=None)
    result = position_record(device=device, fixes=[], protocol="owntracks", message=message, now=NOW)
    assert result.fixes == []
    assert not result.last_fix_changed
    message.refresh_from_db()
    assert message.outcome == "ignored"


def test_region_without_boundaries_cannot_flag_outside_region() -> None:
    # No kecamatan imported: nothing to measure against, so no flag (and a warning in the log).
    device = make_device(identifier="no-boundaries")
    assert _record(device, _fix(MONAS_JAKARTA, identifier="no-boundaries")).fixes[0].flags == []


def test_queries_per_request_do_not_grow_with_the_batch(device, monkeypatch, django_assert_num_queries) -> None:
    # The dispatch side's ETA refresh is measured by its own tests; here only the ingest path counts.
    monkeypatch.setattr(dispatch, "assignment_eta_refresh", lambda *, unit: None)
    positions._envelope(device.unit.agency.region_id)  # the region envelope is cached per process
    message = inbound_message_store(channel="batch", body=b"{}", headers={}, remote_addr=None)
    # Lock unit + previous valid fixes, duplicates and last fix time (two statements sent as one
    # query), then one statement inserting the fixes (one multi-row INSERT with their flags) and writing
    # unit.last_fix, the message outcome and device last_seen_at: 2; plus 2 because inside the test's
    # transaction the request's own BEGIN/COMMIT become a counted SAVEPOINT/RELEASE. (Counted from
    # positions._store.)
    with django_assert_num_queries(4):
        _record(device, _fix(ago_s=1000), message=message)
    # 100 fixes: the same, not 100 x anything.
    with django_assert_num_queries(4):
        _record(device, *[_fix((CENTRE[0] + 1e-5 * i, CENTRE[1]), ago_s=800 - i) for i in range(100)], message=message)


def test_eta_refresh_is_called_only_when_the_unit_moved(device, monkeypatch) -> None:
    calls = []
    monkeypatch.setattr(dispatch, "assignment_eta_refresh", lambda *, unit: calls.append((unit.pk, unit.last_fix_id)))
    # An available unit has no assignment, so there is no ETA to refresh (and no query spent on it).
    assert _record(device, _fix(ago_s=40)).last_fix_changed
    assert calls == []
    Unit.objects.filter(pk=device.unit_id).update(status=UnitStatus.EN_ROUTE)
    moved = _record(device, _fix(ago_s=30)).fixes[0]
    _record(device, _fix(ago_s=60))  # late: the unit does not move
    assert calls == [(device.unit_id, moved.pk)]

    def broken(*, unit):
        raise RuntimeError("routing down")

    monkeypatch.setattr(dispatch, "assignment_eta_refresh", broken)
    assert _record(device, _fix(ago_s=10)).last_fix_changed  # stored and moved despite the failure


def test_unit_row_is_locked_while_recording(device) -> None:
    # The lock serialises concurrent requests for one unit; here we only check it is taken.
    with connection.execute_wrapper(_capture := _Capture()):
        _record(device, _fix())
    assert any("FOR UPDATE" in sql and "fleet_unit" in sql for sql in _capture.sql)


def test_raw_message_keeps_bytes_that_are_not_text() -> None:
    message = inbound_message_store(channel="osmand", body=b"id=1&x=\xff\x00", headers={}, remote_addr=None)
    message = InboundMessage.objects.get(pk=message.pk)
    assert message.body == "id=1&x=\\xff\\x00"
    assert message.outcome == "received"


class _Capture:
    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        self.sql.append(sql)
        return execute(sql, params, many, context)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_one_unit_end_at_its_newest_fix() -> None:
    # 8 threads, each a request with 5 fixes at shuffled times (seeded): whatever order they commit
    # in, the unit ends at the newest valid fix, and the lock makes every request see the others.
    import random
    import threading

    from django.db import connections

    device = make_device(identifier="racer")
    times = list(range(40))
    random.Random(7).shuffle(times)
    chunks = [times[i : i + 5] for i in range(0, 40, 5)]
    barrier = threading.Barrier(len(chunks))
    errors = []

    def send(chunk):
        try:
            barrier.wait()
            fixes = [_fix((CENTRE[0] + 1e-5 * t, CENTRE[1]), ago_s=100 - t, identifier="racer") for t in chunk]
            position_record(device=device, fixes=fixes, protocol="batch", now=NOW)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(chunk,)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert PositionFix.objects.filter(unit_id=device.unit_id, is_valid=True).count() == 40
    assert _last_recorded_at(device.unit_id) == NOW - timedelta(seconds=100 - 39)  # the newest of the 40
