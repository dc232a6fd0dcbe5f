"""Shortest network distances between positions on edges, and the edges between them (for map matching).

A position is a directed edge and a fraction along it (0 at its source node, 1 at its target node),
as in :class:`~gis_core.routing.engine.Snap`. Travel follows edge directions only, so a one-way street
is never driven backwards and going back along a two-way street means taking its twin edge. The
searches are bounded Dijkstras by length (metres, not time): the question a map matcher asks between
two fixes a few seconds apart is "how far by road", and the answer lies within a few hundred metres,
so a heap over the few nodes reached costs less than any whole-graph array. Candidate edges near a
point come from an STRtree over every directed edge. Pure code: no Django.
"""

from __future__ import annotations

import heapq

import numpy as np
import shapely

from gis_core.routing.engine import EdgeCandidates, NetworkPath
from gis_core.routing.graph import RoadGraph


class NetworkDistances:
    """Length-weighted bounded searches on a :class:`RoadGraph` (see the module docstring)."""

    def __init__(self, graph: RoadGraph):
        order = np.argsort(graph.edge_source, kind="stable")
        counts = np.bincount(graph.edge_source, minlength=graph.n_nodes)
        self._indptr = np.concatenate([[0], np.cumsum(counts)]).tolist()
        self._out_edge = order.tolist()
        self._out_target = graph.edge_target[order].tolist()
        self._out_length = graph.edge_length_m[order].tolist()
        self._source = graph.edge_source.tolist()
        self._target = graph.edge_target.tolist()
        self._length = graph.edge_length_m.tolist()
        self._geom_m = graph.edge_geometry_m
        self._tree: shapely.STRtree | None = None

    # ----------------------------------------------------------------- candidates

    def candidates(self, xy_m: np.ndarray, *, radius_m: float, max_per_point: int) -> EdgeCandidates:
        """Directed edges within ``radius_m`` of each point (metric CRS, shape (P, 2)), at most ``max_per_point``."""
        if self._tree is None:
            self._tree = shapely.STRtree(self._geom_m)
        points = shapely.points(np.asarray(xy_m, dtype=np.float64).reshape(-1, 2))
        which, edge = self._tree.query(points, predicate="dwithin", distance=radius_m)
        offset_m = shapely.distance(points[which], self._geom_m[edge])
        order = np.lexsort((edge, offset_m, which))
        which, edge, offset_m = which[order], edge[order], offset_m[order]
        starts = np.searchsorted(which, which, side="left")
        keep = (np.arange(len(which)) - starts) < max_per_point
        which, edge, offset_m = which[keep], edge[keep], offset_m[keep]
        fraction = shapely.line_locate_point(self._geom_m[edge], points[which], normalized=True)
        return EdgeCandidates(
            point=which.astype(np.intp),
            edge=edge.astype(np.intp),
            fraction=np.clip(np.nan_to_num(fraction), 0.0, 1.0),
            offset_m=offset_m,
        )

    # ----------------------------------------------------------------- distances

    def _search(self, start: int, limit_m: float) -> dict[int, tuple[float, int]]:
        """Nodes within ``limit_m`` of ``start``: node -> (metres, edge it was reached by, -1 at the start)."""
        best: dict[int, tuple[float, int]] = {start: (0.0, -1)}
        heap = [(0.0, start)]
        done: set[int] = set()
        indptr, out_edge, out_target, out_length = self._indptr, self._out_edge, self._out_target, self._out_length
        while heap:
            d, u = heapq.heappop(heap)
            if u in done:
                continue
            done.add(u)
            for k in range(indptr[u], indptr[u + 1]):
                v, nd = out_target[k], d + out_length[k]
                if nd <= limit_m and (v not in best or nd < best[v][0]):
                    best[v] = (nd, out_edge[k])
                    heapq.heappush(heap, (nd, v))
        return best

    def between(
        self,
        source_edge: np.ndarray,
        source_fraction: np.ndarray,
        target_edge: np.ndarray,
        target_fraction: np.ndarray,
        *,
        max_m: float,
    ) -> np.ndarray:
        """Shortest driving distance from every source position to every target position, metres.

        Returns
        -------
        ndarray, shape (S, T)
            ``inf`` where the target is not reached within ``max_m``.
        """
        s_edge, t_edge = np.asarray(source_edge).tolist(), np.asarray(target_edge).tolist()
        s_frac, t_frac = np.asarray(source_fraction).tolist(), np.asarray(target_fraction).tolist()
        out = np.full((len(s_edge), len(t_edge)), np.inf)
        searches: dict[int, dict[int, tuple[float, int]]] = {}
        for i, (se, sf) in enumerate(zip(s_edge, s_frac, strict=True)):
            rest_m = (1.0 - sf) * self._length[se]
            node = self._target[se]
            if node not in searches and rest_m <= max_m:
                searches[node] = self._search(node, max_m)
            reached = searches.get(node, {})
            for j, (te, tf) in enumerate(zip(t_edge, t_frac, strict=True)):
                if te == se and tf >= sf:
                    out[i, j] = (tf - sf) * self._length[se]
                    continue
                hit = reached.get(self._source[te])
                if hit is not None:
                    d = rest_m + hit[0] + tf * self._length[te]
                    if d <= max_m:
                        out[i, j] = d
        return out

    def path(
        self, source: tuple[int, float], target: tuple[int, float], *, max_m: float = np.inf
    ) -> NetworkPath | None:
        """The shortest drive from ``source`` to ``target`` (each ``(edge, fraction)``), or None beyond ``max_m``."""
        (se, sf), (te, tf) = source, target
        if te == se and tf >= sf:
            return NetworkPath((se,), ((tf - sf) * self._length[se],))
        reached = self._search(self._target[se], max_m)
        hit = reached.get(self._source[te])
        if hit is None:
            return None
        middle: list[int] = []
        node = self._source[te]
        while (edge := reached[node][1]) >= 0:
            middle.append(edge)
            node = self._source[edge]
        middle.reverse()
        edges = (se, *middle, te)
        covered = ((1.0 - sf) * self._length[se], *(self._length[e] for e in middle), tf * self._length[te])
        return NetworkPath(edges, covered)
