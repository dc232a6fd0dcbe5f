"""Exact nearest-segment search through a uniform grid of candidate lists, vectorised in numpy.

Why not only the STRtree: a Dijkstra over the whole city runs between two snapping calls and
evicts the caches, and an STRtree query then chases pointers through tens of thousands of GEOS
geometries scattered over the heap. Here a query reads one short run of candidate ids per point
and one packed row per candidate, all from a few contiguous arrays.

Why the answer is exact: a cell with centre ``c`` and half-diagonal ``h`` lists every segment within
``reach_m`` of ``c``. For a point ``p`` in the cell, an unlisted segment ``s`` has
``d(p, s) >= d(c, s) - h > reach_m - h``; so when the best listed segment lies within
``reach_m - h`` of ``p``, no unlisted one can be nearer. Other points (farther from every road, or
off the grid) come back unsettled for the caller to resolve another way. Pure code: no Django.
"""

from __future__ import annotations

import itertools

import numpy as np
import shapely

from gis_core.routing.graph import morton_order

# Columns of the packed per-segment rows.
_AX, _AY, _ABX, _ABY, _AB2, _SEG_M, _BEFORE_M, _LINE_M = range(8)
_CHUNK = 1 << 17


class SegmentGrid:
    """Nearest line, position along it and distance, for points in a metric CRS.

    Parameters
    ----------
    lines : ndarray of LineString
        The lines, in a metric CRS (metres).
    cell_m : float
        Cell side, metres: smaller cells list fewer candidates but take more memory.
    exact_within_m : float
        Points up to this far from their nearest line are answered by the grid, metres.
    """

    def __init__(self, lines: np.ndarray, *, cell_m: float = 60.0, exact_within_m: float = 100.0):
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        inner = np.flatnonzero(owner[1:] == owner[:-1])
        a, ab, line = coords[inner], coords[inner + 1] - coords[inner], owner[inner]
        seg_m = np.hypot(ab[:, 0], ab[:, 1])
        cum = np.cumsum(seg_m)
        first = np.ones(len(inner), dtype=bool)
        first[1:] = line[1:] != line[:-1]
        before_m = cum - seg_m - np.maximum.accumulate(np.where(first, cum - seg_m, 0.0))
        line_m = np.bincount(line, weights=seg_m, minlength=len(lines))
        # Segments in Morton order of their midpoints: a cell's candidates sit close in memory.
        order = morton_order(a + ab / 2)
        a, ab, line, seg_m, before_m = a[order], ab[order], line[order], seg_m[order], before_m[order]
        self._rows = np.column_stack([a, ab, np.einsum("ij,ij->i", ab, ab), seg_m, before_m, line_m[line]])
        self._line = line
        self._cell_m = cell_m
        self._exact_m = exact_within_m
        self._lo = coords.min(axis=0) - cell_m
        self._shape = np.ceil((coords.max(axis=0) + cell_m - self._lo) / cell_m).astype(np.intp)
        self._ptr, self._cand = self._candidates(a, ab, seg_m, reach_m=exact_within_m + cell_m * np.sqrt(0.5))

    def _candidates(
        self, a: np.ndarray, ab: np.ndarray, seg_m: np.ndarray, *, reach_m: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """CSR of (cell -> segments within ``reach_m`` of its centre), segment ids ascending per cell."""
        # Cells whose centre lies in the segment's box grown by reach_m, then the exact distance; in
        # chunks of about _CHUNK candidates, which keeps the temporaries small and in cache.
        b = a + ab
        low = np.ceil((np.minimum(a, b) - reach_m - self._lo) / self._cell_m - 0.5).astype(np.intp)
        high = np.floor((np.maximum(a, b) + reach_m - self._lo) / self._cell_m - 0.5).astype(np.intp)
        low, high = np.maximum(low, 0), np.minimum(high, self._shape - 1)
        span = np.maximum(high - low + 1, 0)
        count = span[:, 0] * span[:, 1]
        bounds = np.searchsorted(np.cumsum(count), np.arange(_CHUNK, count.sum() + _CHUNK, _CHUNK), side="right")
        cells, segs = [], []
        for first, stop in itertools.pairwise([0, *bounds.tolist()]):  # the last bound is len(a)
            if stop <= first:
                continue
            part = np.arange(first, stop)
            seg = np.repeat(part, count[part])
            local = np.arange(len(seg)) - (np.cumsum(count[part]) - count[part])[seg - first]
            ix = low[seg, 0] + local % span[seg, 0]
            iy = low[seg, 1] + local // span[seg, 0]
            centre = self._lo + (np.column_stack([ix, iy]) + 0.5) * self._cell_m
            near = np.flatnonzero(_distance_m(centre, a[seg], ab[seg], self._rows[seg, _AB2]) <= reach_m + 1e-6)
            cells.append(iy[near] * self._shape[0] + ix[near])
            segs.append(seg[near])
        cell, seg = np.concatenate([np.empty(0, np.intp), *cells]), np.concatenate([np.empty(0, np.intp), *segs])
        order = np.argsort(cell, kind="stable")  # segments were listed in ascending order: they stay so
        n_cells = int(self._shape[0] * self._shape[1])
        ptr = np.zeros(n_cells + 1, dtype=np.intp)
        np.cumsum(np.bincount(cell, minlength=n_cells), out=ptr[1:])
        return ptr, seg[order].astype(np.int32)

    def nearest(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Nearest line of each point.

        Parameters
        ----------
        xy : ndarray, shape (K, 2)
            Points in the lines' CRS.

        Returns
        -------
        line : ndarray of intp, shape (K,)
            Index into ``lines``.
        fraction : ndarray, shape (K,)
            Position of the nearest point along that line, 0 to 1.
        distance_m : ndarray, shape (K,)
            Distance to it, metres.
        settled : ndarray of bool, shape (K,)
            False where the grid cannot vouch for the answer (off the grid, or farther than
            ``exact_within_m`` from every line); the other outputs hold placeholders there.
        """
        if not len(self._cand):
            return np.zeros(len(xy), dtype=np.intp), np.zeros(len(xy)), np.zeros(len(xy)), np.zeros(len(xy), dtype=bool)
        ij = np.floor((xy - self._lo) / self._cell_m).astype(np.intp)
        in_grid = (ij[:, 0] >= 0) & (ij[:, 1] >= 0) & (ij[:, 0] < self._shape[0]) & (ij[:, 1] < self._shape[1])
        cell = np.where(in_grid, ij[:, 1] * self._shape[0] + ij[:, 0], -1)
        start = self._ptr[cell]
        count = np.where(in_grid, self._ptr[cell + 1] - start, 0)
        has_any = count > 0
        count = np.maximum(count, 1)  # an unsettled point still gets one (placeholder) candidate
        owner = np.repeat(np.arange(len(xy)), count)
        first = np.cumsum(count) - count
        seg = self._cand[np.minimum(np.arange(len(owner)) - first[owner] + start[owner], len(self._cand) - 1)]
        row = self._rows[seg]
        ap_x, ap_y = xy[owner, 0] - row[:, _AX], xy[owner, 1] - row[:, _AY]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(row[:, _AB2] > 0, (ap_x * row[:, _ABX] + ap_y * row[:, _ABY]) / row[:, _AB2], 0.0)
        t = np.minimum(np.maximum(t, 0.0), 1.0)  # np.clip costs several times more on short arrays
        dist_m = np.hypot(ap_x - t * row[:, _ABX], ap_y - t * row[:, _ABY])
        best_m = np.minimum.reduceat(dist_m, first)
        hits = np.flatnonzero(dist_m == best_m[owner])
        first_hit = np.ones(len(hits), dtype=bool)  # hits run in candidate order, grouped by point
        first_hit[1:] = owner[hits[1:]] != owner[hits[:-1]]
        pick = hits[first_hit]
        along_m = row[pick, _BEFORE_M] + t[pick] * row[pick, _SEG_M]
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(row[pick, _LINE_M] > 0, along_m / row[pick, _LINE_M], 0.0)
        settled = has_any & (dist_m[pick] <= self._exact_m)
        return self._line[seg[pick]], np.minimum(np.maximum(fraction, 0.0), 1.0), dist_m[pick], settled


def _distance_m(xy: np.ndarray, a: np.ndarray, ab: np.ndarray, ab2: np.ndarray) -> np.ndarray:
    """Distance from each point to the segment ``a -> a + ab`` in the same row, metres."""
    ap = xy - a
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip(np.where(ab2 > 0, np.einsum("ij,ij->i", ap, ab) / ab2, 0.0), 0.0, 1.0)
    return np.hypot(ap[:, 0] - t * ab[:, 0], ap[:, 1] - t * ab[:, 1])
