"""SegmentGrid (the snapping index) against brute force over every line with shapely. Pure: no database."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis_core.routing.segment_grid import SegmentGrid


def random_lines(rng: np.random.Generator, count: int) -> np.ndarray:
    """Polylines of 2 to 6 vertices in a 3 km square, some long and straight, some short and bent."""
    lines = []
    for _ in range(count):
        n = int(rng.integers(2, 7))
        start = rng.uniform(0, 3000, 2)
        steps = rng.normal(0, rng.choice([15.0, 150.0]), size=(n - 1, 2))
        lines.append(shapely.LineString(np.vstack([start, start + np.cumsum(steps, axis=0)])))
    return np.array(lines, dtype=object)


def brute_force(lines: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    points = shapely.points(xy)
    distance = shapely.distance(points[:, None], lines[None, :])
    return distance, distance.min(axis=1)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nearest_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    lines = random_lines(rng, 300)
    grid = SegmentGrid(lines, cell_m=60.0, exact_within_m=100.0)
    xy = rng.uniform(-200, 3200, size=(400, 2))  # some off the grid, some far from every line
    line, fraction, distance_m, settled = grid.nearest(xy)
    all_m, best_m = brute_force(lines, xy)
    assert settled.mean() > 0.5  # most points are answered by the grid itself
    rows = np.flatnonzero(settled)
    assert distance_m[rows] == pytest.approx(best_m[rows], abs=1e-6)
    assert all_m[rows, line[rows]] == pytest.approx(best_m[rows], abs=1e-6)
    # The position along the line is where shapely projects the point (a tie between two lines
    # at equal distance may pick either, so compare on the chosen line).
    expected = shapely.line_locate_point(lines[line[rows]], shapely.points(xy[rows]), normalized=True)
    assert fraction[rows] == pytest.approx(expected, abs=1e-9)


def test_points_off_the_grid_or_far_away_are_left_to_the_caller():
    lines = np.array([shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 50), (100, 50)])])
    grid = SegmentGrid(lines, cell_m=60.0, exact_within_m=100.0)
    _, _, _, settled = grid.nearest(np.array([[50.0, 10.0], [5000.0, 0.0], [-90.0, 0.0], [50.0, 400.0]]))
    # Inside the grid and near a line; off the grid; off the grid on the other side; far from every line.
    assert settled.tolist() == [True, False, False, False]


def test_a_point_on_a_vertex_and_a_zero_length_line():
    lines = np.array([shapely.LineString([(0, 0), (30, 0), (30, 40)]), shapely.LineString([(500, 500), (500, 500)])])
    grid = SegmentGrid(lines, cell_m=60.0, exact_within_m=100.0)
    line, fraction, distance_m, settled = grid.nearest(np.array([[30.0, 0.0], [30.0, 20.0], [503.0, 504.0]]))
    assert settled.all()
    assert line.tolist() == [0, 0, 1]
    assert fraction[:2] == pytest.approx([30 / 70, 50 / 70])  # 30 m then 20 m more, of 70 m
    assert fraction[2] == 0.0  # a line without length has no position along it
    assert distance_m == pytest.approx([0.0, 0.0, 5.0])
