"""History benchmark: a few million synthetic fixes in monthly partitions, the readers' plans and times.

What it does:

1. creates a throw-away PostGIS database (``siaga_bench_history_<pid>``) and migrates it;
2. makes one region with ``--units`` units (1,000: a Jakarta-sized fleet), each with a device, and the
   monthly partitions of the last ``--months`` months (``partitions_ensure``);
3. loads ``--fixes`` fixes (SQL ``generate_series``, in time order, 3% flagged, through the partitioned
   parent with its indexes in place, as ingest writes them) spread evenly over those months, and
   ``--messages`` raw messages of an OsmAnd request's size; every unit's newest valid fix is its
   ``last_fix``; then ``ANALYZE``;
4. prints the load rate, the bytes per row (heap and indexes) of each table, and for each reader the
   ``EXPLAIN`` plan (partition pruning shows as the partitions it names) and its median time over
   ``--runs`` runs after a warm-up:
   - a unit's track over one day (``fleet.selectors.positions.unit_fixes_between``: valid fixes,
     pruned by the received window) and the same with flagged fixes (every partition's index);
   - the last fix of every unit (``incidents.selectors.units.unit_states``, the map's and dispatch's
     one query: ``f.id = u.last_fix_id``);
   - the history read validation makes for each ingest request (``_HISTORY_SQL``), for one fix and a
     500-fix batch, and the batch's and the last fixes' reads on an unpartitioned copy (the price of
     partitioning: every partition's index is probed where a plain table has one);
5. ingest through ``position_record``: single-fix requests and 500-fix batches, fixes per second;
6. retention: the time a row-by-row ``DELETE`` of the oldest month would take (run and rolled back),
   against ``positions_prune`` dropping it (detach, keep last fixes, drop); then drops the database.

Run: ``.venv/bin/python bench/history.py [--fixes 3000000] [--units 1000] [--months 6]``; print
``uptime`` with it. Bounded: about three to five minutes on 2 cores at the defaults.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from bench.scratch_db import scratch_close, scratch_open, scratch_parser  # noqa: E402

DB_NAME = f"siaga_bench_history_{os.getpid()}"


def parse_args() -> argparse.Namespace:
    parser = scratch_parser(__doc__)
    parser.add_argument("--fixes", type=int, default=3_000_000)
    parser.add_argument("--messages", type=int, default=300_000)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--runs", type=int, default=20)
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()  # before the database exists: --help and bad arguments leave nothing behind
    scratch_open(DB_NAME)

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from fleet.ingest.fix import CanonicalFix  # noqa: E402
from fleet.models import Agency, AgencyKind, Device, InboundMessage, PositionFix, Unit, UnitType  # noqa: E402
from fleet.selectors.positions import unit_fixes_between  # noqa: E402
from fleet.services import positions  # noqa: E402
from fleet.services.partitions import partitions_ensure, partitions_list, period_start  # noqa: E402
from fleet.services.retention import positions_prune  # noqa: E402
from gis_core.models import Region  # noqa: E402
from incidents.selectors.units import _UNITS_SQL, unit_states  # noqa: E402

FIX = PositionFix._meta.db_table
MESSAGE = InboundMessage._meta.db_table

# Fix g belongs to unit g % units and is taken at t0 + (g / units) * step: every unit reports in turn, in
# time order, so rows arrive as ingest writes them. received_at is 2 s after the fix's time.
FIXES_SQL = f"""
INSERT INTO {FIX} (unit_id, device_id, protocol, recorded_at, received_at, lon, lat, geom, speed_kph,
    heading_deg, accuracy_m, altitude_m, battery_pct, attributes, flags, is_valid)
SELECT (%(units)s::bigint[])[1 + g %% %(n_units)s], (%(devices)s::bigint[])[1 + g %% %(n_units)s], 'osmand',
    t.at, t.at + interval '2 seconds', p.lon, p.lat, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326),
    30 * random(), 360 * random(), 5 + 20 * random(), 20 + 10 * random(), 100 * random(), '{{}}'::jsonb,
    CASE WHEN p.bad THEN ARRAY['impossible_speed']::varchar(32)[] ELSE '{{}}'::varchar(32)[] END, NOT p.bad
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint - 1) AS g
CROSS JOIN LATERAL (SELECT %(t0)s::timestamptz + (g / %(n_units)s) * %(step_s)s * interval '1 second' AS at) t
CROSS JOIN LATERAL (SELECT 106.7 + 0.3 * random() + 0 * g AS lon, -6.35 + 0.25 * random() AS lat,
                           random() < 0.03 AS bad) p
