"""A generator of city-scale street grids for benchmarks, shaped like an osmnx drive graph.

The grid sits on Kota Jambi (so the region's UTM 48S CRS applies) with ``spacing_m`` blocks: every
tenth street is a two-way primary arterial, the rest are residential, every third residential
street is one-way (directions alternating), and a seeded few percent of residential segments are
missing, so shortest paths are not trivially Manhattan distances.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from gis_core.routing.graph import RoadGraph, road_graph_from_arrays

ORIGIN_LON, ORIGIN_LAT = 103.55, -1.66
_M_PER_DEG_LAT = 111_320.0


def city_grid(n_side: int, *, spacing_m: float = 100.0, seed: int = 0, missing_share: float = 0.04) -> nx.MultiDiGraph:
    """An ``n_side`` x ``n_side`` street grid as an osmnx-style MultiDiGraph in EPSG:4326.

    Parameters
    ----------
    n_side
        Intersections per side; the graph has about ``n_side**2`` nodes before the largest strongly
        connected component is taken by the importer.
    spacing_m
        Block length, metres.
    seed
        Seed for node jitter and missing segments.
    missing_share
        Share of residential segments left out.
    """
    rng = np.random.default_rng(seed)
    m_per_deg_lon = _M_PER_DEG_LAT * math.cos(math.radians(ORIGIN_LAT))
    jitter = rng.uniform(-0.15, 0.15, size=(n_side, n_side, 2)) * spacing_m
    graph = nx.MultiDiGraph(crs="epsg:4326", name=f"city grid {n_side}x{n_side}")

    def node_id(row: int, col: int) -> int:
        return row * n_side + col

    for row in range(n_side):
        for col in range(n_side):
            x_m = col * spacing_m + jitter[row, col, 0]
            y_m = row * spacing_m + jitter[row, col, 1]
            graph.add_node(node_id(row, col), x=ORIGIN_LON + x_m / m_per_deg_lon, y=ORIGIN_LAT + y_m / _M_PER_DEG_LAT)
    way = 0
    for line in range(n_side):
        for horizontal in (True, False):
            way += 1
            arterial = line % 10 == 5
            oneway = not arterial and line % 3 == 0
            forward = (line // 3) % 2 == 0
            for step in range(n_side - 1):
                a = node_id(line, step) if horizontal else node_id(step, line)
                b = node_id(line, step + 1) if horizontal else node_id(step + 1, line)
                if not arterial and rng.random() < missing_share:
                    continue
                pairs = [(a, b) if forward else (b, a)] if oneway else [(a, b), (b, a)]
                for u, v in pairs:
                    graph.add_edge(
                        u,
                        v,
                        osmid=way,
                        highway="primary" if arterial else "residential",
                        name=f"Jalan {'Raya' if arterial else 'Gang'} {way}",
                        oneway=oneway,
                        length=_length_m(graph, u, v, m_per_deg_lon),
                    )
    return graph


def _length_m(graph: nx.MultiDiGraph, u: int, v: int, m_per_deg_lon: float) -> float:
    a, b = graph.nodes[u], graph.nodes[v]
    return math.hypot((a["x"] - b["x"]) * m_per_deg_lon, (a["y"] - b["y"]) * _M_PER_DEG_LAT)


def city_grid_graph(n_side: int, *, spacing_m: float = 100.0, seed: int = 0, missing_share: float = 0.04) -> RoadGraph:
    """The same kind of grid as :func:`city_grid`, built straight into a :class:`RoadGraph` from arrays.

    For networks too big to pass through networkx and a PostGIS import in a benchmark (10^6 nodes):
    same layout rules (arterials every tenth line at 50 km/h, residential at 30 km/h, every third
    residential line one-way, ``missing_share`` of residential segments left out), its own random
    draws, straight edge geometries, and only the largest strongly connected component kept, as
    the importer does.
    """
    rng = np.random.default_rng(seed)
    m_per_deg_lon = _M_PER_DEG_LAT * math.cos(math.radians(ORIGIN_LAT))
    jitter = rng.uniform(-0.15, 0.15, size=(n_side, n_side, 2)) * spacing_m
    rows, cols = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    x_m = (cols * spacing_m + jitter[..., 0]).ravel()
    y_m = (rows * spacing_m + jitter[..., 1]).ravel()
    lonlat = np.column_stack([ORIGIN_LON + x_m / m_per_deg_lon, ORIGIN_LAT + y_m / _M_PER_DEG_LAT])
    line, step = np.meshgrid(np.arange(n_side), np.arange(n_side - 1), indexing="ij")
    line, step = line.ravel(), step.ravel()
    sources, targets, speeds = [], [], []
    for horizontal in (True, False):
        a = line * n_side + step if horizontal else step * n_side + line
        b = a + (1 if horizontal else n_side)
        arterial = line % 10 == 5
        oneway = ~arterial & (line % 3 == 0)
        forward = (line // 3) % 2 == 0
        present = arterial | (rng.random(len(a)) >= missing_share)
        fwd = present & (~oneway | forward)
        back = present & (~oneway | ~forward)
        speed = np.where(arterial, 50.0, 30.0)
        sources += [a[fwd], b[back]]
        targets += [b[fwd], a[back]]
        speeds += [speed[fwd], speed[back]]
    src, tgt, kph = np.concatenate(sources), np.concatenate(targets), np.concatenate(speeds)
    n = n_side * n_side
    _, label = connected_components(
        csr_matrix((np.ones(len(src)), (src, tgt)), shape=(n, n)), directed=True, connection="strong"
    )
    largest = np.bincount(label).argmax()
    keep_node = label == largest
    keep = keep_node[src] & keep_node[tgt]
    new_index = np.cumsum(keep_node) - 1
    src, tgt, kph = new_index[src[keep]], new_index[tgt[keep]], kph[keep]
    lonlat = lonlat[keep_node]
    d_lon = (lonlat[src, 0] - lonlat[tgt, 0]) * m_per_deg_lon
    d_lat = (lonlat[src, 1] - lonlat[tgt, 1]) * _M_PER_DEG_LAT
    length_m = np.hypot(d_lon, d_lat)
    return road_graph_from_arrays(
        edge_source=src,
        edge_target=tgt,
        edge_travel_time_s=length_m / (kph / 3.6),
        edge_length_m=length_m,
        metric_crs="EPSG:32748",
        node_lonlat=lonlat,
        edge_highway=np.where(kph == 50.0, "primary", "residential").tolist(),
    )
