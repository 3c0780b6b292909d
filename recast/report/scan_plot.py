"""The exclusion plot of a scan: CLs across a parameter plane, the 0.05 contours.

Colours show the observed CLs (log scale); the solid line is the observed CLs = 0.05 contour,
the dashed line the median expected one, and the yellow band lies between the expected
contours of the −1σ and +1σ band members. Needs matplotlib (``pip install 'recast-nn[plot]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..arguments import arg
from ..errors import MissingDependencyError, closest
from ..likelihood.errors import UndrawablePlotError
from ..likelihood.scan import cls_grid
from .figure import save_figure

log = logging.getLogger(__name__)


def _matplotlib() -> Any:
    try:
        import matplotlib.tri
    except ImportError:
        raise MissingDependencyError("matplotlib", "plot", "the exclusion plot") from None
    return matplotlib.tri


def plot_axes(
    names: Sequence[str],
    x: str | None,
    y: str | None,
    source: str,
    error: type[Exception] = UndrawablePlotError,
) -> tuple[str, str]:
    """The parameters on the x and y axes (the first two unless named); ``error`` when the
    points have one parameter or a named one is not among them."""
    x, y = x or names[0], y or (names[1] if len(names) > 1 else None)
    if y is None:
        raise error(
            f"{source}: an exclusion plot needs two parameters; the grid has one "
            f"({names[0]!r}). Leave out {arg('plot')}, or give the points a second parameter."
        )
    for name in (x, y):
        if name not in names:
            raise error(
                f"{source}: no parameter {name!r} to plot; the grid has {', '.join(names)}."
                f"{closest(name, names)}"
            )
    return x, y


def drawable_problem(xs: np.ndarray, ys: np.ndarray) -> str | None:
    """Why points at (xs, ys) cannot be triangulated for contours, or None: fewer than three,
    non-finite values or spans, or all on one line. Matplotlib's qhull would fail on each."""
    if len(xs) < 3:
        return f"an exclusion plot needs at least three grid points, not {len(xs)}"
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        return "the parameters must be finite numbers"
    with np.errstate(over="ignore"):  # an overflowing span is the answer, not a warning
        spans = np.ptp(xs), np.ptp(ys)
    if not all(np.isfinite(spans)):
        return "the parameters span more than a float can hold (values near ±1e308)"
    if min(spans) == 0:
        return "all points share one value of a parameter: they lie on one line"
    # rescaled to the unit square, so that the test does not depend on the units
    u, v = (xs - xs.min()) / spans[0], (ys - ys.min()) / spans[1]
    centred = np.stack([u - u.mean(), v - v.mean()], axis=1)
    singular = np.linalg.svd(centred, compute_uv=False)
    if singular[-1] <= 1e-9 * singular[0]:
        return "all points lie on one line: contours need a plane"
    try:  # the test matplotlib itself makes; cheap for a grid
        _matplotlib().Triangulation(xs, ys)
    except (RuntimeError, ValueError) as exc:
        return f"the points cannot be triangulated ({str(exc).splitlines()[0]})"
    return None


def check_drawable(
    names: Sequence[str],
    points: Sequence[Mapping[str, float]],
    source: str,
    *,
    x: str | None = None,
    y: str | None = None,
) -> None:
    """Before a scan: refuse a ``--plot`` the grid cannot give (one parameter, fewer than three
    points, all on a line, values beyond float range), with :class:`UndrawablePlotError`."""
    _matplotlib()  # a missing extra is known before any point is computed, too
    x, y = plot_axes(names, x, y, source)
    xs = np.array([p[x] for p in points], dtype=np.float64)
    ys = np.array([p[y] for p in points], dtype=np.float64)
    why = drawable_problem(xs, ys)
    if why is not None:
        raise UndrawablePlotError(
            f"{source}: {arg('plot')}: {why} ({x}, {y}). Leave out {arg('plot')}."
        )


def draw_exclusion(
    document: Mapping[str, Any],
    *,
    x: str | None = None,
    y: str | None = None,
    title: str | None = None,
) -> Any:
    """The exclusion plot of a scan document as a matplotlib ``Figure`` (nothing written)."""
    _matplotlib()
    # a Figure without pyplot: no backend is chosen or changed for the caller
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    x, y = plot_axes(list(document["parameters"]), x, y, str(document.get("grid", "scan")))
    xs = np.array([row["parameters"][x] for row in document["points"]], dtype=np.float64)
    ys = np.array([row["parameters"][y] for row in document["points"]], dtype=np.float64)
    # a point whose fit failed has no CLs: it is marked, never drawn as allowed or contoured
    failed = np.array([row.get("status") == "failed" for row in document["points"]], bool)
    lost = xs[failed], ys[failed]
    if failed.any():
        kept = [row for row, bad in zip(document["points"], failed, strict=True) if not bad]
        document = {**document, "points": kept}
        xs, ys = xs[~failed], ys[~failed]
    why = drawable_problem(xs, ys)
    if why is not None:
        raise UndrawablePlotError(
            f"{why} ({x}, {y})"
            + (f", once the {failed.sum()} failed point(s) are left out" if failed.any() else "")
        )
    alpha = float(document.get("alpha", 0.05))
    observed = np.clip(cls_grid(document), 1e-8, 1.0)
    figure = Figure(figsize=(7.0, 5.2), constrained_layout=True)
    axes = figure.subplots()
    shading = axes.tricontourf(
        xs,
        ys,
        observed,
        levels=np.geomspace(1e-8, 1, 17),
        norm=LogNorm(),
        cmap="Blues_r",
        extend="both",
    )
    figure.colorbar(shading, ax=axes, label="observed CLs")
    low, high = cls_grid(document, "minus1"), cls_grid(document, "plus1")
    # inside the band: the −1σ member excludes and the +1σ member does not
    band = np.maximum(
        np.log(np.clip(low, 1e-300, 1) / alpha), -np.log(np.clip(high, 1e-300, 1) / alpha)
    )
    if (band < 0).any():
        axes.tricontourf(xs, ys, band, levels=[band.min() - 1, 0], colors=["yellow"], alpha=0.6)
    for values, style, label in (
        (cls_grid(document, "median"), "--", "expected (±1σ band)"),
        (observed, "-", "observed"),
    ):
        if values.min() < alpha < values.max():
            axes.tricontour(
                xs, ys, values, levels=[alpha], colors="black", linestyles=style, linewidths=2
            )
        axes.plot([], [], "k" + style, label=label)
    excluded = np.array([bool(row["excluded"]) for row in document["points"]])
    axes.scatter(
        xs[excluded],
        ys[excluded],
        s=6,
        c="white",
        edgecolors="black",
        linewidths=0.3,
        label="excluded point",
    )
    axes.scatter(xs[~excluded], ys[~excluded], s=6, c="black", label="allowed point")
    if lost[0].size:
        axes.scatter(*lost, s=30, c="red", marker="x", label="failed fit (no CLs)")
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.set_title(title or f"CLs = {alpha:g} exclusion — {Path(str(document['likelihood'])).name}")
    axes.legend(loc="upper left", fontsize="small")
    return figure


#: the resolution of exclusion plots (dots per inch)
DPI = 130


def exclusion_plot(
    document: Mapping[str, Any],
    path: str | Path,
    *,
    x: str | None = None,
    y: str | None = None,
    title: str | None = None,
) -> Path:
    """Write the exclusion plot of a scan document to ``path`` (PNG, PDF or SVG)."""
    return save_figure(draw_exclusion(document, x=x, y=y, title=title), path, dpi=DPI, tight=False)
