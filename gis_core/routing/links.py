"""How snapped points join the network: the partial edges at both ends of a trip.

A point on directed edge ``e = (u -> v)`` at fraction ``f`` leaves via ``v`` at ``(1 - f) * time[e]``
and, when the twin ``t = (v -> u)`` exists, via ``u`` at ``f * time[t]``; a destination is entered
symmetrically, and two points on the same street segment also get the direct along-edge time.
Without a twin the way back is closed, except for a point lying exactly on the node. Two points closer
to each other than either is to its road may also go straight (:func:`straight_leg_m`). Pure code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gis_core.routing.graph import RoadGraph
from gis_core.routing.snapping import SnappedPoints


@dataclass(frozen=True, eq=False)
class Links:
    """The two ways between each point and the network, shape (K, 2) each.

    Attributes
    ----------
    node : ndarray of intp
        Network node at the other end of each way.
    time_s : ndarray
        Time along the partial edge, seconds; ``inf`` where the way is closed (one-way street).
    length_m : ndarray
        Length of the partial edge, metres.
    """

    node: np.ndarray
    time_s: np.ndarray
    length_m: np.ndarray


class EdgeLinks:
    """Partial-edge arithmetic on one :class:`RoadGraph`.

    Parameters
    ----------
    graph : RoadGraph
        The network.
    """

    def __init__(self, graph: RoadGraph):
        n_edges = graph.n_edges
        self.src = graph.edge_source.astype(np.intp)
        self.tgt = graph.edge_target.astype(np.intp)
        self.time_s = graph.edge_travel_time_s
        self.length_m = graph.edge_length_m
        self.has_twin = graph.edge_twin >= 0
        # An edge without a twin is its own stand-in, so lookups never index with -1.
        self.twin = np.where(self.has_twin, graph.edge_twin, np.arange(n_edges)).astype(np.intp)

    def exits(self, p: SnappedPoints) -> Links:
        """Ways out of each point: to ``v`` along its edge (slot 0) and to ``u`` along the twin (slot 1)."""
        e, f, t, h = p.edge, p.fraction, self.twin[p.edge], self.has_twin[p.edge]
        back_s = np.where(h, f * self.time_s[t], np.where(f == 0.0, 0.0, np.inf))
        return Links(
            node=np.stack([self.tgt[e], self.src[e]], axis=1),
            time_s=np.stack([(1 - f) * self.time_s[e], back_s], axis=1),
            length_m=np.stack([(1 - f) * self.length_m[e], np.where(h, f * self.length_m[t], 0.0)], axis=1),
        )

    def entries(self, p: SnappedPoints) -> Links:
        """Ways into each point: from ``u`` along its edge (slot 0) and from ``v`` along the twin (slot 1)."""
        e, f, t, h = p.edge, p.fraction, self.twin[p.edge], self.has_twin[p.edge]
        back_s = np.where(h, (1 - f) * self.time_s[t], np.where(f == 1.0, 0.0, np.inf))
        return Links(
            node=np.stack([self.src[e], self.tgt[e]], axis=1),
            time_s=np.stack([f * self.time_s[e], back_s], axis=1),
            length_m=np.stack([f * self.length_m[e], np.where(h, (1 - f) * self.length_m[t], 0.0)], axis=1),
        )

    def direct(self, origin: SnappedPoints, destination: SnappedPoints) -> tuple[np.ndarray, np.ndarray]:
        """Along-edge time (s) and length (m) between points on the same street segment, else ``inf``.

        Broadcasts: one origin against many destinations, or many origins against one destination.
        """
        e, f = origin.edge, origin.fraction
        t, h = self.twin[e], self.has_twin[e]
        same = destination.edge == e
        on_twin = h & (destination.edge == t) & ~same
        g = np.where(same, destination.fraction, 1.0 - destination.fraction)  # measured along e
        ahead = (same | on_twin) & (g >= f)
        behind = on_twin | (same & h)
        behind &= f >= g
        time_ahead = np.where(ahead, (g - f) * self.time_s[e], np.inf)
        time_behind = np.where(behind, (f - g) * self.time_s[t], np.inf)
        use_twin = time_behind < time_ahead
        time_s = np.where(use_twin, time_behind, time_ahead)
        length_m = np.where(use_twin, (f - g) * self.length_m[t], (g - f) * self.length_m[e])
        return time_s, length_m

    def direct_piece(self, src: SnappedPoints, dst: SnappedPoints) -> tuple[int, float, float]:
        """The along-edge trip between two points on one segment as ``(edge, from_fraction, to_fraction)``."""
        e, f = int(src.edge[0]), float(src.fraction[0])
        g = float(dst.fraction[0]) if dst.edge[0] == e else 1.0 - float(dst.fraction[0])
        if g >= f:
            return e, f, g
        return int(self.twin[e]), 1.0 - f, 1.0 - g


def straight_leg_m(a: SnappedPoints, b: SnappedPoints) -> np.ndarray:
    """Straight-line distance (m) between points that may travel straight, off the network; ``inf`` elsewhere.

    The access legs already assume travel off the network in a straight line at the access speed. Two
    points closer to each other than either is to its road (an ambulance parked at the caller's house,
    both 150 m from the nearest mapped road) go straight rather than out to the road and back. Nothing
    longer: a straight line between points farther apart may cross what the map does not show (a river).
    Broadcasts one point against many.
    """
    d = np.hypot(*(a.xy_m - b.xy_m).T)
    return np.where(d <= np.minimum(a.offset_m, b.offset_m), d, np.inf)
