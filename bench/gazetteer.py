"""Gazetteer search benchmark: accuracy on queries made from the gazetteer itself, latency at 100,000 names.

What it does:

1. creates a throw-away PostGIS database (``siaga_bench_gazetteer_<pid>``) and migrates it;
2. loads the Kota Jambi demo region from the repository's data and builds its gazetteer (streets of the
   main-road network, health facilities, kecamatan, kelurahan), imports Liechtenstein's OSM extract
   (``data/reference/liechtenstein.osm.pbf``: every street and named landmark of a small country), and makes
   a synthetic region of ``--names`` (default 100,000) Indonesian-style names (Jalan/Gang/Lorong/Masjid/SD N
   ... plus generated and common words, numbers in Roman and Arabic) spread over 20 x 20 km;
3. per region, draws ``--queries`` entries (seeded) and writes one query for each with one distortion, in
   turn: a typo (a letter substituted, dropped, doubled or two swapped), a dropped word, two words swapped,
   an abbreviation (Jl., Gg, Lrg, Kel., Mesjid, RS, SD N, Roman <-> Arabic numbers), mixed case;
4. runs ``gazetteer.selectors.places_search`` (the API's selector, database round trips included) for each
   and prints top-1 and top-5 accuracy and latency p50/p95 per region and per distortion; then drops the
   database.

A hit is the entry the query was made from, or another of the same kind and normalised name (two streets
both called "Gang Melati" cannot be told apart by their name; ``near`` and the kelurahan do that).

Targets: top-5 >= 95 %, top-1 >= 80 %; p95 <= 30 ms for the 100,000-name region.

Run: ``.venv/bin/python bench/gazetteer.py [--names 100000] [--queries 1000] [--seed 2026]``.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.scratch_db import create_database, database_url, drop_database  # noqa: E402

DB_NAME = f"siaga_bench_gazetteer_{os.getpid()}"

PREFIXES = [
    "Jalan",
    "Jalan",
    "Jalan",
    "Gang",
    "Gang",
    "Lorong",
    "Masjid",
    "Musala",
    "Perumahan",
    "Komplek",
    "Toko",
    "Warung",
    "Puskesmas",
    "Klinik",
    "Apotek",
    "Gereja",
    "Pasar",
    "Simpang",
    "SD Negeri",
    "SMP Negeri",
]
COMMON = [
    "Melati",
    "Mawar",
    "Kenanga",
    "Anggrek",
    "Cempaka",
    "Dahlia",
    "Teratai",
    "Pinang",
    "Kelapa",
    "Durian",
    "Rambutan",
    "Manggis",
    "Nangka",
    "Sudirman",
    "Diponegoro",
    "Kartini",
    "Pattimura",
    "Hasanuddin",
    "Merdeka",
    "Pahlawan",
    "Baru",
    "Indah",
    "Jaya",
    "Makmur",
    "Sejahtera",
    "Permai",
    "Asri",
    "Sentosa",
    "Al-Ikhlas",
    "Nurul Iman",
    "Raya",
    "Timur",
    "Barat",
    "Utara",
    "Selatan",
    "Lama",
    "Bahagia",
    "Damai",
]
SYLLABLES = [
    "ba",
    "ka",
    "la",
    "ma",
    "na",
    "pa",
    "ra",
    "sa",
    "ta",
    "ja",
    "da",
    "ga",
    "ha",
    "wa",
    "ya",
    "ri",
    "ti",
    "ni",
    "mi",
    "si",
    "lu",
    "ku",
    "ru",
    "tu",
    "su",
    "bu",
    "di",
    "ke",
    "se",
    "to",
    "jo",
    "ro",
    "ng",
]
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
ABBREVIATE = [
    ("Jalan ", "Jl. "),
    ("Gang ", "Gg "),
    ("Lorong ", "Lrg "),
    ("Kelurahan ", "Kel. "),
    ("Masjid ", "Mesjid "),
    ("Rumah Sakit ", "RS "),
    ("SD Negeri ", "SD N "),
    ("SMP Negeri ", "SMPN "),
    ("Simpang ", "Simp. "),
    ("Jenderal ", "Jend. "),
    ("Komplek ", "Komp. "),
    ("Perumahan ", "Perum "),
]
GENERIC = {"jalan", "gang", "lorong", "masjid", "kelurahan", "kecamatan"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", type=int, default=100_000, help="names in the synthetic region")
    parser.add_argument("--queries", type=int, default=1000, help="queries per region")
    parser.add_argument("--seed", type=int, default=2026)
    return parser.parse_args()


def synthetic_names(count: int, rng: random.Random) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        prefix = rng.choice(PREFIXES)
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        parts = [prefix, word] if rng.random() < 0.6 else [prefix, rng.choice(COMMON), word]
        if prefix.endswith("Negeri"):
            parts = [prefix, str(rng.randint(1, 250)), word]
        elif rng.random() < 0.25:
            parts.append(rng.choice(ROMAN) if rng.random() < 0.5 else str(rng.randint(1, 30)))
        names.add(" ".join(parts))
    return sorted(names)


def synthetic_candidates(count: int, rng: random.Random) -> list:
    from shapely.geometry import LineString, MultiLineString, Point

    from gazetteer.sources import Candidate

    out = []
    for i, name in enumerate(synthetic_names(count, rng)):
        lon, lat = 103.50 + rng.random() * 0.18, -1.70 + rng.random() * 0.18
        if name.split()[0] in {"Jalan", "Gang", "Lorong"}:
            line = LineString([(lon, lat), (lon + rng.uniform(-0.004, 0.004), lat + rng.uniform(-0.004, 0.004))])
            out.append(
                Candidate(
                    kind="street",
                    name=name,
                    geom=MultiLineString([line]),
                    point=line.interpolate(0.5, normalized=True),
                    osm_ref=f"synthetic:{i}",
                )
            )
        else:
            out.append(
                Candidate(
                    kind="landmark", name=name, geom=Point(lon, lat), point=Point(lon, lat), osm_ref=f"synthetic:{i}"
                )
            )
    return out


def typo(name: str, rng: random.Random) -> str:
    words = name.split()
    long_words = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long_words:
        return name
    i = rng.choice(long_words)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)  # first letters are rarely wrong when typed
    kind = rng.choice(["substitute", "drop", "double", "swap"])
    if kind == "substitute":
        w = w[:j] + rng.choice("aeiounrstlkm") + w[j + 1 :]
    elif kind == "drop":
        w = w[:j] + w[j + 1 :]
    elif kind == "double":
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def dropped_word(name: str, rng: random.Random) -> str:
    words = name.split()
    if len(words) < 2:
        return name
    generic = [i for i, w in enumerate(words) if w.lower() in GENERIC]
    if generic:  # callers drop "Jalan" first
        del words[generic[0]]
    elif len(words) >= 3:
        del words[rng.randrange(len(words))]
    return " ".join(words)


def swapped(name: str, rng: random.Random) -> str:
    words = name.split()
    if len(words) < 2:
        return name
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def abbreviated(name: str, rng: random.Random) -> str:
    for long, short in ABBREVIATE:
        if long in name + " ":
            return (name + " ").replace(long, short, 1).strip()
    for i, roman in enumerate(ROMAN):
        if name.endswith(" " + roman):
            return name[: -len(roman)] + str(i + 1)
    return name.lower()


def mixed_case(name: str, rng: random.Random) -> str:
    return "".join(ch.upper() if rng.random() < 0.5 else ch.lower() for ch in name)


DISTORTIONS = {
    "typo": typo,
    "dropped word": dropped_word,
    "swapped words": swapped,
    "abbreviation": abbreviated,
    "mixed case": mixed_case,
}


def measure(region, queries: int, rng: random.Random) -> None:
    from gazetteer.models import GazetteerEntry
    from gazetteer.selectors import places_search

    entries = list(GazetteerEntry.objects.filter(region=region).values_list("id", "name", "kind", "name_norm"))
    key = {e[0]: (e[2], e[3]) for e in entries}
    sample = rng.sample(entries, min(queries, len(entries)))
    per: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    latencies_ms: list[float] = []
    places_search(region=region, query="warm up")
    for n, (entry_id, name, _kind, _norm) in enumerate(sample):
        label = list(DISTORTIONS)[n % len(DISTORTIONS)]
        query = DISTORTIONS[label](name, rng)
        start = time.perf_counter()
        found = places_search(region=region, query=query, limit=5)
        latencies_ms.append((time.perf_counter() - start) * 1000)
        hits = [s.id == entry_id or key.get(s.id) == key[entry_id] for s in found]
        per[label].append((bool(hits[:1] and hits[0]), any(hits)))
    everything = [r for rows in per.values() for r in rows]
    q = statistics.quantiles(latencies_ms, n=100)
    print(f"\n{region.name}: {len(entries):,} names, {len(sample)} queries")
    print(
        f"  top-1 {_pct(everything, 0)}   top-5 {_pct(everything, 1)}   "
        f"latency p50 {q[49]:.1f} ms  p95 {q[94]:.1f} ms  max {max(latencies_ms):.1f} ms"
    )
    for label, rows in per.items():
        print(f"    {label:<14} top-1 {_pct(rows, 0)}  top-5 {_pct(rows, 1)}  ({len(rows)} queries)")


def _pct(rows: list[tuple[bool, bool]], index: int) -> str:
    return f"{100.0 * sum(r[index] for r in rows) / len(rows):5.1f} %"


def main(args: argparse.Namespace) -> None:
    from gazetteer.services import gazetteer_build_from_region, gazetteer_import, gazetteer_store
    from gis_core.demo import region_load
    from gis_core.models import Region

    rng = random.Random(args.seed)
    jambi = region_load(slug="kota-jambi", say=lambda _line: None)
    gazetteer_build_from_region(region=jambi)
    liechtenstein = Region(
        code="LI", slug="liechtenstein", name="Liechtenstein (OSM extract)", metric_srid=32632, time_zone="Europe/Vaduz"
    )
    liechtenstein.full_clean()
    liechtenstein.save()
    gazetteer_import(region=liechtenstein, path=ROOT / "data" / "reference" / "liechtenstein.osm.pbf")
    synthetic = Region(
        code="99.99", slug="synthetic", name="Synthetic region", metric_srid=32748, time_zone="Asia/Jakarta"
    )
    synthetic.full_clean()
    synthetic.save()
    start = time.perf_counter()
    gazetteer_store(
        region=synthetic, source="synthetic", source_kind="synthetic", candidates=synthetic_candidates(args.names, rng)
    )
    print(f"synthetic region: {args.names:,} names stored in {time.perf_counter() - start:.0f} s")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE gazetteer_gazetteerentry")
    for region in (jambi, liechtenstein, synthetic):
        measure(region, args.queries, rng)


if __name__ == "__main__":
    ARGS = parse_args()
    # As in production: DEBUG off; a throw-away key (the migrate subprocess needs it too).
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    print(f"creating {DB_NAME} ...", flush=True)
    create_database(DB_NAME)
    os.environ["DATABASE_URL"] = database_url(DB_NAME)
    os.environ["SIAGA_DATA_DIR"] = str(ROOT / "data")
    import django

    django.setup()
    try:
        main(ARGS)
    finally:
        drop_database(DB_NAME)
