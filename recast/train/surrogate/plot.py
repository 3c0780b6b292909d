"""The closure plot of a surrogate report: sampled against observed scores, per pT bin.

Drawn from the report's JSON alone: one pair of rows per held-out sample, one column per pT
bin; the upper panel shows the observed (detector-level) score density (points with their
uncertainty) and the density of the scores the surrogate sampled for the same objects (line),
with the bin's KS and χ² p-values; the lower panel shows sampled / observed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...report.figure import MARKER, ratio_panel, save_figure, stacked_panels

log = logging.getLogger(__name__)


def plot_surrogate_closure(report: Mapping[str, Any], path: str | Path) -> Path:
    """Write the closure figure of ``report`` to ``path`` (PNG, PDF, ... by its suffix)."""
    samples = report["samples"]
    n_pt = max(len(s["histograms"]) for s in samples)
    figure, cells = stacked_panels(
        "Plotting a surrogate report", len(samples), n_pt, panel=(3.3, 4.2), heights=(3, 1.2)
    )
    for row, sample in enumerate(samples):
        edges = np.asarray(sample["score_edges"], dtype=np.float64)
        widths = np.diff(edges)
        centres = 0.5 * (edges[1:] + edges[:-1])
        rows = {tuple(r["pt"]): r for r in sample["tables"]["pt"]}
        for column in range(n_pt):
            top, bottom = cells[row][column]
            if column >= len(sample["histograms"]):
                top.axis("off")
                bottom.axis("off")
                continue
            histogram = sample["histograms"][column]
            observed = np.asarray(histogram["observed"], dtype=np.float64)
            sampled = np.asarray(histogram["sampled"], dtype=np.float64)
            lo, hi = sample["pt_edges"][column], sample["pt_edges"][column + 1]
            if not observed.any():
                top.set_title(f"pT {lo:g}–{hi:g} GeV: no jets", fontsize=8)
                top.axis("off")
                bottom.axis("off")
                continue
            sigma = np.sqrt(np.asarray(histogram["observed_w2"], dtype=np.float64))
            total = max(observed.sum(), 1e-12)
            top.errorbar(
                centres,
                observed / total / widths,
                sigma / total / widths,
                **MARKER,
                color="black",
                label="detector (observed)",
            )
            top.stairs(
                sampled / max(sampled.sum(), 1e-12) / widths,
                edges,
                color="tab:blue",
                lw=1.5,
                label="surrogate (sampled)",
            )
            stats = rows.get((float(lo), float(hi)))
            title = f"pT {lo:g}–{hi:g} GeV"
            if stats is not None:
                title += (
                    f"\n{stats['objects']} jets, KS p = {stats['ks_pvalue']:.2f}, "
                    f"χ² p = {stats['chi2_pvalue']:.2f}"
                )
            top.set_title(title, fontsize=8)
            top.set_xlim(edges[0], edges[-1])
            ratio = np.divide(
                sampled, observed, out=np.full_like(sampled, np.nan), where=observed > 0
            )
            error = np.divide(sigma, observed, out=np.zeros_like(sigma), where=observed > 0)
            bottom.fill_between(centres, 1 - error, 1 + error, color="0.85", step="mid")
            bottom.plot(centres, ratio, "o", ms=3, color="tab:blue")
            ratio_panel(bottom, 1.0, (0.6, 1.4))
            bottom.set_xlim(edges[0], edges[-1])
            bottom.set_xlabel("tagger score")
            if column == 0:
                top.set_ylabel(f"{sample['name']}: density")
                bottom.set_ylabel("sampled / observed")
            if row == 0 and column == 0:
                top.legend(loc="upper center", frameon=False, fontsize=7)
    return save_figure(figure, path, dpi=80)


__all__ = ["plot_surrogate_closure"]
