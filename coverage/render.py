"""Output of a stored run for people: a PNG map (kecamatan outlines, travel-time colours) and a gap CSV.

Both read only the run's stored results and the region's kecamatan polygons, so a run can be drawn
again long after it was computed. Drawing is in the region's metric CRS with matplotlib's headless
Agg backend.
"""

from __future__ import annotations

import csv
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.collections import PatchCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Rectangle
from shapely.geometry import mapping

from coverage.errors import CoverageInputError
from coverage.models import CoverageRun
from coverage.population import AreaRow
from gis_core.crs import transformer_to_lonlat, transformer_to_metric

_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
_UNREACHABLE = "#9e9e9e"


def _surface(run: CoverageRun) -> tuple[list[dict], dict, int, list[int]]:
    results = run.results
    holder = results.get("now", results)  # a live run keeps its surface under "now"
    cells = holder.get("cells") or results.get("cells_after")
    grid = holder.get("grid") or results.get("grid")
    if not cells or not grid:
        raise CoverageInputError(f"run {run.pk} ({run.kind}) holds no travel-time grid to draw")
    target = int(holder.get("target_s") or results.get("target_s") or results.get("threshold_s"))
    thresholds = sorted({*(holder.get("thresholds_s") or results.get("thresholds_s") or []), target})
    if len(thresholds) < 3:  # a siting run holds one threshold: colour thirds of it too, so the map shows more
        thresholds = sorted({*thresholds, round(target / 3), round(2 * target / 3)})
    return cells, grid, target, thresholds


def coverage_map_png(run: CoverageRun, kecamatan: list[AreaRow], *, dpi: int = 110, title: str | None = None) -> bytes:
    """A PNG map of a run: grid cells coloured by travel time, kecamatan outlines, sources and chosen sites.

    Parameters
    ----------
    run : CoverageRun
        Any run holding a grid (coverage, surface, gaps, siting, live, what-if: the state after).
    kecamatan : list of AreaRow
        The region's kecamatan with polygons in its metric CRS (``coverage.selectors.admin_area_rows``).
    title : str, optional
        The map's title; by default the run's kind, number and target (a run drawn unsaved names its own).
    """
    cells, grid, target, thresholds = _surface(run)
    cell_m, (x0, y0), crs = grid["cell_m"], grid["origin_m"], grid["metric_crs"]
    bounds = [0, *thresholds, max(thresholds) * 1.5]
    colours = (_COLOURS * 3)[: len(bounds) - 1]
    cmap, norm = ListedColormap(colours).with_extremes(bad=_UNREACHABLE), BoundaryNorm(bounds, len(colours))
    fig, ax = plt.subplots(figsize=(9, 9))
    squares = [Rectangle((x0 + c["i"] * cell_m, y0 + c["j"] * cell_m), cell_m, cell_m) for c in cells]
    times = np.array([np.nan if c["time_s"] is None else min(c["time_s"], bounds[-1] - 1) for c in cells])
    patches = PatchCollection(squares, cmap=cmap, norm=norm, linewidths=0)
    patches.set_array(np.ma.masked_invalid(times))
    ax.add_collection(patches)
    for row in kecamatan:
        for polygon in getattr(row.geom_m, "geoms", [row.geom_m]):
            x, y = polygon.exterior.xy
            ax.plot(x, y, color="black", linewidth=0.8)
        centre = row.geom_m.representative_point()
        ax.annotate(row.name, (centre.x, centre.y), ha="center", fontsize=7, color="black")
    _points(ax, run.inputs.get("sources") or run.inputs.get("existing") or [], crs, marker="^", label="sources")
    chosen = [{"point": c["point"]} for c in run.results.get("chosen", [])]
    _points(ax, chosen, crs, marker="*", label="chosen sites", size=160)
    colourbar = fig.colorbar(patches, ax=ax, shrink=0.6, ticks=bounds[:-1])
    colourbar.set_label("travel time from the nearest source, s (grey: unreachable)")
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_title(
        title or f"{run.region.name}: {run.get_kind_display()} #{run.pk}, target {target} s ({target / 60:.0f} min)"
    )
    ax.set_xlabel(f"{crs} easting, m")
    ax.set_ylabel(f"{crs} northing, m")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower left", fontsize=8)
    # The travel times come from OpenStreetMap roads: ODbL asks for the attribution on the map.
    fig.text(0.01, 0.005, "Roads: © OpenStreetMap contributors (ODbL)", fontsize=7, color="#555555")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _points(ax, items: list[dict], crs: str, *, marker: str, label: str, size: float = 70) -> None:
    if not items:
        return
    lonlat = np.array([item["point"] for item in items], dtype=float)
    x, y = transformer_to_metric(crs).transform(lonlat[:, 0], lonlat[:, 1])
    ax.scatter(x, y, marker=marker, s=size, c="#2b2b88", edgecolors="white", linewidths=0.8, label=label, zorder=5)


def gaps_csv(run: CoverageRun) -> str:
    """The gap ranking of a run as CSV: kecamatan rows first, then grid cells, each by people beyond the target."""
    results = run.results.get("now", run.results)
    gaps = results.get("gaps")
    if not gaps:
        raise CoverageInputError(f"run {run.pk} ({run.kind}) holds no gap ranking; run a coverage or gaps request")
    grid = results["grid"]
    to_lonlat = transformer_to_lonlat(grid["metric_crs"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "level",
            "rank",
            "code",
            "name",
            "centre_lon",
            "centre_lat",
            "population",
            "population_beyond_target",
            "share_beyond_target",
            "target_s",
            "population_kind",
            "population_year",
        ]
    )
    for rank, row in enumerate(gaps["kecamatan"], start=1):
        writer.writerow(
            [
                "kecamatan",
                rank,
                row["code"],
                row["name"],
                "",
                "",
                row["population"],
                row["population_beyond_target"],
                row["share_beyond_target"],
                gaps["target_s"],
                row["population_kind"],
                row["population_year"] or "",
            ]
        )
    cell_m, (x0, y0) = grid["cell_m"], grid["origin_m"]
    for rank, cell in enumerate(gaps["cells"], start=1):
        lon, lat = to_lonlat.transform(x0 + (cell["i"] + 0.5) * cell_m, y0 + (cell["j"] + 0.5) * cell_m)
        share = cell["population_beyond_target"] / cell["population"] if cell["population"] else ""
        writer.writerow(
            [
                "cell",
                rank,
                f"{cell['i']},{cell['j']}",
                "",
                round(lon, 6),
                round(lat, 6),
                cell["population"],
                cell["population_beyond_target"],
                round(share, 4) if share != "" else "",
                gaps["target_s"],
                "",
                "",
            ]
        )
    return out.getvalue()


def cell_features(results: dict) -> dict:
    """The grid cells of stored results as a GeoJSON FeatureCollection of EPSG:4326 squares."""
    cells, grid = results["cells"], results["grid"]
    cell_m, (x0, y0) = grid["cell_m"], grid["origin_m"]
    ij = np.array([[c["i"], c["j"]] for c in cells], dtype=float).reshape(-1, 2)
    boxes = shapely.box(
        x0 + ij[:, 0] * cell_m, y0 + ij[:, 1] * cell_m, x0 + (ij[:, 0] + 1) * cell_m, y0 + (ij[:, 1] + 1) * cell_m
    )
    to_lonlat = transformer_to_lonlat(grid["metric_crs"])
    lonlat = shapely.transform(boxes, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    features = [
        {"type": "Feature", "geometry": mapping(g), "properties": c} for g, c in zip(lonlat, cells, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}
