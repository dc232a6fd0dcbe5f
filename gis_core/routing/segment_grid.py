"""Exact nearest-segment search through a uniform grid of candidate lists, vectorised in numpy.

Why not only the STRtree: a Dijkstra over the whole city runs between two snapping calls and
evicts the caches, and an STRtree query then chases pointers through tens of thousands of GEOS
geometries scattered over the heap. Here a query reads one short run of candidate ids per point
and one packed row per candidate, all from a few contiguous arrays.

Why the answer is exact: for a cell with centre ``c`` and half-diagonal ``h``, and any point ``p``
in it, the nearest-segment distance ``d*(p) <= d(c) + h``, while a segment ``s`` with
``d(c, s) > d(c) + 2h`` has ``d(p, s) >= d(c, s) - h > d*(p)``. So a cell lists every segment
within ``U(c) + 2h`` of its centre, for an upper bound ``U(c) >= d(c)`` (the nearest point sampled
along the roads). Cells far from every road list nothing; their points, like points off the grid,
come back unsettled for the caller to resolve another way. Pure code: no Django.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

# Columns of the packed per-segment rows.
_AX, _AY, _ABX, _ABY, _AB2, _SEG_M, _BEFORE_M, _LINE_M = range(8)


class SegmentGrid:
    """Nearest line, position along it and distance, for points in a metric CRS.

    Parameters
    ----------
    lines : ndarray of LineString
        The lines, in a metric CRS (metres).
    cell_m : float
        Cell side, metres: smaller cells list fewer candidates but take more memory.
    far_m : float
        Cells whose centre lies farther than this from every line list no candidates, metres.
    """

    def __init__(self, lines: np.ndarray, *, cell_m: float = 60.0, far_m: float = 300.0):
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        inner = np.flatnonzero(owner[1:] == owner[:-1])
        a, ab, line = coords[inner], coords[inner + 1] - coords[inner], owner[inner]
        seg_m = np.hypot(ab[:, 0], ab[:, 1])
        cum = np.cumsum(seg_m)
        first = np.ones(len(inner), dtype=bool)
        first[1:] = line[1:] != line[:-1]
        before_m = cum - seg_m - np.maximum.accumulate(np.where(first, cum - seg_m, 0.0))
        line_m = np.bincount(line, weights=seg_m, minlength=len(lines))
        self._rows = np.column_stack([a, ab, np.einsum("ij,ij->i", ab, ab), seg_m, before_m, line_m[line]])
        self._line = line
        self._cell_m = cell_m
        self._lo = coords.min(axis=0) - cell_m
        self._shape = np.ceil((coords.max(axis=0) + cell_m - self._lo) / cell_m).astype(np.intp)
        self._ptr, self._cand = self._candidates(a, ab, seg_m, far_m)

    def _candidates(self, a: np.ndarray, ab: np.ndarray, seg_m: np.ndarray, far_m: float) -> tuple[np.ndarray, ...]:
        n_x, n_y = self._shape
        ix, iy = np.meshgrid(np.arange(n_x), np.arange(n_y))
        centre = self._lo + (np.column_stack([ix.ravel(), iy.ravel()]) + 0.5) * self._cell_m  # cell iy * n_x + ix
        # Points every cell_m / 2 along the segments: the nearest one bounds d(c) from above.
        n_samples = np.maximum(np.ceil(seg_m / (self._cell_m / 2)), 1).astype(np.intp) + 1
        seg_of = np.repeat(np.arange(len(a)), n_samples)
        start = np.cumsum(n_samples) - n_samples
        t = (np.arange(len(seg_of)) - start[seg_of]) / (n_samples[seg_of] - 1)
        upper_m, _ = cKDTree(a[seg_of] + t[:, None] * ab[seg_of]).query(centre, k=1)
        near = np.flatnonzero(upper_m <= far_m)
        reach_m = upper_m[near] + 2 * self._cell_m * np.sqrt(0.5) + 1e-6
        segments = shapely.STRtree(shapely.linestrings(np.stack([a, a + ab], axis=1)))
        hit, seg = segments.query(shapely.points(centre[near]), predicate="dwithin", distance=reach_m)
        cell = near[hit]
        order = np.lexsort((seg, cell))  # by cell, then segment id: a tie goes to the lower id
        ptr = np.zeros(len(centre) + 1, dtype=np.intp)
        np.cumsum(np.bincount(cell, minlength=len(centre)), out=ptr[1:])
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
            False where the grid cannot answer (off the grid, or far from every line); the other
            outputs hold placeholders there.
        """
        if not len(self._cand):
            return np.zeros(len(xy), dtype=np.intp), np.zeros(len(xy)), np.zeros(len(xy)), np.zeros(len(xy), dtype=bool)
        ij = np.floor((xy - self._lo) / self._cell_m).astype(np.intp)
        cell = np.where(((ij >= 0) & (ij < self._shape)).all(axis=1), ij[:, 1] * self._shape[0] + ij[:, 0], -1)
        start = self._ptr[cell]
        count = np.where(cell >= 0, self._ptr[cell + 1] - start, 0)
        settled = count > 0
        count = np.maximum(count, 1)  # an unsettled point still gets one (placeholder) candidate
        owner = np.repeat(np.arange(len(xy)), count)
        first = np.cumsum(count) - count
        seg = self._cand[np.minimum(np.arange(len(owner)) - first[owner] + start[owner], len(self._cand) - 1)]
        row = self._rows[seg]
        ap_x, ap_y = xy[owner, 0] - row[:, _AX], xy[owner, 1] - row[:, _AY]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(row[:, _AB2] > 0, (ap_x * row[:, _ABX] + ap_y * row[:, _ABY]) / row[:, _AB2], 0.0)
        t = np.clip(t, 0.0, 1.0)
        dist_m = np.hypot(ap_x - t * row[:, _ABX], ap_y - t * row[:, _ABY])
        best_m = np.minimum.reduceat(dist_m, first)
        hits = np.flatnonzero(dist_m == best_m[owner])
        pick = hits[np.unique(owner[hits], return_index=True)[1]]  # the first best candidate per point
        along_m = row[pick, _BEFORE_M] + t[pick] * row[pick, _SEG_M]
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(row[pick, _LINE_M] > 0, along_m / row[pick, _LINE_M], 0.0)
        return self._line[seg[pick]], np.clip(fraction, 0.0, 1.0), dist_m[pick], settled
