"""Covering-location solvers: a demand x site travel-time matrix in seconds in, a typed result out.

Pure numerics: no geometry, no ORM, no settings. Demand points are rows, candidate sites columns; a
site covers a demand point when the travel time from the site to the point is at most the threshold
(``inf`` never covers). Existing stations enter as one vector: the time from the nearest existing
station to each demand point.

Both location models are solved exactly as mixed-integer programmes with PuLP and its bundled CBC.
Before the model is built the matrix is reduced without changing the optimum: demand already covered
by existing stations or out of reach of every candidate leaves the model (it is a constant), demand
points with identical covering sets are merged (weights summed), and candidates that cover nothing
left are dropped. Columns are never merged, so a chosen index is always a caller's candidate.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pulp
from scipy import sparse

from gis_core.errors import DomainError

_CBC_STATUS = {1: "optimal", 2: "feasible", 0: "not_solved", -1: "infeasible", -2: "unbounded"}


class SitingError(DomainError, ValueError):
    """Inputs a covering model cannot use: shapes disagree, a negative weight or time, a bad k or share."""

    code = "siting_error"


class InfeasibleCoverageError(SitingError):
    """The required share cannot be covered even with every candidate site open.

    Attributes
    ----------
    required_share, achievable_share : float
        What was asked and the most that existing stations plus all candidates reach, 0..1.
    """

    http_status, code = 422, "infeasible_coverage"

    def __init__(self, *, required_share: float, achievable_share: float):
        self.required_share = required_share
        self.achievable_share = achievable_share
        super().__init__(
            f"a coverage share of {required_share:.1%} cannot be reached: with every candidate site open at most "
            f"{achievable_share:.1%} of the demand is within the threshold; lower required_share, raise the "
            "threshold or give more candidate sites"
        )


@dataclass(frozen=True, slots=True)
class SitingResult:
    """The answer of a covering model.

    Attributes
    ----------
    model : str
        ``"mclp"`` or ``"lscp"``.
    chosen : tuple of int
        Candidate (column) indices opened, in order of marginal gain (largest first, greedily).
    gains : tuple of float
        Demand weight each chosen site adds, in the order of ``chosen``; they sum to
        ``covered_after - covered_before``.
    covered_before, covered_after : float
        Demand weight within the threshold from existing stations alone, and with the chosen sites.
    total : float
        All demand weight, covered or not.
    objective : float
        The model's optimum: covered weight (MCLP) or number of new sites (LSCP).
    status : str
        ``optimal`` (proven), ``feasible`` (time limit hit with a solution) or CBC's word otherwise.
    solve_s : float
        Wall time of the model build and solve, seconds.
    n_rows, n_cols : int
        Size of the reduced model actually given to CBC (merged demand rows, useful candidates).
    """

    model: str
    chosen: tuple[int, ...]
    gains: tuple[float, ...]
    covered_before: float
    covered_after: float
    total: float
    objective: float
    status: str
    solve_s: float
    n_rows: int
    n_cols: int

    @property
    def share_before(self) -> float:
        """``covered_before / total`` (0 when there is no demand)."""
        return self.covered_before / self.total if self.total else 0.0

    @property
    def share_after(self) -> float:
        """``covered_after / total`` (0 when there is no demand)."""
        return self.covered_after / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class MoveUp:
    """Move one available unit to a station.

    Attributes
    ----------
    unit, station : int
        Column indices into the unit and station matrices given to :func:`moveup_rank`.
    covered : float
        Demand weight covered after the move.
    gain : float
        ``covered`` minus the weight covered before the move.
    """

    unit: int
    station: int
    covered: float
    gain: float


def coverage_mask(travel_time_s: np.ndarray, threshold_s: float) -> np.ndarray:
    """Which sites cover which demand points: ``travel_time_s <= threshold_s`` (``inf`` never covers).

    Parameters
    ----------
    travel_time_s : ndarray, shape (D, S) or (D,)
        Seconds from each site to each demand point; ``inf`` where unreachable.
    threshold_s : float
        Largest travel time that still counts as covered, seconds.

    Returns
    -------
    ndarray of bool, same shape
    """
    times = np.asarray(travel_time_s, dtype=np.float64)
    if np.isnan(times).any():
        raise SitingError("travel times contain NaN; use inf for unreachable pairs")
    if not (np.isfinite(threshold_s) and threshold_s >= 0):
        raise SitingError(f"threshold_s must be a finite number >= 0, got {threshold_s}")
    return times <= threshold_s


def mclp_solve(
    travel_time_s: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    *,
    threshold_s: float,
    k: int,
    existing_time_s: np.ndarray | None = None,
    time_limit_s: float | None = None,
) -> SitingResult:
    """Maximal covering location problem: open ``k`` new sites to cover the most demand weight.

    Church and ReVelle (1974), "The maximal covering location problem", Papers of the Regional
    Science Association 32: maximise ``sum_i w_i y_i`` subject to ``y_i <= sum_{j in N_i} x_j``,
    ``sum_j x_j <= k``, ``x_j`` binary and ``0 <= y_i <= 1`` (integral at any binary ``x``), where
    ``N_i`` are the sites within ``threshold_s`` of demand point ``i``. Existing stations are kept:
    demand they already cover counts as covered and leaves the model.

    Parameters
    ----------
    travel_time_s : ndarray, shape (D, C)
        Seconds from each candidate site (column) to each demand point (row); ``inf`` if unreachable.
    weights : sequence of float, shape (D,)
        Demand weight of each point (people), >= 0.
    threshold_s : float
        Coverage threshold, seconds.
    k : int
        New sites to open, >= 0. When fewer than ``k`` candidates can add anything, fewer are chosen.
    existing_time_s : ndarray, shape (D,), optional
        Seconds from the nearest existing station to each demand point.
    time_limit_s : float, optional
        Stop CBC after this long; the result's ``status`` then says ``feasible`` instead of ``optimal``.

    Returns
    -------
    SitingResult
        ``objective`` is the covered weight, existing coverage included (as in spopt's MCLP with
        predefined facilities and ``p = k + number of existing``).
    """
    started = time.perf_counter()
    cover, w, base = _inputs(travel_time_s, weights, threshold_s, existing_time_s)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise SitingError(f"k must be a whole number >= 0, got {k!r}")
    rows, row_w, cols = _reduce(cover, w, base)
    picked: list[int] = []
    status = "optimal"
    if k > 0 and len(cols):
        picked, status = _solve_mclp(rows, row_w, cols, k, time_limit_s)
    return _result("mclp", cover, w, base, picked, status, started, rows.shape, objective=None)


def lscp_solve(
    travel_time_s: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    *,
    threshold_s: float,
    required_share: float = 1.0,
    existing_time_s: np.ndarray | None = None,
    time_limit_s: float | None = None,
) -> SitingResult:
    """Fewest new sites so that a required share of the demand weight is within the threshold.

    With ``required_share = 1`` this is the location set covering problem of Toregas, Swain, ReVelle
    and Bergman (1971), "The location of emergency service facilities", Operations Research 19(6):
    minimise ``sum_j x_j`` subject to ``sum_{j in N_i} x_j >= 1`` for every demand point not already
    covered. Below 1 it is the partial set covering problem (Daskin and Owen 1999): demand variables
    ``0 <= y_i <= sum_{j in N_i} x_j`` and ``sum_i w_i y_i >= share * total - covered by existing``.
    Among the fewest-site answers the one covering the most weight is returned (an MCLP with ``k`` set
    to that number, solved second).

    Parameters
    ----------
    travel_time_s, weights, threshold_s, existing_time_s, time_limit_s
        As in :func:`mclp_solve`.
    required_share : float
        Share of all demand weight (0 < share <= 1) that must end up within the threshold.

    Returns
    -------
    SitingResult
        ``objective`` is the number of new sites.

    Raises
    ------
    InfeasibleCoverageError
        Existing stations plus every candidate still leave more than ``1 - required_share`` outside.
    """
    started = time.perf_counter()
    cover, w, base = _inputs(travel_time_s, weights, threshold_s, existing_time_s)
    if not (isinstance(required_share, float | int) and 0 < required_share <= 1):
        raise SitingError(f"required_share must be in (0, 1], got {required_share!r}")
    total = float(w.sum())
    reachable = base | cover.any(axis=1)
    achievable = float(w[reachable].sum())
    needed = required_share * total - 1e-9 * max(total, 1.0)
    if achievable < needed or (required_share == 1 and not reachable[w > 0].all()):
        raise InfeasibleCoverageError(required_share=float(required_share), achievable_share=achievable / total)
    rows, row_w, cols = _reduce(cover, w, base)
    still_needed = needed - float(w[base].sum())
    status = "optimal"
    picked: list[int] = []
    if still_needed > 0:
        n_sites, status = _solve_lscp(rows, row_w, cols, still_needed, full=required_share == 1, limit=time_limit_s)
        picked, mclp_status = _solve_mclp(rows, row_w, cols, n_sites, time_limit_s)
        status = status if mclp_status == "optimal" else mclp_status
    return _result("lscp", cover, w, base, picked, status, started, rows.shape, objective=float(len(picked)))


def greedy_order(
    cover: np.ndarray, weights: np.ndarray, base: np.ndarray, chosen: Sequence[int]
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Order chosen sites by marginal gain: each next one adds the most weight not yet covered.

    Parameters
    ----------
    cover : ndarray of bool, shape (D, C)
    weights : ndarray, shape (D,)
    base : ndarray of bool, shape (D,)
        Demand covered before any chosen site opens.
    chosen : sequence of int
        Column indices to order.

    Returns
    -------
    tuple
        ``(order, gains)``; ties go to the lower column index.
    """
    covered = base.copy()
    left = sorted(int(j) for j in chosen)
    order: list[int] = []
    gains: list[float] = []
    while left:
        adds = [float(weights[cover[:, j] & ~covered].sum()) for j in left]
        best = int(np.argmax(adds))
        j = left.pop(best)
        order.append(j)
        gains.append(adds[best])
        covered |= cover[:, j]
    return tuple(order), tuple(gains)


