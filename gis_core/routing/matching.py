"""Map matching of stored GPS tracks onto the road network: a hidden Markov model solved by Viterbi.

The model is Newson and Krumm's (2009, "Hidden Markov map matching through noise and sparseness",
ACM SIGSPATIAL GIS '09). The hidden states of a fix are the road positions near it (candidate
edges within ``radius_m``, with the fix's projection on each). A state is emitted with the Gaussian
density of the fix's distance to it, ``sigma_m`` being the GPS error; the transition between the
states of two consecutive fixes has the exponential density of ``|route distance - great-circle
distance|`` with scale ``beta_m``, since a vehicle mostly drives the way that is as long as the
straight line between fixes. Transitions that are not driveable (no route within reach, or a route
that asks for more than ``max_speed_kph``) are impossible; when every transition into a fix is, the
match breaks there and a new one starts, as it does across a time gap or a long stop.

Before matching a track is cleaned as the paper does: fixes sorted by time, duplicate times
dropped, and a fix within ``2 * sigma_m`` of the last kept one dropped (a stationary vehicle's
scatter would otherwise ask for U-turns). Candidates and network distances come from the routing
engine (``edge_candidates``, ``network_distances_m``, ``network_path``), so the matcher drives the
same graph, with the same one-way rules, that dispatch routes on. Pure code: no Django.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from gis_core.routing.engine import NetworkPath, RoutingEngine

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Parameters of the matcher.

    Attributes
    ----------
    sigma_m : float
        Standard deviation of GPS position error, metres (phones and trackers in the open: 5-10 m).
    beta_m : float
        Scale of the exponential on ``|route - great-circle|`` distances, metres (Newson and Krumm
        found it from their data; a few metres for fixes seconds apart, more for sparse ones).
    radius_m : float
        Edges farther than this from a fix are not candidates, metres.
    max_candidates : int
        Most candidate edges per fix.
    max_gap_s : float
        A longer time between kept fixes breaks the match, seconds.
    max_speed_kph : float
        A transition faster than this along the road is impossible, km/h.
    route_slack_m : float
        A route longer than twice the straight line plus this is impossible, metres.
    stop_radius_m, max_stop_s : float
        Fixes staying within ``stop_radius_m`` metres of their mean for ``max_stop_s`` seconds or more
        are a stop, where the match is cut (:func:`clean_track`).
    """

    sigma_m: float = 8.0
    beta_m: float = 10.0
    radius_m: float = 50.0
    max_candidates: int = 8
    max_gap_s: float = 90.0
    max_speed_kph: float = 150.0
    route_slack_m: float = 300.0
    stop_radius_m: float = 30.0
    max_stop_s: float = 60.0

    def __post_init__(self) -> None:
        positive = ("sigma_m", "beta_m", "radius_m", "max_gap_s", "max_speed_kph", "stop_radius_m", "max_stop_s")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")
        if self.max_candidates < 1 or not self.route_slack_m >= 0:
            raise ValueError("max_candidates must be >= 1 and route_slack_m >= 0")


@dataclass(frozen=True, slots=True)
class MatchedFix:
    """One fix placed on the road: the input position it came from, its time, and where on which edge."""

    fix_index: int
    t_s: float
    edge: int
    fraction: float
    offset_m: float


@dataclass(frozen=True, slots=True)
class MatchedRun:
    """An unbroken stretch of matched fixes; ``legs[i]`` is the drive from ``fixes[i]`` to ``fixes[i + 1]``."""

    fixes: tuple[MatchedFix, ...]
    legs: tuple[NetworkPath, ...]


@dataclass(frozen=True)
class TrackMatch:
    """The matched runs of one track, and what was left out on the way.

    Attributes
    ----------
    runs : list of MatchedRun
        Each with at least two fixes, in time order.
    duplicates, stationary, off_road : int
        Fixes dropped for repeating a time already seen, for lying within ``2 * sigma_m`` of the last
        kept fix, and for having no edge within ``radius_m``.
    breaks : int
        Places the match was broken and started again: time gaps, long stops and impossible transitions.
    """

    runs: list[MatchedRun] = field(default_factory=list)
    duplicates: int = 0
    stationary: int = 0
    off_road: int = 0
    breaks: int = 0


