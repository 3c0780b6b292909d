"""Exclusion contours of scattered points: marching triangles on a unit-square Delaunay."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recast.errors import UsageError
from recast.likelihood.contours import (
    contour_lines,
    exclusion_contours,
    lines_to_json,
    triangles,
)

#: where CLs = 10 ** (-(x - 1000) / 200) crosses 0.05
CROSSING = 1000 - 200 * np.log10(0.05)


def grid(nx: int, ny: int, xs: tuple[float, float], ys: tuple[float, float]) -> np.ndarray:
    gx, gy = np.meshgrid(np.linspace(*xs, nx), np.linspace(*ys, ny))
    return np.stack([gx.ravel(), gy.ravel()])


def test_a_field_of_x_alone_gives_the_vertical_line_at_the_crossing() -> None:
    x, y = grid(6, 5, (1000, 2500), (0, 1200))
    lines = exclusion_contours(x, y, 10 ** (-(x - 1000) / 200))
    assert len(lines) == 1
    line = lines[0]
    assert line.shape[1] == 2
    # linear in log CLs inside every triangle: the crossing is exact
    np.testing.assert_allclose(line[:, 0], CROSSING, rtol=1e-12)
    assert line[:, 1].min() == 0 and line[:, 1].max() == 1200
    # one connected walk from one edge of the plane to the other, no repeated point
    assert {line[0, 1], line[-1, 1]} == {0.0, 1200.0}
    assert (np.diff(line, axis=0) != 0).any(axis=1).all()


def test_a_radial_field_gives_a_closed_loop() -> None:
    x, y = grid(11, 11, (-1, 1), (-1, 1))
    lines = contour_lines(x, y, np.hypot(x, y), 0.5)
    assert len(lines) == 1
    loop = lines[0]
    np.testing.assert_array_equal(loop[0], loop[-1])
    assert len(loop) > 8
    # linear interpolation of a convex field: on the circle within the grid's resolution
    np.testing.assert_allclose(np.hypot(*loop.T), 0.5, atol=0.05)


@pytest.mark.parametrize("level", [-1.0, 10.0])
def test_a_field_entirely_on_one_side_has_no_line(level: float) -> None:
    x, y = grid(5, 5, (0, 1), (0, 1))
    assert contour_lines(x, y, x + y, level) == []


def test_scattered_points_of_a_linear_field_give_its_line_exactly() -> None:
    rng = np.random.default_rng(20240611)
    x, y = rng.uniform(0, 10, 200), rng.uniform(-5, 5, 200)
    lines = contour_lines(x, y, 2 * x - 3 * y + 1, 0.5)
    assert len(lines) == 1
    px, py = lines[0].T
    np.testing.assert_allclose(2 * px - 3 * py + 1, 0.5, atol=1e-9)
    assert len(px) > 10


def test_rescaling_one_axis_scales_the_line_and_nothing_else() -> None:
    rng = np.random.default_rng(7)
    x, y = rng.uniform(-1, 1, 150), rng.uniform(-1, 1, 150)
    field = np.hypot(x, 1.5 * y)
    plain = contour_lines(x, y, field, 0.6)
    scaled = contour_lines(1000 * x, y, field, 0.6)
    assert len(plain) == len(scaled) >= 1
    for a, b in zip(plain, scaled, strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(b[:, 0] / 1000, a[:, 0], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b[:, 1], a[:, 1], rtol=1e-9, atol=1e-12)


def test_points_without_a_value_are_left_out() -> None:
    x, y = grid(6, 5, (1000, 2500), (0, 1200))
    cls: list[float | None] = [float(c) for c in 10 ** (-(x - 1000) / 200)]
    cls[-1] = float("nan")  # the far corner, beyond the line
    cls[-2] = None  # a failed fit in the document
    lines = exclusion_contours(x, y, cls)
    assert len(lines) == 1
    assert np.isfinite(lines[0]).all()
    np.testing.assert_allclose(lines[0][:, 0], CROSSING, rtol=1e-12)


def test_values_at_the_level_give_no_degenerate_points() -> None:
    x, y = grid(5, 5, (-1, 1), (-1, 1))
    # the middle column lies exactly on the level: the line runs through its points once
    lines = contour_lines(x, y, x, 0.0)
    assert len(lines) == 1
    line = lines[0]
    np.testing.assert_array_equal(line[:, 0], 0.0)
    assert sorted(line[:, 1]) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    # a field touching the level at one point only (a minimum) draws nothing
    assert contour_lines(x, y, x**2 + y**2, 0.0) == []


def test_too_few_or_collinear_points_give_no_line() -> None:
    assert contour_lines([0.0, 1.0], [0.0, 1.0], [0.0, 1.0], 0.5) == []
    t = np.linspace(0, 1, 7)
    assert contour_lines(t, 2 * t + 1, t, 0.5) == []
    assert contour_lines(t, np.zeros(7), t, 0.5) == []
    assert triangles(t, 3 * t) is None
    # NaNs leave two usable points
    assert contour_lines([0, 1, 0], [0, 0, 1], [0, 1, np.nan], 0.5) == []


def test_mismatched_lengths_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="3, 3 and 2"):
        contour_lines([0, 1, 2], [0, 1, 0], [0, 1], 0.5)
    with pytest.raises(UsageError, match="alpha"):
        exclusion_contours([0, 1, 0], [0, 0, 1], [0.1, 0.2, 0.3], alpha=1.5)


def test_lines_become_rounded_json() -> None:
    x, y = grid(6, 5, (1000, 2500), (0, 1200))
    lines = exclusion_contours(x, y, 10 ** (-(x - 1000) / 200))
    data = lines_to_json(lines)
    assert json.loads(json.dumps(data)) == data
    assert data[0][0][0] == pytest.approx(CROSSING, rel=1e-5)
    assert data[0][0][0] == float(f"{CROSSING:.6g}")
    assert lines_to_json([]) == []
