"""Searches that touch only the part of the network a time limit can reach.

``scipy.sparse.csgraph.dijkstra`` honours a ``limit`` but still pays for the whole graph on every
call (it allocates and fills arrays of N nodes and checks every weight). On a province network of
10^6 nodes that alone costs more than the search. A time limit ``L`` also bounds space: no edge is
faster than ``v_max`` (its straight node-to-node distance over its time, the largest over the
weights in use), so every node reached within ``L`` lies within ``L * v_max`` metres of a node the
search starts from, and so does every node on its path. :class:`BoundedSearch` cuts that disc out
of the adjacency (a grid of node cells finds it), runs the same Dijkstra on the cut-out graph and
keeps the answer exact: a node within ``L`` has the same time as on the whole graph, a node beyond
it is ``inf``, just as with ``limit`` on the whole graph.

Nothing is precomputed beyond the node grid and ``v_max`` (one pass over the weights), so a variant
with other weights (closures, slowed edges, a vehicle profile) builds its own in well under a second
at 10^5 nodes (about 3 s with its adjacency at 10^6). A contraction hierarchy (pandana's C++ CH)
answers node-to-node queries faster, but it must be contracted again for every weights vector (each
closure set, each profile), which costs far more than that at 10^6 nodes, and it has no virtual
source with partial edges: each of 50 units would need up to four node-to-node queries.
Pure code: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gis_core.routing.graph import Adjacency
from gis_core.routing.links import Links

# Nodes per grid cell, on average: small cells cut the disc closely, large ones keep the lookup cheap.
_NODES_PER_CELL = 32
# A cut-out holding more than this share of the nodes costs more to cut (numpy passes over its edges)
# than the whole-graph search spends on nodes it never reaches: then search the whole graph. Measured
# on grid-90k and grid-1m (bench/routing.py).
_WHOLE_GRAPH_SHARE = 0.1
# Whole-array pointer-jumping rounds before the targets climb alone (as in ``search``).
_FULL_JUMP_ROUNDS = 4


@dataclass(frozen=True, eq=False)
class LocalSearch:
    """Result of one search on a cut-out (or the whole) graph.

    Attributes
    ----------
    nodes : ndarray of intp
        Global index of each local node.
    sorted_nodes, sorted_local : ndarray of intp
        ``nodes`` sorted, and the local position of each, to look global nodes up.
    dist_s : ndarray, shape (n + 1,)
        Seconds from (or, reversed, to) the point per local node; the last entry is the virtual node.
    pred : ndarray of int32, shape (n + 1,)
        Predecessor per local node; ``n`` for nodes linked straight to the point, -9999 for roots.
    length_m : ndarray, shape (n + 1,)
        Length of the tree edge into each local node, metres (0 for roots).
    limit_s : float
        The search's time limit: every node within it has its exact time, every other is ``inf``.
    """

    nodes: np.ndarray
    sorted_nodes: np.ndarray
    sorted_local: np.ndarray
    dist_s: np.ndarray
    pred: np.ndarray
    length_m: np.ndarray
    limit_s: float

    def local(self, nodes: np.ndarray) -> np.ndarray:
        """Local positions of global ``nodes`` (any shape); -1 for nodes outside the cut-out."""
        at = np.searchsorted(self.sorted_nodes, nodes)
        at = np.minimum(at, len(self.sorted_nodes) - 1)
        found = self.sorted_nodes[at] == nodes
        local: np.ndarray = np.where(found, self.sorted_local[at], -1)
        return local

    def dist_at(self, nodes: np.ndarray) -> np.ndarray:
        """Seconds at global ``nodes`` (any shape); ``inf`` for nodes outside the cut-out."""
        loc = self.local(nodes)
        return np.where(loc >= 0, self.dist_s[np.maximum(loc, 0)], np.inf)

    def lengths_to(self, targets: np.ndarray) -> np.ndarray:
        """Network length from the point to each reached global target node along the tree, metres."""
        loc = self.local(targets)
        if (loc < 0).any():
            raise ValueError("a target is outside the searched area")
        return tree_lengths(self.pred, self.length_m, loc)


class BoundedSearch:
    """Dijkstra from a point on the part of the network that a time limit can reach.

    Parameters
    ----------
    node_xy_m : ndarray, shape (N, 2)
        Node positions in a metric CRS.
    adjacency : Adjacency
        The search adjacency (forward, or reversed for searches towards a point).

    Notes
    -----
    Not thread-safe on its own: :meth:`search` uses a scratch array; the caller holds a lock.
    """

    def __init__(self, node_xy_m: np.ndarray, adjacency: Adjacency):
        self.n = len(adjacency.indptr) - 1
        self.adj = adjacency
        self.xy = np.ascontiguousarray(node_xy_m, dtype=np.float64)
        self.v_max_mps = max_speed_mps(self.xy, adjacency)
        self._rows = np.repeat(np.arange(self.n, dtype=np.int32), np.diff(adjacency.indptr))
        lo = self.xy.min(axis=0) if self.n else np.zeros(2)
        hi = self.xy.max(axis=0) if self.n else np.zeros(2)
        extent = np.maximum(hi - lo, 1.0)
        self.cell_m = float(max(np.sqrt(extent[0] * extent[1] * _NODES_PER_CELL / max(self.n, 1)), 1.0))
        self.origin_xy = lo
        self.n_cols = int(extent[0] // self.cell_m) + 1
        self.n_rows = int(extent[1] // self.cell_m) + 1
        cx = ((self.xy[:, 0] - lo[0]) // self.cell_m).astype(np.int64)
        cy = ((self.xy[:, 1] - lo[1]) // self.cell_m).astype(np.int64)
        key = cy * self.n_cols + cx
        self._order = np.argsort(key, kind="stable").astype(np.intp)
        self._keys = key[self._order]
        self._scratch = np.full(self.n + 1, -1, dtype=np.int32)

    def search(self, slots: Links, limit_s: float) -> LocalSearch | None:
        """Search from the point whose two links are ``slots`` (shape (1, 2)) up to ``limit_s`` seconds.

        Returns ``None`` when the reachable disc holds most of the graph (or no bound applies), so the
        caller searches the whole graph instead.
        """
        open_ = np.isfinite(slots.time_s[0])
        if not open_.any():
            return None
        if not (np.isfinite(limit_s) and np.isfinite(self.v_max_mps)):
            return None
        radius_m = limit_s * self.v_max_mps * (1 + 1e-9) + 1e-6
        starts = slots.node[0][open_].astype(np.intp)
        nodes = self._nodes_within(self.xy[starts], radius_m)
        if nodes is None or len(nodes) > _WHOLE_GRAPH_SHARE * self.n:
            return None
        return self._run(nodes, slots, limit_s)

    def _nodes_within(self, centres: np.ndarray, radius_m: float) -> np.ndarray | None:
        """Nodes within ``radius_m`` of any centre, through the cell grid; ``None`` if that is most cells."""
        lo = centres.min(axis=0) - radius_m - self.origin_xy
        hi = centres.max(axis=0) + radius_m - self.origin_xy
        c0 = max(int(lo[0] // self.cell_m), 0)
        c1 = min(int(hi[0] // self.cell_m), self.n_cols - 1)
        r0 = max(int(lo[1] // self.cell_m), 0)
        r1 = min(int(hi[1] // self.cell_m), self.n_rows - 1)
        if c1 < c0 or r1 < r0:
            return np.empty(0, dtype=np.intp)
        if (c1 - c0 + 1) * (r1 - r0 + 1) > _WHOLE_GRAPH_SHARE * self.n_cols * self.n_rows * 1.5:
            return None
        rows = np.arange(r0, r1 + 1, dtype=np.int64) * self.n_cols
        begin = np.searchsorted(self._keys, rows + c0, side="left")
        end = np.searchsorted(self._keys, rows + c1, side="right")
        counts = end - begin
        total = int(counts.sum())
        offsets = np.repeat(begin - np.cumsum(counts) + counts, counts)
        candidates = self._order[offsets + np.arange(total)]
        xy = self.xy[candidates]
        near = np.zeros(total, dtype=bool)
        for c in centres:
            near |= ((xy - c) ** 2).sum(axis=1) <= radius_m * radius_m
        return candidates[near]

    def _run(self, nodes: np.ndarray, slots: Links, limit_s: float) -> LocalSearch:
        adj, n_loc = self.adj, len(nodes)
        scratch = self._scratch
        scratch[nodes] = np.arange(n_loc, dtype=np.int32)
        try:
            begin = adj.indptr[nodes]
            counts = adj.indptr[nodes + 1] - begin
            total = int(counts.sum())
            at = np.repeat(begin - np.cumsum(counts) + counts, counts) + np.arange(total)
            cols = scratch[adj.indices[at]]
            keep = cols >= 0
            rows = np.repeat(np.arange(n_loc, dtype=np.int32), counts)[keep]
            cols, at = cols[keep], at[keep]
            # The virtual node: the faster slot last, so it wins when both slots reach one node.
            slot_order = np.argsort(-np.where(np.isfinite(slots.time_s[0]), slots.time_s[0], np.inf))
            slot_nodes = scratch[slots.node[0][slot_order]]
            slot_time = slots.time_s[0][slot_order]
            open_ = np.isfinite(slot_time) & (slot_nodes >= 0)
            slot_col = np.where(open_, slot_nodes, n_loc).astype(np.int32)
        finally:
            scratch[nodes] = -1
        all_rows = np.concatenate([rows, np.full(2, n_loc, dtype=np.int32)])
        all_cols = np.concatenate([cols, slot_col])
        lengths = np.concatenate([adj.length_m[at], np.where(open_, slots.length_m[0][slot_order], 0.0)])
        times = np.concatenate([adj.time_s[at], np.where(open_, slot_time, 0.0)])
        indptr = np.zeros(n_loc + 2, dtype=np.int32)
        np.cumsum(np.bincount(all_rows, minlength=n_loc + 1), out=indptr[1:])
        matrix = csr_matrix((times, all_cols, indptr), shape=(n_loc + 1, n_loc + 1), copy=False)
        dist_s, pred = dijkstra(matrix, indices=n_loc, return_predecessors=True, limit=limit_s)
        tree_len = np.zeros(n_loc + 1)
        tree = pred[all_cols] == all_rows
        tree_len[all_cols[tree]] = lengths[tree]  # later entries win: the faster slot, as intended
        tree_len[pred < 0] = 0.0
        order = np.argsort(nodes)
        return LocalSearch(
            nodes=nodes,
            sorted_nodes=nodes[order],
            sorted_local=order.astype(np.intp),
            dist_s=dist_s,
            pred=pred,
            length_m=tree_len,
            limit_s=limit_s,
        )


def max_speed_mps(node_xy_m: np.ndarray, adj: Adjacency) -> float:
    """The largest straight node-to-node distance per second over the adjacency's entries, m/s.

    ``inf`` when an entry of zero time joins two distinct positions (then no distance bound holds);
    0 for an empty graph.
    """
    if len(adj.indices) == 0:
        return 0.0
    rows = np.repeat(np.arange(len(adj.indptr) - 1), np.diff(adj.indptr))
    chord_m = np.hypot(*(node_xy_m[rows] - node_xy_m[adj.indices]).T)
    moving = chord_m > 0
    if (adj.time_s[moving] <= 0).any():
        return float("inf")
    if not moving.any():
        return 0.0
    return float((chord_m[moving] / adj.time_s[moving]).max())


def tree_lengths(pred: np.ndarray, edge_length_m: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Length from the root to each target along a predecessor tree, metres.

    ``pred`` has -9999 (or any negative value) at roots; ``edge_length_m[x]`` is the length of the
    tree edge into ``x``. A few whole-array pointer-jumping rounds, then only the targets climb.
    """
    reached = pred >= 0
    p = np.where(reached, pred, np.arange(len(pred)))
    acc = np.where(reached, edge_length_m, 0.0)
    for _ in range(_FULL_JUMP_ROUNDS):
        acc = acc + acc[p]
        p = p[p]
    total, at = acc[targets], p[targets]
    while not np.array_equal(up := p[at], at):
        total = total + acc[at]
        at = up
    return total
