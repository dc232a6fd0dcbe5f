"""Demand points: where people live, as population-weighted points on a square grid.

How population is placed (pure code; the caller reads the areas from the database):

1. **Kecamatan figures.** A kecamatan's own figure is used as stored (official or estimated, with
   its year and source). A kecamatan without one but whose kelurahan all have one gets their sum.
   The remaining kecamatan share the city total minus every known kecamatan figure, **by area**;
   those figures are labelled ``estimated`` and carry the city total's year and source. Without a
   city total (or with nothing left over) they are labelled ``missing`` and weigh nothing.
2. **Kelurahan.** Inside a kecamatan, kelurahan with a figure keep it; the others share the rest
   by area.
3. **Grid.** Each kelurahan polygon is cut by a square grid of ``cell_m`` metres in the region's
   metric CRS, and its population is spread over the pieces **by area** (uniform density inside a
   kelurahan). Each piece becomes one demand point at a point inside it.

Spreading is by area, not by road length, on purpose: Kota Jambi's network holds only main roads and
none north of the Batang Hari, so weighting by road length would put no one in Pelayangan and Danau
Teluk and hide exactly the gap a planner must see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

OFFICIAL, ESTIMATED, MISSING = "official", "estimated", "missing"


@dataclass(frozen=True)
class AreaRow:
    """One kecamatan or kelurahan as read from the database; ``geom_m`` in the region's metric CRS."""

    code: str
    name: str
    geom_m: shapely.Geometry
    population: int | None
    year: int | None
    source: str
    kind: str
    parent_code: str | None = None  # a kelurahan's kecamatan


@dataclass(frozen=True)
class RegionTotal:
    population: int | None
    year: int | None
    source: str


@dataclass
class AreaPopulation:
    """The population used for one area, and where it came from."""

    code: str
    name: str
    population: float
    kind: str  # official, estimated or missing
    year: int | None
    source: str
    area_m2: float
    parent_code: str | None = None


@dataclass(frozen=True, eq=False)
class DemandSet:
    """Population-weighted demand points, one per (grid cell x kelurahan) piece.

    Attributes
    ----------
    xy_m, lonlat : ndarray, shape (D, 2)
        A point inside each piece, metric CRS and EPSG:4326.
    population : ndarray, shape (D,)
        People in the piece.
    area_m2 : ndarray, shape (D,)
        Area of the piece, square metres.
    cell : ndarray of int, shape (D, 2)
        Grid column and row of the piece's cell.
    kecamatan, kelurahan : ndarray of int, shape (D,)
        Index into ``kecamatan_areas`` / ``kelurahan_areas`` (-1: the piece has no kelurahan).
    kecamatan_areas, kelurahan_areas : list of AreaPopulation
    origin_m : tuple of float
        Metric coordinates of the grid's lower-left corner; cell (i, j) spans ``origin + (i, j) * cell_m``.
    cell_m : float
    metric_crs : str
    method : str
        How population was spread inside areas (``"area"``).
    notes : list of str
    """

    xy_m: np.ndarray
    lonlat: np.ndarray
    population: np.ndarray
    area_m2: np.ndarray
    cell: np.ndarray
    kecamatan: np.ndarray
    kelurahan: np.ndarray
    kecamatan_areas: list[AreaPopulation]
    kelurahan_areas: list[AreaPopulation]
    origin_m: tuple[float, float]
    cell_m: float
    metric_crs: str
    method: str = "area"
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.population)


