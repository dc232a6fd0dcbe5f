"""Recommendation benchmark: rank 200 units for a report on the real Kota Jambi network.

What it does:

1. creates a throw-away PostGIS database (``siaga_bench_recommend_<pid>``, dropped at the end: the
   development database is shared, and a reset of it mid-run must not break the figures), migrates
   it, and imports ``jambi/roads_main_jambi_osm.graphml`` into a region ``bench-recommend``;
2. makes three agencies (ems, fire, police), 12 home stations and 200 units (120 ambulances, 50 fire
   engines, 30 police patrols) at seeded random spots near the roads. Each unit has a GPS fix: 80 % of
   them fresh (0-5 min old), 20 % stale (1-3 h old, so they are ranked from their home station); 10 %
   of the units are busy and are left out by the query;
3. makes 300 reports at seeded random spots, of a type needing a fire engine, an ALS ambulance and a
   police patrol, so every query ranks all available units of the region (about 180);
4. times ``units_recommend`` for each report (the service: candidate query, one engine call for
   all units, ranking), then ``GET /api/incidents/<id>/recommendations/`` for each report through a
   real WSGI server on 127.0.0.1 (a dispatcher's session cookie; JSON over HTTP), without and with
   ``routes=1`` (route geometry for the best 3 of each need);
5. prints p50/p95 in milliseconds.

Target on the 2-core development machine: API p95 <= 50 ms.

CPU per query (this process; for the API it includes the wsgiref server and the HTTP client) is the
figure to compare across runs: on the shared 2-core machine the wall-clock latencies scale with the
load average. Before the rewrite of ``units_recommend`` (ORM candidate query with an array subquery,
one Snap object per unit, snapping twice): service 21 ms, API 30 ms CPU per query; after (one raw
candidate query, one ``travel_times_to`` call on plain points, routes snapped in one call): service
8-11 ms, API 18-23 ms.

Run: ``.venv/bin/python bench/recommend.py [--queries 300] [--units 200] [--seed 2026]``
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from bench.scratch_db import create_database, drop_database  # noqa: E402

DB_NAME = f"siaga_bench_recommend_{os.getpid()}"
DB_URL = f"postgis://postgres@127.0.0.1:5432/{DB_NAME}"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


if __name__ == "__main__":
    ARGS = parse_args()  # before the database exists: --help and bad arguments leave nothing behind
    print(f"creating {DB_NAME} ...", flush=True)
    create_database(DB_NAME)
    os.environ["DATABASE_URL"] = DB_URL
    # As in production: DEBUG off (no query log, no debug pages); a throw-away key for the sessions.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.routing import random_points  # noqa: E402
from fleet.models import Agency, AgencyKind, Capability, PositionFix, Station, StationKind, Unit, UnitStatus, UnitType  # noqa: E402
from gis_core.importers.osm import read_road_file  # noqa: E402
from gis_core.importers.roads import import_road_graph  # noqa: E402
from gis_core.models import Region  # noqa: E402
from gis_core.routing.registry import clear_engines, engine_for  # noqa: E402
from incidents.models import Incident, IncidentType, IncidentTypeNeed  # noqa: E402
from incidents.selectors.recommend import units_recommend  # noqa: E402

SLUG = "bench-recommend"
PREFIX = "bench-rec-"
USERNAME = "bench-recommend"
# (agency kind, capability, unit type, how many of every 200 units)
FLEET = [(AgencyKind.EMS, "als", "ambulance", 120), (AgencyKind.FIRE, "fire_engine", "engine", 50),
         (AgencyKind.POLICE, "police_patrol", "patrol", 30)]  # fmt: skip


def cleanup() -> None:
    """Remove everything a previous or this run made (only this benchmark's own rows)."""
    Incident.objects.filter(region__slug=SLUG).delete()
    IncidentType.objects.filter(code__startswith=PREFIX).delete()
    Region.objects.filter(slug=SLUG).delete()
    UnitType.objects.filter(code__startswith=PREFIX).delete()
    Capability.objects.filter(code__startswith=PREFIX).delete()
    get_user_model().objects.filter(username=USERNAME).delete()
    clear_engines()


def build(n_units: int, n_queries: int, rng: np.random.Generator) -> tuple[Region, list[int]]:
    region = Region.objects.create(
        code="BENCH-rec", slug=SLUG, name="bench recommend (Kota Jambi)", metric_srid=32748, time_zone="Asia/Jakarta"
    )
    path = Path(settings.SIAGA_DATA_DIR) / "jambi" / "roads_main_jambi_osm.graphml"
    import_road_graph(region=region, graph=read_road_file(path), source=path.name, source_kind="graphml")
    clear_engines()
    engine = engine_for(region)
    now = timezone.now()
    with transaction.atomic():
        itype = IncidentType.objects.create(code=f"{PREFIX}fire", name="bench house fire", category="fire")
        station_points = random_points(engine, rng, 12)
        kinds = []
        for kind, cap_code, type_code, share in FLEET:
            cap = Capability.objects.create(code=f"{PREFIX}{cap_code}", name=cap_code)
            unit_type = UnitType.objects.create(code=f"{PREFIX}{type_code}", name=type_code)
            unit_type.capabilities.set([cap])
            IncidentTypeNeed.objects.create(incident_type=itype, agency_kind=kind, capability=cap, count=1)
            agency = Agency.objects.create(region=region, code=f"{PREFIX}{kind}", name=f"bench {kind}", kind=kind)
            stations = [Station.objects.create(agency=agency, code=f"s{i}", name=f"bench {kind} {i}",
                                               kind=StationKind.STANDBY, geom=Point(*p, srid=4326))
                        for i, p in enumerate(station_points[len(kinds) * 4:len(kinds) * 4 + 4])]  # fmt: skip
            kinds.append((agency, unit_type, stations, round(share * n_units / 200)))
        unit_points = iter(random_points(engine, rng, n_units))
        for agency, unit_type, stations, count in kinds:
            for i in range(count):
                busy = rng.random() < 0.10
                unit = Unit.objects.create(
                    agency=agency, call_sign=f"{agency.kind[:3].upper()}-{i:03d}", unit_type=unit_type,
                    home_station=stations[int(rng.integers(len(stations)))],
                    status=UnitStatus.EN_ROUTE if busy else UnitStatus.AVAILABLE,
                )  # fmt: skip
                age_s = rng.uniform(0, 300) if rng.random() < 0.8 else rng.uniform(3600, 3 * 3600)
                lon, lat = next(unit_points)
                fix = PositionFix.objects.create(
                    unit=unit, protocol="bench", recorded_at=now - timedelta(seconds=age_s), lon=lon, lat=lat,
                    geom=Point(lon, lat, srid=4326), is_valid=True,
                )  # fmt: skip
                Unit.objects.filter(pk=unit.pk).update(last_fix=fix)
        incident_ids = [
            Incident.objects.create(
                region=region, reference=f"BENCH-REC-{i:06d}", channel="phone", incident_type=itype,
                geom=Point(*p, srid=4326), received_at=now,
            ).pk
            for i, p in enumerate(random_points(engine, rng, n_queries))
        ]  # fmt: skip
    return region, incident_ids


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def start_server():
    from config.wsgi import application

    server = make_server("127.0.0.1", 0, application, handler_class=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_port


def session_cookie() -> str:
    user = get_user_model().objects.create_user(USERNAME, password=None)
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def api_get(conn: http.client.HTTPConnection, path: str, cookie: str) -> bytes:
    conn.request("GET", path, headers={"Cookie": cookie, "Accept": "application/json"})
    response = conn.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}: {payload[:300]!r}")
    return payload


def ms(samples: list[float], cpu_s: float) -> str:
    """p50/p95 wall-clock latency, and the mean CPU time of this process per query (server + client
    for the API: they share the process), which a busy shared machine inflates far less."""
    p50, p95 = np.percentile(np.array(samples) * 1000, [50, 95])
    return f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   CPU/query {cpu_s / len(samples) * 1000:5.1f} ms"


def timed(calls) -> tuple[list[float], float]:
    """Run each call, returning the wall time of each and the process CPU time of all."""
    samples = []
    cpu0 = time.process_time()
    for call in calls:
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    return samples, time.process_time() - cpu0


def main(args: argparse.Namespace) -> None:
    cleanup()
    server = None
    try:
        t0 = time.perf_counter()
        region, incident_ids = build(args.units, args.queries, np.random.default_rng(args.seed))
        print(f"set-up: network import, {args.units} units, {args.queries} reports in {time.perf_counter() - t0:.1f} s")
        incidents = list(Incident.objects.select_related("region").filter(pk__in=incident_ids).order_by("pk"))
        units_recommend(incident=incidents[0])  # warm the engine cache once
        candidates = [sum(len(n["suggestions"]) for n in units_recommend(incident=i)["needs"]) for i in incidents[:10]]
        service = timed(lambda i=i: units_recommend(incident=i) for i in incidents)
        service_routes = timed(lambda i=i: units_recommend(incident=i, include_route=True) for i in incidents)

        server, port = start_server()
        cookie = session_cookie()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        api_get(conn, f"/api/incidents/{incident_ids[0]}/recommendations/", cookie)
        api = timed(lambda pk=pk: api_get(conn, f"/api/incidents/{pk}/recommendations/", cookie) for pk in incident_ids)
        api_routes = timed(
            lambda pk=pk: api_get(conn, f"/api/incidents/{pk}/recommendations/?routes=1", cookie) for pk in incident_ids
        )
        conn.close()
        nodes = engine_for(region).graph.n_nodes
    finally:
        if server is not None:
            server.shutdown()
        cleanup()
        drop_database(DB_NAME)
    print(
        f"\nRecommendation for a report, {args.units} units in the region ({int(np.mean(candidates))} available "
        f"and ranked per query, 3 needs), Kota Jambi main roads ({nodes} nodes), {args.queries} seeded queries, "
        f"DEBUG={settings.DEBUG}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"service units_recommend           {ms(*service)}")
    print(f"service units_recommend + routes  {ms(*service_routes)}")
    print(f"API GET .../recommendations/      {ms(*api)}")
    print(f"API GET ...?routes=1              {ms(*api_routes)}")
    print("Target: API p95 <= 50 ms.")


if __name__ == "__main__":
    main(ARGS)
