"""Synthetic crew GPS tracks driven on a real road network at known speeds (for tests and bench/calibration.py).

A trip is the fastest path between two nodes at the *true* speeds: each edge's table speed times a
true factor of its road class and of the local hour band the trip starts in (:data:`TRUE_FACTORS`).
Fixes are taken every ``interval_s`` along it and blurred by Gaussian noise of ``sigma_m``; the
track then gets what real ones have: the crew parked for a while before leaving and at the scene,
a hole where the phone lost its fix, fixes delivered out of order, and repeats of the same fix.
Pure code: no Django. Randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gis_core.crs import transformer_to_lonlat
from gis_core.importers.osm import prepare_network, read_graphml
from gis_core.routing.graph import RoadGraph, min_time_adjacency, road_graph_from_arrays, road_graph_with_times
from gis_core.routing.speed_learning import HOUR_BANDS
from gis_core.speeds import speed_table

JAMBI_ROADS = Path("jambi") / "roads_main_jambi_osm.graphml"
JAMBI_ZONE = "Asia/Jakarta"
JAMBI_CRS = "EPSG:32748"

# True speed over table speed, per main class and band: slow rushes, a fast night, and classes that
# differ (trunk roads through town crawl at rush hour; tertiary streets drive near their table speed).
TRUE_FACTORS: dict[str, dict[str, float]] = {
    "00-06": {"trunk": 1.30, "primary": 1.25, "secondary": 1.20, "tertiary": 1.15},
    "06-10": {"trunk": 0.62, "primary": 0.70, "secondary": 0.78, "tertiary": 0.90},
    "10-16": {"trunk": 0.85, "primary": 0.88, "secondary": 0.92, "tertiary": 1.00},
    "16-20": {"trunk": 0.55, "primary": 0.62, "secondary": 0.72, "tertiary": 0.85},
    "20-24": {"trunk": 1.05, "primary": 1.05, "secondary": 1.05, "tertiary": 1.05},
}
MAIN_CLASSES = ("trunk", "primary", "secondary", "tertiary")


def true_factor(highway: str | None, band: str) -> float:
    """The simulated true factor of a class in a band; a ``_link`` drives like its road, other classes at 1."""
    first = (highway or "").split(";")[0].removesuffix("_link")
    return TRUE_FACTORS[band].get(first, 1.0)


def jambi_graph(data_dir: Path) -> tuple[RoadGraph, np.ndarray]:
    """Kota Jambi's main roads as the importer prepares them, and each edge's table speed (km/h)."""
    prepared = prepare_network(read_graphml(data_dir / JAMBI_ROADS), speeds_kph=speed_table())
    keys = list(prepared.nodes)
    index = {k: i for i, k in enumerate(keys)}
    edges = prepared.edges
    graph = road_graph_from_arrays(
        edge_source=[index[e.u] for e in edges],
        edge_target=[index[e.v] for e in edges],
        edge_travel_time_s=[e.travel_time_s for e in edges],
        edge_length_m=[e.length_m for e in edges],
        metric_crs=JAMBI_CRS,
        node_lonlat=np.array([(lon, lat) for lon, lat, _ in prepared.nodes.values()]),
        edge_geometry_lonlat=[e.geometry for e in edges],
        edge_name=[e.name or None for e in edges],
        edge_highway=[e.highway or None for e in edges],
        edge_db_id=np.arange(1, len(edges) + 1),
    )
    return graph, np.array([e.speed_kph for e in edges])


def true_speeds_kph(
    graph: RoadGraph, table_kph: np.ndarray, band: str, slow_edges: Mapping[int, float] | None = None
) -> np.ndarray:
    """The simulated true speed of every edge in ``band``, km/h; ``slow_edges`` (edge -> factor) override the class."""
    speeds = table_kph * np.array([true_factor(h, band) for h in graph.edge_highway])
    for e, f in (slow_edges or {}).items():
        speeds[e] = table_kph[e] * f
    return speeds


@dataclass(frozen=True, eq=False)
class Trip:
    """A simulated drive: its fixes (Unix seconds, EPSG:4326, as delivered) and the truth behind them."""

    t_s: np.ndarray
    lonlat: np.ndarray
    band: str
    origin_node: int
    destination_node: int
    path_edges: tuple[int, ...]
    true_time_s: float


def fastest_path_edges(graph: RoadGraph, speeds_kph: np.ndarray, origin: int, destination: int) -> list[int] | None:
    """Edges of the fastest path between two nodes at the given speeds, or None when unreachable."""
    timed = road_graph_with_times(graph, graph.edge_length_m / (speeds_kph / 3.6))
    adj = min_time_adjacency(timed)
    matrix = csr_matrix((adj.time_s, adj.indices, adj.indptr), shape=(graph.n_nodes, graph.n_nodes))
    dist, pred = dijkstra(matrix, indices=origin, return_predecessors=True)
    if not np.isfinite(dist[destination]) or origin == destination:
        return None
    nodes = [destination]
    while nodes[-1] != origin:
        nodes.append(int(pred[nodes[-1]]))
    nodes.reverse()
    edges = []
    for a, b in itertools.pairwise(nodes):
        row = slice(adj.indptr[a], adj.indptr[a + 1])
        edges.append(int(adj.edge[row][np.searchsorted(adj.indices[row], b)]))
    return edges


def drive(
    graph: RoadGraph,
    table_kph: np.ndarray,
    rng: np.random.Generator,
    *,
    band: str,
    day: str = "2026-11-02",
    zone: str = JAMBI_ZONE,
    interval_s: float = 5.0,
    sigma_m: float = 8.0,
    min_length_m: float = 2500.0,
    between: tuple[int, int] | None = None,
    slow_edges: Mapping[int, float] | None = None,
) -> Trip:
    """One trip starting in ``band``'s local hours on ``day``, at the true speeds of the band.

    Between random edges at least ``min_length_m`` apart by road, or the ``between`` (origin,
    destination) nodes; ``slow_edges`` (edge -> true factor) are streets slower than their class.
    """
    start, end = next((s, e) for name, s, e in HOUR_BANDS if name == band)
    local = datetime.fromisoformat(f"{day}T00:00").replace(tzinfo=ZoneInfo(zone))
    start_t_s = local.timestamp() + float(rng.uniform(start * 3600, end * 3600 - 1800))
    # The driver picks the way by the usual speeds of the band, not knowing today's slow streets.
    usual = true_speeds_kph(graph, table_kph, band)
    speeds = true_speeds_kph(graph, table_kph, band, slow_edges)
    while between is not None:
        origin, destination = between
        edges = fastest_path_edges(graph, usual, origin, destination)
        if not edges:
            raise ValueError(f"no path from node {origin} to node {destination}")
        break
    while between is None:
        # Trips start and end on random edges (stations and scenes lie along roads, long ones more often).
        first_edge, last_edge = (int(e) for e in rng.choice(graph.n_edges, size=2, p=_length_share(graph)))
        origin, destination = int(graph.edge_source[first_edge]), int(graph.edge_target[last_edge])
        edges = fastest_path_edges(graph, usual, origin, destination)
        if edges and graph.edge_length_m[edges].sum() >= min_length_m:
            break
    edge_s = graph.edge_length_m[edges] / (speeds[edges] / 3.6)
    ends_s = np.cumsum(edge_s)
    total_s = float(ends_s[-1])
    at_s = np.arange(0.0, total_s, interval_s)
    k = np.minimum(np.searchsorted(ends_s, at_s, side="right"), len(edges) - 1)
    fraction = np.clip((at_s - (ends_s[k] - edge_s[k])) / np.where(edge_s[k] > 0, edge_s[k], 1.0), 0.0, 1.0)
    lines = graph.edge_geometry_m[np.array(edges)[k]]
    xy = shapely.get_coordinates(shapely.line_interpolate_point(lines, fraction, normalized=True))
    xy = xy + rng.normal(0.0, sigma_m, size=xy.shape)
    # Parked before leaving and at the scene: noisy fixes around one place.
    before = np.arange(-90.0, 0.0, interval_s)
    after = np.arange(total_s, total_s + 120.0, interval_s)
    first, last = graph.edge_geometry_m[edges[0]].coords[0], graph.edge_geometry_m[edges[-1]].coords[-1]
    xy = np.vstack([
        np.asarray(first) + rng.normal(0.0, sigma_m, size=(len(before), 2)),
        xy,
        np.asarray(last) + rng.normal(0.0, sigma_m, size=(len(after), 2)),
    ])  # fmt: skip
    t_s = start_t_s + np.concatenate([before, at_s, after])
    lon, lat = transformer_to_lonlat(graph.metric_crs).transform(xy[:, 0], xy[:, 1])
    return Trip(
        t_s=t_s,
        lonlat=np.column_stack([lon, lat]),
        band=band,
        origin_node=origin,
        destination_node=destination,
        path_edges=tuple(edges),
        true_time_s=total_s,
    )


def _length_share(graph: RoadGraph) -> np.ndarray:
    share: np.ndarray = graph.edge_length_m / graph.edge_length_m.sum()
    return share


def as_delivered(
    trip: Trip,
    rng: np.random.Generator,
    *,
    gap_s: float = 120.0,
    swapped_share: float = 0.1,
    repeated_share: float = 0.05,
) -> Trip:
    """The trip's fixes as a phone delivers them: a hole of ``gap_s`` mid-trip, swapped neighbours, repeats."""
    t_s, lonlat = trip.t_s.copy(), trip.lonlat.copy()
    keep = np.ones(len(t_s), dtype=bool)
    if gap_s > 0 and len(t_s) > 40:
        hole_start = t_s[0] + float(rng.uniform(0.3, 0.6)) * (t_s[-1] - t_s[0])
        keep &= ~((t_s >= hole_start) & (t_s < hole_start + gap_s))
    t_s, lonlat = t_s[keep], lonlat[keep]
    order = np.arange(len(t_s))
    for i in rng.choice(len(t_s) - 1, size=int(swapped_share * len(t_s)), replace=False):
        order[i], order[i + 1] = order[i + 1], order[i]
    repeats = rng.choice(len(t_s), size=int(repeated_share * len(t_s)), replace=False)
    order = np.concatenate([order, repeats])
    return Trip(
        t_s=t_s[order],
        lonlat=lonlat[order],
        band=trip.band,
        origin_node=trip.origin_node,
        destination_node=trip.destination_node,
        path_edges=trip.path_edges,
        true_time_s=trip.true_time_s,
    )
