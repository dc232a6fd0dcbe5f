"""An independent travel-time computation for coverage tests: networkx multi-source Dijkstra on the same graph.

It shares only the engine's graph arrays and its snaps (where a point meets its street) with the code under
test; the search itself, the source legs and the demand legs are rebuilt here by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np


def networkx_point_times(engine, sources: Sequence[tuple[float, float]], demand_lonlat: np.ndarray) -> np.ndarray:
    """Seconds from the nearest source to each demand point (EPSG:4326), ``inf`` when unreachable."""
    graph = engine.graph
    g = nx.DiGraph()
    for u, v, t in zip(graph.edge_source.tolist(), graph.edge_target.tolist(), graph.edge_travel_time_s.tolist(),
                       strict=True):  # fmt: skip
        if u != v and (not g.has_edge(u, v) or g[u][v]["w"] > t):
            g.add_edge(u, v, w=t)
    twin = graph.edge_twin
    # One virtual node per source, joined to the ends of its street segment by the partial edge + access leg.
    for k, snap in enumerate(engine.snap(list(sources))):
        e, f, name = snap.edge_index, snap.fraction, f"source{k}"
        g.add_edge(name, int(graph.edge_target[e]), w=(1 - f) * graph.edge_travel_time_s[e] + snap.access_s)
        if twin[e] >= 0:
            g.add_edge(name, int(graph.edge_source[e]), w=f * graph.edge_travel_time_s[twin[e]] + snap.access_s)
        elif f == 0.0:  # at the start node of a one-way street: that node is reached with the access leg alone
            g.add_edge(name, int(graph.edge_source[e]), w=snap.access_s)
    dist = nx.multi_source_dijkstra_path_length(g, {f"source{k}" for k in range(len(sources))}, weight="w")
    out = np.full(len(demand_lonlat), np.inf)
    for i, snap in enumerate(engine.try_snap([tuple(p) for p in np.asarray(demand_lonlat).tolist()])):
        if isinstance(snap, Exception):
            continue
        e, f = snap.edge_index, snap.fraction
        u, v = int(graph.edge_source[e]), int(graph.edge_target[e])
        ways = [dist.get(u, np.inf) + f * graph.edge_travel_time_s[e]]
        if twin[e] >= 0:
            ways.append(dist.get(v, np.inf) + (1 - f) * graph.edge_travel_time_s[twin[e]])
        elif f == 1.0:  # at the end node of a one-way street: reached from that node by the access leg alone
            ways.append(dist.get(v, np.inf))
        out[i] = min(ways) + snap.access_s
    return out


def population_within(demand, times: np.ndarray, threshold_s: float, *, kecamatan: int | None = None) -> float:
    """People of the demand set (of one kecamatan index, or all) whose time is at most ``threshold_s``."""
    mask = times <= threshold_s
    if kecamatan is not None:
        mask &= demand.kecamatan == kecamatan
    return float(demand.population[mask].sum())
