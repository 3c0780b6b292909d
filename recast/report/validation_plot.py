"""A plot of a cutflow validation: recast vs published per step, with the ratio below."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError
from ..io import atomic_open


def plot_validation(verdict: Mapping[str, Any], path: str | Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError("matplotlib", "plot", "Plotting a validation") from None
    regions = verdict["regions"]
    figure, axes = plt.subplots(
        2,
        len(regions),
        figsize=(5 * len(regions), 5),
        squeeze=False,
        sharex="col",
        gridspec_kw={"height_ratios": [3, 1]},
    )
    for column, region in enumerate(regions):
        steps = region["steps"]
        x = list(range(len(steps)))
        top, bottom = axes[0][column], axes[1][column]
        top.errorbar(
            x,
            [s["recast"] for s in steps],
            [s["recast_uncertainty"] for s in steps],
            fmt="o",
            label="recast",
        )
        top.plot(x, [s["published"] for s in steps], "s", mfc="none", label="published")
        top.set_yscale("log")
        top.set_title(f"{region['region']} ({region['unit']})")
        top.legend()
        bottom.plot(x, [s["ratio"] for s in steps], "o")
        bottom.axhline(1.0, color="grey", lw=0.8)
        bottom.set_ylabel("recast / published")
        bottom.set_xticks(x, [s["cut"] for s in steps], rotation=60, ha="right", fontsize=7)
    figure.suptitle(f"{verdict['analysis']}, benchmark {verdict['benchmark']}")
    figure.tight_layout()
    suffix = Path(path).suffix.lstrip(".") or "png"
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format=suffix, dpi=100)
    plt.close(figure)
