"""Writes on the geography tables that are not file imports: creating a region, a calibrated network version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.text import slugify

from gis_core.importers.boundaries import boundary_file_footprint
from gis_core.importers.roads import network_version_activate, reserve_ids
from gis_core.metric_srid import metric_srid_problems, utm_srid_for
from gis_core.models import Region, RoadEdge, RoadNetworkVersion, RoadNode, RoadSpeedFactor
from gis_core.routing.speed_learning import SpeedFactor
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


def network_version_calibrated(
    *,
    source: RoadNetworkVersion,
    edge_ids: np.ndarray,
    travel_time_s: np.ndarray,
    factors: Sequence[SpeedFactor],
    report: dict,
    keep_versions: int = 2,
) -> RoadNetworkVersion:
    """Copy a network version with new edge travel times and make the copy the region's active version.

    Nodes and edges are copied in SQL (``INSERT ... SELECT``); every column is kept but ``travel_time_s``,
    so ``speed_kph`` stays the table speed the learned factors multiply. The factors are stored with the
    new version (:class:`~gis_core.models.RoadSpeedFactor`). One transaction writes the copy and switches
    the active version, as an import does: readers see the old network or the whole new one.

    Parameters
    ----------
    source
        The version calibrated (normally the active one); it stays, as the previous version.
    edge_ids, travel_time_s
        Every ``RoadEdge`` id of ``source`` (shape (E,)) and its calibrated travel time, seconds.
    factors
        Learned factors; ``edge`` is a ``RoadEdge`` id of ``source`` (or None for a class's factor).
    report
        Stored as the new version's ``report`` (what changed and on what evidence).
    keep_versions
        Versions to keep, the new one included (older ones are deleted).

    Raises
    ------
    ValueError
        The edges given are not exactly the source's, a time is not finite and >= 0, or
        ``keep_versions`` is below 2 (the source must stay).
    """
    ids = np.asarray(edge_ids, dtype=np.int64).reshape(-1)
    times = np.asarray(travel_time_s, dtype=np.float64).reshape(-1)
    if keep_versions < 2:
        raise ValueError("keep_versions must be at least 2: the calibrated version and its source")
    if len(ids) != len(times) or not (np.isfinite(times) & (times >= 0)).all():
        raise ValueError("travel_time_s must hold one finite time >= 0 per edge id")
    source_ids = np.array(RoadEdge.objects.filter(version=source).order_by("pk").values_list("pk", flat=True))
    if not np.array_equal(np.sort(ids), source_ids):
        raise ValueError(f"edge_ids must be exactly the {len(source_ids)} edges of network version {source.pk}")
    node_ids = list(RoadNode.objects.filter(version=source).order_by("pk").values_list("pk", flat=True))
    with transaction.atomic():
        version = RoadNetworkVersion(
            region=source.region,
            source=f"calibrated from network version {source.pk} ({source.source})"[:10_000],
            source_kind="calibrated",
            node_count=source.node_count,
            edge_count=source.edge_count,
            dropped_node_count=source.dropped_node_count,
            dropped_edge_count=source.dropped_edge_count,
            report=report,
        )
        version.full_clean()
        version.save()
        new_nodes = reserve_ids(RoadNode, len(node_ids))
        new_edges = reserve_ids(RoadEdge, len(ids))
        node_table, edge_table = RoadNode._meta.db_table, RoadEdge._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {node_table} (id, version_id, osm_id, geom) "
                f"SELECT m.new_id, %s, n.osm_id, n.geom FROM {node_table} n "
                "JOIN unnest(%s::bigint[], %s::bigint[]) AS m(old_id, new_id) ON m.old_id = n.id",
                [version.pk, node_ids, new_nodes],
            )
            cursor.execute(
                f"INSERT INTO {edge_table} (id, version_id, source_id, target_id, osm_way_id, highway, name, oneway, "
                "length_m, speed_kph, speed_source, travel_time_s, tags, geom) "
                "SELECT m.new_id, %s, s.new_id, t.new_id, e.osm_way_id, e.highway, e.name, e.oneway, e.length_m, "
                f"e.speed_kph, e.speed_source, m.time_s, e.tags, e.geom FROM {edge_table} e "
                "JOIN unnest(%s::bigint[], %s::bigint[], %s::float8[]) AS m(old_id, new_id, time_s) ON m.old_id = e.id "
                "JOIN unnest(%s::bigint[], %s::bigint[]) AS s(old_id, new_id) ON s.old_id = e.source_id "
                "JOIN unnest(%s::bigint[], %s::bigint[]) AS t(old_id, new_id) ON t.old_id = e.target_id",
                [version.pk, ids.tolist(), new_edges, times.tolist(), node_ids, new_nodes, node_ids, new_nodes],
            )
        new_edge_of = dict(zip(ids.tolist(), new_edges, strict=True))
        RoadSpeedFactor.objects.bulk_create(
            RoadSpeedFactor(
                version=version,
                hour_band=f.band,
                highway=f.highway,
                edge_id=None if f.edge is None else new_edge_of[f.edge],
                factor=f.factor,
                observations=f.observations,
                median_speed_kph=f.median_speed_kph,
                table_speed_kph=f.table_speed_kph,
                applied=f.applied,
            )
            for f in factors
        )
        network_version_activate(version, keep_versions=keep_versions)
    return version
