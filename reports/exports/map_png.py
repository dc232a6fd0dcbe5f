"""PNG maps of the planners' layers: coverage through ``coverage.render``, a period's incidents drawn here.

The incidents map draws the density grid (reports per cell, in the region's metric CRS), the reports as
dots and the kecamatan outlines, with matplotlib's headless Agg backend as ``coverage.render`` does.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.patches import Rectangle

from coverage.population import AreaRow
from coverage.render import coverage_map_png
from gis_core.crs import transformer_to_metric
from reports.selectors.maps import CoverageMaps, Layer


def coverage_png(maps: CoverageMaps, *, title: str) -> bytes:
    """The coverage grid coloured by travel time from the stations, kecamatan outlines and stations."""
    return coverage_map_png(maps.run, maps.kecamatan_rows, title=title)


def incidents_png(layers: list[Layer], kecamatan: list[AreaRow], *, title: str, dpi: int = 110) -> bytes:
    """The density grid (reports per cell), the located reports and the kecamatan outlines."""
    points, density = (next(layer for layer in layers if layer.name == name) for name in ("incidents", "density"))
    fig, ax = plt.subplots(figsize=(9, 9))
    counts = np.array(density.fields["reports"], dtype=float)
    if len(density):
        squares = [Rectangle((g.bounds[0], g.bounds[1]), g.bounds[2] - g.bounds[0], g.bounds[3] - g.bounds[1])
                   for g in density.geometries]  # fmt: skip
        patches = PatchCollection(squares, cmap="OrRd", linewidths=0, alpha=0.85)
        patches.set_array(counts)
        patches.set_clim(0, max(1.0, float(counts.max())))
        ax.add_collection(patches)
        fig.colorbar(patches, ax=ax, shrink=0.6).set_label(f"laporan per sel {density.fields['cell_m'][0]} m")
    for row in kecamatan:
        for polygon in getattr(row.geom_m, "geoms", [row.geom_m]):
            x, y = polygon.exterior.xy
            ax.plot(x, y, color="black", linewidth=0.8)
        centre = row.geom_m.representative_point()
        ax.annotate(row.name, (centre.x, centre.y), ha="center", fontsize=7)
    if len(points):
        lonlat = np.array([[p.x, p.y] for p in points.geometries])
        x, y = transformer_to_metric(density.crs).transform(lonlat[:, 0], lonlat[:, 1])
        ax.scatter(x, y, s=6, c="#2b2b88", label="laporan", zorder=5)
        ax.legend(loc="lower left", fontsize=8)
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_title(title)
    ax.set_xlabel(f"{density.crs} easting, m")
    ax.set_ylabel(f"{density.crs} northing, m")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()
