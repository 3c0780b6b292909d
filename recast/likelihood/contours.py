"""Contour lines of a field known at scattered points: the exclusion contours of a model scan.

The points are triangulated (Delaunay) in coordinates rescaled to the unit square, so that the
triangles do not depend on the units of the axes (GeV against TeV, or a mass against a
branching ratio); inside each triangle the field is linear ("marching triangles"), so a field
that is linear in the plane gives its level line exactly. An exclusion contour is the level
line of log10 CLs at log10 α: CLs falls roughly exponentially with the masses, so the
logarithm is the nearly linear quantity to interpolate.

Lines are lists of polylines, arrays of shape (n, 2) in the original x, y units; a closed one
repeats its first point at the end. :func:`lines_to_json` turns them into JSON lists.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy.spatial import Delaunay, QhullError

from ..errors import UsageError

log = logging.getLogger(__name__)

#: the smallest CLs whose logarithm is taken; CLs = 0 (a fit's underflow) becomes this
SMALLEST_CLS = 1e-300

# the three edges of a triangle, as pairs of its vertex slots
_EDGES = np.array([[0, 1], [1, 2], [2, 0]])


def _vector(values: object, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"contour_lines: {name} must be numbers ({exc})") from None
    if array.ndim != 1:
        raise UsageError(f"contour_lines: {name} must be a 1-d array, not of shape {array.shape}")
    return array


def triangles(xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
    """The Delaunay triangles (an (m, 3) array of indices into ``xs``, ``ys``) of finite
    points, computed in coordinates rescaled to the unit square; None when there are fewer
    than three points or they all lie on one line (no triangle exists)."""
    if len(xs) < 3:
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # an overflowing span is the answer
        spans = np.ptp(xs), np.ptp(ys)
    if not all(np.isfinite(spans)) or min(spans) == 0:
        return None
    unit = np.stack([(xs - xs.min()) / spans[0], (ys - ys.min()) / spans[1]], axis=1)
    # points on one slanted line: qhull may still return slivers after rounding; refuse them
    singular = np.linalg.svd(unit - unit.mean(axis=0), compute_uv=False)
    if singular[-1] <= 1e-9 * singular[0]:
        return None
    try:
        simplices = Delaunay(unit).simplices
    except (QhullError, ValueError):
        return None
    return np.asarray(simplices, dtype=np.int64)


def contour_lines(
    xs: Sequence[float] | np.ndarray,
    ys: Sequence[float] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    level: float,
) -> list[np.ndarray]:
    """The polylines where ``values`` (known at the points ``xs``, ``ys``) cross ``level``,
    each an (n, 2) array in x, y units; a closed polyline repeats its first point at the end.

    Points whose coordinates or value are not finite are left out. Fewer than three usable
    points, or all on one line, give ``[]``: there is no plane to draw a line in, which a
    caller meets at the edge of a scan and need not treat as an error. A value exactly at the
    level counts as above it, so a line through a data point passes through it once.
    Raises :class:`UsageError` when the three arrays differ in length.
    """
    x, y, v = _vector(xs, "xs"), _vector(ys, "ys"), _vector(values, "values")
    if not len(x) == len(y) == len(v):
        raise UsageError(
            f"contour_lines: xs, ys and values must have one entry per point; they have "
            f"{len(x)}, {len(y)} and {len(v)}"
        )
    level = float(level)
    if not np.isfinite(level):
        raise UsageError(f"contour_lines: the level must be a finite number, not {level}")
    usable = np.isfinite(x) & np.isfinite(y) & np.isfinite(v)
    x, y, v = x[usable], y[usable], v[usable]
    simplices = triangles(x, y)
    if simplices is None:
        log.debug("no contour: %d usable points do not span a plane", len(x))
        return []
    above = v >= level
    # the edges of every triangle, (m, 3, 2) vertex indices, each ordered low → high so that
    # the two triangles sharing an edge compute its crossing from the same numbers
    ends = np.sort(simplices[:, _EDGES], axis=2)
    crosses = above[ends[..., 0]] != above[ends[..., 1]]
    # a triangle is crossed through exactly two of its edges, or not at all
    cut = crosses.sum(axis=1) == 2
    pairs = ends[cut][crosses[cut]].reshape(-1, 2, 2)  # per segment: its two edges
    a, b = pairs[..., 0], pairs[..., 1]
    n = len(x)
    # a crossing is named by its edge, or by the vertex it falls on when that vertex lies
    # exactly at the level: then the crossings of that vertex's edges are one point
    keys = np.where(v[a] == level, a, np.where(v[b] == level, b, n + a * n + b))
    with np.errstate(divide="ignore", invalid="ignore"):  # v[a] != v[b] on a crossed edge
        t = (level - v[a]) / (v[b] - v[a])
    t = np.where(v[a] == level, 0.0, np.where(v[b] == level, 1.0, t))
    px = x[a] + t * (x[b] - x[a])
    py = y[a] + t * (y[b] - y[a])
    return _join(keys, np.stack([px, py], axis=-1))


def _join(keys: np.ndarray, points: np.ndarray) -> list[np.ndarray]:
    """Join segments (``keys`` (s, 2) naming their ends, ``points`` (s, 2, 2)) into maximal
    polylines: walks start at loose ends (a node met by an odd number of segments), then the
    closed loops that remain."""
    where: dict[int, np.ndarray] = {}
    for key, point in zip(keys.ravel().tolist(), points.reshape(-1, 2), strict=True):
        where.setdefault(key, point)
    # a segment that shrank to a point (a triangle touching the level at one vertex) is no
    # line; one along an edge whose two vertices lie at the level comes from both triangles
    segments = sorted({(min(p, q), max(p, q)) for p, q in keys.tolist() if p != q})
    neighbours: dict[int, list[int]] = defaultdict(list)
    for number, (p, q) in enumerate(segments):
        neighbours[p].append(number)
        neighbours[q].append(number)
    used = np.zeros(len(segments), dtype=bool)
    loose = [node for node in sorted(neighbours) if len(neighbours[node]) % 2]
    lines: list[np.ndarray] = []
    for start in [*loose, *sorted(neighbours)]:
        while any(not used[s] for s in neighbours[start]):
            path, node = [start], start
            while True:
                step = next((s for s in neighbours[node] if not used[s]), None)
                if step is None:
                    break
                used[step] = True
                p, q = segments[step]
                node = q if node == p else p
                path.append(node)
            line = np.array([where[node] for node in path], dtype=np.float64)
            # a crossing that rounds onto a vertex's position repeats a point: keep one
            line = line[np.r_[True, (np.diff(line, axis=0) != 0).any(axis=1)]]
            if len(line) > 1:
                lines.append(line)
    return lines


def exclusion_contours(
    xs: Sequence[float] | np.ndarray,
    ys: Sequence[float] | np.ndarray,
    cls: Sequence[float | None] | np.ndarray,
    alpha: float = 0.05,
) -> list[np.ndarray]:
    """The CLs = ``alpha`` contour of a scan: :func:`contour_lines` of log10 CLs (floored at
    1e-300) at log10 ``alpha``. Points whose CLs is None or NaN (a failed fit) are left out."""
    if not 0 < float(alpha) < 1:
        raise UsageError(f"exclusion_contours: alpha must lie between 0 and 1, not {alpha}")
    try:
        values = np.array([np.nan if c is None else float(c) for c in cls], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"exclusion_contours: a CLs value is not a number ({exc})") from None
    with np.errstate(invalid="ignore"):  # NaN stays NaN and is left out
        logs = np.log10(np.maximum(values, SMALLEST_CLS))
    return contour_lines(xs, ys, logs, float(np.log10(alpha)))


def lines_to_json(lines: Sequence[np.ndarray], digits: int = 6) -> list[list[list[float]]]:
    """Polylines as JSON lists ``[[[x, y], ...], ...]``, rounded to ``digits`` significant
    digits (a contour is an interpolation: more digits would only be noise in a document)."""
    return [
        [[float(f"{value:.{digits}g}") for value in point] for point in np.asarray(line).tolist()]
        for line in lines
    ]
