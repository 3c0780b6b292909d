"""Draw docs/figures/detector_closure.png: binned vs learned efficiency maps against ΔR.

    python docs/tools/closure_figure.py [-o docs/figures/detector_closure.png]

Runs the seeded study of :mod:`recast.train.efficiency.proximity` (tests/test_maps.py checks it):
5000 training events with a proximity effect ε = ε_f(pT, |η|) · Π_j f(ΔR_ij), a binned pT–|η|
map and a small MLP on (pT, |η|, ΔR to the nearest jet) derived from their sampled tags, both
evaluated on 3000 held-out events. Prints the mean bias (map − truth) per ΔR band and draws the
mean efficiency against ΔR to the nearest jet, with the map/truth ratio below. About 10 s on one
CPU core; needs torch (extra ``train``) and matplotlib (extra ``plot``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from recast.train.efficiency.proximity import ClosureResult, run_closure

FIGURE = Path(__file__).resolve().parents[1] / "figures" / "detector_closure.png"
#: ΔR bins of the figure; jets beyond the last edge (isolated ones) are left out of the plot
DR_BINS = np.linspace(0.0, 2.0, 41)


def binned_means(result: ClosureResult) -> dict[str, np.ndarray]:
    """Mean ε of each curve in each ΔR bin of :data:`DR_BINS` (NaN where a bin is empty)."""
    index = np.digitize(result.dr, DR_BINS) - 1
    inside = (index >= 0) & (index < len(DR_BINS) - 1)
    counts = np.bincount(index[inside], minlength=len(DR_BINS) - 1).astype(np.float64)
    means = {}
    for name in ("truth", "binned", "learned"):
        values = getattr(result, name)[inside]
        sums = np.bincount(index[inside], weights=values, minlength=len(DR_BINS) - 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[name] = sums / counts
    return means


def draw(result: ClosureResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = binned_means(result)
    centres = 0.5 * (DR_BINS[1:] + DR_BINS[:-1])
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(6.4, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    for axis in (top, bottom):
        axis.axvspan(0.0, 0.6, color="0.92", zorder=0)
    top.plot(centres, means["truth"], "o", color="black", ms=4, label="truth ε", zorder=3)
    top.stairs(
        means["binned"],
        DR_BINS,
        baseline=None,
        color="tab:red",
        ls="--",
        lw=1.5,
        label="binned pT–|η| map",
    )
    top.stairs(
        means["learned"],
        DR_BINS,
        baseline=None,
        color="tab:blue",
        lw=1.5,
        label="learned map (MLP)",
    )
    top.set_ylabel("mean b-tagging efficiency")
    top.set_ylim(0.0, 1.0)
    top.text(0.3, 0.06, "f(ΔR) < 1", ha="center", color="0.4")
    top.legend(loc="lower right", frameon=False)
    top.set_title(
        r"$\varepsilon = \varepsilon_f(p_T, |\eta|)\,\Pi_j f(\Delta R_{ij})$: "
        f"{len(result.dr)} held-out jets",
        fontsize=10,
    )
    bottom.axhline(1.0, color="black", lw=0.8)
    bottom.stairs(
        means["binned"] / means["truth"], DR_BINS, baseline=None, color="tab:red", ls="--", lw=1.5
    )
    bottom.stairs(
        means["learned"] / means["truth"], DR_BINS, baseline=None, color="tab:blue", lw=1.5
    )
    bottom.set_yscale("log")
    bottom.set_ylim(0.7, 6.0)
    bottom.set_yticks([0.8, 1.0, 2.0, 4.0], ["0.8", "1", "2", "4"])
    bottom.minorticks_off()
    bottom.set_ylabel("map / truth")
    bottom.set_xlabel("ΔR to the nearest other jet")
    bottom.set_xlim(DR_BINS[0], DR_BINS[-1])
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=FIGURE)
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = run_closure(folder)
    print(f"{len(result.dr)} held-out jets; mean bias (map − truth) per ΔR band:")
    print(f"  {'ΔR band':<12} {'jets':>6} {'truth ε':>8} {'binned':>8} {'learned':>8}")
    for band in result.bands():
        label = f"[{band['lo']:.1f}, {band['hi']:.1f})"
        print(
            f"  {label:<12} {band['jets']:>6} {band['truth']:8.3f} {band['binned']:+8.3f} "
            f"{band['learned']:+8.3f}"
        )
    draw(result, args.output)
    size = args.output.stat().st_size / 1024
    print(f"wrote {args.output} ({size:.0f} kB) in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
