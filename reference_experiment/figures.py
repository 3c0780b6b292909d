"""Figures of the reference experiment's true b-tagging, for ``docs/flagship.md``.

    python -m reference_experiment.figures [--out docs/figures]

writes ``flagship_btag_efficiency.png``: the efficiency at the 77 % working point per
flavour, against ΔR to the nearest jet (left) and against pT (right): the exact function
(:func:`reference_experiment.btag.efficiency`, lines) and the fraction of sampled scores above the
cut (:func:`reference_experiment.btag.sample_scores`, points, 20 000 jets each). Needs matplotlib
(``pip install 'recast-nn[plot]'``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from recast.io import atomic_open
from recast.report.figure import subplots

from .btag import WORKING_POINTS, efficiency, sample_scores

log = logging.getLogger(__name__)

#: (label, flavour, n_b, colour)
CURVES = (
    ("b, 1 b-hadron", 5, 1, "tab:blue"),
    ("b, 2 b-hadrons", 5, 2, "tab:purple"),
    ("c", 4, 0, "tab:orange"),
    ("light", 0, 0, "tab:gray"),
)
N_SAMPLED = 20_000


def _sampled(flavour: int, n_b: int, pt: float, eta: float, dr: float, key: int) -> float:
    n = N_SAMPLED
    events = np.arange(n) + key * n
    scores = sample_scores(
        2026,
        events,
        np.zeros(n, np.int64),
        np.full(n, flavour),
        np.full(n, n_b),
        np.full(n, pt),
        np.full(n, eta),
        np.full(n, dr),
    )
    return float(np.mean(scores > WORKING_POINTS[77]))


def btag_figure(path: str | Path, wp: int = 77) -> Path:
    """Write the two-panel figure (ε vs ΔR at pT = 60 GeV; ε vs pT at ΔR = 1.5), |η| = 0.5."""
    cut, eta = WORKING_POINTS[wp], 0.5
    fig, axes = subplots("Drawing the figures", 1, 2, figsize=(10, 4.2), sharey=True)
    panels: list[tuple[Any, str, np.ndarray, np.ndarray]] = [
        (
            axes[0],
            "ΔR to the nearest other jet (pT ≥ 15 GeV)",
            np.linspace(0.4, 2.5, 120),
            np.array([0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 2.5]),
        ),
        (
            axes[1],
            "jet pT [GeV]",
            np.geomspace(20, 1000, 120),
            np.array([25.0, 40.0, 60.0, 100.0, 160.0, 250.0, 400.0, 700.0]),
        ),
    ]
    for k, (ax, label, x, points) in enumerate(panels):
        for name, flavour, n_b, colour in CURVES:
            ones = np.ones_like(x)
            if k == 0:
                args = (ones * flavour, ones * n_b, ones * 60.0, ones * eta, x)
            else:
                args = (ones * flavour, ones * n_b, x, ones * eta, ones * 1.5)
            ax.plot(x, efficiency(cut, *args), color=colour, label=name)
            measured = [
                _sampled(flavour, n_b, 60.0 if k == 0 else p, eta, p if k == 0 else 1.5, i)
                for i, p in enumerate(points)
            ]
            ax.plot(points, measured, "o", color=colour, markersize=4)
        ax.set_xlabel(label)
        ax.set_yscale("log")
        ax.set_ylim(2e-3, 1.2)
        ax.grid(alpha=0.3, which="both")
    axes[1].set_xscale("log")
    axes[0].set_ylabel(f"b-tag efficiency at the {wp} % working point")
    axes[0].set_title("pT = 60 GeV, |η| = 0.5", fontsize=10)
    axes[1].set_title("ΔR = 1.5, |η| = 0.5", fontsize=10)
    axes[0].legend(title="truth flavour (lines: exact, points: sampled)", fontsize=8)
    fig.suptitle("Reference experiment: the true b-tagger", fontsize=11)
    fig.tight_layout()
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=110)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Figures of the reference experiment")
    parser.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = parser.parse_args(argv)
    print(btag_figure(args.out / "flagship_btag_efficiency.png"))


if __name__ == "__main__":
    main()
