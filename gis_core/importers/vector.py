"""Reading vector files (GeoJSON, Shapefile, GeoPackage) through GDAL into EPSG:4326 GEOS geometries.

Shared by the boundary and facility importers. Every failure is an ``ImportValidationError`` that names
the file, so a command can show it as it is.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.gis.gdal import CoordTransform, DataSource, GDALException, SpatialReference
from django.contrib.gis.gdal.feature import Feature
from django.contrib.gis.gdal.layer import Layer
from django.contrib.gis.geos import GEOSGeometry

from gis_core.importers.errors import ImportValidationError

STORAGE_SRID = 4326


def open_layer(path: Path, *, layer: str | int | None = None) -> tuple[DataSource, Layer]:
    """Open one layer of a vector file.

    Parameters
    ----------
    path
        A GeoJSON, Shapefile (``.shp`` with its ``.dbf``/``.shx``/``.prj``) or GeoPackage file.
    layer
        Layer name or index; needed only when the file holds more than one layer.

    Returns
    -------
    tuple
        The data source (keep a reference while reading) and the layer.
    """
    path = Path(path)
    if not path.exists():
        raise ImportValidationError(f"{path}: file not found")
    try:
        source = DataSource(str(path))
    except GDALException as exc:
        raise ImportValidationError(f"{path}: GDAL cannot read it as a vector file ({exc})") from exc
    names = [lyr.name for lyr in source]
    if layer is None:
        if len(names) != 1:
            raise ImportValidationError(f"{path}: {len(names)} layers ({', '.join(names)}); choose one with layer")
        return source, source[0]
    try:
        return source, source[layer]
    except (IndexError, KeyError) as exc:
        raise ImportValidationError(f"{path}: no layer {layer!r}; layers are {', '.join(names)}") from exc


def to_storage_transform(path: Path, layer: Layer) -> CoordTransform | None:
    """The transform from the layer's CRS to EPSG:4326, or None when it is already 4326.

    A layer without a CRS (a shapefile without its ``.prj``) is rejected: guessing degrees or UTM
    would put every polygon in the wrong place without any error.
    """
    srs = layer.srs
    if srs is None:
        hint = " (a shapefile needs its .prj file next to the .shp)" if Path(path).suffix.lower() == ".shp" else ""
        raise ImportValidationError(f"{path}: layer {layer.name!r} has no coordinate reference system{hint}")
    srid = srs.srid
    if srid is None:
        try:
            srs.identify_epsg()
            srid = srs.srid
        except GDALException:
            srid = None
    if srid == STORAGE_SRID:
        return None
    try:
        return CoordTransform(srs, SpatialReference(STORAGE_SRID))
    except GDALException as exc:
        raise ImportValidationError(f"{path}: cannot transform {srs.name!r} to EPSG:4326 ({exc})") from exc


def feature_geometry(feature: Feature, transform: CoordTransform | None) -> GEOSGeometry | None:
    """The feature's geometry as a 2D GEOS geometry in EPSG:4326, or None when it has none."""
    try:
        geom = feature.geom
    except GDALException:
        return None
    if transform is not None:
        geom.transform(transform)
    geom.set_3d(False)
    geom.set_measured(False)
    result = geom.geos
    result.srid = STORAGE_SRID
    return result


def outside_lonlat_range(geom: GEOSGeometry) -> bool:
    """True when any coordinate is beyond lon ±180 / lat ±90 (swapped axes or an undeclared projected CRS)."""
    xmin, ymin, xmax, ymax = geom.extent
    return xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90
