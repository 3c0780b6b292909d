"""A plot of a cutflow validation: recast vs published per step, with the ratio below.

One panel pair per region (two regions a row): the yields with their uncertainties on a log
scale, and the ratio recast / published with the recast MC uncertainty, the bundle's relative
tolerance as a band, and failing steps in red.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .figure import new_figure, save_figure

_COLUMNS = 2


def _finite(values: list[float | None]) -> list[float]:
    return [v if v is not None and math.isfinite(v) else math.nan for v in values]


def plot_validation(verdict: Mapping[str, Any], path: str | Path) -> None:
    """Write the plot of a :func:`~recast.pipeline.run.recast_validate` verdict (PNG, PDF, …)."""
    regions = verdict["regions"]
    columns = min(_COLUMNS, len(regions))
    rows = math.ceil(len(regions) / columns)
    figure = new_figure(
        "Plotting a validation", figsize=(6 * columns, 5 * rows), layout="constrained"
    )
    panels = figure.subfigures(rows, columns, squeeze=False)
    tolerance = verdict["tolerance"]["relative"]
    for k, region in enumerate(regions):
        top, bottom = panels.flat[k].subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
        )
        steps = region["steps"]
        x = list(range(len(steps)))
        published = _finite([s["published"] for s in steps])
        published_error = _finite([s["published_uncertainty"] or 0.0 for s in steps])
        recast = _finite([s["recast"] for s in steps])
        recast_error = _finite([s["recast_uncertainty"] for s in steps])
        top.errorbar(
            x, published, published_error, fmt="s", ms=9, mfc="none", label="published", zorder=1
        )
        top.errorbar(x, recast, recast_error, fmt="o", ms=4, label="recast", zorder=2)
        if any(v > 0 for v in recast + published):
            top.set_yscale("log")
        top.set_title(f"{region['region']} ({region['unit']})", fontsize=10)
        top.legend(fontsize=8)
        top.tick_params(labelbottom=False)
        ratio = _finite([s["ratio"] for s in steps])
        ratio_error = [
            e / p if p and math.isfinite(p) else math.nan
            for e, p in zip(recast_error, published, strict=True)
        ]
        bottom.axhspan(1 - tolerance, 1 + tolerance, color="0.9", zorder=0)
        bottom.axhline(1.0, color="grey", lw=0.8)
        colours = [
            {None: "0.5", True: "tab:blue"}.get(s["passed"], "tab:red") for s in steps
        ]  # grey: a normalisation row, not tested
        bottom.errorbar(x, ratio, ratio_error, fmt="none", ecolor="0.4", zorder=1)
        bottom.scatter(x, ratio, c=colours, s=16, zorder=2)
        bottom.set_ylabel("recast / pub.", fontsize=8)
        bottom.set_xticks(x, [s["cut"] for s in steps], rotation=45, ha="right", fontsize=7)
    figure.suptitle(f"{verdict['analysis']}, benchmark {verdict['benchmark']}")
    save_figure(figure, path, dpi=100, tight=False)
