"""The flagship closure: region yields of the recast against the official result.

For every held-out signal point and every region of DEMO_MULTIB_GLUINO, the weighted yield at
the bundle's luminosity of

* ``official``: the analysis on the reference detector's objects (``detector_*.parquet``);
* ``binned`` / ``learned`` / ``surrogate``: the analysis on the TRUTH objects of the same
  events after the bundle's ``detector.json`` / ``detector_learned.json`` /
  ``detector_surrogate.json`` (``load_detector(...).apply(objects, seed)``).

The recast side reads the isolation the detector description samples (option
``isolation_field=auto``: ``isolated_reco`` when present). Both sides see the same events, so
the ratio's uncertainty comes from the per-event weights: R = E/O,
var(R) = Σ(w_E − R·w_O)² / O² (the delta method with the covariance of the two sums).

The CLs and exclusion of the same yields with the bundle's published likelihood are
:mod:`reference_experiment.closure_limits`.

::

    python -m reference_experiment.closure_yields --samples build/demo_multib \\
        --out build/demo_multib/closure.json
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import awkward as ak
import numpy as np

from recast.analysis import Analysis
from recast.analysis.bundle import load_bundle
from recast.detector.description import load_detector
from recast.errors import RecastError, UsageError
from recast.io import undefined_as_null, write_json

from .grid import load_grid
from .read import paired_chunks, sample_chunks, sample_summary

log = logging.getLogger(__name__)

BUNDLE = Path(__file__).resolve().parents[1] / "analyses" / "DEMO_MULTIB_GLUINO"
EMULATIONS = {
    "binned": "detector.json",
    "learned": "detector_learned.json",
    "surrogate": "detector_surrogate.json",
}
#: a region's closure is judged only with at least this many raw official MC events
MIN_RAW = 30
LEARNED_TOLERANCE = 0.10
SEED = 8
#: the points whose cutflows the table shows (the first two points when absent)
BENCHMARKS = ("Gtt_2100_800", "Gbb_2100_800")


class Emulation(Protocol):
    def apply(self, events: ak.Array, seed: int) -> ak.Array: ...


def load_analysis(bundle: str | os.PathLike[str], networks: bool = True) -> tuple[Analysis, list]:
    """The bundle's analysis (isolation ``auto``) with its network; regions it cannot run
    (network not loadable) are left out and named in the second value."""
    loaded = load_bundle(Path(bundle))
    sessions: dict[str, Any] = {}
    if networks:
        from recast.preserve.card import NetworkCard
        from recast.preserve.session import NetworkSession

        for name, card in loaded.network_cards().items():
            try:
                sessions[name] = NetworkSession(NetworkCard.load(card))
            except (RecastError, OSError, ImportError) as err:
                log.warning("%s: network %s not loaded (%s)", loaded.folder, name, err)
    regions, skipped = {}, []
    for name, region in loaded.document["regions"].items():
        if set(region.get("networks", [])) <= set(sessions):
            regions[name] = list(region["cuts"])
        else:
            skipped.append(name)
    options = {"isolation_field": "auto"}
    return loaded.analysis_class(regions, sessions, options), skipped


def passing(analysis: Analysis, events: ak.Array) -> dict[str, np.ndarray]:
    """Per region: the event weight times the cumulative pass factor, shape (events, cuts)."""
    derived = analysis.derive(events)
    values = analysis.cut_values(derived)
    w = np.asarray(ak.to_numpy(derived["weight"]), dtype=np.float64)
    return {
        region: w[:, None] * np.cumprod(np.stack([values[c] for c in cuts], axis=1), axis=1)
        for region, cuts in analysis.regions.items()
    }


class Sums:
    """Running Σw, Σw², raw counts per variant and Σw_E·w_O with the official, per cut."""

    def __init__(self, analysis: Analysis, variants: Sequence[str]) -> None:
        self.regions = {r: len(c) for r, c in analysis.regions.items()}
        keys = ("w", "w2", "raw", "cross")
        self.data = {
            v: {r: {k: np.zeros(n) for k in keys} for r, n in self.regions.items()}
            for v in variants
        }
        self.total_weight = 0.0
        self.events = 0

    def add(self, variant: str, weights: Mapping[str, np.ndarray], official: Mapping) -> None:
        for region, w in weights.items():
            d = self.data[variant][region]
            d["w"] += w.sum(axis=0)
            d["w2"] += (w * w).sum(axis=0)
            d["raw"] += (w != 0).sum(axis=0)
            d["cross"] += (w * official[region]).sum(axis=0)


def accumulate(
    analysis: Analysis,
    pairs: Iterable[tuple[ak.Array, ak.Array]],
    emulations: Mapping[str, Emulation],
    seed: int,
) -> Sums:
    """Run the official and every emulation over (truth, detector) chunks of the same events."""
    sums = Sums(analysis, ["official", *emulations])
    for truth, reco in pairs:
        official = passing(analysis, reco)
        sums.add("official", official, official)
        sums.total_weight += float(np.sum(np.asarray(truth["weight"], dtype=np.float64)))
        sums.events += len(truth)
        for name, detector in emulations.items():
            sums.add(name, passing(analysis, detector.apply(truth, seed)), official)
    return sums


def yields(sums: Sums, cross_section_pb: float, luminosity: float) -> dict[str, Any]:
    """Yields (± MC stat) per variant, region and cut; ratios to the official with errors."""
    if sums.total_weight <= 0:
        raise UsageError("the sample has no events (or only zero weights); nothing to normalise")
    scale = cross_section_pb * 1000.0 * luminosity / sums.total_weight
    out: dict[str, Any] = {}
    for region in sums.regions:
        off = sums.data["official"][region]
        entry: dict[str, Any] = {}
        for variant, per_region in sums.data.items():
            d = per_region[region]
            row: dict[str, Any] = {
                "yield": (d["w"] * scale).tolist(),
                "error": (np.sqrt(d["w2"]) * scale).tolist(),
                "raw": d["raw"].astype(int).tolist(),
            }
            if variant != "official":
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = d["w"] / off["w"]
                    var = (d["w2"] - 2 * ratio * d["cross"] + ratio**2 * off["w2"]) / off["w"] ** 2
                good = off["w"] > 0
                row["ratio"] = [float(r) if g else None for r, g in zip(ratio, good, strict=True)]
                row["ratio_error"] = [
                    float(np.sqrt(max(v, 0.0))) if g else None
                    for v, g in zip(var, good, strict=True)
                ]
            entry[variant] = row
        out[region] = entry
    return out


def sample_yields(
    samples: str | os.PathLike[str],
    name: str,
    analysis: Analysis,
    emulations: Mapping[str, Emulation],
    seed: int,
    luminosity: float,
) -> dict[str, Any]:
    summary = sample_summary(samples, name)
    if emulations:
        sums = accumulate(analysis, paired_chunks(samples, name), emulations, seed)
    else:
        pairs = ((reco, reco) for reco in sample_chunks(samples, name, "detector"))
        sums = accumulate(analysis, pairs, {}, seed)
    log.info("%s: %d events", name, sums.events)
    return {
        "events": sums.events,
        "cross_section_pb": summary["cross_section_pb"],
        "regions": yields(sums, float(summary["cross_section_pb"]), luminosity),
    }


def targets(report: dict[str, Any]) -> dict[str, Any]:
    """The issue's closure targets, judged per (point, region)."""
    checks: dict[str, list] = {"learned_within_10pc": [], "learned_closer_4b": []}
    four_b = set(report["four_b_regions"])
    for point, result in report["points"].items():
        for region, v in result["regions"].items():
            if report["kinds"][region] != "signal" or v["official"]["raw"][-1] < MIN_RAW:
                continue
            if "learned" in v and v["learned"]["ratio"][-1] is not None:
                r, e = v["learned"]["ratio"][-1], v["learned"]["ratio_error"][-1]
                checks["learned_within_10pc"].append(
                    [point, region, r, e, abs(r - 1) <= LEARNED_TOLERANCE]
                )
                if region in four_b and "binned" in v:
                    rb = v["binned"]["ratio"][-1]
                    checks["learned_closer_4b"].append(
                        [point, region, r, rb, abs(r - 1) < abs(rb - 1)]
                    )
    return checks


