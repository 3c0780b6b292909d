"""The plots of a report, as PNG files in its ``figures/`` folder, each with its alt text.

Drawn on bare matplotlib ``Figure`` objects (:mod:`recast.report.figure`): no backend is
chosen and no pyplot state is touched. Needs matplotlib (``pip install 'recast-nn[plot]'``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import MissingDependencyError, UsageError
from ...likelihood.errors import UndrawablePlotError
from ..figure import MARKER, ratio_panel, save_figure, stacked_panels, subplots
from ..plane_plot import save_plane
from ..scan_plot import exclusion_plot
from ..validation_plot import plot_validation
from .inputs import finite

log = logging.getLogger(__name__)

#: the folder of the plots inside a report
FOLDER = "figures"
#: the resolution of the small plots (one network histogram each)
HISTOGRAM_DPI = 80


@dataclass(frozen=True)
class Figure:
    """A plot of the page: its ``file`` relative to the report folder, its alt text, a
    caption and the anchor the tables link to."""

    file: str
    alt: str
    caption: str
    anchor: str | None = None


def require_matplotlib(purpose: str = "An HTML report") -> None:
    """Refuse early, before anything is built, when the ``plot`` extra is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependencyError("matplotlib", "plot", purpose) from None


def validation_figures(verdict: Mapping[str, Any], folder: Path) -> list[Figure]:
    """One plot per validated region, to stand beside its table: the recast cutflow over
    the published one, the ratio below."""
    tolerance = verdict["tolerance"]["relative"]
    found = []
    for k, region in enumerate(verdict["regions"], 1):
        name = f"{FOLDER}/cutflow_{k:02d}.png"
        plot_validation({**verdict, "regions": [region]}, folder / name)
        found.append(
            Figure(
                name,
                f"Cutflow of region {region['region']} of {verdict['analysis']} for benchmark "
                f"{verdict['benchmark']}: per step the recast yield (circles) over the "
                f"published one (squares) on a log scale, and below the ratio recast / "
                f"published with a grey band of ±{tolerance:g}; failing steps in red, steps "
                "not tested in grey.",
                f"{region['region']}: recast over published, the ratio below.",
                f"cutflow-plot-{k}",
            )
        )
    return found


def backgrounds(results: Mapping[str, Any]) -> dict[str, float]:
    """The published background of each region the results' likelihood holds."""
    regions = (results.get("limits") or {}).get("regions") or {}
    found = {}
    for name, row in regions.items():
        value = finite((row or {}).get("background"))
        if value is not None:
            found[name] = value
    return found


def yields_plot(
    results: Mapping[str, Any], path: Path, background: Mapping[str, float] | None = None
) -> Path:
    """Signal yield of every region with its MC uncertainty beside the published background
    (``background``, default: the results' likelihood's), log scale."""
    names = list(results["yields"])
    background = backgrounds(results) if background is None else background
    signal = [results["yields"][n]["value"] for n in names]
    error = [results["yields"][n]["mc_uncertainty"] for n in names]
    figure, axes = subplots("Plotting the yields", figsize=(max(6.0, 0.8 * len(names)), 4.0))
    x = range(len(names))
    axes.bar([i - 0.2 for i in x], signal, 0.4, yerr=error, label="signal (recast)")
    if background:
        axes.bar(
            [i + 0.2 for i in x],
            [background.get(n, math.nan) for n in names],
            0.4,
            label="background (published)",
        )
    axes.set_xticks(list(x), names, rotation=45, ha="right", fontsize=8)
    if any(v > 0 for v in [*signal, *background.values()]):
        axes.set_yscale("log")
    axes.set_ylabel("events")
    norm = results["normalisation"]
    axes.set_title(
        f"{results['analysis']}: {norm.get('events', '?')} events at "
        f"σ = {norm['cross_section_pb']:.3g} pb"
    )
    axes.legend()
    return save_figure(figure, path, dpi=100)


def yields_figure(results: Mapping[str, Any], folder: Path) -> Figure:
    name = f"{FOLDER}/yields.png"
    yields_plot(results, folder / name)
    with_background = " beside the published background (orange)" if backgrounds(results) else ""
    return Figure(
        name,
        f"Bar chart of the signal yield of each of the {len(results['yields'])} regions of "
        f"{results['analysis']} at σ·L (blue, with its MC uncertainty){with_background}, "
        "on a log scale.",
        "Signal yield of every region at σ·L" + (with_background and ", beside the background"),
    )