def moveup_rank(
    unit_time_s: np.ndarray,
    station_time_s: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    *,
    threshold_s: float,
    fixed_time_s: np.ndarray | None = None,
    top: int = 10,
) -> list[MoveUp]:
    """Rank single move-ups (one available unit to one station) by the demand weight covered after.

    Coverage after moving unit ``u`` to station ``s`` is what the other units (and any fixed cover)
    reach plus what ``s`` reaches. All pairs are scored at once: ``covered[u, s] = w . still[u] +
    ((1 - still[u]) * w) . cover_s[:, s]`` with ``still[u]`` the demand covered without ``u``.

    Parameters
    ----------
    unit_time_s : ndarray, shape (D, U)
        Seconds from each available unit's position to each demand point.
    station_time_s : ndarray, shape (D, S)
        Seconds from each station a unit may move to.
    weights : shape (D,)
        Demand weight.
    threshold_s : float
        Coverage threshold, seconds.
    fixed_time_s : ndarray, shape (D,), optional
        Cover that does not move (other agencies' units, units not offered for moving).
    top : int
        Largest number of suggestions returned.

    Returns
    -------
    list of MoveUp
        Only moves that strictly increase coverage, best first; ties go to the lower unit, then station.
    """
    w = _weights(weights, np.asarray(unit_time_s).shape[0])
    units = coverage_mask(unit_time_s, threshold_s).reshape(len(w), -1)
    stations = coverage_mask(station_time_s, threshold_s).reshape(len(w), -1)
    fixed = np.zeros(len(w), bool) if fixed_time_s is None else coverage_mask(fixed_time_s, threshold_s).reshape(-1)
    if stations.shape[0] != len(w) or fixed.shape[0] != len(w):
        raise SitingError("unit, station and fixed travel times must all have one row per demand point")
    count = units.sum(axis=1) + fixed
    current = float(w[count > 0].sum())
    still = (count[:, None] - units) > 0  # (D, U): covered without unit u
    covered = (w @ still)[:, None] + ((~still) * w[:, None]).T @ stations
    gain = covered - current
    flat = np.flatnonzero(gain.ravel() > 1e-9 * max(current, 1.0))
    order = flat[np.lexsort((flat, -gain.ravel()[flat]))][:top]
    n_stations = stations.shape[1]
    flat_covered, flat_gain = covered.ravel(), gain.ravel()
    return [
        MoveUp(int(i // n_stations), int(i % n_stations), float(flat_covered[i]), float(flat_gain[i])) for i in order
    ]


# ----------------------------------------------------------------------------- internals


def _weights(weights: Sequence[float] | np.ndarray, n_rows: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(w) != n_rows:
        raise SitingError(f"{len(w)} weights for {n_rows} demand points")
    if not (np.isfinite(w) & (w >= 0)).all():
        raise SitingError("weights must be finite and >= 0")
    return w


def _inputs(
    travel_time_s: np.ndarray, weights: Sequence[float] | np.ndarray, threshold_s: float, existing: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    times = np.asarray(travel_time_s, dtype=np.float64)
    if times.ndim != 2:
        raise SitingError(f"travel_time_s must be a 2-d demand x site matrix, got shape {times.shape}")
    if (times < 0).any():
        raise SitingError("travel times must be >= 0")
    cover = coverage_mask(times, threshold_s)
    w = _weights(weights, times.shape[0])
    if existing is None:
        base = np.zeros(len(w), dtype=bool)
    else:
        existing = np.asarray(existing, dtype=np.float64).reshape(-1)
        if len(existing) != len(w):
            raise SitingError(f"existing_time_s has {len(existing)} values for {len(w)} demand points")
        base = coverage_mask(existing, threshold_s)
    return cover, w, base


def _reduce(cover: np.ndarray, w: np.ndarray, base: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Open demand rows (merged by identical cover pattern) x useful candidate columns, as a CSR matrix."""
    open_rows = np.flatnonzero(~base & (w > 0) & cover.any(axis=1))
    cols = np.flatnonzero(cover[open_rows].any(axis=0)) if len(open_rows) else np.empty(0, dtype=np.intp)
    sub = cover[np.ix_(open_rows, cols)]
    if len(open_rows):
        packed = np.packbits(sub, axis=1)
        _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
        row_w: np.ndarray = np.bincount(inverse.reshape(-1), weights=w[open_rows], minlength=len(first))
        sub = sub[first]
    else:
        row_w = np.empty(0)
    return sparse.csr_matrix(sub), row_w, cols


def _solver(time_limit_s: float | None, *, warm: bool = False) -> pulp.LpSolver:
    # The CBC binary bundled in PuLP 3 wheels: nothing to install beside the package (PuLP 4 unbundles it).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, gapRel=0.0, warmStart=warm)


def _solve_mclp(
    rows: sparse.csr_matrix, row_w: np.ndarray, cols: np.ndarray, k: int, limit: float | None
) -> tuple[list[int], str]:
    if k >= len(cols):  # every useful candidate fits: nothing to choose
        return [int(j) for j in cols], "optimal"
    greedy = _greedy_columns(rows, row_w, k)
    if rows[:, greedy].sum(axis=1).min() > 0:  # k sites already reach every coverable point: optimal, no MIP
        return [int(cols[j]) for j in greedy], "optimal"
    problem = pulp.LpProblem("mclp", pulp.LpMaximize)
    x = [problem.add_variable(f"x{j}", cat=pulp.LpBinary) for j in range(len(cols))]
    y = [problem.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(len(row_w))]
    problem += pulp.LpAffineExpression(zip(y, row_w.tolist(), strict=True))
    _add_cover_rows(problem, rows, x, y)
    problem += pulp.LpAffineExpression((v, 1) for v in x) <= k
    # The greedy answer is CBC's first incumbent: a good lower bound from the start.
    covered = rows[:, greedy].sum(axis=1).A1 > 0
    start = set(greedy)
    for j, v in enumerate(x):
        v.setInitialValue(1 if j in start else 0)
    for i, v in enumerate(y):
        v.setInitialValue(1 if covered[i] else 0)
    problem.solve(_solver(limit, warm=True))
    return _picked(problem, x, cols)


def _greedy_columns(rows: sparse.csr_matrix, row_w: np.ndarray, k: int) -> list[int]:
    """Up to ``k`` columns, each adding the most uncovered row weight; stops when nothing is left to add."""
    by_col = rows.tocsc().astype(np.float64)
    uncovered = np.ones(rows.shape[0], dtype=bool)
    picked: list[int] = []
    for _ in range(k):
        gains = by_col.T @ (row_w * uncovered)
        best = int(np.argmax(gains))
        if gains[best] <= 0:
            break
        picked.append(best)
        uncovered[by_col[:, best].nonzero()[0]] = False
    return picked


def _solve_lscp(
    rows: sparse.csr_matrix, row_w: np.ndarray, cols: np.ndarray, needed: float, *, full: bool, limit: float | None
) -> tuple[int, str]:
    problem = pulp.LpProblem("lscp", pulp.LpMinimize)
    x = [problem.add_variable(f"x{j}", cat=pulp.LpBinary) for j in range(len(cols))]
    problem += pulp.LpAffineExpression((v, 1) for v in x)
    if full:
        _add_cover_rows(problem, rows, x, None)
    else:
        y = [problem.add_variable(f"y{i}", lowBound=0, upBound=1) for i in range(len(row_w))]
        _add_cover_rows(problem, rows, x, y)
        problem += pulp.LpAffineExpression(zip(y, row_w.tolist(), strict=True)) >= needed
    problem.solve(_solver(limit))
    picked, status = _picked(problem, x, cols)
    return len(picked), status


def _add_cover_rows(problem: pulp.LpProblem, rows: sparse.csr_matrix, x: list, y: list | None) -> None:
    """``sum_{j in N_i} x_j - y_i >= 0`` per row (``>= 1`` without ``y``), built term lists directly."""
    for i in range(rows.shape[0]):
        terms = [(x[j], 1) for j in rows.indices[rows.indptr[i] : rows.indptr[i + 1]]]
        if y is None:
            problem += pulp.LpConstraint(pulp.LpAffineExpression(terms), sense=pulp.LpConstraintGE, rhs=1)
        else:
            terms.append((y[i], -1))
            problem += pulp.LpConstraint(pulp.LpAffineExpression(terms), sense=pulp.LpConstraintGE, rhs=0)


def _picked(problem: pulp.LpProblem, x: list, cols: np.ndarray) -> tuple[list[int], str]:
    status = _CBC_STATUS.get(problem.sol_status, pulp.LpStatus.get(problem.status, "unknown").lower())
    if status not in {"optimal", "feasible"}:
        raise SitingError(f"the solver found no solution (CBC status: {status})")
    return [int(cols[j]) for j, v in enumerate(x) if (v.value() or 0) > 0.5], status


def _result(
    model: str,
    cover: np.ndarray,
    w: np.ndarray,
    base: np.ndarray,
    picked: list[int],
    status: str,
    started: float,
    shape: tuple[int, int],
    *,
    objective: float | None,
) -> SitingResult:
    order, gains = greedy_order(cover, w, base, picked)
    after = base | (cover[:, list(order)].any(axis=1) if order else np.zeros(len(w), bool))
    covered_after = float(w[after].sum())
    return SitingResult(
        model=model,
        chosen=order,
        gains=gains,
        covered_before=float(w[base].sum()),
        covered_after=covered_after,
        total=float(w.sum()),
        objective=covered_after if objective is None else objective,
        status=status,
        solve_s=time.perf_counter() - started,
        n_rows=shape[0],
        n_cols=shape[1],
    )
