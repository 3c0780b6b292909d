"""Plots of a filter study report (drawn from the report's JSON alone): the bias of the
decorrelated variable with and without the dCorr penalty, and the effective speed-up."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_open
from ..report.figure import subplots

log = logging.getLogger(__name__)

TITLES = {"plain": "without dCorr (λ = 0)", "dcorr": "with dCorr"}


def _save(figure: Any, path: Path) -> Path:
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)
    log.info("wrote %s", path)
    return path


def plot_bias(report: Mapping[str, Any], path: str | Path) -> Path:
    """Per model: the passing events' distribution of the decorrelated variable — truth,
    importance-weighted filtered sample, and the kept events without weights — and the
    ratios to the truth."""
    name = report["decorrelate"]
    models = report["models"]
    figure, axes = subplots(
        "Plotting the filter study",
        2,
        len(models),
        figsize=(5.2 * len(models), 5.6),
        sharex="col",
        gridspec_kw={"height_ratios": [2.2, 1]},
        squeeze=False,
    )
    for column, (label, model) in enumerate(models.items()):
        table = model["bias"][name]
        edges = np.asarray(table["edges"])
        centre = 0.5 * (edges[1:] + edges[:-1])
        truth = np.asarray(table["truth"])
        top, bottom = axes[0][column], axes[1][column]
        top.stairs(truth, edges, color="black", label="all passing events (truth)")
        top.errorbar(
            centre,
            table["weighted"],
            yerr=table["weighted_error"],
            fmt="o",
            ms=3,
            color="tab:blue",
            label="filtered, weight 1/q",
        )
        top.stairs(
            table["unweighted_scaled"],
            edges,
            color="tab:red",
            ls="--",
            label="filtered, no weights (scaled)",
        )
        weighted = table["weighted_vs_truth"]
        raw = table["unweighted_vs_truth"]
        top.set_title(
            f"{TITLES.get(label, label)}\nχ²/ndf weighted {weighted['chi2']:.1f}/"
            f"{weighted['ndf']}, unweighted {raw['chi2']:.1f}/{raw['ndf']}",
            fontsize=9,
        )
        top.set_ylabel("passing events per bin")
        with np.errstate(divide="ignore", invalid="ignore"):
            bottom.errorbar(
                centre,
                np.asarray(table["weighted"]) / truth,
                yerr=np.asarray(table["weighted_error"]) / truth,
                fmt="o",
                ms=3,
                color="tab:blue",
            )
            bottom.errorbar(
                centre,
                np.asarray(table["unweighted_scaled"]) / truth,
                yerr=np.asarray(table["unweighted_error"]) / truth,
                fmt="s",
                ms=3,
                color="tab:red",
                mfc="none",
            )
        if edges[0] > 0 and edges[-1] / edges[0] > 5:  # long tails: equal-population bins
            bottom.set_xscale("log")
            from matplotlib import ticker

            bottom.xaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            bottom.xaxis.set_minor_formatter(ticker.NullFormatter())
        bottom.axhline(1.0, color="black", lw=0.8)
        bottom.set_ylim(0.4, 1.6)
        bottom.set_ylabel("/ truth")
        bottom.set_xlabel(name)
        if column == 0:
            top.legend(fontsize=8)
    figure.tight_layout()
    saved = _save(figure, Path(path))
    return saved


def plot_speed_up(report: Mapping[str, Any], path: str | Path) -> Path:
    """Effective speed-up (ESS per CPU second with / without the filter) against p_min, per
    model and downstream-cost scenario."""
    figure, axis = subplots("Plotting the filter study", figsize=(6.4, 4.2))
    styles = {"plain": "--", "dcorr": "-"}
    for label, model in report["models"].items():
        scan = model["importance"]["p_min_scan"]
        p_min = [row["p_min"] for row in scan]
        for k, scenario in enumerate(scan[0]["effective_speed_up"]):
            values = [row["effective_speed_up"][scenario] for row in scan]
            axis.plot(
                p_min,
                values,
                styles.get(label, ":"),
                marker="o",
                ms=3,
                color=f"C{k}",
                label=f"{TITLES.get(label, label)}; {scenario}",
            )
    axis.axhline(1.0, color="black", lw=0.8)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("p_min (keep probability q = max(p, p_min))")
    axis.set_ylabel("effective speed-up (ESS per CPU s, with / without)")
    axis.legend(fontsize=7)
    figure.tight_layout()
    saved = _save(figure, Path(path))
    return saved


__all__ = ["plot_bias", "plot_speed_up"]
