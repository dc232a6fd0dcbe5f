"""Writes on the geography tables that are not file imports: creating a region."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from gis_core.importers.boundaries import boundary_file_footprint
from gis_core.metric_srid import metric_srid_problems, utm_srid_for
from gis_core.models import Region
from gis_core.time_zones import zone_for_code


@dataclass(frozen=True)
class RegionCreated:
    """The new region, and how its ``metric_srid`` was decided (for the command to say)."""

    region: Region
    srid_reason: str
    time_zone_reason: str = "as given"


def region_create(
    *,
    name: str,
    code: str,
    slug: str | None = None,
    metric_srid: int | None = None,
    boundaries: Path | None = None,
    layer: str | int | None = None,
    time_zone: str | None = None,
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
    time_zone
        IANA zone the centre's times are shown in (``Asia/Jayapura``); when omitted, the zone of the
        province the code lies in (Indonesia's WIB, WITA and WIT, :data:`gis_core.time_zones.PROVINCE_ZONES`).

    Raises
    ------
    ValidationError
        Neither ``metric_srid`` nor ``boundaries``, a CRS that cannot measure the boundaries, no
        ``time_zone`` for a code outside Indonesia's provinces, an unknown zone, text with a NUL
        character, or what ``Region.full_clean`` refuses (duplicate code or slug, lengths).
    ImportValidationError
        When ``boundaries`` cannot be read or holds no polygon.
    """
    texts = {"name": name, "code": code, "slug": slug or "", "time_zone": time_zone or ""}
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
    given = (time_zone or "").strip()
    zone, zone_reason = (given, "as given") if given else _time_zone_of_code(code)
    region = Region(
        name=name.strip(), code=code.strip(), slug=(slug or slugify(name)).strip(), metric_srid=srid, time_zone=zone
    )
    errors: dict[str, list[str]] = {}
    try:
        region.full_clean()  # an unknown zone given is refused here, with the zones it may have meant
    except ValidationError as exc:
        errors = exc.message_dict
    if not zone:
        errors["time_zone"] = [zone_reason]  # not "cannot be blank": why no zone could be chosen
    if errors:
        raise ValidationError(errors)
    region.save()
    return RegionCreated(region=region, srid_reason=reason, time_zone_reason=zone_reason)


def _time_zone_of_code(code: str) -> tuple[str, str]:
    """The zone of the code's province and why; ``""`` and what to do when the code is in none."""
    zone = zone_for_code(code)
    if zone is None:
        return "", f"code {code.strip()!r} is in no Indonesian province: give the IANA time zone, e.g. Asia/Jakarta"
    return zone, f"the zone of province {code.strip()[:2]}"