def kecamatan_populations(
    kecamatan: list[AreaRow], kelurahan: list[AreaRow], total: RegionTotal
) -> tuple[list[AreaPopulation], list[str]]:
    """Step 1: a population, kind, year and source for every kecamatan, and notes on what was estimated."""
    notes: list[str] = []
    children: dict[str, list[AreaRow]] = {}
    for kel in kelurahan:
        children.setdefault(kel.parent_code or "", []).append(kel)
    out: list[AreaPopulation] = []
    unknown: list[AreaPopulation] = []
    for kec in kecamatan:
        area = float(kec.geom_m.area)
        kids = children.get(kec.code, [])
        if kec.population is not None:
            out.append(
                AreaPopulation(
                    kec.code, kec.name, float(kec.population), kec.kind or ESTIMATED, kec.year, kec.source, area
                )
            )
        elif kids and all(k.population is not None for k in kids):
            kind = OFFICIAL if all(k.kind == OFFICIAL for k in kids) else ESTIMATED
            years = {k.year for k in kids}
            out.append(
                AreaPopulation(
                    kec.code,
                    kec.name,
                    float(sum(k.population or 0 for k in kids)),  # all set: checked above
                    kind,
                    years.pop() if len(years) == 1 else None,
                    "sum of its kelurahan figures",
                    area,
                )
            )
        else:
            row = AreaPopulation(kec.code, kec.name, 0.0, MISSING, None, "", area)
            out.append(row)
            unknown.append(row)
    if unknown:
        _fill_from_total(out, unknown, total, notes)
    return out, notes


def _fill_from_total(out: list[AreaPopulation], unknown: list[AreaPopulation], total: RegionTotal, notes: list[str]):
    known = [a for a in out if a.kind != MISSING]
    known_sum = sum(a.population for a in known)
    names = ", ".join(a.name for a in unknown)
    if total.population is None:
        notes.append(f"no city total: {names} have no population figure and weigh nothing")
        return
    rest = total.population - known_sum
    if rest <= 0:
        notes.append(
            f"the city total {total.population} does not exceed the known figures ({known_sum:.0f}): "
            f"{names} weigh nothing"
        )
        return
    area_sum = sum(a.area_m2 for a in unknown)
    years = sorted({a.year for a in known if a.year is not None})
    source = (
        f"estimated: city total {total.population} ({total.year or 'year unknown'}, {total.source}) minus the "
        f"{len(known)} kecamatan with figures ({known_sum:.0f}), shared by area among {len(unknown)}"
    )
    for a in unknown:
        a.population = rest * a.area_m2 / area_sum
        a.kind, a.year, a.source = ESTIMATED, total.year, source
    mixed = f"; the known figures are from {', '.join(map(str, years))}" if years else ""
    notes.append(
        f"{names}: estimated from the city total ({total.year}) minus known kecamatan figures{mixed}, spread by area"
    )


def kelurahan_populations(kelurahan: list[AreaRow], kecamatan: list[AreaPopulation]) -> list[AreaPopulation]:
    """Step 2: each kelurahan's population; those without a figure share their kecamatan's rest by area."""
    by_code = {k.code: k for k in kecamatan}
    out: list[AreaPopulation] = []
    for code, kec in by_code.items():
        kids = [k for k in kelurahan if k.parent_code == code]
        known = sum(k.population for k in kids if k.population is not None)
        free = [k for k in kids if k.population is None]
        free_area = sum(float(k.geom_m.area) for k in free)
        rest = max(kec.population - known, 0.0)
        for k in kids:
            area = float(k.geom_m.area)
            if k.population is not None:
                out.append(
                    AreaPopulation(
                        k.code, k.name, float(k.population), k.kind or ESTIMATED, k.year, k.source, area, code
                    )
                )
            else:
                share = rest * area / free_area if free_area > 0 else 0.0
                out.append(
                    AreaPopulation(
                        k.code,
                        k.name,
                        share,
                        kec.kind,
                        kec.year,
                        f"share by area of {kec.name} ({kec.kind})",
                        area,
                        code,
                    )
                )
    return out


