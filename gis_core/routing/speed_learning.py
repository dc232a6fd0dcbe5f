"""Speeds learned from matched GPS tracks: traversals per edge, factors per road class and hour band.

A matched run (:mod:`gis_core.routing.matching`) says where a vehicle was on the road at each kept
fix and which edges it drove in between. The time between two fixes is shared among the edges of
that leg in proportion to the time each would take at the speed currently believed (the table
speed at first, then the learned one: a few rounds of this converge, and a leg that spans a fast
road and a slow one is shared as a driver would drive it). One *pass* is an edge driven in one go;
it is an observation only when the vehicle drove most of the edge (``min_covered_share``), so a
vehicle that turned in and stopped half way says nothing about the edge.

An edge's factor in an hour band of the region's local day (:data:`HOUR_BANDS`) is the median of
its passes' observed speeds over its table speed, robust to the odd stop at a light or a mis-matched
fix. A road class's factor is the median over its edges of those ratios, one vote per edge, so one
street driven fifty times a day (a market street at rush hour) does not make its class. A factor is
``applied`` only with at least ``min_observations`` passes behind it, and it is clamped to
:data:`FACTOR_BOUNDS`. Where a band has too few, the edge falls back, in order, to its class in the
band, to its own all-day factor, to its class's all-day factor, and to the table (factor 1).
Pure code: no Django.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from gis_core.routing.matching import MatchedRun

# Local hour bands: night, the morning school and office rush, midday, the evening rush, evening.
HOUR_BANDS: tuple[tuple[str, int, int], ...] = (
    ("00-06", 0, 6),
    ("06-10", 6, 10),
    ("10-16", 10, 16),
    ("16-20", 16, 20),
    ("20-24", 20, 24),
)
ALL_DAY = "all"
# A learned factor outside these is clamped: a class driven at a fifth of its table speed or three
# times it says more about the table or the data than about the traffic.
FACTOR_BOUNDS = (0.2, 3.0)


def hour_band(local_hour: int) -> str:
    """The band name of a local hour 0-23 (``7`` -> ``"06-10"``)."""
    for name, start, end in HOUR_BANDS:
        if start <= local_hour < end:
            return name
    raise ValueError(f"hour {local_hour} is not in 0..23")


def hour_band_at(t_s: float, zone: str) -> str:
    """The band of the local time in ``zone`` (IANA name) at Unix time ``t_s`` seconds."""
    return hour_band(datetime.fromtimestamp(t_s, tz=UTC).astimezone(ZoneInfo(zone)).hour)


@dataclass(frozen=True, slots=True)
class EdgePass:
    """One edge driven in one go: metres driven on it, seconds spent, and the Unix time of the middle."""

    edge: int
    covered_m: float
    time_s: float
    t_s: float

    @property
    def speed_kph(self) -> float:
        """Observed speed, km/h."""
        return self.covered_m / self.time_s * 3.6


def edge_passes(
    run: MatchedRun, *, edge_length_m: np.ndarray, pace_s_per_m: np.ndarray, min_covered_share: float = 0.5
) -> list[EdgePass]:
    """The passes of one run that count as observations.

    Parameters
    ----------
    run : MatchedRun
        Matched fixes and the drive between them.
    edge_length_m : ndarray, shape (E,)
        Edge lengths, metres.
    pace_s_per_m : ndarray, shape (E,)
        Seconds per metre believed on each edge; shares each leg's time among its edges.
    min_covered_share : float
        Least part of an edge's length driven in one pass for the pass to count.

    Returns
    -------
    list of EdgePass
        In driving order; the run's first and last (partial) edges count only when mostly driven.
    """
    passes: list[EdgePass] = []
    edge, covered_m, time_s, started_s = -1, 0.0, 0.0, 0.0
    for a, b, leg in zip(run.fixes, run.fixes[1:], run.legs, strict=False):
        dt_s = b.t_s - a.t_s
        weights = [c * pace_s_per_m[e] for e, c in zip(leg.edges, leg.covered_m, strict=True)]
        total = sum(weights)
        elapsed = a.t_s
        for k, (e, c) in enumerate(zip(leg.edges, leg.covered_m, strict=True)):
            share_s = dt_s * weights[k] / total if total > 0 else dt_s / len(leg.edges)
            if e != edge:
                _close(passes, edge, covered_m, time_s, started_s, elapsed, edge_length_m, min_covered_share)
                edge, covered_m, time_s, started_s = e, 0.0, 0.0, elapsed
            covered_m += c
            time_s += share_s
            elapsed += share_s
    _close(passes, edge, covered_m, time_s, started_s, started_s + time_s, edge_length_m, min_covered_share)
    return passes


def _close(passes, edge, covered_m, time_s, started_s, ended_s, edge_length_m, min_share) -> None:
    if edge >= 0 and time_s > 0 and covered_m > 0 and covered_m >= min_share * edge_length_m[edge]:
        passes.append(EdgePass(edge=edge, covered_m=covered_m, time_s=time_s, t_s=(started_s + ended_s) / 2))


@dataclass(frozen=True, slots=True)
class SpeedFactor:
    """A learned factor on the table speed, for a road class (``edge`` None) or one edge, in one band.

    Attributes
    ----------
    highway : str
        Road class (the edge's OSM ``highway``, ``""`` when it has none).
    band : str
        Hour band name, or :data:`ALL_DAY`.
    edge : int or None
        Edge index for an edge's own factor.
    factor : float
        Median observed over table speed (of the edge's passes, or of its class's edges), clamped to
        :data:`FACTOR_BOUNDS`.
    observations : int
        Passes behind it.
    median_speed_kph, table_speed_kph : float
        Median observed speed and table speed (of the edge, or the medians over the class's edges), km/h.
    applied : bool
        Whether ``observations`` reached the minimum, so the factor replaces the table.
    """

    highway: str
    band: str
    edge: int | None
    factor: float
    observations: int
    median_speed_kph: float
    table_speed_kph: float
    applied: bool


@dataclass(frozen=True)
class LearnedSpeeds:
    """Every factor learned (applied or not), and the passes they came from."""

    factors: tuple[SpeedFactor, ...]
    passes: int
    runs: int

    def edge_factors(self, band: str, edge_highway: Sequence[str | None]) -> np.ndarray:
        """Factor per edge in ``band`` (or :data:`ALL_DAY`), shape (E,), by the fallback order of the module."""
        return resolve_edge_factors(self.factors, band, edge_highway)


def resolve_edge_factors(factors: Iterable[SpeedFactor], band: str, edge_highway: Sequence[str | None]) -> np.ndarray:
    """Factor per edge for ``band``: its own, its class's, its own all-day, its class's all-day, or 1.

    Parameters
    ----------
    factors : iterable of SpeedFactor
        Only the ``applied`` ones are used.
    band : str
        An hour band name or :data:`ALL_DAY`.
    edge_highway : sequence of str or None, shape (E,)
        Road class of each edge.
    """
    applied = [f for f in factors if f.applied]
    classes = [h or "" for h in edge_highway]
    names, code = np.unique(np.array(classes, dtype=str), return_inverse=True)
    position = {str(name): i for i, name in enumerate(names)}
    # Fill from the last resort up, so each later step overrides: table, class all-day, edge all-day,
    # class in the band, edge in the band.
    out = np.ones(len(classes))
    for wanted_band, per_edge in ((ALL_DAY, False), (ALL_DAY, True), (band, False), (band, True)):
        by_class = np.full(len(names), np.nan)
        edges, values = [], []
        for f in applied:
            if f.band != wanted_band or (f.edge is not None) != per_edge:
                continue
            if f.edge is None:
                if f.highway in position:
                    by_class[position[f.highway]] = f.factor
            else:
                edges.append(f.edge)
                values.append(f.factor)
        if per_edge:
            out[np.asarray(edges, dtype=np.intp)] = values
        else:
            per_class = by_class[code]
            known = ~np.isnan(per_class)
            out[known] = per_class[known]
    return out


def learn_speeds(
    runs: Sequence[MatchedRun],
    *,
    edge_highway: Sequence[str | None],
    edge_length_m: np.ndarray,
    edge_table_kph: np.ndarray,
    zone: str,
    min_observations: int,
    min_covered_share: float = 0.5,
    rounds: int = 3,
) -> LearnedSpeeds:
    """Learn speed factors per road class and hour band, and per edge where there is enough data.

    Parameters
    ----------
    runs : sequence of MatchedRun
        Matched runs on the network the edge arrays describe.
    edge_highway : sequence of str or None, shape (E,)
        Road class of each edge.
    edge_length_m : ndarray, shape (E,)
        Edge lengths, metres.
    edge_table_kph : ndarray, shape (E,)
        The speed the factors multiply (the edge's ``maxspeed`` or class-table speed), km/h.
    zone : str
        The region's IANA time zone: bands are of the local day.
    min_observations : int
        Passes needed before a factor is applied.
    min_covered_share : float
        As in :func:`edge_passes`.
    rounds : int
        Times the legs are shared out again with the speeds just learned (at least 1).

    Returns
    -------
    LearnedSpeeds
    """
    if min_observations < 1 or rounds < 1:
        raise ValueError("min_observations and rounds must be >= 1")
    table_kph = np.asarray(edge_table_kph, dtype=np.float64)
    if not (np.isfinite(table_kph) & (table_kph > 0)).all():
        raise ValueError("every table speed must be a finite km/h figure > 0")
    band_names = [name for name, _, _ in HOUR_BANDS]
    base_pace = 3.6 / table_kph
    paces = dict.fromkeys(band_names, base_pace)
    factors: tuple[SpeedFactor, ...] = ()
    passes: list[tuple[EdgePass, str]] = []
    for _ in range(rounds):
        passes = []
        for run in runs:
            band = hour_band_at((run.fixes[0].t_s + run.fixes[-1].t_s) / 2, zone)
            for p in edge_passes(run, edge_length_m=edge_length_m, pace_s_per_m=paces[band],
                                 min_covered_share=min_covered_share):  # fmt: skip
                passes.append((p, hour_band_at(p.t_s, zone)))
        factors = _factors(passes, edge_highway, table_kph, min_observations)
        paces = {name: base_pace / resolve_edge_factors(factors, name, edge_highway) for name in band_names}
    return LearnedSpeeds(factors=factors, passes=len(passes), runs=len(runs))


def _factors(
    passes: list[tuple[EdgePass, str]], edge_highway: Sequence[str | None], table_kph: np.ndarray, min_observations: int
) -> tuple[SpeedFactor, ...]:
    by_edge: dict[tuple[int, str], list[float]] = defaultdict(list)
    for p, band in passes:
        for b in (band, ALL_DAY):
            by_edge[(p.edge, b)].append(p.speed_kph)
    out = []
    lo, hi = FACTOR_BOUNDS
    by_class: dict[tuple[str, str], list[tuple[int, float, float]]] = defaultdict(list)
    for (edge, band), speeds in sorted(by_edge.items()):
        speed_kph, table = float(np.median(speeds)), float(table_kph[edge])
        by_class[(edge_highway[edge] or "", band)].append((len(speeds), speed_kph, table))
        out.append(SpeedFactor(edge_highway[edge] or "", band, edge, float(np.clip(speed_kph / table, lo, hi)),
                               len(speeds), speed_kph, table, len(speeds) >= min_observations))  # fmt: skip
    for (cls, band), edges in sorted(by_class.items()):
        # One vote per edge: a street driven fifty times a day does not make its class.
        counts = np.array([n for n, _, _ in edges])
        ratios = np.array([s / t for _, s, t in edges])
        out.append(
            SpeedFactor(
                highway=cls,
                band=band,
                edge=None,
                factor=float(np.clip(np.median(ratios), lo, hi)),
                observations=int(counts.sum()),
                median_speed_kph=float(np.median([s for _, s, _ in edges])),
                table_speed_kph=float(np.median([t for _, _, t in edges])),
                applied=int(counts.sum()) >= min_observations,
            )
        )
    return tuple(out)
