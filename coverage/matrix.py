"""Travel times from sources and candidate sites to demand points, through the routing interface.

A demand point is attached to the network once (the engine's ``attach_points``), then every search is
a node-time array from ``node_times_from_sources`` turned into point times
(:meth:`~gis_core.routing.engine.PointAttachment.point_times_s`): each point is entered from the nodes
at either end of its street segment, plus its straight access leg, the same rule the engine applies to
a destination. One simplification: a source on the very same street segment as the point is not given
the direct along-edge time, only the way through the segment's end nodes (at most one segment longer).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from gis_core.routing.engine import PointAttachment, PointLike, RoutingEngine


def times_from_sources(
    engine: RoutingEngine, sources: Sequence[PointLike], attachment: PointAttachment, *, cutoff_s: float | None = None
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
    times = attachment.point_times_s(node_times)
    if cutoff_s is not None:
        times[times > cutoff_s] = np.inf
    return node_times, times


def site_matrix(
    engine: RoutingEngine,
    sites: Sequence[PointLike],
    attachment: PointAttachment,
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
    attachment : PointAttachment
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