def great_circle_m(a_lonlat: np.ndarray, b_lonlat: np.ndarray) -> np.ndarray:
    """Haversine distance between paired points (EPSG:4326, shape (K, 2)), metres."""
    a, b = np.radians(np.atleast_2d(a_lonlat)), np.radians(np.atleast_2d(b_lonlat))
    dlon, dlat = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    h = np.sin(dlat / 2) ** 2 + np.cos(a[:, 1]) * np.cos(b[:, 1]) * np.sin(dlon / 2) ** 2
    distance_m: np.ndarray = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return distance_m


def clean_track(
    t_s: np.ndarray, lonlat: np.ndarray, *, settings: MatchSettings
) -> tuple[list[np.ndarray], int, int, int]:
    """Order a track, drop repeats and stationary scatter, and cut it at gaps and long stops.

    Parameters
    ----------
    t_s : ndarray, shape (F,)
        Fix times, seconds (any epoch), in any order.
    lonlat : ndarray, shape (F, 2)
        Fix positions, EPSG:4326.

    Returns
    -------
    (pieces, duplicates, stationary, breaks)
        ``pieces`` are arrays of input indices, each in time order, to be matched apart. A piece ends
        before a gap longer than ``max_gap_s``, and at a stop: fixes staying within ``stop_radius_m``
        of their running mean for ``max_stop_s`` or more (parked at the station or the scene). The
        piece before a stop ends at its first fix and the next starts at its last, the moment the
        vehicle left, so time spent standing is never taken for slow driving. Shorter halts (a
        traffic light) stay in, as part of the drive.
    """
    times = np.asarray(t_s, dtype=np.float64).reshape(-1)
    points = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    if len(times) != len(points):
        raise ValueError("t_s and lonlat differ in length")
    order = np.argsort(times, kind="stable")
    first = np.ones(len(order), dtype=bool)
    first[1:] = times[order][1:] != times[order][:-1]
    duplicates = int((~first).sum())
    order = order[first]
    cut = np.flatnonzero(np.diff(times[order]) > settings.max_gap_s) + 1
    pieces: list[np.ndarray] = []
    for part in np.split(order, cut):
        pieces.extend(_split_at_stops(part, times, points, settings))
    breaks = len(pieces) - 1 if pieces else 0
    thinned: list[np.ndarray] = []
    stationary = 0
    min_move_m = 2.0 * settings.sigma_m
    for piece in pieces:
        kept = [int(piece[0])] if len(piece) else []
        for i in piece[1:].tolist():
            if great_circle_m(points[kept[-1]], points[i])[0] < min_move_m:
                stationary += 1
            else:
                kept.append(i)
        if len(piece) > 1 and kept[-1] != piece[-1]:
            stationary -= 1  # keep the piece's last fix: after a stop it is the moment of leaving
            kept.append(int(piece[-1]))
        if len(kept) >= 2:
            thinned.append(np.array(kept, dtype=np.intp))
    return thinned, duplicates, stationary, breaks


def _split_at_stops(
    part: np.ndarray, times: np.ndarray, points: np.ndarray, settings: MatchSettings
) -> list[np.ndarray]:
    """Cut one gap-free stretch (indices in time order) at its long stops (see :func:`clean_track`)."""
    pieces: list[np.ndarray] = []
    start = a = 0
    n = len(part)
    while a < n:
        total = points[part[a]].copy()
        j = a
        while j + 1 < n:
            centre = total / (j - a + 1)
            if great_circle_m(centre, points[part[j + 1]])[0] > settings.stop_radius_m:
                break
            j += 1
            total += points[part[j]]
        if times[part[j]] - times[part[a]] >= settings.max_stop_s:
            pieces.append(part[start : a + 1])
            start = j
            a = j + 1
        else:
            a += 1
    pieces.append(part[start:])
    return [p for p in pieces if len(p) >= 2]


