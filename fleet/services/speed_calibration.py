"""Calibrate a region's road speeds from its crews' own GPS tracks, as a new network version.

Every unit's valid fixes in the window (``fleet.selectors.positions``) are map-matched onto the active
network (:func:`gis_core.routing.matching.match_track`, Newson and Krumm's HMM), turned into edge
passes and learned into factors per road class and local hour band, and per edge where enough passes
are behind one (:func:`gis_core.routing.speed_learning.learn_speeds`). The new version's edges take
the all-day factors (``travel_time_s``); the factors of every band are stored with it, so the engine of
the band of "now" (:mod:`gis_core.routing.hour_band_engines`) drives the band's speeds. The previous
version stays, and the switch is one transaction, as for an import.

It lives in the fleet app, not in gis_core: the tracks are the fleet's, and gis_core knows no units.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.utils import timezone

from fleet.actors import SYSTEM, Actor
from fleet.errors import HistoryTooLargeError
from fleet.models import Unit
from fleet.selectors.positions import unit_fixes_between
from fleet.services.audit import audit_record
from gis_core.models import Region, RoadEdge, RoadNetworkVersion
from gis_core.routing.engine import RoutingEngine
from gis_core.routing.matching import MatchedRun, MatchSettings, match_track
from gis_core.routing.registry import engine_for
from gis_core.routing.speed_learning import ALL_DAY, HOUR_BANDS, LearnedSpeeds, SpeedFactor, learn_speeds
from gis_core.services import network_version_calibrated

DEFAULT_MIN_OBSERVATIONS = 20
DEFAULT_WINDOW = timedelta(days=30)
_CHUNK = timedelta(days=1)  # one unit's fixes read a day at a time (a fix every 5 s is 17,280 a day)


class CalibrationInputError(ValueError):
    """The window or the minimum asked for cannot be calibrated on."""


@dataclass(frozen=True)
class SpeedCalibration:
    """What a calibration found and, unless it was a dry run, the version it made.

    Attributes
    ----------
    version : RoadNetworkVersion or None
        The new active version; None on a dry run or when no factor reached the minimum.
    report : dict
        The ``calibration`` part of the new version's report: window, evidence, factors, changes.
    """

    version: RoadNetworkVersion | None
    report: dict


def speeds_calibrate(
    *,
    region: Region,
    since: datetime | None = None,
    until: datetime | None = None,
    min_observations: int = DEFAULT_MIN_OBSERVATIONS,
    dry_run: bool = False,
    actor: Actor = SYSTEM,
    settings: MatchSettings | None = None,
    keep_versions: int = 3,
) -> SpeedCalibration:
    """Learn speeds from the region's tracks between ``since`` and ``until`` and activate them as a new version.

    Parameters
    ----------
    region
        The region; its active network is matched on and copied.
    since, until
        Timezone-aware window on the fixes' ``recorded_at``; default the 30 days before now.
    min_observations
        Edge passes a factor needs before it replaces the table speed (class and band, or edge and band).
    dry_run
        Learn and report, write nothing.
    actor
        Who asked (audited with the new version).
    settings
        Map-matching parameters (GPS sigma and the rest); the defaults suit phones and trackers.
    keep_versions
        Versions kept, the new one included (at least 2: the source stays).

    Raises
    ------
    CalibrationInputError
        A naive or empty window, or a minimum below 1.
    NoNetworkError, RegionCrsInvalidError
        The region has no network to calibrate, or its CRS cannot measure it.
    """
    until = until or timezone.now()
    since = since or until - DEFAULT_WINDOW
    if timezone.is_naive(since) or timezone.is_naive(until):
        raise CalibrationInputError("--since and --until need a time zone, e.g. 2026-11-01T00:00+07:00")
    if not since < until:
        raise CalibrationInputError(f"the window is empty: since {since.isoformat()} is not before {until.isoformat()}")
    if min_observations < 1:
        raise CalibrationInputError(f"min_observations must be at least 1, got {min_observations}")
    # Crews' tracks are matched on the car profile's network; an edge it does not hold (a way open to
    # motorbikes only) keeps its time. Rows below are in the engine's edge order.
    engine = engine_for(region, live_closures=False)  # the network as imported: a flood is not a slow road
    source = RoadNetworkVersion.objects.get(region=region, is_active=True)
    columns = ("pk", "highway", "length_m", "speed_kph", "travel_time_s")
    rows = {row[0]: row for row in RoadEdge.objects.filter(version=source).values_list(*columns)}
    infos = engine.edges_info(np.arange(engine.edge_count))
    edge_ids = np.array([info.edge_id for info in infos], dtype=np.int64)
    highway = [rows[e][1] or None for e in edge_ids.tolist()]
    length_m = np.array([rows[e][2] for e in edge_ids.tolist()])
    table_kph = np.array([rows[e][3] for e in edge_ids.tolist()])
    old_time_s = np.array([rows[e][4] for e in edge_ids.tolist()])
    runs, evidence = _matched_runs(engine, region, since, until, settings or MatchSettings())
    learned = learn_speeds(runs, edge_highway=highway, edge_length_m=length_m, edge_table_kph=table_kph,
                           zone=region.time_zone, min_observations=min_observations)  # fmt: skip
    new_time_s = length_m / (table_kph * learned.edge_factors(ALL_DAY, highway) / 3.6)
    report = _report(source, learned, evidence, highway, old_time_s, new_time_s,
                     since=since, until=until, min_observations=min_observations, zone=region.time_zone)  # fmt: skip
    applied = [f for f in learned.factors if f.applied]
    if dry_run or not applied:
        report["written"] = False
        return SpeedCalibration(version=None, report=report)
    report["written"] = True
    stored = [_with_edge_id(f, edge_ids) for f in learned.factors if f.edge is None or f.applied]
    first_position: dict[int, int] = {}
    for position, edge_id in enumerate(edge_ids.tolist()):
        first_position.setdefault(edge_id, position)  # a reversed one-way copy comes after its original
    all_ids = sorted(rows)
    version = network_version_calibrated(
        source=source,
        edge_ids=np.array(all_ids, dtype=np.int64),
        travel_time_s=np.array([new_time_s[first_position[e]] if e in first_position else rows[e][4] for e in all_ids]),
        factors=stored,
        report={**source.report, "calibration": report},
        keep_versions=keep_versions,
    )
    audit_record(action="network.calibrate", actor=actor, obj=version, data={
        "source_version": source.pk, "since": since.isoformat(), "until": until.isoformat(),
        "passes": learned.passes, "applied_factors": len(applied),
    })  # fmt: skip
    return SpeedCalibration(version=version, report=report)


def _matched_runs(
    engine: RoutingEngine, region: Region, since: datetime, until: datetime, settings: MatchSettings
) -> tuple[list[MatchedRun], dict]:
    runs: list[MatchedRun] = []
    counts: Counter[str] = Counter()
    units_seen: set[int] = set()
    units = Unit.objects.filter(agency__region=region).order_by("pk").values_list("pk", flat=True)
    for unit_id in units:
        start = since
        while start < until:
            end, fixes = _fixes_from(unit_id, start, until)
            start = end
            usable = [f for f in fixes if f.lon is not None and f.lat is not None and f.recorded_at is not None]
            if len(usable) < 2:
                continue
            units_seen.add(unit_id)
            counts["fixes"] += len(usable)
            t_s = np.array([f.recorded_at.timestamp() for f in usable])
            lonlat = np.array([(f.lon, f.lat) for f in usable])
            match = match_track(engine, t_s, lonlat, settings=settings)
            runs.extend(match.runs)
            for name in ("duplicates", "stationary", "off_road", "breaks"):
                counts[name] += getattr(match, name)
    counts["units_with_fixes"] = len(units_seen)
    evidence = dict(counts)
    evidence["matched_runs"] = len(runs)
    evidence["matched_fixes"] = sum(len(r.fixes) for r in runs)
    return runs, evidence


def _fixes_from(unit_id: int, start: datetime, until: datetime) -> tuple[datetime, list]:
    """The unit's valid fixes from ``start`` for a day (less when a day holds too many), and where that ended."""
    span = _CHUNK
    while True:
        end = min(start + span, until)
        try:
            return end, unit_fixes_between(unit_id=unit_id, start=start, end=end)
        except HistoryTooLargeError:
            span = span / 4


