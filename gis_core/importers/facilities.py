"""Import hospitals, puskesmas, clinics and fire stations from GeoJSON (or any GDAL point layer) or CSV.

Natural key, per region (``Facility.ref``), first that applies:

1. ``osm:{osm_type}/{osm_id}`` when the record has both (OpenStreetMap extracts);
2. the value of ``FacilityMapping.ref`` when a ref field is named (the source's own stable id);
3. ``name:{slug}``, the slugified name; a slug longer than 59 characters is cut to 50 and suffixed with 8 hex
   digits of its SHA-1, so the ref stays unique and fits 64 characters. Renaming such a facility in the
   source creates a new row on re-import: give sources without ids a ref field where you can.

Every record is validated before anything is written: a name, lon/lat in range and not (0, 0), a known kind,
a unique ref, and a position at most ``max_outside_m`` from the region's kecamatan (a point far outside is
usually lat/lon swapped or a wrong city). Properties not used for the key, name, kind or source are kept in
``attributes`` (empty and null values are dropped).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib.gis.gdal import CoordTransform, GDALException, SpatialReference
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from gis_core.importers.errors import ImportValidationError
from gis_core.importers.summary import ImportSummary
from gis_core.importers.vector import feature_geometry, open_layer, to_storage_transform
from gis_core.models import Facility, FacilityKind, Region
from gis_core.selectors import region_kecamatan_union

# Source value (lower-cased) -> Facility.kind. `non_emergency_cosmetic` is the Jambi file's class for skin,
# beauty and reflexology places tagged amenity=clinic: kept, but as "other" so no one dispatches to them.
DEFAULT_KIND_VALUES: Mapping[str, str] = {
    "hospital": FacilityKind.HOSPITAL,
    "puskesmas": FacilityKind.PUSKESMAS,
    "clinic": FacilityKind.CLINIC,
    "fire_station": FacilityKind.FIRE_STATION,
    "non_emergency_cosmetic": FacilityKind.OTHER,
    "other": FacilityKind.OTHER,
}
OSM_TYPES = {"node", "way", "relation"}
DEFAULT_MAX_OUTSIDE_M = 20_000.0


@dataclass(frozen=True)
class FacilityMapping:
    """Source field names; the defaults fit the Jambi OSM GeoJSON and the Damkar CSV.

    ``kind`` names the field mapped through ``kind_values``; ``lon``/``lat`` are read from CSV only.
    ``source`` is a per-record provenance column (the Damkar CSV has one).
    """

    name: str = "name"
    kind: str = "facility_class"
    kind_values: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KIND_VALUES))
    ref: str | None = None
    lon: str = "lon"
    lat: str = "lat"
    source: str = "source"


@dataclass
class _Record:
    label: str
    properties: dict
    lon: float = math.nan
    lat: float = math.nan
    ref: str = ""
    kind: str = ""
    errors: list[str] = field(default_factory=list)


def import_facilities(
    *,
    region: Region,
    path: Path,
    mapping: FacilityMapping | None = None,
    kind: str | None = None,
    layer: str | int | None = None,
    source: str = "",
    max_outside_m: float = DEFAULT_MAX_OUTSIDE_M,
) -> ImportSummary:
    """Validate every facility in a file, then upsert them on ``(region, ref)``.

    Parameters
    ----------
    region
        The region the facilities serve.
    path
        ``.csv`` (decimal-degree ``lon``/``lat`` columns, EPSG:4326) or a GDAL point layer (GeoJSON, GeoPackage,
        Shapefile) in any declared CRS, transformed to EPSG:4326.
    mapping
        Field names; ``FacilityMapping()`` when omitted.
    kind
        One ``FacilityKind`` for every record (``"fire_station"`` for the Damkar CSV), instead of the kind field.
    layer
        Layer name or index for multi-layer files.
    source
        Provenance stored in ``Facility.source`` when a record has no source column of its own; by default
        the file name (with the ODbL attribution for OSM records), so the same data from a renamed file
        counts as updated.
    max_outside_m
        How far (metres, measured in ``region.metric_srid``) a point may lie outside the region's kecamatan
        union; unchecked when the region has no kecamatan yet (a note says so).

    Returns
    -------
    ImportSummary
        Created / updated / unchanged counts; ``notes`` lists facilities in the database but not in the file.

    Raises
    ------
    ImportValidationError
        Listing every bad record by index (or CSV line) and name. Nothing is written.
    """
    mapping = mapping or FacilityMapping()
    path = Path(path)
    if kind is not None and kind not in FacilityKind.values:
        raise ImportValidationError(f"kind {kind!r} is not one of {', '.join(FacilityKind.values)}")
    summary = ImportSummary(source=path.name)
    records = _read_csv(path, mapping) if path.suffix.lower() == ".csv" else _read_layer(path, mapping, layer)
    if not records:
        raise ImportValidationError(f"{path.name}: no records")
    if kind is None and not any(mapping.kind in r.properties for r in records):
        raise ImportValidationError(f"{path.name}: no kind field {mapping.kind!r}; give a kind for every record")
    for record in records:
        _check(record, mapping, kind)
    _check_positions(region, records, max_outside_m, summary)
    _check_duplicate_refs(records)
    facilities = [_build(region, record, mapping, source or _default_source(record, path)) for record in records]
    problems = [f"{r.label}: {error}" for r in records for error in r.errors]
    if problems:
        raise ImportValidationError(
            f"{path.name}: {len(problems)} problem(s) in {len(records)} records; nothing was imported",
            problems=problems,
        )
    with transaction.atomic():
        _upsert(region, facilities, summary)
    return summary


def _read_csv(path: Path, mapping: FacilityMapping) -> list[_Record]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = reader.fieldnames or []
            missing = [c for c in (mapping.name, mapping.lon, mapping.lat) if c not in columns]
            if missing:
                raise ImportValidationError(
                    f"{path.name}: column(s) {', '.join(repr(m) for m in missing)} not found; "
                    f"the header has {', '.join(columns) or 'nothing'}"
                )
            records = []
            for raw in reader:
                properties = {key: (value or "").strip() for key, value in raw.items() if key is not None}
                label = f"line {reader.line_num} ({properties[mapping.name] or 'no name'})"
                record = _Record(label=label, properties=properties)
                record.lon = _coordinate(properties.pop(mapping.lon), "lon", record.errors)
                record.lat = _coordinate(properties.pop(mapping.lat), "lat", record.errors)
                records.append(record)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportValidationError(f"{path}: cannot read it as a UTF-8 CSV ({exc})") from exc
    return records


def _coordinate(text: str, axis: str, errors: list[str]) -> float:
    try:
        return float(text)
    except ValueError:
        errors.append(f"{axis} {text!r} is not a number")
        return math.nan


def _read_layer(path: Path, mapping: FacilityMapping, layer: str | int | None) -> list[_Record]:
    _source, lyr = open_layer(path, layer=layer)
    transform = to_storage_transform(path, lyr)
    if mapping.name not in lyr.fields:
        raise ImportValidationError(
            f"{path.name}: name field {mapping.name!r} not found; the file has {', '.join(lyr.fields)}"
        )
    records = []
    for index, feature in enumerate(lyr):
        properties = {name: feature.get(name) for name in lyr.fields}
        label = f"feature {index} ({_text(properties[mapping.name]) or 'no name'})"
        record = _Record(label=label, properties=properties)
        _read_point(record, feature, transform)
        records.append(record)
    return records


def _read_point(record: _Record, feature, transform: CoordTransform | None) -> None:
    try:
        geom = feature_geometry(feature, transform)
    except (GDALException, GEOSException) as exc:
        record.errors.append(f"geometry cannot be read or transformed ({exc})")
        return
    if geom is None or geom.empty:
        record.errors.append("no geometry")
    elif geom.geom_type != "Point":
        record.errors.append(f"geometry is a {geom.geom_type}, expected Point")
    else:
        record.lon, record.lat = geom.x, geom.y


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _check(record: _Record, mapping: FacilityMapping, kind: str | None) -> None:
    props = record.properties
    name = _text(props.get(mapping.name))
    if not name:
        record.errors.append(f"no name in field {mapping.name!r}")
    _check_range(record)
    record.ref = _ref(props, mapping, name, record.errors)
    if kind is not None:
        record.kind = kind
    else:
        raw = _text(props.get(mapping.kind))
        record.kind = mapping.kind_values.get(raw.lower(), "")
        if not record.kind:
            known = ", ".join(sorted(mapping.kind_values))
            record.errors.append(f"kind {raw!r} in field {mapping.kind!r} is not one of {known}")


def _check_range(record: _Record) -> None:
    lon, lat = record.lon, record.lat
    if math.isnan(lon) or math.isnan(lat):
        return
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        swapped = " (lat and lon look swapped)" if abs(lon) <= 90 < abs(lat) <= 180 else ""
        record.errors.append(f"position lon {lon}, lat {lat} is outside lon ±180 / lat ±90{swapped}")
        record.lon = record.lat = math.nan
    elif lon == 0 and lat == 0:
        record.errors.append("position is (0, 0), a missing coordinate, not a place")
        record.lon = record.lat = math.nan


def _ref(props: dict, mapping: FacilityMapping, name: str, errors: list[str]) -> str:
    osm_type, osm_id = _text(props.get("osm_type")).lower(), _text(props.get("osm_id"))
    if osm_type in OSM_TYPES and osm_id.isdigit():
        return f"osm:{osm_type}/{osm_id}"
    if mapping.ref is not None:
        ref = _text(props.get(mapping.ref))
        if not ref:
            errors.append(f"no ref in field {mapping.ref!r}")
        return ref
    return name_ref(name) if name else ""


def name_ref(name: str) -> str:
    """The stable key derived from a name: ``name:`` + slug, hashed down to 64 characters when long."""
    slug = slugify(name)
    if len(slug) > 59:
        slug = f"{slug[:50].rstrip('-')}-{hashlib.sha1(slug.encode()).hexdigest()[:8]}"
    return f"name:{slug}"


def _check_positions(region: Region, records: list[_Record], max_outside_m: float, summary: ImportSummary) -> None:
    union = region_kecamatan_union(region=region)
    if union is None:
        summary.notes.append(f"{region.name} has no kecamatan yet: positions were checked for range only")
        return
    to_metric = CoordTransform(SpatialReference(4326), SpatialReference(region.metric_srid))
    union_m = union.transform(to_metric, clone=True)
    for record in records:
        if math.isnan(record.lon) or math.isnan(record.lat):
            continue
        distance_m = _distance_m(union_m, record.lon, record.lat, to_metric)
        if distance_m > max_outside_m:
            swapped = _distance_m(union_m, record.lat, record.lon, to_metric) <= max_outside_m
            hint = " (with lat and lon swapped it would be inside: they look swapped)" if swapped else ""
            record.errors.append(
                f"position lon {record.lon}, lat {record.lat} is {distance_m / 1000:.1f} km outside "
                f"{region.name}'s kecamatan (limit {max_outside_m / 1000:.1f} km){hint}"
            )


def _distance_m(union_m: GEOSGeometry, lon: float, lat: float, to_metric: CoordTransform) -> float:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return math.inf
    try:
        return union_m.distance(Point(lon, lat, srid=4326).transform(to_metric, clone=True))
    except (GDALException, GEOSException):
        return math.inf


def _check_duplicate_refs(records: list[_Record]) -> None:
    first: dict[str, _Record] = {}
    for record in records:
        if not record.ref:
            continue
        if record.ref in first:
            record.errors.append(f"ref {record.ref!r} already used by {first[record.ref].label}")
        else:
            first[record.ref] = record


def _default_source(record: _Record, path: Path) -> str:
    if record.ref.startswith("osm:"):
        return f"OpenStreetMap (ODbL, © OpenStreetMap contributors), {path.name}"
    return path.name


def _jsonable(value: object) -> object:
    if isinstance(value, dt.date | dt.time | decimal.Decimal):
        return str(value)
    return value


def _build(region: Region, record: _Record, mapping: FacilityMapping, fallback_source: str) -> Facility:
    props = record.properties
    used = {mapping.name, mapping.kind, mapping.source, mapping.ref, "osm_type", "osm_id"}
    attributes = {k: _jsonable(v) for k, v in props.items() if k not in used and v not in (None, "")}
    facility = Facility(
        region=region,
        ref=record.ref,
        name=_text(props.get(mapping.name)),
        kind=record.kind,
        geom=Point(record.lon, record.lat, srid=4326) if not record.errors else None,
        source=_text(props.get(mapping.source)) or fallback_source,
        attributes=attributes,
    )
    if not record.errors:
        try:
            facility.full_clean(exclude=["region"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            record.errors.extend(f"{key}: {'; '.join(msgs)}" for key, msgs in exc.message_dict.items())
    return facility


def _upsert(region: Region, facilities: list[Facility], summary: ImportSummary) -> None:
    fields = ["name", "kind", "geom", "source", "attributes"]
    existing = {
        f.ref: f
        for f in Facility.objects.select_for_update().filter(region=region, ref__in=[f.ref for f in facilities])
    }
    to_create, to_update = [], []
    for new in facilities:
        old = existing.get(new.ref)
        if old is None:
            to_create.append(new)
        elif _same(old, new, fields):
            summary.unchanged += 1
        else:
            for name in fields:
                setattr(old, name, getattr(new, name))
            to_update.append(old)
    Facility.objects.bulk_create(to_create)
    Facility.objects.bulk_update(to_update, fields=fields)
    summary.created, summary.updated = len(to_create), len(to_update)
    others = Facility.objects.filter(region=region).exclude(ref__in=[f.ref for f in facilities])
    if others.exists():
        summary.notes.append(f"{others.count()} facilities of {region.name} are not in this file and were kept")


def _same(old: Facility, new: Facility, fields: list[str]) -> bool:
    for name in fields:
        if name == "geom":
            if bytes(old.geom.wkb) != bytes(new.geom.wkb):
                return False
        elif getattr(old, name) != getattr(new, name):
            return False
    return True
