"""Plots of a filter study report (drawn from the report's JSON alone): the bias of the
decorrelated variable with and without the dCorr penalty, and the effective speed-up."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...report.figure import MARKER, ratio_panel, save_figure, stacked_panels, subplots

log = logging.getLogger(__name__)

TITLES = {"plain": "without dCorr (λ = 0)", "dcorr": "with dCorr"}


def plot_bias(report: Mapping[str, Any], path: str | Path) -> Path:
    """Per model: the passing events' distribution of the decorrelated variable — truth,
    importance-weighted filtered sample, and the kept events without weights — and the
    ratios to the truth."""
    name = report["decorrelate"]
    models = report["models"]
    figure, cells = stacked_panels(
        "Plotting the filter study",
        1,
        len(models),
        panel=(5.2, 5.6),
        heights=(2.2, 1),
        sharex="col",
    )
    for column, (label, model) in enumerate(models.items()):
        table = model["bias"][name]
        edges = np.asarray(table["edges"])
        centre = 0.5 * (edges[1:] + edges[:-1])
        truth = np.asarray(table["truth"])
        top, bottom = cells[0][column]
        top.stairs(truth, edges, color="black", label="all passing events (truth)")
        top.errorbar(
            centre,
            table["weighted"],
            yerr=table["weighted_error"],
            **MARKER,
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
                **MARKER,
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
        ratio_panel(bottom, 1.0, (0.4, 1.6), "/ truth")
        bottom.set_xlabel(name)
        if column == 0:
            top.legend(fontsize=8)
    return save_figure(figure, path, dpi=110)


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
    return save_figure(figure, path, dpi=110)


__all__ = ["plot_bias", "plot_speed_up"]