def demand_points(
    kecamatan: list[AreaRow],
    kelurahan: list[AreaRow],
    total: RegionTotal,
    *,
    cell_m: float,
    metric_crs: str,
    to_lonlat,
) -> DemandSet:
    """Build the demand set: steps 1 to 3 of the module docstring.

    Parameters
    ----------
    kecamatan, kelurahan : list of AreaRow
        Polygons in the metric CRS; kelurahan carry their kecamatan code as ``parent_code``.
    total : RegionTotal
        The city total.
    cell_m : float
        Grid cell side, metres (> 0).
    metric_crs : str
    to_lonlat : pyproj.Transformer
        Metric CRS -> EPSG:4326 (always_xy).
    """
    if not cell_m > 0:
        raise ValueError(f"cell_m must be > 0, got {cell_m}")
    kec_pop, notes = kecamatan_populations(kecamatan, kelurahan, total)
    kel_pop = kelurahan_populations(kelurahan, kec_pop)
    kec_index = {a.code: i for i, a in enumerate(kec_pop)}
    # Kecamatan without any kelurahan polygon are cut as a whole.
    with_kids = {k.parent_code for k in kelurahan}
    parts: list[tuple[shapely.Geometry, float, int, int]] = [
        (row.geom_m, a.population, kec_index[a.parent_code], i)
        for i, (row, a) in enumerate(zip(kelurahan, kel_pop, strict=True))
        if a.parent_code in kec_index
    ]
    parts += [
        (row.geom_m, kec_pop[kec_index[row.code]].population, kec_index[row.code], -1)
        for row in kecamatan
        if row.code not in with_kids
    ]
    bounds = np.array([shapely.bounds(g) for g, *_ in parts]) if parts else np.zeros((1, 4))
    origin = (
        float(np.floor(bounds[:, 0].min() / cell_m) * cell_m),
        float(np.floor(bounds[:, 1].min() / cell_m) * cell_m),
    )
    pieces = [_cut(geom, pop, kec, kel, origin, cell_m) for geom, pop, kec, kel in parts]
    pieces = [p for p in pieces if len(p[0])]
    if not pieces:
        raise ValueError("the region has no kecamatan or kelurahan polygons to place population in")
    xy, population, area, cell, kec_i, kel_i = (np.concatenate(a) for a in zip(*pieces, strict=True))
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    return DemandSet(
        xy_m=xy,
        lonlat=np.column_stack([lon, lat]),
        population=population,
        area_m2=area,
        cell=cell,
        kecamatan=kec_i,
        kelurahan=kel_i,
        kecamatan_areas=kec_pop,
        kelurahan_areas=kel_pop,
        origin_m=origin,
        cell_m=float(cell_m),
        metric_crs=metric_crs,
        notes=notes,
    )


def _cut(geom: shapely.Geometry, population: float, kec: int, kel: int, origin: tuple[float, float], cell_m: float):
    """Cut one polygon by the grid; population spread by area over the pieces."""
    x0, y0, x1, y1 = shapely.bounds(geom)
    i = np.arange(np.floor((x0 - origin[0]) / cell_m), np.ceil((x1 - origin[0]) / cell_m), dtype=np.int64)
    j = np.arange(np.floor((y0 - origin[1]) / cell_m), np.ceil((y1 - origin[1]) / cell_m), dtype=np.int64)
    ii, jj = (a.ravel() for a in np.meshgrid(i, j))
    boxes = shapely.box(
        origin[0] + ii * cell_m, origin[1] + jj * cell_m, origin[0] + (ii + 1) * cell_m, origin[1] + (jj + 1) * cell_m
    )
    shapely.prepare(geom)
    hit = shapely.intersects(geom, boxes)
    pieces = shapely.intersection(boxes[hit], geom)
    area = shapely.area(pieces)
    keep = area > 1e-6 * cell_m * cell_m
    pieces, area = pieces[keep], area[keep]
    total_area = float(area.sum())
    share = population * area / total_area if total_area > 0 else np.zeros(len(area))
    xy = shapely.get_coordinates(shapely.point_on_surface(pieces)).reshape(-1, 2)
    cells = np.column_stack([ii[hit][keep], jj[hit][keep]])
    n = len(area)
    return xy, share, area, cells, np.full(n, kec, dtype=np.intp), np.full(n, kel, dtype=np.intp)
