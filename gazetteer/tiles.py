"""The region's names as Mapbox vector tiles (PostGIS ``ST_AsMVT``), for the console map's labels offline.

Two layers in each tile: ``streets`` (the named streets' lines, ``name``) and ``places`` (the points of
landmarks, local names, kelurahan and kecamatan: ``name``, ``kind``). Tiles are the web map's XYZ grid in
EPSG:3857 (``ST_TileEnvelope``); the stored geometry is EPSG:4326 and is transformed per tile.
"""

from __future__ import annotations

from django.db import connection

from gazetteer.models import EntryKind, GazetteerEntry
from gis_core.models import Region

# Labels are for street zoom: a kelurahan's name from 13, a street's from 15 (console/static/console/labels.js).
MIN_ZOOM = 12
MAX_ZOOM = 20
EXTENT = 4096
# Lines reach this far (tile units) past the tile's edge, so a label near the edge has its whole street.
BUFFER = 256
PLACE_KINDS = [EntryKind.LANDMARK, EntryKind.LOCAL, EntryKind.KELURAHAN, EntryKind.KECAMATAN]

_ENTRY = GazetteerEntry._meta.db_table


def names_tile(*, region: Region, z: int, x: int, y: int) -> bytes:
    """The region's names inside tile ``z/x/y`` as one MVT (empty bytes when none lie there).

    Parameters
    ----------
    z, x, y
        The XYZ tile (``MIN_ZOOM`` <= z <= ``MAX_ZOOM``, 0 <= x, y < 2**z); checked by the caller.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH t AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
            b AS (SELECT env, ST_Transform(ST_Expand(env, (ST_XMax(env) - ST_XMin(env)) * %(margin)s), 4326)
                         AS env4326 FROM t),
            streets AS (
              SELECT e.name, ST_AsMVTGeom(ST_Transform(e.geom, 3857), b.env, %(extent)s, %(buffer)s, true) AS geom
              FROM {_ENTRY} e, b
              WHERE e.region_id = %(region)s AND e.kind = 'street' AND e.geom && b.env4326
            ),
            places AS (
              SELECT e.name, e.kind, ST_AsMVTGeom(ST_Transform(e.point, 3857), b.env, %(extent)s, 0, true) AS geom
              FROM {_ENTRY} e, b
              WHERE e.region_id = %(region)s AND e.kind = ANY(%(kinds)s) AND e.point && b.env4326
            )
            SELECT COALESCE((SELECT ST_AsMVT(s, 'streets', %(extent)s, 'geom') FROM streets s WHERE s.geom IS NOT NULL),
                            ''::bytea)
                || COALESCE((SELECT ST_AsMVT(p, 'places', %(extent)s, 'geom') FROM places p WHERE p.geom IS NOT NULL),
                            ''::bytea)
            """,
            {"z": z, "x": x, "y": y, "region": region.pk, "extent": EXTENT, "buffer": BUFFER,
             "margin": BUFFER / EXTENT, "kinds": [str(k) for k in PLACE_KINDS]},
        )  # fmt: skip
        return bytes(cursor.fetchone()[0])
