"""speeds_calibrate and calibrate_speeds on Kota Jambi, with simulated crew tracks stored as fixes.

The tracks come from bench/track_simulation.py (known true speeds per road class and local hour band,
8 m noise, stops, a hole, swapped and repeated fixes); the checks are on what a calibration writes:
a new active version whose edges take the learned all-day factors, the old version kept, the band
factors stored with their counts, engines for a band, and nothing at all on a dry run.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from django.db.models import F

from bench.track_simulation import TRUE_FACTORS, as_delivered, drive, jambi_graph
from fleet.models import AuditEntry, PositionFix
from fleet.services.speed_calibration import CalibrationInputError, speeds_calibrate
from gis_core.models import RoadEdge, RoadNetworkVersion, RoadSpeedFactor
from gis_core.routing.hour_band_engines import clear_band_engines, engine_for_band, engine_for_now
from gis_core.routing.registry import engine_for
from gis_core.routing.speed_learning import HOUR_BANDS

SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 11, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
def trips(data_dir):
    """Six trips per band on 2 November 2026 (local), as delivered by the phones."""
    graph, table_kph = jambi_graph(data_dir)
    rng = np.random.default_rng(15)
    return [as_delivered(drive(graph, table_kph, rng, band=band), rng) for band, _, _ in HOUR_BANDS for _ in range(6)]


@pytest.fixture
def tracked(jambi_network, fleet, trips):
    """Kota Jambi with its network and three units that drove the trips."""
    clear_band_engines()
    agency = fleet.make_agency(region=jambi_network)
    units = [fleet.make_unit(agency=agency) for _ in range(3)]
    PositionFix.objects.bulk_create(
        PositionFix(
            unit=units[k % 3],
            protocol="test",
            recorded_at=datetime.fromtimestamp(float(t), tz=UTC),
            lon=float(lon),
            lat=float(lat),
            geom=Point(float(lon), float(lat), srid=4326),
            is_valid=True,
        )
        for k, trip in enumerate(trips)
        for t, (lon, lat) in zip(trip.t_s, trip.lonlat, strict=True)
    )
    # Delivered as they were driven: the server's clock (the partition key) is the fix's own, as ingest sets it.
    PositionFix.objects.filter(unit__in=units).update(received_at=F("recorded_at"))
    yield jambi_network
    clear_band_engines()


def test_calibration_writes_a_new_active_version_and_keeps_the_old(tracked) -> None:
    source = RoadNetworkVersion.objects.get(region=tracked, is_active=True)
    result = speeds_calibrate(region=tracked, since=SINCE, until=UNTIL, min_observations=8)
    version = result.version
    assert version is not None
    assert version.is_active
    assert RoadNetworkVersion.objects.get(pk=source.pk).is_active is False  # the source stays, inactive
    assert (version.node_count, version.edge_count) == (source.node_count, source.edge_count)
    assert RoadEdge.objects.filter(version=version).count() == source.edge_count
    report = version.report["calibration"]
    assert report["source_version"] == source.pk
    assert report["evidence"]["units_with_fixes"] == 3
    assert report["evidence"]["duplicates"] > 0
    assert report["evidence"]["breaks"] > 0
    assert version.report["speed_sources"] == source.report["speed_sources"]  # the import's report is kept
    # Trunk roads in the morning rush, learned within 5% of the simulated truth and stored with their count.
    cell = RoadSpeedFactor.objects.get(version=version, edge=None, highway="trunk", hour_band="06-10")
    assert cell.applied
    assert cell.observations >= 8
    assert cell.factor == pytest.approx(TRUE_FACTORS["06-10"]["trunk"], rel=0.05)
    assert report["factors"]["06-10"]["trunk"]["observations"] == cell.observations
    # Each copied edge keeps its table speed and takes the all-day factor of its own or its class.
    all_day = RoadSpeedFactor.objects.get(version=version, edge=None, highway="trunk", hour_band="all")
    own = set(RoadSpeedFactor.objects.filter(version=version, hour_band="all").exclude(edge=None).values_list(
        "edge_id", flat=True))  # fmt: skip
    old = {(e.osm_way_id, e.source.osm_id, e.target.osm_id): e for e in RoadEdge.objects.filter(
        version=source, highway="trunk").select_related("source", "target")}  # fmt: skip
    checked = 0
    for edge in RoadEdge.objects.filter(version=version, highway="trunk").select_related("source", "target"):
        before = old[(edge.osm_way_id, edge.source.osm_id, edge.target.osm_id)]
        assert edge.speed_kph == before.speed_kph
        if edge.pk not in own:
            assert edge.travel_time_s == pytest.approx(edge.length_m / (edge.speed_kph * all_day.factor / 3.6))
            checked += 1
    assert checked > 50
    assert AuditEntry.objects.filter(action="network.calibrate", object_id=str(version.pk)).exists()
    # The engines of the bands drive the band factors on top of the stored all-day times.
    base = engine_for(tracked)
    assert engine_for_band(tracked, "all") is base
    morning, night = engine_for_band(tracked, "06-10"), engine_for_band(tracked, "00-06")
    assert engine_for_band(tracked, "06-10") is morning  # cached
    origin, destination = (103.5906, -1.6095), (103.6392, -1.6233)  # across town, on the main roads
    t_base = base.travel_times_from(origin, [destination])[0].network_s
    t_morning = morning.travel_times_from(origin, [destination])[0].network_s
    t_night = night.travel_times_from(origin, [destination])[0].network_s
    # The simulated morning rush is slower than the all-day mean on every main class, the night faster.
    assert t_morning > 1.1 * t_base
    assert t_night < 0.9 * t_base
    # 07:30 in Jambi (UTC+7) is the morning band.
    assert engine_for_now(tracked, at=datetime(2026, 11, 4, 0, 30, tzinfo=UTC)) is morning


def test_a_recalibration_starts_from_the_table_speeds_not_the_last_calibration(tracked) -> None:
    imported = RoadNetworkVersion.objects.get(region=tracked, is_active=True)
    first = speeds_calibrate(region=tracked, since=SINCE, until=UNTIL, min_observations=8).version
    second = speeds_calibrate(region=tracked, since=SINCE, until=UNTIL, min_observations=8, keep_versions=2).version
    assert second is not None
    assert first is not None
    assert second.report["calibration"]["source_version"] == first.pk
    # Same tracks, same table speeds: the same times (no factor applied on top of the last one).
    key = ("osm_way_id", "source__osm_id", "target__osm_id")
    before = {tuple(r[:3]): r[3] for r in RoadEdge.objects.filter(version=first).values_list(*key, "travel_time_s")}
    after = {tuple(r[:3]): r[3] for r in RoadEdge.objects.filter(version=second).values_list(*key, "travel_time_s")}
    assert before.keys() == after.keys()
    np.testing.assert_allclose([after[k] for k in before], list(before.values()), rtol=0.02)
    # Versions beyond keep_versions (2 here: this one and its source) are deleted, factors and all.
    assert set(RoadNetworkVersion.objects.filter(region=tracked).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert not RoadNetworkVersion.objects.filter(pk=imported.pk).exists()
    assert RoadSpeedFactor.objects.filter(version=first).exists()


def test_a_dry_run_or_too_little_evidence_writes_nothing(tracked) -> None:
    versions = RoadNetworkVersion.objects.count()
    assert engine_for_now(tracked) is engine_for(tracked)  # never calibrated: one engine for every hour
    result = speeds_calibrate(region=tracked, since=SINCE, until=UNTIL, min_observations=8, dry_run=True)
    assert result.version is None
    assert result.report["written"] is False
    assert result.report["factors"]["06-10"]["trunk"]["applied"]
    result = speeds_calibrate(region=tracked, since=SINCE, until=UNTIL, min_observations=100_000)
    assert result.version is None
    assert not result.report["factors"]["06-10"]["trunk"]["applied"]
    assert RoadNetworkVersion.objects.count() == versions
    assert not RoadSpeedFactor.objects.exists()
    assert not AuditEntry.objects.filter(action="network.calibrate").exists()


def test_bad_windows_are_refused(jambi_region) -> None:
    with pytest.raises(CalibrationInputError, match="empty"):
        speeds_calibrate(region=jambi_region, since=UNTIL, until=SINCE)
    with pytest.raises(CalibrationInputError, match="time zone"):
        speeds_calibrate(region=jambi_region, since=datetime(2026, 11, 1), until=UNTIL)
    with pytest.raises(CalibrationInputError, match="at least 1"):
        speeds_calibrate(region=jambi_region, since=SINCE, until=UNTIL, min_observations=0)


def test_command_reports_the_factors_and_switches(tracked, capsys) -> None:
    call_command("calibrate_speeds", "kota-jambi", "--since", "2026-11-01", "--until", "2026-11-03T07:00",
                 "--min-observations", "8")  # fmt: skip
    out = capsys.readouterr().out
    assert "06-10: " in out
    assert "trunk x0.6" in out
    assert "calibrated from version" in out
    assert RoadNetworkVersion.objects.get(region=tracked, is_active=True).source_kind == "calibrated"
    since_local = RoadNetworkVersion.objects.get(region=tracked, is_active=True).report["calibration"]["since"]
    assert since_local == "2026-11-01T00:00:00+07:00"  # a date is midnight in the region's zone


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "expected a date"),
        (["--since", "2026-11-02", "--until", "2026-11-01"], "empty"),
        (["--since", "2026-13-01"], "2026-13-01"),
        (["--since", "2026-11-01\x00"], "not a date"),
        (["--min-observations", "0"], "at least 1"),
    ],
)
def test_command_refuses_bad_input(jambi_region, args, message) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("calibrate_speeds", "kota-jambi", *args)


def test_command_names_an_unknown_region(db) -> None:
    with pytest.raises(CommandError, match="unknown region"):
        call_command("calibrate_speeds", "atlantis")


def test_command_says_when_there_is_no_network(jambi_region) -> None:
    with pytest.raises(CommandError, match="no road network yet"):
        call_command("calibrate_speeds", "kota-jambi")
