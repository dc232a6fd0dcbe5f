"""Map layers (``reports.selectors.maps``) to files a planner opens in QGIS: a GeoPackage and GeoJSON.

The GeoPackage is written by pyogrio (GDAL's GPKG driver, bundled in its wheels), one table per layer with
its own CRS and typed attribute columns; it is written to a temporary file (GDAL's GPKG driver needs a
seekable file) and read back as bytes. GeoJSON (RFC 7946) is one layer in EPSG:4326; a layer in a metric
CRS is transformed first.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import pyogrio.raw
import shapely
from shapely.geometry import mapping

from gis_core.crs import transform_geometries, transformer_to_lonlat
from reports.selectors.maps import LONLAT, Layer


def _column(values: list) -> np.ndarray:
    """A typed array for one attribute column: int64, float64 (None as NaN, written as NULL) or text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool | int | np.integer) for v in present) and len(present) == len(values):
        return np.array(values, dtype=np.int64)
    if present and all(isinstance(v, int | float | np.number) for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return np.array(["" if v is None else str(v) for v in values], dtype=object)


def layers_gpkg(layers: list[Layer]) -> bytes:
    """One GeoPackage holding every layer (an empty layer keeps its table and columns)."""
    handle, path = tempfile.mkstemp(suffix=".gpkg")
    os.close(handle)
    os.unlink(path)  # GDAL creates the file itself
    try:
        for n, layer in enumerate(layers):
            names = list(layer.fields)
            pyogrio.raw.write(
                path, np.array(shapely.to_wkb(np.array(layer.geometries, dtype=object)), dtype=object)
                if len(layer) else np.array([], dtype=object),
                [_column(layer.fields[c]) for c in names], names, layer=layer.name, driver="GPKG",
                geometry_type=layer.geometry_type, crs=layer.crs, append=n > 0, promote_to_multi=False,
                layer_options={"DESCRIPTION": layer.title} if layer.title else None,
            )  # fmt: skip
        with open(path, "rb") as f:
            return f.read()
    finally:
        if os.path.exists(path):
            os.unlink(path)


def _json_value(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else float(value)
    return value


def layer_geojson(layer: Layer) -> bytes:
    """One layer as an RFC 7946 FeatureCollection (EPSG:4326, lon/lat) with its attributes as properties."""
    geometries = np.array(layer.geometries, dtype=object)
    if layer.crs != LONLAT and len(geometries):
        geometries = transform_geometries(geometries, transformer_to_lonlat(layer.crs))
    geometries = shapely.set_precision(geometries, 1e-7) if len(geometries) else geometries
    names = list(layer.fields)
    features = [
        {
            "type": "Feature",
            "geometry": mapping(g),
            "properties": {c: _json_value(layer.fields[c][k]) for c in names},
        }
        for k, g in enumerate(geometries)
    ]
    return json.dumps({"type": "FeatureCollection", "name": layer.name, "features": features}).encode()
