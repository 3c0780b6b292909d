"""The exclusion plot of a scan: CLs across a parameter plane, the 0.05 contours.

Colours show the observed CLs (log scale); the solid line is the observed CLs = 0.05 contour,
the dashed line the median expected one, and the yellow band lies between the expected
contours of the −1σ and +1σ band members. Needs matplotlib (``pip install 'recast-nn[plot]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MissingDependencyError, UsageError
from ..io import atomic_open
from .scan import cls_grid

log = logging.getLogger(__name__)


def exclusion_plot(
    document: Mapping[str, Any],
    path: str | Path,
    *,
    x: str | None = None,
    y: str | None = None,
    title: str | None = None,
) -> Path:
    """Write the exclusion plot of a scan document to ``path`` (PNG, PDF or SVG)."""
    try:
        # a Figure without pyplot: no backend is chosen or changed for the caller
        from matplotlib.colors import LogNorm
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("matplotlib", "plot", "the exclusion plot") from None
    names = list(document["parameters"])
    x, y = x or names[0], y or (names[1] if len(names) > 1 else None)
    if y is None:
        raise UsageError("an exclusion plot needs two parameters; the grid has one")
    xs = np.array([row["parameters"][x] for row in document["points"]])
    ys = np.array([row["parameters"][y] for row in document["points"]])
    # a point whose fit failed has no CLs: it is marked, never drawn as allowed or contoured
    failed = np.array([row.get("status") == "failed" for row in document["points"]], bool)
    lost = xs[failed], ys[failed]
    if failed.any():
        kept = [row for row, bad in zip(document["points"], failed, strict=True) if not bad]
        document = {**document, "points": kept}
        xs, ys = xs[~failed], ys[~failed]
    if len(xs) < 3:
        raise UsageError("an exclusion plot needs at least three grid points with a CLs")
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
    path = Path(path)
    suffix = path.suffix.lstrip(".") or "png"
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format=suffix, dpi=130)
    log.info("wrote %s", path)
    return path
