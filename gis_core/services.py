"""Writes on the geography tables that are not file imports: creating a region."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from gis_core.importers.boundaries import boundary_file_footprint
from gis_core.metric_srid import metric_srid_problems, utm_srid_for
from gis_core.models import Region


@dataclass(frozen=True)
class RegionCreated:
    """The new region, and how its ``metric_srid`` was decided (for the command to say)."""

    region: Region
    srid_reason: str


def region_create(
    *,
    name: str,
    code: str,
    slug: str | None = None,
    metric_srid: int | None = None,
    boundaries: Path | None = None,
    layer: str | int | None = None,
) -> RegionCreated:
    """Create a region, choosing its metric CRS (the UTM zone of its boundaries' centroid) when not given.

    Parameters
    ----------
    name, code
        The city's name and Kemendagri code (``"Kota Jambi"``, ``"15.71"``); boundary codes imported
        later must start with ``code`` + ".".
    slug
        URL name; ``slugify(name)`` when omitted.
    metric_srid
        EPSG code of a projected CRS in metres; when omitted, the WGS 84 / UTM zone (326zz / 327zz)
        holding the centroid of ``boundaries``.
    boundaries
        Any polygon file of the city (its kecamatan, say) in a CRS GDAL knows. Only read: the CRS is
        chosen from, or checked against, its extent. Import the areas with ``import_boundaries``.
    layer
        Layer of ``boundaries``, for files with several.

    Raises
    ------
    ValidationError
        Neither ``metric_srid`` nor ``boundaries``, a CRS that cannot measure the boundaries, text with
        a NUL character, or what ``Region.full_clean`` refuses (duplicate code or slug, lengths).
    ImportValidationError
        When ``boundaries`` cannot be read or holds no polygon.
    """
    texts = {"name": name, "code": code, "slug": slug or ""}
    nul = {field: "must not contain a NUL character" for field, value in texts.items() if "\x00" in value}
    if nul:
        raise ValidationError(nul)
    if metric_srid is None and boundaries is None:
        raise ValidationError(
            {"metric_srid": "give the EPSG code of a projected CRS, or a boundary file to choose the UTM zone from"}
        )
    srid, reason = metric_srid, "as given"
    if boundaries is not None:
        footprint = boundary_file_footprint(boundaries, layer=layer)
        if srid is None:
            lon, lat = footprint.centroid_lonlat
            try:
                srid = utm_srid_for(lon, lat)
            except ValueError as exc:
                raise ValidationError({"metric_srid": f"{exc}; give the metric_srid"}) from exc
            reason = f"the UTM zone of the centroid ({lon:.4f}, {lat:.4f}) of {Path(boundaries).name}"
        problems = metric_srid_problems(srid, footprint.extent_lonlat)
        if problems:
            raise ValidationError({"metric_srid": problems})
    assert srid is not None  # given, or chosen from the boundary file (one of the two is required above)
    region = Region(name=name.strip(), code=code.strip(), slug=(slug or slugify(name)).strip(), metric_srid=srid)
    region.full_clean()
    region.save()
    return RegionCreated(region=region, srid_reason=reason)