"""
MESSAGES_SQL = f"""
INSERT INTO {MESSAGE} (channel, received_at, remote_addr, headers, query, body, outcome, error, device_id)
SELECT 'osmand', %(t0)s::timestamptz + g * %(step_s)s * interval '1 second', '10.20.30.40',
    ('{{"Method": "POST", "User-Agent": "Traccar Client/8.5 (Android 13)", '
     || '"Content-Type": "application/x-www-form-urlencoded"}}')::jsonb,
    'key=***', 'id=psc119-amb-' || (g %% 1000) || '&lat=-6.2' || (g %% 97) || '&lon=106.8' || (g %% 89)
        || '&timestamp=' || (1767225600 + g) || '&speed=12.3&bearing=181.0&altitude=31.0&accuracy=8.0&batt=77.0',
    'accepted', '', (%(devices)s::bigint[])[1 + g %% %(n_units)s]
FROM generate_series(0, %(n)s - 1) AS g
"""
LAST_FIX_SQL = f"""
UPDATE {Unit._meta.db_table} u SET last_fix_id = f.id FROM (
    SELECT DISTINCT ON (unit_id) unit_id, id FROM {FIX}
    WHERE is_valid AND received_at >= %(since)s ORDER BY unit_id, recorded_at DESC
) f WHERE f.unit_id = u.id
"""


def seed(args) -> tuple[list[int], list[int], object]:
    region = Region.objects.create(code="31.71", slug="bench-history", name="Bench history", metric_srid=32748,
                                   time_zone="Asia/Jakarta")  # fmt: skip
    unit_type = UnitType.objects.create(code="bench-unit", name="unit")
    agency = Agency.objects.create(region=region, code="bench-ems", name="EMS", kind=AgencyKind.EMS)
    Unit.objects.bulk_create([Unit(agency=agency, call_sign=f"U-{i}", unit_type=unit_type) for i in range(args.units)])
    units = list(Unit.objects.filter(agency=agency).order_by("pk"))
    Device.objects.bulk_create([Device(unit=u, identifier=f"dev-{u.pk}", token_hash="x") for u in units])
    devices = list(Device.objects.filter(unit__agency=agency).order_by("unit_id").values_list("pk", flat=True))
    now = timezone.now()
    first = period_start(now, "month")
    for _ in range(args.months - 1):
        first = period_start(first - timedelta(days=1), "month")
    t0 = first
    for back in range(args.months):  # every month from the first to now, and ahead
        partitions_ensure(ahead=0, period="month", now=t0 + timedelta(days=31 * back))
    partitions_ensure(ahead=2, period="month", now=now)
    span_s = (now - t0).total_seconds() - 60
    per_unit = args.fixes // args.units
    step_s = span_s / per_unit
    params = {"units": [u.pk for u in units], "devices": devices, "n_units": args.units, "t0": t0, "step_s": step_s}
    started = time.perf_counter()
    chunk = 500_000
    with connection.cursor() as cursor:
        for lo in range(0, per_unit * args.units, chunk):
            cursor.execute(FIXES_SQL, params | {"lo": lo, "hi": min(lo + chunk, per_unit * args.units)})
            print(f"  {min(lo + chunk, per_unit * args.units):,} fixes", flush=True)
        fix_s = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(MESSAGES_SQL, params | {"n": args.messages, "step_s": span_s / args.messages})
        message_s = time.perf_counter() - started
        cursor.execute(LAST_FIX_SQL, {"since": now - timedelta(days=40)})
        cursor.execute(f"ANALYZE {FIX}; ANALYZE {MESSAGE}; ANALYZE {Unit._meta.db_table}")
    total = per_unit * args.units
    print(f"loaded {total:,} fixes in {fix_s:.1f} s ({total / fix_s:,.0f} rows/s, SQL, indexes in place), "
          f"{args.messages:,} raw messages in {message_s:.1f} s; one fix per unit every {step_s / 60:.0f} min "
          f"over {args.months} months")  # fmt: skip
    return [u.pk for u in units], devices, now


def sizes() -> None:
    with connection.cursor() as cursor:
        for table in (FIX, MESSAGE):
            cursor.execute(
                """
                SELECT sum(pg_table_size(c.oid)), sum(pg_indexes_size(c.oid)), sum(s.n_live_tup)
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE i.inhparent = %s::regclass
                """,
                [table],
            )
            heap, indexes, rows = cursor.fetchone()
            print(f"{table}: {rows:,} rows; heap {heap / rows:.0f} B/row, indexes {indexes / rows:.0f} B/row, "
                  f"total {(heap + indexes) / 2**20:,.0f} MiB")  # fmt: skip
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index "
                "WHERE indrelid = (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass "
                "ORDER BY inhrelid LIMIT 1)",
                [table],
            )
            shown = ", ".join(f"{name.split('_', 3)[-1]} {size / 2**20:.1f} MiB" for name, size in cursor.fetchall())
            print(f"  indexes of one partition: {shown}")


def explain(label: str, sql: str, params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {sql}", params)
        lines = [row[0] for row in cursor.fetchall()]
    print(f"-- plan: {label}")
    for line in lines[:40]:
        print(f"   {line}")
    if len(lines) > 40:
        print(f"   ... {len(lines) - 40} more lines")


def timed(label: str, fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"{label}: median {median * 1000:.2f} ms, max {max(times) * 1000:.2f} ms ({runs} runs)")
    return median


def readers(units: list[int], now, runs: int) -> None:
    unit = units[len(units) // 2]
    day_end = now - timedelta(days=20)
    day_start = day_end - timedelta(days=1)
    qs = PositionFix.objects.filter(unit_id=unit, recorded_at__gte=day_start, recorded_at__lt=day_end)
    from fleet.selectors.positions import received_window

    lo, hi = received_window(day_start, day_end)
    valid_sql, valid_params = (
        qs.filter(is_valid=True, received_at__gte=lo, received_at__lt=hi)
        .order_by("recorded_at", "id")
        .query.sql_with_params()
    )
    explain("a unit's track over one day, valid fixes (pruned by received_at)", valid_sql, valid_params)
    n = len(unit_fixes_between(unit_id=unit, start=day_start, end=day_end))
    timed(f"track, one day, valid ({n} fixes)", lambda: unit_fixes_between(unit_id=unit, start=day_start,
                                                                           end=day_end), runs)  # fmt: skip
    all_sql, all_params = qs.order_by("recorded_at", "id").query.sql_with_params()
    explain("the same day with flagged fixes (no bound on received_at: every partition's index)", all_sql, all_params)
    timed("track, one day, with flagged", lambda: unit_fixes_between(unit_id=unit, start=day_start, end=day_end,
                                                                     include_invalid=True), runs)  # fmt: skip
    week_start = day_end - timedelta(days=7)
    n = len(unit_fixes_between(unit_id=unit, start=week_start, end=day_end))
    timed(f"track, one week, valid ({n} fixes)", lambda: unit_fixes_between(unit_id=unit, start=week_start,
                                                                            end=day_end), runs)  # fmt: skip
    explain("the last fix of every unit (unit_states: f.id = u.last_fix_id)", _UNITS_SQL + " ORDER BY u.id",
            {"active": "active"})  # fmt: skip
    timed(f"last fix of every unit ({len(units)} units, unit_states)", lambda: unit_states(now=now), runs)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Device._meta.db_table} WHERE unit_id = %s", [unit])
        device = cursor.fetchone()[0]
    params = positions.history_params(unit, device, [now - timedelta(minutes=1)])
    explain("validation's history read of one ingest request (_HISTORY_SQL)", positions._HISTORY_SQL, params)

    def history_read():
        with connection.cursor() as cursor:
            cursor.execute(positions._HISTORY_SQL, params)
            cursor.fetchall()

    timed("validation's history read, one fix", history_read, runs)
    batch = positions.history_params(unit, device, [now - timedelta(seconds=600 - k) for k in range(500)])

    def history_read_batch(table=FIX):
        sql = positions._HISTORY_SQL.replace(f"FROM {FIX} f", f"FROM {table} f")
        with connection.cursor() as cursor:
            cursor.execute(sql, batch)
            cursor.fetchall()

    timed("validation's history read, 500-fix batch", history_read_batch, max(3, runs // 4))
    # The price of partitioning: the same reads on an unpartitioned copy with the old indexes.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_flat AS SELECT * FROM {FIX}")
        cursor.execute("ALTER TABLE bench_flat ADD PRIMARY KEY (id)")
        cursor.execute("CREATE INDEX ON bench_flat (unit_id, recorded_at)")
        cursor.execute("ANALYZE bench_flat")
    print(f"(unpartitioned copy made in {time.perf_counter() - started:.1f} s)")
    timed("  the same on an unpartitioned copy", lambda: history_read_batch("bench_flat"), max(3, runs // 4))
    flat_units = _UNITS_SQL.replace(f"FROM {FIX} x", "FROM bench_flat x")
    assert flat_units != _UNITS_SQL

    def last_fixes(sql):
        with connection.cursor() as cursor:
            cursor.execute(sql, {"active": "active"})
            cursor.fetchall()

    timed("last fix of every unit, the SQL alone", lambda: last_fixes(_UNITS_SQL), runs)
    timed("  the same on an unpartitioned copy", lambda: last_fixes(flat_units), runs)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_flat")


def ingest(units: list[int], now) -> None:
    devices = list(Device.objects.select_related("unit", "unit__agency").filter(unit_id__in=units[:200]))
    started, n = time.perf_counter(), 0
    for i, device in enumerate(devices):
        fix = CanonicalFix(device_identifier=device.identifier, lon=106.8 + i * 1e-4, lat=-6.2, recorded_at=now)
        positions.position_record(device=device, fixes=[fix], protocol="osmand", now=now)
        n += 1
    single_s = time.perf_counter() - started
    print(f"ingest, single-fix requests: {n} in {single_s:.2f} s, {single_s / n * 1000:.2f} ms each "
          f"({n / single_s:,.0f} requests/s on one connection)")  # fmt: skip
    started, n = time.perf_counter(), 0
    for b, device in enumerate(devices[:40]):
        fixes = [
            CanonicalFix(
                device_identifier=device.identifier,
                lon=106.8 + k * 1e-5,
                lat=-6.2,
                recorded_at=now - timedelta(seconds=600 - k),
            )
            for k in range(500)
        ]
        positions.position_record(device=device, fixes=fixes, protocol="batch", now=now + timedelta(seconds=b))
        n += len(fixes)
    batch_s = time.perf_counter() - started
    print(f"ingest, 500-fix batches: {n:,} fixes in {batch_s:.2f} s ({n / batch_s:,.0f} fixes/s on one connection)")


def retention(now) -> None:
    oldest = next(p for p in partitions_list(FIX) if p.start is not None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {oldest.name}")
        (rows,) = cursor.fetchone()
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {FIX} WHERE received_at >= %s AND received_at < %s "
                f"AND id NOT IN (SELECT last_fix_id FROM {Unit._meta.db_table} WHERE last_fix_id IS NOT NULL)",
                [oldest.start, oldest.end],
            )
        transaction.set_rollback(True)
    delete_s = time.perf_counter() - started
    print(f"retention by DELETE of the oldest month ({rows:,} fixes; rolled back): {delete_s:.2f} s")
    older_than = now - oldest.end - timedelta(hours=1)  # the cutoff an hour after the oldest month ended
    dry = positions_prune(older_than=older_than, dry_run=True, now=now)
    started = time.perf_counter()
    real = positions_prune(older_than=older_than, dry_run=False, now=now)
    drop_s = time.perf_counter() - started
    shown = dry.summary().replace("\n", "\n   ")
    print(f"retention by dropping partitions (positions_prune, dry run first):\n   {shown}")
    print(f"   real run: {drop_s:.2f} s; {real.fixes_deleted:,} fixes and {real.messages_deleted:,} messages gone")


if __name__ == "__main__":
    try:
        units, devices, now = seed(ARGS)
        sizes()
        readers(units, now, ARGS.runs)
        ingest(units, now)
        retention(now)
    finally:
        scratch_close(DB_NAME, keep=ARGS.keep)