def scan_figure(scan: Mapping[str, Any], form: str, folder: Path) -> Figure | str:
    """The exclusion plot of a scan, or why it cannot be drawn (one parameter, too few
    points): a report shows the table then, and says why there is no plot."""
    name = f"{FOLDER}/scan.png"
    try:
        if form == "plane":
            save_plane(scan, folder / name)
        else:
            exclusion_plot(scan, folder / name)
    except (UndrawablePlotError, UsageError) as exc:
        log.info("no exclusion plot: %s", exc)
        return str(exc)
    x, y = (scan.get("x"), scan.get("y")) if form == "plane" else (None, None)
    names = list(scan["parameters"])
    x, y = x or names[0], y or names[1]
    return Figure(
        name,
        f"Exclusion plot over {x} (horizontal) and {y} (vertical): the scan's "
        f"{len(scan['points'])} points coloured by their observed CLs, the observed CLs = 0.05 "
        "contour as a solid line, the expected one dashed with its ±1σ band in yellow.",
        "The exclusion at 95 % CL across the scan's plane.",
    )


def histogram_figure(entry: Mapping[str, Any], folder: Path, rank: int) -> Figure:
    """One network input or output: the published and recast histograms overlaid, with the
    ratio recast / published below."""
    import numpy as np

    def values(side: str, key: str) -> Any:  # null (undefined) as NaN: not drawn
        return np.array([math.nan if v is None else v for v in entry[side][key]], np.float64)

    edges = np.asarray(entry["edges"], dtype=np.float64)
    published, published_error = values("published", "counts"), values("published", "errors")
    recast, recast_error = values("recast", "counts"), values("recast", "errors")
    centres = 0.5 * (edges[:-1] + edges[1:])
    figure, cells = stacked_panels(
        "Plotting a network histogram", 1, 1, panel=(4.8, 3.8), heights=(3, 1), sharex=True
    )
    top, bottom = cells[0][0]
    top.stairs(published, edges, color="tab:blue", label="published")
    top.stairs(
        published + published_error,
        edges,
        baseline=published - published_error,
        fill=True,
        color="tab:blue",
        alpha=0.25,
        lw=0,
    )
    top.errorbar(centres, recast, recast_error, color="black", label="recast", **MARKER)
    chi2, ndf, p, ks = (entry.get(k) for k in ("chi2", "ndf", "p_value", "ks"))
    stats = []
    if finite(chi2) is not None:
        stats.append(f"χ²/ndf = {chi2:.3g}/{ndf}")
    if finite(p) is not None:
        stats.append(f"p = {p:.3g}")
    if finite(ks) is not None:
        stats.append(f"KS = {ks:.3g}")
    top.legend(fontsize=7, title="\n".join(stats) or None, title_fontsize=7)
    top.set_title(f"{entry['network']}: {entry['feature']}", fontsize=9)
    top.tick_params(labelsize=7)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(published > 0, recast / published, np.nan)
        ratio_error = np.where(published > 0, recast_error / published, np.nan)
    bottom.errorbar(centres, ratio, ratio_error, color="black", **MARKER)
    shown = ratio[np.isfinite(ratio)]
    low = min(0.5, float(shown.min()) - 0.1) if shown.size else 0.5
    high = max(1.5, float(shown.max()) + 0.1) if shown.size else 1.5
    ratio_panel(bottom, 1.0, (max(low, 0.0), min(high, 3.0)), "recast / pub.")
    bottom.yaxis.label.set_size(7)
    bottom.tick_params(labelsize=7)
    bottom.set_xlabel(str(entry["feature"]), fontsize=8)
    if entry.get("problem"):  # no comparison: say why on the plot itself
        top.text(0.5, 0.5, str(entry["problem"]), transform=top.transAxes, ha="center",
                 va="center", fontsize=7, color="tab:red", wrap=True)  # fmt: skip
    anchor = f"network-{rank}"
    name = f"{FOLDER}/network_{rank:03d}.png"
    save_figure(figure, folder / name, dpi=HISTOGRAM_DPI)
    return Figure(
        name,
        f"Histogram of {entry['feature']} of network {entry['network']}: published (blue line "
        f"with its uncertainty band) and recast (black points); below, their ratio"
        + (f"; {', '.join(stats)}" if stats else "")
        + (f"; not compared: {entry['problem']}" if entry.get("problem") else "")
        + ".",
        f"{rank}. {entry['network']}: {entry['feature']}"
        + (f" ({', '.join(stats)})" if stats else ""),
        anchor,
    )
