"""What the planners' map exports hold, as layers: coverage, WMK zones and gaps, and a period's incidents.

Coverage (``coverage_layers``), from the coverage engine for one agency kind (``fire``: Damkar's stations
and posko; ``ems``: PSC 119's) at the SPM's WMK travel time (``reports.selectors.spm.spm_standard``), in
EPSG:4326:

- ``stations``: the stations searched from (points);
- ``wmk_zones``: per station, the area reachable by road within the WMK travel time (the engine's isochrone);
- ``coverage_cells``: the demand grid's cells (``cell_m`` squares of the region's metric CRS) with their
  people, travel time from the nearest station and whether inside a WMK;
- ``gaps_kecamatan``: each kecamatan with its people beyond the WMK travel time, ranked (``coverage.analysis``);
- ``gap_cells``: the cells with people beyond it, ranked (at most the coverage engine's gap limit).

Incidents of a period (``incident_layers``): ``incidents``, the located reports as points with the data-out
CSV's columns (``reports.selectors.incident_rows``, callers' numbers never), and ``density``, a grid of
``cell_m`` squares in the region's metric CRS with the reports counted per cell (empty cells left out).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from coverage.context import cell_polygons_lonlat, coverage_context, require_sources, snap_sources, source_data
from coverage.matrix import times_from_sources
from coverage.models import CoverageRun, RunKind
from coverage.selectors import SourceSpec, coverage_profile, coverage_sources
from coverage.services import coverage_thresholds, evaluate
from gis_core.crs import transform_geometries, transformer_to_lonlat, transformer_to_metric
from gis_core.models import Region
from reports.errors import ReportError
from reports.periods import Period
from reports.selectors.incident_rows import COLUMNS, incident_rows
from reports.selectors.spm import spm_standard
from reports.selectors.sql import fetch_all

LONLAT = "EPSG:4326"
DENSITY_CELL_M = (100, 5000)


@dataclass
class Layer:
    """One map layer: its geometries (in ``crs``) and attribute columns (name -> values, one per geometry)."""

    name: str
    geometry_type: str
    crs: str
    geometries: list
    fields: dict[str, list] = field(default_factory=dict)
    title: str = ""

    def __len__(self) -> int:
        return len(self.geometries)


@dataclass
class CoverageMaps:
    layers: list[Layer]
    run: CoverageRun  # unsaved: what coverage.render draws
    kecamatan_rows: list
    travel_s: int


def coverage_layers(*, region: Region, kind: str) -> CoverageMaps:
    """Stations, WMK zones, coverage cells and gaps of ``kind``'s agencies (module docstring)."""
    agencies, _, travel_s = spm_standard(region=region, kind=kind)
    codes = tuple(a.code for a in agencies)
    if not codes:
        raise ReportError(f"the region has no {kind} agency: add its stations first")
    spec = SourceSpec(codes)
    context = coverage_context(region=region, profile=coverage_profile(region=region, spec=spec)[0])
    sources, snaps, dropped = snap_sources(context.engine, coverage_sources(region=region, spec=spec))
    require_sources(sources, dropped, what=f"stations of {', '.join(codes)}")
    _, times = times_from_sources(context.engine, snaps, context.attachment)
    thresholds = coverage_thresholds(region=region, agencies=codes, thresholds_s=[travel_s], target_s=travel_s)
    results = evaluate(context, times, thresholds)
    station_rows = [source_data(s) for s in sources]
    stations = {key: [s[key] for s in station_rows] for key in ("ref", "label", "agency")}
    layers = [
        Layer("stations", "Point", LONLAT, [shapely.Point(s["point"]) for s in station_rows], stations),
        _wmk_zones(context, sources, snaps, travel_s),
        _cells_layer("coverage_cells", context, results["cells"], travel_s),
        _gap_kecamatan(context, results, travel_s),
        _cells_layer("gap_cells", context, results["gaps"]["cells"], travel_s, ranked=True),
    ]
    run = CoverageRun(region=region, kind=RunKind.COVERAGE, inputs={"sources": station_rows}, results=results)
    return CoverageMaps(layers, run, context.kecamatan_rows, travel_s)


def _wmk_zones(context, sources, snaps, travel_s: int) -> Layer:
    zones = [context.engine.isochrones(snap, [travel_s])[0].geometry_lonlat for snap in snaps]
    to_metric = transformer_to_metric(context.metric_crs)
    metric = transform_geometries(np.array(zones, dtype=object), to_metric) if zones else []
    return Layer("wmk_zones", "MultiPolygon", LONLAT, [_multi(z) for z in zones], {
        "station": [s.ref for s in sources], "label": [s.label for s in sources], "agency": [s.agency for s in sources],
        "travel_s": [travel_s] * len(zones), "area_km2": [round(float(g.area) / 1e6, 3) for g in metric],
    })  # fmt: skip


