"""Coordinate reference system helpers: cached pyproj transformers and vectorised geometry transforms.

Every module that moves coordinates between EPSG:4326 and a region's projected (metric) CRS uses
these, so there is one place that fixes the axis order (always ``(lon, lat)`` / ``(x, y)``) and one
cache of transformers. Pure code: no Django.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer


@lru_cache(maxsize=16)
def transformer_to_metric(metric_crs: str) -> Transformer:
    """Cached EPSG:4326 -> ``metric_crs`` transformer taking (lon, lat) order."""
    return Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True)


@lru_cache(maxsize=16)
def transformer_to_lonlat(metric_crs: str) -> Transformer:
    """Cached ``metric_crs`` -> EPSG:4326 transformer returning (lon, lat) order."""
    return Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True)


def transform_geometries(geometries: Any, transformer: Transformer) -> Any:
    """Apply ``transformer`` to a shapely geometry or an array of them, in one vectorised call."""

    def _apply(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometries, _apply)