def closure(
    samples: str | os.PathLike[str],
    bundle: str | os.PathLike[str] = BUNDLE,
    points: Sequence[str] | None = None,
    seed: int = SEED,
    networks: bool = True,
) -> dict[str, Any]:
    """The closure report of signal points no training used (default: grid.json's
    ``held_out`` and ``scan`` points)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"the seed must be an integer >= 0, not {seed!r}")
    analysis, skipped = load_analysis(bundle, networks)
    loaded = load_bundle(Path(bundle))
    luminosity = float(loaded.document["luminosity"])
    emulations = {k: load_detector(Path(bundle) / v) for k, v in EMULATIONS.items()}
    names = list(points) if points is not None else held_out_names()
    report: dict[str, Any] = {
        "bundle": str(bundle),
        "samples": str(samples),
        "seed": seed,
        "luminosity_ifb": luminosity,
        "min_raw": MIN_RAW,
        "skipped_regions": skipped,
        "kinds": {r: loaded.document["regions"][r]["kind"] for r in analysis.regions},
        "cuts": analysis.regions,
        "four_b_regions": [r for r, c in analysis.regions.items() if "n_b_ge_4" in c],
        "points": {},
    }
    for name in names:
        report["points"][name] = sample_yields(
            samples, name, analysis, emulations, seed, luminosity
        )
    report["targets"] = targets(report)
    return report


def held_out_names() -> list[str]:
    """The signal samples of ``reference_experiment/grid.json`` no training used: the held-out
    points, then the scan points."""
    return [s.name for s in load_grid().samples("held_out,scan")]


def _fmt(x: float | None, e: float | None, digits: int = 2) -> str:
    return "—" if x is None or e is None else f"{x:.{digits}f} ± {e:.{digits}f}"


def markdown(report: dict[str, Any]) -> str:
    """The yield table per point and region, cutflows of the benchmarks, the CLs table."""
    variants = [v for v in ("binned", "learned", "surrogate") if v in _any_point(report)]
    head = "| point | region | raw | official (events) | " + " | ".join(
        f"{v} / official" for v in variants
    )
    lines = [head + " |", "|" + "---|" * (4 + len(variants))]
    for point, result in report["points"].items():
        for region, v in result["regions"].items():
            o = v["official"]
            cells = [_fmt(v[x]["ratio"][-1], v[x]["ratio_error"][-1]) for x in variants]
            lines.append(
                f"| {point} | {region} | {o['raw'][-1]} | {_fmt(o['yield'][-1], o['error'][-1])}"
                f" | {' | '.join(cells)} |"
            )
    shown = [p for p in BENCHMARKS if p in report["points"]] or list(report["points"])[:2]
    for point in shown:
        lines += ["", f"Cutflow of {point} (ratios to official, cumulative):", ""]
        lines += [head.replace("| point | region |", "| region | cut |") + " |"]
        lines.append("|" + "---|" * (4 + len(variants)))
        for region, v in report["points"][point]["regions"].items():
            if report["kinds"][region] != "signal":
                continue
            for i, cut in enumerate(report["cuts"][region]):
                o = v["official"]
                cells = [_fmt(v[x]["ratio"][i], v[x]["ratio_error"][i]) for x in variants]
                lines.append(
                    f"| {region} | {cut} | {o['raw'][i]} | {_fmt(o['yield'][i], o['error'][i])}"
                    f" | {' | '.join(cells)} |"
                )
    return "\n".join(lines)


def _any_point(report: dict[str, Any]) -> dict[str, Any]:
    for result in report["points"].values():
        for v in result["regions"].values():
            return dict(v)
    return {}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", required=True, help="folder of the reference samples")
    parser.add_argument("--out", required=True, help="the closure JSON to write")
    parser.add_argument("--bundle", default=str(BUNDLE))
    parser.add_argument(
        "--points", default=None, help="comma-separated; default: every held-out and scan point"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-networks", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    points = args.points.split(",") if args.points else None
    try:
        report = closure(args.samples, args.bundle, points, args.seed, not args.no_networks)
    except RecastError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_json(Path(args.out), undefined_as_null(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