def _cells_layer(name: str, context, cells: list[dict], travel_s: int, *, ranked: bool = False) -> Layer:
    ij = np.array([[c["i"], c["j"]] for c in cells], dtype=np.int64).reshape(-1, 2)
    polygons = list(cell_polygons_lonlat(context, ij)) if len(ij) else []
    fields: dict[str, list] = {"rank": list(range(1, len(cells) + 1))} if ranked else {}
    fields |= {
        "i": [c["i"] for c in cells], "j": [c["j"] for c in cells],
        "population": [c["population"] for c in cells], "time_s": [c["time_s"] for c in cells],
        "min_time_s": [c["min_time_s"] for c in cells], "max_time_s": [c["max_time_s"] for c in cells],
        "population_beyond": [c["population_beyond_target"] for c in cells],
        "in_wmk": [int(c["time_s"] is not None and c["time_s"] <= travel_s) for c in cells],
    }  # fmt: skip
    return Layer(name, "Polygon", LONLAT, polygons, fields)


def _gap_kecamatan(context, results: dict, travel_s: int) -> Layer:
    shapes = {row.code: row.geom_m for row in context.kecamatan_rows}
    ranked = [r for r in results["gaps"]["kecamatan"] if r["code"] in shapes]
    to_lonlat = transformer_to_lonlat(context.metric_crs)
    polygons = transform_geometries(np.array([shapes[r["code"]] for r in ranked], dtype=object), to_lonlat)
    return Layer("gaps_kecamatan", "MultiPolygon", LONLAT, [_multi(p) for p in polygons], {
        "rank": list(range(1, len(ranked) + 1)), "code": [r["code"] for r in ranked],
        "name": [r["name"] for r in ranked], "population": [r["population"] for r in ranked],
        "population_beyond": [r["population_beyond_target"] for r in ranked],
        "share_beyond": [r["share_beyond_target"] for r in ranked],
        "unreachable": [r["unreachable_population"] for r in ranked], "p90_time_s": [r["p90_time_s"] for r in ranked],
        "travel_s": [travel_s] * len(ranked),
    })  # fmt: skip


def _multi(geometry):
    return geometry if geometry.geom_type == "MultiPolygon" else shapely.MultiPolygon([geometry])


DENSITY_SQL = """
SELECT floor(ST_X(p) / %(cell)s)::bigint AS i, floor(ST_Y(p) / %(cell)s)::bigint AS j, count(*),
       count(*) FILTER (WHERE t.category = 'fire'), count(*) FILTER (WHERE r.outcome = 'prank')
FROM (
    SELECT ST_Transform(geom, %(srid)s) AS p, incident_type_id, outcome FROM fleet_incident
    WHERE region_id = %(region)s AND received_at >= %(since)s AND received_at < %(until)s AND geom IS NOT NULL
) AS r LEFT JOIN fleet_incidenttype t ON t.id = r.incident_type_id
GROUP BY 1, 2 ORDER BY 1, 2
"""

# The data-out CSV's columns kept as attributes (lon and lat are the point itself).
POINT_COLUMNS = tuple(c for c in COLUMNS if c not in ("lon", "lat"))


def density_cell_m(raw: str | None) -> int:
    """``?cell_m=`` of the density grid: metres, a whole number in :data:`DENSITY_CELL_M` (default 500)."""
    if raw is None or raw == "":
        return 500
    low, high = DENSITY_CELL_M
    if len(raw) > 6 or not raw.isdigit() or not low <= int(raw) <= high:
        raise ReportError(f"cell_m must be a whole number of metres from {low} to {high}, e.g. cell_m=500")
    return int(raw)


def incident_layers(*, region: Region, period: Period, cell_m: int = 500) -> list[Layer]:
    """The period's located reports as points (EPSG:4326) and their density grid (the region's metric CRS)."""
    points: list = []
    columns: dict[str, list] = {c: [] for c in POINT_COLUMNS}
    for row in incident_rows(region_id=region.pk, period=period, with_phones=False):
        values = dict(zip(COLUMNS, row, strict=True))
        if values["lon"] == "" or values["lat"] == "":
            continue
        points.append(shapely.Point(float(values["lon"]), float(values["lat"])))
        for c in POINT_COLUMNS:
            columns[c].append(None if values[c] == "" else values[c])
    params = {"cell": cell_m, "srid": region.metric_srid, "region": region.pk, "since": period.since,
              "until": period.until}  # fmt: skip
    grid = fetch_all(DENSITY_SQL, params)
    squares = [shapely.box(i * cell_m, j * cell_m, (i + 1) * cell_m, (j + 1) * cell_m) for i, j, *_ in grid]
    density = Layer("density", "Polygon", f"EPSG:{region.metric_srid}", squares, {
        "i": [g[0] for g in grid], "j": [g[1] for g in grid], "cell_m": [cell_m] * len(grid),
        "reports": [g[2] for g in grid], "fires": [g[3] for g in grid], "pranks": [g[4] for g in grid],
    })  # fmt: skip
    return [Layer("incidents", "Point", LONLAT, points, columns), density]