def match_track(
    engine: RoutingEngine, t_s: np.ndarray, lonlat: np.ndarray, *, settings: MatchSettings | None = None
) -> TrackMatch:
    """Match one vehicle's track onto ``engine``'s network.

    Parameters
    ----------
    engine : RoutingEngine
        The network, through its map-matching methods.
    t_s : ndarray, shape (F,)
        Fix times, seconds; any order, repeats allowed.
    lonlat : ndarray, shape (F, 2)
        Fix positions, EPSG:4326; each must be a valid (lon, lat) pair.
    settings : MatchSettings, optional
        Model parameters; the defaults suit fixes 1-30 s apart with about 8 m error.

    Returns
    -------
    TrackMatch
        The most likely road positions of the kept fixes, in unbroken runs, with the drive between them.
    """
    settings = settings or MatchSettings()
    times = np.asarray(t_s, dtype=np.float64).reshape(-1)
    points = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    pieces, duplicates, stationary, breaks = clean_track(times, points, settings=settings)
    runs: list[MatchedRun] = []
    off_road = 0
    for piece in pieces:
        candidates = engine.edge_candidates(
            points[piece], radius_m=settings.radius_m, max_per_point=settings.max_candidates
        )
        states = [candidates.of_point(k) for k in range(len(piece))]
        off_road += sum(1 for s in states if s.stop == s.start)
        found, piece_breaks = _viterbi(engine, piece, times, points, candidates, states, settings)
        breaks += piece_breaks
        runs.extend(_runs_with_legs(engine, found))
    return TrackMatch(runs=runs, duplicates=duplicates, stationary=stationary, off_road=off_road, breaks=breaks)


def _viterbi(engine, piece, times, points, candidates, states, settings) -> tuple[list[list[MatchedFix]], int]:
    """The most likely state sequence of each unbroken stretch of ``piece``, and how many breaks were needed."""
    emission = -0.5 * (candidates.offset_m / settings.sigma_m) ** 2
    stretches: list[list[MatchedFix]] = []
    breaks = 0
    score: np.ndarray | None = None
    back: list[np.ndarray] = []  # per step after the first of the stretch: best previous state of each state
    members: list[int] = []  # positions in ``piece`` of the stretch so far

    def close() -> None:
        if score is not None and len(members) >= 2:
            stretches.append(_backtrack(piece, times, candidates, states, members, back, score))

    for k in range(len(piece)):
        here = states[k]
        if here.stop == here.start:  # off the road: end the stretch, start after it
            close()
            breaks += int(score is not None)
            score, back, members = None, [], []
            continue
        if score is None:
            score, back, members = emission[here], [], [k]
            continue
        prev = states[members[-1]]
        i, j = piece[members[-1]], piece[k]
        straight_m = float(great_circle_m(points[i], points[j])[0])
        dt_s = max(times[j] - times[i], 1e-3)
        max_m = min(2.0 * straight_m + settings.route_slack_m, settings.max_speed_kph / 3.6 * dt_s)
        route_m = engine.network_distances_m(
            candidates.edge[prev], candidates.fraction[prev], candidates.edge[here], candidates.fraction[here],
            max_m=max_m,
        )  # fmt: skip
        transition = -np.abs(route_m - straight_m) / settings.beta_m
        total = score[:, None] + transition
        best = np.argmax(total, axis=0)
        best_total = total[best, np.arange(total.shape[1])]
        if not np.isfinite(best_total).any():  # nothing driveable from the last fix: break here
            close()
            breaks += 1
            score, back, members = emission[here], [], [k]
            continue
        new = best_total + emission[here]
        score = new - np.max(new[np.isfinite(new)])
        back.append(best)
        members.append(k)
    close()
    return stretches, breaks


def _backtrack(piece, times, candidates, states, members, back, score) -> list[MatchedFix]:
    state = int(np.argmax(score))
    chosen = [state]
    for best in reversed(back):
        state = int(best[state])
        chosen.append(state)
    chosen.reverse()
    out = []
    for k, s in zip(members, chosen, strict=True):
        at = states[k].start + s
        out.append(
            MatchedFix(
                fix_index=int(piece[k]),
                t_s=float(times[piece[k]]),
                edge=int(candidates.edge[at]),
                fraction=float(candidates.fraction[at]),
                offset_m=float(candidates.offset_m[at]),
            )
        )
    return out


def _runs_with_legs(engine: RoutingEngine, stretches: list[list[MatchedFix]]) -> list[MatchedRun]:
    runs = []
    for fixes in stretches:
        legs = []
        for a, b in itertools.pairwise(fixes):
            leg = engine.network_path((a.edge, a.fraction), (b.edge, b.fraction))
            if leg is None:  # cannot happen after Viterbi found the transition, but never guess a leg
                raise AssertionError("a matched transition has no path")
            legs.append(leg)
        runs.append(MatchedRun(fixes=tuple(fixes), legs=tuple(legs)))
    return runs
