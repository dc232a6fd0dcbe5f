"""Import kecamatan and kelurahan polygons from GeoJSON, Shapefile or GeoPackage, keyed on Kemendagri codes.

The whole file is validated first (fields, geometry type, CRS, validity, unique codes, parents, and that
the region's ``metric_srid`` can measure the file's extent) and rejected with one ``ImportValidationError``
listing every problem; only a clean file is written, in one transaction, upserting on the code. Areas are
measured in the region's projected CRS (``Region.metric_srid``), never in degrees. Population fields are
never touched here, so re-importing boundaries keeps the figures loaded by ``import_population``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GeometryCollection, GEOSException, GEOSGeometry, MultiPolygon
from django.core.exceptions import ValidationError
from django.db import transaction

from gis_core.importers.errors import ImportValidationError
from gis_core.importers.summary import ImportSummary
from gis_core.importers.vector import feature_geometry, open_layer, outside_lonlat_range, to_storage_transform
from gis_core.metric_srid import metric_srid_problems
from gis_core.models import Kecamatan, Kelurahan, Region
from gis_core.shared_versions import boundaries_version_name, shared_version_bump_on_commit

Level = Literal["kecamatan", "kelurahan"]

# Fields that say whether a village is a kelurahan or a desa, tried in this order when the mapping does not
# name one: cahyadsn-derived files (Ambon, Balikpapan) have `tipe`, BIG's schema (Jambi) has `tipadm`.
KIND_FIELD_CANDIDATES = ("tipe", "tipadm")

# Source value (lower-cased) -> Kelurahan.kind. BIG's TIPADM is 1 = desa, 2 = kelurahan. Ambon's "desa/negeri"
# is stored as desa: a negeri is a desa adat, and the Kemendagri code (2xxx) does not tell them apart.
DEFAULT_KIND_VALUES: Mapping[str, str] = {
    "kelurahan": "kelurahan",
    "desa": "desa",
    "negeri": "negeri",
    "desa/negeri": "desa",
    "1": "desa",
    "2": "kelurahan",
}


@dataclass(frozen=True)
class BoundaryMapping:
    """Which source fields hold the code, the name, the parent kecamatan code and the kind.

    ``kind=None`` means: use the first of ``KIND_FIELD_CANDIDATES`` present in the file, else derive the
    kind from the Kemendagri code (village part starting with 1 = kelurahan, 2 = desa).
    """

    code: str
    name: str
    parent_code: str | None = None
    kind: str | None = None
    kind_values: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KIND_VALUES))

    @classmethod
    def for_level(cls, level: Level, **overrides: str | None) -> BoundaryMapping:
        """The mapping matching the real files for ``level``, with any field names overridden."""
        if level == "kecamatan":
            base = {"code": "kode_kec", "name": "kecamatan"}
        elif level == "kelurahan":
            base = {"code": "kode_kel", "name": "kelurahan", "parent_code": "kode_kec"}
        else:
            raise ImportValidationError(f"level must be kecamatan or kelurahan, not {level!r}")
        base.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**base)


@dataclass
class _Area:
    label: str
    code: str
    name: str
    geom: MultiPolygon
    area_m2: float
    parent_code: str = ""
    kind: str = ""


def import_boundaries(
    *,
    region: Region,
    path: Path,
    level: Level,
    mapping: BoundaryMapping | None = None,
    layer: str | int | None = None,
    make_valid: bool = False,
) -> ImportSummary:
    """Validate a boundary file completely, then upsert its polygons on the Kemendagri code.

    Parameters
    ----------
    region
        The region the areas belong to; every code must start with ``region.code`` + ".".
    path
        GeoJSON (RFC 7946 or with a ``crs`` member; CRS84 counts as EPSG:4326), Shapefile (its ``.prj``
        is required) or GeoPackage, in any CRS GDAL knows; geometries are transformed to EPSG:4326.
    level
        ``"kecamatan"`` or ``"kelurahan"``; kelurahan need their kecamatan imported first.
    mapping
        Source field names; ``BoundaryMapping.for_level(level)`` (the real files' names) when omitted.
    layer
        Layer name or index, for files with several layers.
    make_valid
        Repair invalid polygons with GEOS ``MakeValid`` instead of rejecting the file; every repair is
        listed in the summary's ``notes`` with the area after repair (m², in ``region.metric_srid``).

    Returns
    -------
    ImportSummary
        Created / updated / unchanged counts; ``notes`` lists repairs and database rows not in the file.

    Raises
    ------
    ImportValidationError
        Listing every problem, each naming the feature by index, code and name, or every reason the
        region's ``metric_srid`` cannot measure the file (see ``gis_core.metric_srid``). Nothing is written.
    """
    mapping = mapping or BoundaryMapping.for_level(level)
    path = Path(path)
    summary = ImportSummary(source=f"{path.name} ({level})")
    areas = _read_and_validate(
        region=region, path=path, level=level, mapping=mapping, layer=layer, make_valid=make_valid, summary=summary
    )
    with transaction.atomic():
        if level == "kecamatan":
            _upsert_kecamatan(region, areas, summary)
        else:
            _upsert_kelurahan(region, areas, summary)
        # Bulk writes send no signals: every process's outline and coverage context of the region are rebuilt.
        shared_version_bump_on_commit(boundaries_version_name(region.pk))
    return summary


@dataclass(frozen=True)
class BoundaryFootprint:
    """Where a boundary file lies: its extent and centroid in EPSG:4326 degrees."""

    extent_lonlat: tuple[float, float, float, float]
    centroid_lonlat: tuple[float, float]
    feature_count: int


def boundary_file_footprint(path: Path, *, layer: str | int | None = None) -> BoundaryFootprint:
    """Extent and area-weighted centroid of a boundary file's polygons, for choosing a region's CRS.

    Reads any polygon file the importer reads (fields are not looked at). Nothing is written.

    Raises
    ------
    ImportValidationError
        When the file cannot be read, has no polygon, or a coordinate is outside lon ±180 / lat ±90
        after the transform to EPSG:4326.
    """
    path = Path(path)
    _source, lyr = open_layer(path, layer=layer)
    transform = to_storage_transform(path, lyr)
    polygons = []
    for index, feature in enumerate(lyr):
        try:
            geom = feature_geometry(feature, transform)
        except (GDALException, GEOSException) as exc:
            raise ImportValidationError(f"{path.name}: feature {index}: geometry cannot be read ({exc})") from exc
        if geom is None or geom.empty or geom.geom_type not in {"Polygon", "MultiPolygon"}:
            continue
        if outside_lonlat_range(geom):
            raise ImportValidationError(
                f"{path.name}: feature {index}: coordinates outside lon/lat range after transform to EPSG:4326 "
                f"(extent {geom.extent})"
            )
        polygons.append(geom)
    if not polygons:
        raise ImportValidationError(f"{path.name}: layer {lyr.name!r} has no polygon features")
    collection = GeometryCollection(polygons, srid=polygons[0].srid)
    centroid = collection.centroid
    return BoundaryFootprint(
        extent_lonlat=tuple(collection.extent), centroid_lonlat=(centroid.x, centroid.y), feature_count=len(polygons)
    )


def _read_and_validate(
    *,
    region: Region,
    path: Path,
    level: Level,
    mapping: BoundaryMapping,
    layer: str | int | None,
    make_valid: bool,
    summary: ImportSummary,
) -> list[_Area]:
    _check_metric_srid(region, path, problems=metric_srid_problems(region.metric_srid))
    _source, lyr = open_layer(path, layer=layer)
    transform = to_storage_transform(path, lyr)
    kind_field = _kind_field(path, lyr.fields, mapping) if level == "kelurahan" else None
    required = [mapping.code, mapping.name] + ([mapping.parent_code or ""] if level == "kelurahan" else [])
    missing = [name for name in required if name not in lyr.fields]
    if missing:
        raise ImportValidationError(
            f"{path.name}: required field(s) {', '.join(repr(m) for m in missing)} not found; "
            f"the file has {', '.join(lyr.fields)}"
        )
    if len(lyr) == 0:
        raise ImportValidationError(f"{path.name}: layer {lyr.name!r} has no features")
    problems: list[str] = []
    areas: list[_Area] = []
    for index, feature in enumerate(lyr):
        area = _read_feature(
            index,
            feature,
            region=region,
            level=level,
            mapping=mapping,
            kind_field=kind_field,
            transform=transform,
            make_valid=make_valid,
            problems=problems,
            summary=summary,
        )
        if area is not None:
            areas.append(area)
    if areas:
        _check_metric_srid(region, path, problems=metric_srid_problems(region.metric_srid, _extent(areas)))
    problems += _duplicate_codes(areas)
    if level == "kelurahan":
        problems += _unknown_parents(region, areas)
    problems += _codes_owned_elsewhere(region, level, areas)
    problems += _model_errors(region, level, areas)
    if problems:
        raise ImportValidationError(
            f"{path.name}: {len(problems)} problem(s) in {len(lyr)} features; nothing was imported",
            problems=problems,
        )
    return areas


def _check_metric_srid(region: Region, path: Path, *, problems: list[str]) -> None:
    """Refuse the file before anything is measured or written when the region's CRS cannot measure it."""
    if problems:
        raise ImportValidationError(
            f"{path.name}: {region.name}'s metric_srid EPSG:{region.metric_srid} cannot measure these areas; "
            "nothing was imported. Set a projected CRS in metres for the region (admin: Regions) and import again",
            problems=problems,
        )


def _extent(areas: list[_Area]) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of all the areas, EPSG:4326."""
    extents = [area.geom.extent for area in areas]
    return (
        min(e[0] for e in extents),
        min(e[1] for e in extents),
        max(e[2] for e in extents),
        max(e[3] for e in extents),
    )


def _kind_field(path: Path, fields: list[str], mapping: BoundaryMapping) -> str | None:
    if mapping.kind is not None:
        if mapping.kind not in fields:
            raise ImportValidationError(
                f"{path.name}: kind field {mapping.kind!r} not found; the file has {', '.join(fields)}"
            )
        return mapping.kind
    return next((name for name in KIND_FIELD_CANDIDATES if name in fields), None)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _read_feature(
    index: int,
    feature,
    *,
    region: Region,
    level: Level,
    mapping: BoundaryMapping,
    kind_field: str | None,
    transform,
    make_valid: bool,
    problems: list[str],
    summary: ImportSummary,
) -> _Area | None:
    code, name = _text(feature.get(mapping.code)), _text(feature.get(mapping.name))
    label = f"feature {index} ({code or 'no code'}, {name or 'no name'})"
    errors: list[str] = []
    if not code:
        errors.append(f"no code in field {mapping.code!r}")
    elif not code.startswith(f"{region.code}."):
        errors.append(f"code {code!r} is not inside region {region.code} ({region.name})")
    if not name:
        errors.append(f"no name in field {mapping.name!r}")
    parent, kind = "", ""
    if level == "kelurahan":
        parent = _text(feature.get(mapping.parent_code or ""))
        if not parent:
            errors.append(f"no kecamatan code in field {mapping.parent_code!r}")
        elif code and not code.startswith(f"{parent}."):
            errors.append(f"code {code!r} does not belong to its kecamatan {parent!r}")
        kind = _kind(feature, kind_field, mapping, code, errors)
    geom = _polygon(feature, transform, label=label, make_valid=make_valid, errors=errors, summary=summary)
    area_m2 = _area_m2(geom, region, errors) if geom is not None else 0.0
    if errors:
        problems.extend(f"{label}: {error}" for error in errors)
        return None
    return _Area(label=label, code=code, name=name, geom=geom, area_m2=area_m2, parent_code=parent, kind=kind)


def _kind(feature, kind_field: str | None, mapping: BoundaryMapping, code: str, errors: list[str]) -> str:
    if kind_field is None:
        village = code.rsplit(".", 1)[-1] if code.count(".") >= 3 else ""
        if village[:1] in {"1", "2"}:
            return "kelurahan" if village[0] == "1" else "desa"
        errors.append(f"no kind field and code {code!r} does not say kelurahan (1xxx) or desa (2xxx)")
        return ""
    raw = _text(feature.get(kind_field))
    kind = mapping.kind_values.get(raw.lower())
    if kind is None:
        known = ", ".join(sorted(mapping.kind_values))
        errors.append(f"kind {raw!r} in field {kind_field!r} is not one of {known}")
        return ""
    return kind


def _polygon(
    feature, transform, *, label: str, make_valid: bool, errors: list[str], summary: ImportSummary
) -> MultiPolygon | None:
    try:
        geom = feature_geometry(feature, transform)
    except (GDALException, GEOSException) as exc:
        errors.append(f"geometry cannot be read or transformed ({exc})")
        return None
    if geom is None or geom.empty:
        errors.append("no geometry")
        return None
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        errors.append(f"geometry is a {geom.geom_type}, expected Polygon or MultiPolygon")
        return None
    if outside_lonlat_range(geom):
        errors.append(f"coordinates outside lon/lat range after transform to EPSG:4326 (extent {geom.extent})")
        return None
    if not geom.valid:
        if not make_valid:
            errors.append(f"invalid polygon: {geom.valid_reason} (use make_valid to repair it)")
            return None
        geom = _repair(geom, label=label, summary=summary, errors=errors)
    return _as_multipolygon(geom) if geom is not None else None


def _repair(geom: GEOSGeometry, *, label: str, summary: ImportSummary, errors: list[str]) -> GEOSGeometry | None:
    reason = geom.valid_reason
    repaired = geom.make_valid()
    polygons = [part for part in _parts(repaired) if part.geom_type == "Polygon" and not part.empty]
    dropped = sorted({part.geom_type for part in _parts(repaired) if part.geom_type != "Polygon"})
    if not polygons:
        errors.append(f"invalid polygon ({reason}) and make_valid leaves no polygon")
        return None
    fixed = MultiPolygon(polygons, srid=geom.srid)
    note = f"{label}: {reason}; repaired by make_valid into {len(polygons)} polygon(s)"
    if dropped:
        note += f", dropping {', '.join(dropped)} parts"
    summary.notes.append(note)
    return fixed


def _parts(geom: GEOSGeometry) -> list[GEOSGeometry]:
    if geom.geom_type in {"GeometryCollection", "MultiPolygon", "MultiLineString", "MultiPoint"}:
        return [part for sub in geom for part in _parts(sub)]
    return [geom]


def _as_multipolygon(geom: GEOSGeometry) -> MultiPolygon:
    if geom.geom_type == "MultiPolygon":
        return geom
    return MultiPolygon(geom, srid=geom.srid)


def _area_m2(geom: MultiPolygon, region: Region, errors: list[str]) -> float:
    try:
        return geom.transform(region.metric_srid, clone=True).area
    except (GDALException, GEOSException) as exc:
        errors.append(f"cannot measure area in EPSG:{region.metric_srid} ({exc})")
        return 0.0


def _duplicate_codes(areas: list[_Area]) -> list[str]:
    first: dict[str, _Area] = {}
    problems = []
    for area in areas:
        if area.code in first:
            problems.append(f"{area.label}: code {area.code!r} already used by {first[area.code].label}")
        else:
            first[area.code] = area
    return problems


def _unknown_parents(region: Region, areas: list[_Area]) -> list[str]:
    parents = {area.parent_code for area in areas}
    known = set(Kecamatan.objects.filter(region=region, code__in=parents).values_list("code", flat=True))
    return [
        f"{area.label}: kecamatan {area.parent_code!r} is not imported for {region.name}; import kecamatan first"
        for area in areas
        if area.parent_code not in known
    ]


def _codes_owned_elsewhere(region: Region, level: Level, areas: list[_Area]) -> list[str]:
    codes = [area.code for area in areas]
    if level == "kecamatan":
        other = Kecamatan.objects.filter(code__in=codes).exclude(region=region).values_list("code", "region__name")
    else:
        other = (
            Kelurahan.objects.filter(code__in=codes)
            .exclude(kecamatan__region=region)
            .values_list("code", "kecamatan__region__name")
        )
    owner = dict(other)
    return [f"{a.label}: code {a.code!r} already belongs to {owner[a.code]}" for a in areas if a.code in owner]


def _model_errors(region: Region, level: Level, areas: list[_Area]) -> list[str]:
    """Field-level validation (lengths, choices) before anything is written; keys are checked above."""
    problems = []
    for area in areas:
        obj = _build(region, level, area, kecamatan_id=None)
        try:
            obj.full_clean(exclude=["region", "kecamatan"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            problems.append(f"{area.label}: {'; '.join(f'{k}: {v}' for k, v in exc.message_dict.items())}")
    return problems


def _build(region: Region, level: Level, area: _Area, *, kecamatan_id: int | None) -> Kecamatan | Kelurahan:
    common = {"code": area.code, "name": area.name, "geom": area.geom, "area_m2": area.area_m2}
    if level == "kecamatan":
        return Kecamatan(region=region, **common)
    return Kelurahan(kecamatan_id=kecamatan_id, kind=area.kind, **common)


def _same(obj: Kecamatan | Kelurahan, new: dict) -> bool:
    for name, value in new.items():
        old = getattr(obj, name)
        if name == "geom":
            if bytes(old.wkb) != bytes(value.wkb):
                return False
        elif name == "area_m2":
            if not math.isclose(old, value, rel_tol=1e-9):
                return False
        elif old != value:
            return False
    return True


def _apply(model, existing: dict, rows: dict[str, dict], summary: ImportSummary, build) -> None:
    """Create the new codes, update the changed ones, count the rest as unchanged."""
    to_create, to_update = [], []
    for code, values in rows.items():
        obj = existing.get(code)
        if obj is None:
            to_create.append(build(code, values))
        elif _same(obj, values):
            summary.unchanged += 1
        else:
            for name, value in values.items():
                setattr(obj, name, value)
            to_update.append(obj)
    model.objects.bulk_create(to_create)
    if to_update:
        model.objects.bulk_update(to_update, fields=list(next(iter(rows.values()))))
    summary.created += len(to_create)
    summary.updated += len(to_update)


def _upsert_kecamatan(region: Region, areas: list[_Area], summary: ImportSummary) -> None:
    rows = {a.code: {"name": a.name, "geom": a.geom, "area_m2": a.area_m2, "region_id": region.pk} for a in areas}
    existing = {obj.code: obj for obj in Kecamatan.objects.select_for_update().filter(code__in=rows)}
    _apply(Kecamatan, existing, rows, summary, lambda code, values: Kecamatan(code=code, **values))
    _note_missing(Kecamatan.objects.filter(region=region), rows, "kecamatan", summary)


def _upsert_kelurahan(region: Region, areas: list[_Area], summary: ImportSummary) -> None:
    parent_ids = dict(Kecamatan.objects.filter(region=region).values_list("code", "pk"))
    rows = {
        a.code: {
            "name": a.name,
            "geom": a.geom,
            "area_m2": a.area_m2,
            "kecamatan_id": parent_ids[a.parent_code],
            "kind": a.kind,
        }
        for a in areas
    }
    existing = {obj.code: obj for obj in Kelurahan.objects.select_for_update().filter(code__in=rows)}
    _apply(Kelurahan, existing, rows, summary, lambda code, values: Kelurahan(code=code, **values))
    _note_missing(Kelurahan.objects.filter(kecamatan__region=region), rows, "kelurahan", summary)


def _note_missing(queryset, rows: dict[str, dict], noun: str, summary: ImportSummary) -> None:
    missing = sorted(set(queryset.values_list("code", flat=True)) - set(rows))
    if missing:
        summary.notes.append(
            f"{len(missing)} {noun} in the database are not in this file and were kept: {', '.join(missing)}"
        )
