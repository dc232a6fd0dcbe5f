"""Travel times from sources and candidate sites to demand points, through the routing interface.

A demand point is attached to the network once (the engine's ``snap``), then every search is a
node-time array from ``node_times_from_sources`` turned into point times: a point on directed edge
``e = (u -> v)`` at fraction ``f`` is entered from ``u`` along ``e`` (``f * time[e]``) or from ``v``
along the opposite edge when the street is two-way (``(1 - f) * time[twin]``), plus its straight
access leg at the engine's access speed: the same rule the engine applies to a destination. One
simplification: a source on the very same street segment as the point is not given the direct
along-edge time, only the way through the segment's end nodes (at most one segment longer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gis_core.routing.engine import PointLike, RoutingEngine, Snap
from gis_core.routing.graph import RoadGraph

_CHUNK = 5000


class EngineWithoutGraphError(TypeError):
    """The routing engine does not expose its :class:`RoadGraph` (coverage needs its edge arrays)."""


@dataclass(frozen=True, eq=False)
class Attachment:
    """Demand points attached to one network.

    Attributes
    ----------
    node : ndarray of int, shape (D, 2)
        The two nodes a point is entered from.
    cost_s : ndarray, shape (D, 2)
        Seconds from each of those nodes to the point along the edge, access leg included; ``inf``
        where that way is closed (one-way street) or the point is too far from every road.
    offset_m : ndarray, shape (D,)
        Straight-line distance from the point to its road, metres.
    inside : ndarray of bool, shape (D,)
        Whether the point lies within the engine's ``max_access_m`` of a road.
    """

    node: np.ndarray
    cost_s: np.ndarray
    offset_m: np.ndarray
    inside: np.ndarray

    def __len__(self) -> int:
        return len(self.inside)


def road_graph_of(engine: RoutingEngine) -> RoadGraph:
    """The engine's :class:`RoadGraph`; coverage needs its edge ends and times to attach points."""
    graph = getattr(engine, "graph", None)
    if not isinstance(graph, RoadGraph):
        raise EngineWithoutGraphError(f"{type(engine).__name__} does not expose a RoadGraph as .graph")
    return graph


def attach_points(engine: RoutingEngine, lonlat: np.ndarray) -> Attachment:
    """Attach demand points (EPSG:4326, shape (D, 2)) to the engine's network, once for every search.

    Points farther than the engine's ``max_access_m`` from every road stay unreachable (``inf``).
    """
    graph = road_graph_of(engine)
    lonlat = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
    snaps: list = []
    for start in range(0, len(lonlat), _CHUNK):
        snaps += engine.try_snap([tuple(p) for p in lonlat[start : start + _CHUNK].tolist()])
    inside = np.array([isinstance(s, Snap) for s in snaps], dtype=bool)
    edge = np.array([s.edge_index if isinstance(s, Snap) else 0 for s in snaps], dtype=np.intp)
    f = np.array([s.fraction if isinstance(s, Snap) else 0.0 for s in snaps])
    access_s = np.array([s.access_s if isinstance(s, Snap) else np.inf for s in snaps])
    offset_m = np.array([s.offset_m if isinstance(s, Snap) else np.nan for s in snaps])
    time_s = graph.edge_travel_time_s
    twin = graph.edge_twin[edge]
    has_twin = twin >= 0
    back_s = np.where(has_twin, (1 - f) * time_s[np.where(has_twin, twin, 0)], np.where(f == 1.0, 0.0, np.inf))
    cost_s = np.stack([f * time_s[edge], back_s], axis=1) + access_s[:, None]
    cost_s[~inside] = np.inf
    node = np.stack([graph.edge_source[edge], graph.edge_target[edge]], axis=1).astype(np.intp)
    return Attachment(node=node, cost_s=cost_s, offset_m=offset_m, inside=inside)


def point_times(node_times_s: np.ndarray, attachment: Attachment) -> np.ndarray:
    """Seconds to each attached point, given seconds to every node; shape (D,), ``inf`` if unreached."""
    return np.min(node_times_s[attachment.node] + attachment.cost_s, axis=1)


def times_from_sources(
    engine: RoutingEngine, sources: Sequence[PointLike], attachment: Attachment, *, cutoff_s: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Time from the nearest source to every node and every demand point, with one multi-source search.

    Returns
    -------
    tuple of ndarray
        ``(node_times_s (N,), point_times_s (D,))``; ``inf`` where no source reaches (within
        ``cutoff_s`` when given). No source at all gives ``inf`` everywhere.
    """
    if not len(sources):
        node_times = np.full(len(engine.node_lonlat), np.inf)
    else:
        node_times = engine.node_times_from_sources(list(sources), cutoff_s=cutoff_s)
    times = point_times(node_times, attachment)
    if cutoff_s is not None:
        times[times > cutoff_s] = np.inf
    return node_times, times


def site_matrix(
    engine: RoutingEngine,
    sites: Sequence[PointLike],
    attachment: Attachment,
    *,
    cutoff_s: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Seconds from each site to each demand point, one search per site, shape (D, S).

    Parameters
    ----------
    engine : RoutingEngine
    sites : sequence of (lon, lat) or Snap
        Snap them first (``engine.snap``) to avoid snapping again per search.
    attachment : Attachment
        The demand points.
    cutoff_s : float, optional
        Stop each search here; pairs beyond it are ``inf``. Give the largest threshold of interest:
        coverage at or below it is exact and the searches stay local.
    progress : callable, optional
        Called with 1 after each site (a tqdm bar's ``update``).
    """
    matrix = np.empty((len(attachment), len(sites)))
    for j, site in enumerate(sites):
        matrix[:, j] = times_from_sources(engine, [site], attachment, cutoff_s=cutoff_s)[1]
        if progress is not None:
            progress(1)
    return matrix
