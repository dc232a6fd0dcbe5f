"""Period report benchmark: a year of a Jakarta-sized history (~640,000 reports) and the time of its report.

What it does:

1. creates a throw-away PostGIS database (``siaga_bench_reports_<pid>``) and migrates it;
2. makes a region ``bench-jakarta`` (WIB) with 44 kecamatan (Jakarta has 44), fire, EMS and police
   agencies with 300 units, and the incident-type table;
3. seeds, in SQL (``generate_series``), ``--reports`` reports over the year 2025 (Jakarta's 112 logged
   637,292 calls in 2024, about 23% pranks): random channel, type, kecamatan, priority and outcome; each
   genuine report one dispatch (5% of them cancelled before arrival, 10% never reaching the scene), and
   each dispatch's unit four status changes;
4. prints the seeding time, then the time of ``period_report`` for the year (median of ``--runs`` after
   one warm-up), of the SPM fire table (without WMK: the bench region has no roads), of the CSV export,
   and of streaming the data-out CSV; then drops the database.

Target: the year's period report in under 5 s.

Run: ``.venv/bin/python bench/reports.py [--reports 640000] [--runs 3]``; print ``uptime`` with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from bench.scratch_db import scratch_close, scratch_open, scratch_parser  # noqa: E402

DB_NAME = f"siaga_bench_reports_{os.getpid()}"


def parse_args() -> argparse.Namespace:
    parser = scratch_parser(__doc__)
    parser.add_argument("--reports", type=int, default=640_000)
    parser.add_argument("--runs", type=int, default=3)
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()  # before the database exists: --help and bad arguments leave nothing behind
    scratch_open(DB_NAME)

import django  # noqa: E402

django.setup()

from django.contrib.gis.geos import MultiPolygon, Polygon  # noqa: E402
from django.db import connection  # noqa: E402

from fleet.models import Agency, AgencyKind, Unit, UnitType  # noqa: E402
from gis_core.models import Kecamatan, Region  # noqa: E402
from incidents.models import IncidentType  # noqa: E402

SEED_SQL = """
INSERT INTO fleet_incident (region_id, reference, channel, caller_phone, caller_name, incident_type_id,
    priority, description, address_text, address_source, location_source, kecamatan_id, status, outcome,
    caller_flags, received_at, revision)
SELECT %(region)s, 'BJK-' || g, CASE WHEN random() < 0.8 THEN 'phone' ELSE 'whatsapp' END,
    '+62812' || lpad((g %% 500000)::text, 7, '0'), '', (%(types)s::bigint[])[1 + (g %% %(ntypes)s)],
    1 + (g %% 4), '', '', '', '', (%(kecamatan)s::bigint[])[1 + (g * 7 %% %(nkec)s)], 'closed',
    CASE WHEN r < 0.23 THEN 'prank' WHEN r < 0.30 THEN 'silent' WHEN r < 0.33 THEN 'false_alarm' ELSE 'genuine' END,
    '{}', timestamptz '2025-01-01 00:00+07' + (g::float / %(n)s) * interval '365 days', 0
FROM (SELECT g, random() AS r FROM generate_series(1, %(n)s) AS g) AS s
"""
ASSIGN_SQL = """
INSERT INTO fleet_assignment (incident_id, unit_id, status, dispatched_at, en_route_at, on_scene_at, cleared_at,
    cancelled_at, eta_profile, eta_road_class, eta_hour_band)
SELECT i.id, (%(units)s::bigint[])[1 + (i.id %% %(nunits)s)],
    CASE WHEN x.c < 0.05 THEN 'cancelled' ELSE 'cleared' END,
    i.received_at + interval '60 seconds' + random() * interval '120 seconds',
    i.received_at + interval '120 seconds' + random() * interval '120 seconds',
    CASE WHEN x.c < 0.15 THEN NULL ELSE i.received_at + interval '300 seconds' + random() * interval '1500 seconds' END,
    CASE WHEN x.c < 0.05 THEN NULL ELSE i.received_at + interval '3600 seconds' END,
    CASE WHEN x.c < 0.05 THEN i.received_at + interval '200 seconds' END, '', '', ''
FROM fleet_incident i CROSS JOIN LATERAL (SELECT random() + 0 * i.id AS c) AS x
WHERE i.region_id = %(region)s AND i.outcome = 'genuine'
"""
STATUS_SQL = """
INSERT INTO fleet_statuschange (unit_id, from_status, to_status, at, actor_kind, note)
SELECT a.unit_id, s.from_status, s.to_status, a.dispatched_at + s.offset_s * interval '1 second', 'system', ''
FROM fleet_assignment a
CROSS JOIN (VALUES ('available', 'dispatched', 0), ('dispatched', 'en_route', 90), ('en_route', 'on_scene', 900),
                   ('on_scene', 'available', 3000)) AS s(from_status, to_status, offset_s)