def _with_edge_id(factor: SpeedFactor, edge_ids: np.ndarray) -> SpeedFactor:
    if factor.edge is None:
        return factor
    return SpeedFactor(factor.highway, factor.band, int(edge_ids[factor.edge]), factor.factor, factor.observations,
                       factor.median_speed_kph, factor.table_speed_kph, factor.applied)  # fmt: skip


def _report(source, learned: LearnedSpeeds, evidence, highway, old_time_s, new_time_s, *, since, until,
            min_observations, zone) -> dict:  # fmt: skip
    bands: dict[str, dict[str, dict]] = {}
    for f in learned.factors:
        if f.edge is None:
            bands.setdefault(f.band, {})[f.highway or "(none)"] = {
                "factor": round(f.factor, 4),
                "observations": f.observations,
                "median_speed_kph": round(f.median_speed_kph, 2),
                "table_speed_kph": round(f.table_speed_kph, 2),
                "applied": f.applied,
            }
    own = Counter(f.band for f in learned.factors if f.edge is not None and f.applied)
    changed = np.abs(new_time_s - old_time_s) > 1e-6 * np.maximum(old_time_s, 1.0)
    change_pct = (new_time_s[changed] / np.where(old_time_s[changed] > 0, old_time_s[changed], 1.0) - 1) * 100
    return {
        "source_version": source.pk,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "time_zone": zone,
        "hour_bands": [name for name, _, _ in HOUR_BANDS],
        "min_observations": min_observations,
        "evidence": {**evidence, "edge_passes": learned.passes},
        "factors": {band: bands[band] for band in [ALL_DAY, *(n for n, _, _ in HOUR_BANDS)] if band in bands},
        "edges_with_own_factor": {band: own[band] for band in sorted(own)},
        "edges_changed": int(changed.sum()),
        "edges_total": len(new_time_s),
        "travel_time_change_pct": {
            "median": round(float(np.median(change_pct)), 2) if len(change_pct) else 0.0,
            "min": round(float(change_pct.min()), 2) if len(change_pct) else 0.0,
            "max": round(float(change_pct.max()), 2) if len(change_pct) else 0.0,
        },
        "classes_changed": dict(Counter(highway[i] or "(none)" for i in np.flatnonzero(changed))),
    }
