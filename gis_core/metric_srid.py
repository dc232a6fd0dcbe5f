"""Is an EPSG code fit to be a region's metric CRS, and which UTM zone fits a place. Pure code: pyproj, no Django.

Every distance the server measures (access legs, snapping, buffers, areas) is taken in
``Region.metric_srid``. A geographic CRS breaks routing outright; a projected CRS of the wrong zone
works in silence with distances too long (Kota Jambi measured in UTM 52S comes out about 11% long,
areas 23% large). So a CRS is accepted only when it is projected, in metres, and made for the
region's area: its EPSG area of use covers the region's bounds and its point scale there stays near 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pyproj import CRS, Proj
from pyproj.exceptions import CRSError

# How far (degrees) a region may reach beyond the CRS's EPSG area of use. UTM south zones stop at the
# equator and Kota Pontianak straddles it; half a degree beyond a zone's edge the scale error is still
# about 0.15%, harmless, while the neighbouring zone's centre is 6 degrees away.
AREA_OF_USE_MARGIN_DEG = 0.5

# The largest point scale error (|k - 1|) accepted anywhere in the region's bounds. UTM stays within
# 0.1% inside its zone; Indonesia's own Mercator (Batavia / NEIEZ) reaches 1.6% at 11 degrees of latitude.
MAX_SCALE_ERROR = 0.02

Bounds = Sequence[float]


def crs_label(srid: int) -> str:
    """``"EPSG:32748 (WGS 84 / UTM zone 48S)"``, or just ``"EPSG:n"`` when pyproj does not know it."""
    try:
        return f"EPSG:{srid} ({CRS.from_epsg(srid).name})"
    except CRSError:
        return f"EPSG:{srid}"


def metric_srid_problems(srid: object, lon_lat_bounds: Bounds | None = None) -> list[str]:
    """Every reason ``srid`` is unfit as the metric CRS of a region with these bounds; empty when it fits.

    Parameters
    ----------
    srid
        The EPSG code to check (anything: a non-integer is a problem, not an exception).
    lon_lat_bounds
        ``(west, south, east, north)`` of the region in EPSG:4326 degrees, or None when the region
        has no geometry yet (then only the CRS itself is checked).

    Returns
    -------
    list of str
        Problems such as "EPSG:4326 (WGS 84) is geographic (degrees), not projected"; empty when fit.

    Raises
    ------
    ValueError
        When ``lon_lat_bounds`` is not four finite numbers within lon ±180 / lat ±90, west <= east,
        south <= north (a caller's mistake, not a property of the CRS).
    """
    bounds = _checked_bounds(lon_lat_bounds) if lon_lat_bounds is not None else None
    if isinstance(srid, bool) or not isinstance(srid, int):
        return [f"metric_srid must be an EPSG code (a whole number), not {srid!r}"]
    try:
        crs = CRS.from_epsg(srid)
    except CRSError:
        return [f"EPSG:{srid} is not a CRS known to PROJ's EPSG database"]
    label = f"EPSG:{srid} ({crs.name})"
    kind = _kind_problem(crs, label)
    if kind:
        return [kind]
    if bounds is None:
        return []
    problems = _area_of_use_problems(crs, label, bounds)
    scale = _scale_problem(crs, label, bounds)
    return problems + ([scale] if scale else [])


def utm_srid_for(lon: float, lat: float) -> int:
    """The EPSG code of the WGS 84 / UTM zone holding a point: 326zz north of the equator, 327zz south.

    Parameters
    ----------
    lon, lat
        The point in EPSG:4326 degrees; lat within UTM's range, 80°S to 84°N.

    Returns
    -------
    int
        For example 32748 (UTM 48S) for Kota Jambi (103.6, -1.6), 32752 (UTM 52S) for Kota Ambon.

    Raises
    ------
    ValueError
        When the point is not finite, lon is outside ±180, or lat is outside UTM's range. The
        Norway and Svalbard zone exceptions are not applied.
    """
    if not (math.isfinite(lon) and math.isfinite(lat)) or not -180 <= lon <= 180:
        raise ValueError(f"({lon}, {lat}) is not a (lon, lat) point in degrees")
    if not -80 <= lat <= 84:
        raise ValueError(f"latitude {lat} is outside UTM's range (80°S to 84°N); choose a polar CRS")
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def _checked_bounds(bounds: Bounds) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in bounds)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"bounds must be four finite numbers (west, south, east, north), not {bounds!r}")
    west, south, east, north = values
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError(f"bounds {bounds!r} are not (west, south, east, north) in degrees")
    return west, south, east, north


def _kind_problem(crs: CRS, label: str) -> str | None:
    if crs.is_compound:
        return f"{label} is a compound CRS (with heights); give its horizontal projected CRS"
    if crs.is_geographic:
        return f"{label} is geographic (degrees), not projected: distances need metres"
    if not crs.is_projected:
        return f"{label} is not a projected CRS (it is {crs.type_name}): distances need a map projection in metres"
    units = {axis.unit_name for axis in crs.axis_info}
    if units != {"metre"}:
        return f"{label} measures in {', '.join(sorted(units))}, not metres"
    return None


def _area_of_use_problems(crs: CRS, label: str, bounds: tuple[float, float, float, float]) -> list[str]:
    area = crs.area_of_use
    if area is None:
        return []
    west, south, east, north = bounds
    m = AREA_OF_USE_MARGIN_DEG
    lat_ok = area.south - m <= south and north <= area.north + m
    if area.west <= area.east:
        lon_ok = area.west - m <= west and east <= area.east + m
    else:  # the area of use crosses the antimeridian
        lon_ok = all(lon >= area.west - m or lon <= area.east + m for lon in (west, east))
    if lat_ok and lon_ok:
        return []
    return [
        f"{label} is made for lon {area.west:g} to {area.east:g}, lat {area.south:g} to {area.north:g}; the "
        f"region spans lon {west:.3f} to {east:.3f}, lat {south:.3f} to {north:.3f}{_utm_hint(bounds)}"
    ]


def _utm_hint(bounds: tuple[float, float, float, float]) -> str:
    west, south, east, north = bounds
    try:
        return f"; its centre is in {crs_label(utm_srid_for((west + east) / 2, (south + north) / 2))}"
    except ValueError:
        return ""


def _scale_problem(crs: CRS, label: str, bounds: tuple[float, float, float, float]) -> str | None:
    west, south, east, north = bounds
    lons = [west, east, west, east, (west + east) / 2]
    lats = [south, south, north, north, (south + north) / 2]
    try:
        factors = Proj(crs).get_factors(lons, lats)
        scales = [float(k) for k in (*np.ravel(factors.meridional_scale), *np.ravel(factors.parallel_scale))]
    except (CRSError, RuntimeError):
        scales = [math.nan]
    if all(math.isfinite(k) for k in scales):
        error = max(abs(k - 1) for k in scales)
        if error <= MAX_SCALE_ERROR:
            return None
        return (
            f"{label} stretches distances over the region by up to {error:.1%} "
            f"(the limit is {MAX_SCALE_ERROR:.0%}): it is made for another area"
        )
    return f"{label} cannot project the region's bounds (the projection is undefined there)"