"""


def seed(n: int) -> Region:
    region = Region.objects.create(code="31.71", slug="bench-jakarta", name="Bench Jakarta", metric_srid=32748,
                                   time_zone="Asia/Jakarta")  # fmt: skip
    for i in range(44):
        x, y = 106.70 + (i % 11) * 0.02, -6.30 + (i // 11) * 0.02
        square = Polygon.from_bbox((x, y, x + 0.02, y + 0.02))
        square.srid = 4326
        Kecamatan.objects.create(region=region, code=f"31.71.{i + 1:02d}", name=f"Kecamatan {i + 1}",
                                 geom=MultiPolygon(square, srid=4326), area_m2=4.9e6, population=240_000)  # fmt: skip
    types = [
        IncidentType.objects.create(code=f"bench-{c}-{k}", name=f"{c} {k}", category=c)
        for c in ("fire", "medical", "traffic", "security", "social", "other") for k in (1, 2)
    ]  # fmt: skip
    unit_type = UnitType.objects.create(code="bench-unit", name="unit")
    units = []
    for kind, count in ((AgencyKind.FIRE, 100), (AgencyKind.EMS, 150), (AgencyKind.POLICE, 50)):
        agency = Agency.objects.create(region=region, code=f"bench-{kind}", name=kind, kind=kind, response_target_s=900)
        units += [Unit(agency=agency, call_sign=f"{kind}-{i}", unit_type=unit_type) for i in range(count)]
    Unit.objects.bulk_create(units)
    unit_ids = list(Unit.objects.filter(agency__region=region).values_list("pk", flat=True))
    kec_ids = list(Kecamatan.objects.filter(region=region).values_list("pk", flat=True))
    params = {"region": region.pk, "n": n, "types": [t.pk for t in types], "ntypes": len(types),
              "kecamatan": kec_ids, "nkec": len(kec_ids), "units": unit_ids, "nunits": len(unit_ids)}  # fmt: skip
    with connection.cursor() as cursor:
        for sql in (SEED_SQL, ASSIGN_SQL, STATUS_SQL):
            cursor.execute(sql, params)
        for table in ("fleet_incident", "fleet_assignment", "fleet_statuschange"):
            # What autovacuum does to a table that has grown: statistics, and the visibility map that lets
            # the units' time per status read the status history from its index alone.
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT (SELECT count(*) FROM fleet_incident), (SELECT count(*) FROM fleet_assignment),"
                       " (SELECT count(*) FROM fleet_statuschange)")  # fmt: skip
        reports, dispatches, changes = cursor.fetchone()
        print(f"seeded: {reports} reports, {dispatches} dispatches, {changes} status changes")
    return region


def timed(label: str, fn, runs: int) -> None:
    fn()  # warm-up: caches, plans
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    print(
        f"{label}: median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})", flush=True
    )


def main() -> None:
    from reports import services
    from reports.periods import period_parse
    from reports.selectors.period import period_report
    from reports.selectors.spm import spm_table

    started = time.perf_counter()
    region = seed(ARGS.reports)
    print(f"seeding: {time.perf_counter() - started:.1f} s", flush=True)
    year = period_parse(time_zone=region.time_zone, period="2025")
    report = period_report(region=region, period=year)
    counts, overall = report["counts"], report["response"]["overall"]
    print(f"year 2025: {counts['reports']} reports, prank share {counts['prank_share']}, "
          f"mean response {overall['mean_s']} s, p90 {overall['p90_s']} s")  # fmt: skip
    timed("period_report, year (target < 5 s)", lambda: period_report(region=region, period=year), ARGS.runs)
    timed("period_report, one month", lambda: period_report(region=region, period=period_parse(
        time_zone=region.time_zone, period="2025-10")), ARGS.runs)  # fmt: skip
    timed("SPM fire table, year, without WMK", lambda: spm_table(region=region, period=year, wmk=False), ARGS.runs)
    timed("CSV export of the year (period report, both SPM tables)",
          lambda: services.period_export(region=region, period=year, kind="csv"), 1)  # fmt: skip

    def stream() -> int:
        return sum(1 for _ in services.incidents_csv_lines(region=region, period=year, with_phones=False))

    timed("data-out CSV of the year, streamed", stream, 1)


if __name__ == "__main__":
    try:
        main()
    finally:
        scratch_close(DB_NAME, keep=ARGS.keep)
