"""Searches from a snapped point with ``scipy.sparse.csgraph.dijkstra``, and path lengths from the tree.

Both search matrices (forward, and reversed for searches towards a destination) carry one extra
virtual node, index N, whose row holds two reserved slots. A query writes the point's two links
onto the network into those slots and searches from N; explicit zero weights stay edges in
csgraph, so a point lying exactly on a node still works. Path lengths come from the predecessor
tree by pointer jumping, so no Python loop walks the graph per query. Pure code: no Django.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gis_core.routing.bounded import BoundedSearch, LocalSearch
from gis_core.routing.graph import Adjacency, RoadGraph, min_time_adjacency
from gis_core.routing.links import Links

# Whole-array pointer-jumping rounds before the targets climb alone (2**4 = 16 nodes per step):
# about the cheapest mix for city graphs of 20,000 to 100,000 nodes.
_FULL_JUMP_ROUNDS = 4


@dataclass(frozen=True, eq=False)
class Search:
    """Result of one search from the virtual node N.

    Attributes
    ----------
    dist_s : ndarray, shape (N + 1,)
        Seconds from (or, reversed, to) the point; ``inf`` where not reached.
    pred : ndarray of int32, shape (N + 1,)
        Predecessor in the search tree; N for nodes linked straight to the point, -9999 for roots.
    slots : Links
        The links written for this search, shape (1, 2).
    reverse : bool
        Whether the search ran on the reversed graph.
    """

    dist_s: np.ndarray
    pred: np.ndarray
    slots: Links
    reverse: bool

    def dist_at(self, nodes: np.ndarray) -> np.ndarray:
        """Seconds at ``nodes`` (any shape); ``inf`` where not reached."""
        at: np.ndarray = self.dist_s[nodes]
        return at


class NetworkSearch:
    """Dijkstra from one point (or several sources) over the fastest-edge adjacency of a graph.

    Parameters
    ----------
    graph : RoadGraph
        The network.

    Notes
    -----
    Safe to share between threads: writing the reserved slots and the search run under one lock.
    """

    def __init__(self, graph: RoadGraph):
        self.n = graph.n_nodes
        self.fwd = min_time_adjacency(graph)
        self.rev = min_time_adjacency(graph, reverse=True)
        self._fwd_csr = with_virtual_row(self.fwd, 2)
        self._rev_csr = with_virtual_row(self.rev, 2)
        # In-neighbour tables for path lengths: a forward search's tree edge p -> x is entry x -> p
        # of the reversed adjacency, and the other way round.
        self._fwd_in = _padded(self.rev)
        self._rev_in = _padded(self.fwd)
        self._node_index = np.arange(self.n + 1)
        self._bounded_fwd = BoundedSearch(graph.node_xy_m, self.fwd)
        self._bounded_rev = BoundedSearch(graph.node_xy_m, self.rev)
        self._lock = threading.Lock()

    @property
    def max_speed_mps(self) -> float:
        """Largest straight-line speed of any edge (forward and reversed alike), m/s; ``inf`` if unbounded."""
        return self._bounded_fwd.v_max_mps

    def bounded_search(
        self, slots: Links, *, reverse: bool, limit_s: float, whole_limit_s: float | None = None
    ) -> Search | LocalSearch:
        """Like :meth:`search`, on only the part of the graph ``limit_s`` can reach (:mod:`.bounded`).

        Where that part is most of the graph, the whole graph is searched instead, up to
        ``whole_limit_s`` (``limit_s`` by default); the answer says which (``LocalSearch`` or ``Search``).
        """
        bounded = self._bounded_rev if reverse else self._bounded_fwd
        with self._lock:
            local = bounded.search(slots, limit_s)
        if local is not None:
            return local
        return self.search(slots, reverse=reverse, limit_s=limit_s if whole_limit_s is None else whole_limit_s)

    def lengths_to(self, search: Search | LocalSearch, targets: np.ndarray) -> np.ndarray:
        """Network length from the point to each reached target node along the search tree, metres."""
        if isinstance(search, LocalSearch):
            return search.lengths_to(targets)
        return self.tree_lengths(search, targets)

    def search(self, slots: Links, *, reverse: bool, limit_s: float) -> Search:
        """Search from the point whose two links are ``slots`` (shape (1, 2)), up to ``limit_s`` seconds."""
        matrix = self._rev_csr if reverse else self._fwd_csr
        open_ = np.isfinite(slots.time_s[0])
        node = np.where(open_, slots.node[0], self.n)  # a closed link becomes an idle self-loop
        weight = np.where(open_, slots.time_s[0], 0.0)
        with self._lock:
            matrix.indices[-2:] = node
            matrix.data[-2:] = weight
            dist_s, pred = dijkstra(matrix, indices=self.n, return_predecessors=True, limit=limit_s)
        return Search(dist_s, pred, slots, reverse)

    def node_times(self, node: np.ndarray, time_s: np.ndarray, *, limit_s: float) -> np.ndarray:
        """Forward time from the nearest of several sources to every node, shape (N,).

        ``node`` and ``time_s`` list each source's links (flattened); ``inf`` times are skipped.
        """
        usable = np.isfinite(time_s)
        n_slots = int(usable.sum())
        matrix = with_virtual_row(self.fwd, n_slots)
        matrix.indices[len(matrix.indices) - n_slots :] = node[usable]
        matrix.data[len(matrix.data) - n_slots :] = time_s[usable]
        return dijkstra(matrix, indices=self.n, limit=limit_s)[: self.n]

    def tree_path(self, search: Search, node: int) -> list[int]:
        """Nodes of the search tree from the first node after the point down to ``node``."""
        nodes = [node]
        while search.pred[nodes[-1]] != self.n:
            nodes.append(int(search.pred[nodes[-1]]))
        nodes.reverse()
        return nodes

    def forward_edge(self, a: int, b: int) -> int:
        """The graph edge the forward adjacency uses from node ``a`` to node ``b``."""
        adj = self.fwd
        at = adj.indptr[a] + int(np.searchsorted(adj.indices[adj.indptr[a] : adj.indptr[a + 1]], b))
        return int(adj.edge[at])

    def tree_lengths(self, search: Search, targets: np.ndarray) -> np.ndarray:
        """Network length from the virtual node to each target node along the search tree, metres."""
        n, pred = self.n, search.pred
        nbr, nbr_len = self._rev_in if search.reverse else self._fwd_in
        reached = pred >= 0
        p = np.where(reached, pred, self._node_index)  # intp: numpy gathers fastest with intp indices
        acc = np.empty(n + 1)
        # Each node has at most one entry per neighbour, so at most one column matches.
        np.einsum("ij,ij->j", nbr == pred[:n], nbr_len, out=acc[:n])
        slots = search.slots
        for k in np.argsort(-slots.time_s[0]):  # the faster slot wins when both reach one node
            if np.isfinite(slots.time_s[0, k]) and pred[slots.node[0, k]] == n:
                acc[slots.node[0, k]] = slots.length_m[0, k]
        acc[~reached] = 0.0
        # Pointer jumping: acc[x] is the length from p[x] to x. A few whole-array rounds make p[x]
        # the 16th ancestor; then only the targets climb, 16 steps at a time, to the root.
        for _ in range(_FULL_JUMP_ROUNDS):
            acc += acc[p]
            p = p[p]
        total, at = acc[targets], p[targets]
        while not np.array_equal(up := p[at], at):
            total += acc[at]  # roots (the virtual node, unreached nodes) carry 0
            at = up
        return total


def with_virtual_row(adj: Adjacency, n_slots: int) -> csr_matrix:
    """``adj`` as a CSR matrix of N + 1 nodes whose last row holds ``n_slots`` idle self-loops."""
    n = len(adj.indptr) - 1
    indptr = np.append(adj.indptr, adj.indptr[-1] + n_slots).astype(np.int32)
    indices = np.append(adj.indices, np.full(n_slots, n)).astype(np.int32)  # idle slot: self-loop
    data = np.append(adj.time_s, np.zeros(n_slots))
    return csr_matrix((data, indices, indptr), shape=(n + 1, n + 1), copy=False)


def _padded(adj: Adjacency) -> tuple[np.ndarray, np.ndarray]:
    """Neighbour and length tables of ``adj``, shape (degree, N): column ``i`` lists row ``i``.

    Padded with -1 / 0 up to the largest degree; transposed so a comparison per column is one
    contiguous pass.
    """
    n = len(adj.indptr) - 1
    degree = np.diff(adj.indptr)
    width = max(int(degree.max(initial=0)), 1)
    rows = np.repeat(np.arange(n), degree)
    cols = np.arange(len(adj.indices)) - adj.indptr[rows]
    nbr = np.full((n, width), -1, dtype=np.int32)
    nbr_len = np.zeros((n, width))
    nbr[rows, cols] = adj.indices
    nbr_len[rows, cols] = adj.length_m
    return np.ascontiguousarray(nbr.T), np.ascontiguousarray(nbr_len.T)
