"""The closure plot of a closure report: efficiency against ΔR, multiplicity and pT, per sample.

Drawn from the report's JSON alone (any report can be re-plotted): one row per sample, one
column per variable; the upper panel shows the observed tagged fraction (points), the true ε
where it is known (black), the binned map (red, dashed) and the learned map (blue, with the
ensemble spread as a band); the lower panel shows map − truth (or map − observed).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...report.figure import MARKER, ratio_panel, save_figure, stacked_panels

log = logging.getLogger(__name__)

#: (table, x label, x range) of each column
PANELS = (
    ("dr_nearest", "ΔR to the nearest other jet", (0.0, 3.0)),
    ("n_objects", "jet multiplicity", (1.5, 12.5)),
    ("pt", "jet pT [GeV]", (20.0, 500.0)),
)
STYLE = {
    "binned": {"color": "tab:red", "ls": "--", "label": "binned pT–|η| map"},
    "learned": {"color": "tab:blue", "ls": "-", "label": "learned map (set network)"},
}


def _series(table: Mapping[str, Any], key: str, name: str | None = None) -> np.ndarray:
    edges = table["edges"][0]
    values = np.full(len(edges) - 1, np.nan)
    for row in table["bins"]:
        source = row if name is None else row["maps"][name]
        if key in source:
            values[row["bin"][0]] = source[key]
    return values


def plot_closure(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the closure figure of ``report`` to ``path`` (PNG, PDF, ... by its suffix)."""
    samples = report["samples"]
    figure, cells = stacked_panels(
        "Plotting a closure report",
        len(samples),
        len(PANELS),
        panel=(4.2, 4.4),
        heights=(3, 1.3),
    )
    for row, sample in enumerate(samples):
        for column, (table_name, label, limits) in enumerate(PANELS):
            top, bottom = cells[row][column]
            table = sample["tables"][table_name]
            edges = np.asarray(table["edges"][0], dtype=np.float64)
            where = np.full(len(edges) - 1, np.nan)  # points at the bins' mean, not centre
            for bin_row in table["bins"]:
                where[bin_row["bin"][0]] = bin_row["mean"][0]
            observed = _series(table, "observed")
            sigma = _series(table, "observed_uncertainty")
            top.errorbar(where, observed, sigma, **MARKER, color="0.35", label="observed")
            truth = _series(table, "truth") if sample["truth_known"] else None
            if truth is not None:
                top.stairs(truth, edges, baseline=None, color="black", lw=1.2, label="truth ε")
            reference = truth if truth is not None else observed
            for name in report["maps"]:
                style = STYLE.get(name, {"color": "tab:green", "ls": ":", "label": name})
                mean = _series(table, "mean", name)
                top.stairs(mean, edges, baseline=None, lw=1.5, **style)
                spread = _series(table, "spread", name)
                if not np.isnan(spread).all():
                    top.stairs(
                        mean + spread,
                        edges,
                        baseline=mean - spread,
                        fill=True,
                        alpha=0.25,
                        color=style["color"],
                    )
                bottom.stairs(
                    mean - reference,
                    edges,
                    baseline=None,
                    lw=1.5,
                    color=style["color"],
                    ls=style["ls"],
                )
            difference = "map − truth" if truth is not None else "map − observed"
            ratio_panel(bottom, 0.0, (-0.25, 0.45), difference)
            top.set_ylim(0.0, 1.0)
            top.set_title(f"{sample['label']}: {sample['objects']} jets", fontsize=9)
            for axis in (top, bottom):
                axis.set_xlim(*limits)
            bottom.set_xlabel(label)
            if column == 0:
                top.set_ylabel("tagging efficiency")
            if row == 0 and column == 0:
                top.legend(loc="lower right", frameon=False, fontsize=8)
    return save_figure(figure, path, dpi=90)


__all__ = ["plot_closure"]
