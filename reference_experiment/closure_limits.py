"""The flagship closure in CLs and exclusion: the recast's limits against the official ones.

The yields of :mod:`reference_experiment.closure_yields` (official = the analysis on the reference
detector; binned / learned / surrogate = truth objects through each published detector
emulation, the same events) go through the bundle's published likelihood — the signal-region
table (one-bin models, exact where counts are low) and the background-only workspace of the
Gtt combination — exactly as ``recast run`` computes them. Per point and emulation: every
region's CLs (observed and median expected), the workspace's, and the verdict (the most
sensitive result by its expected value). The targets: |ΔCLs| ≤ :data:`CLS_TOLERANCE` where the
official CLs lies in :data:`CLS_WINDOW`; and the same exclusion verdict. The figure draws the
observed CLs = 0.05 contour of each, per model, across the held-out and scan points.

::

    python -m reference_experiment.closure_limits --closure build/demo_multib/closure.json \\
        --out build/demo_multib/closure_limits.json \\
        --figure docs/figures/flagship_exclusion.png
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recast.analysis.bundle import load_bundle
from recast.errors import RecastError, UsageError
from recast.io import atomic_open, undefined_as_null, write_json
from recast.likelihood.limits import compute_limits
from recast.likelihood.spec import LikelihoodSpec, likelihood_from_document
from recast.report.figure import subplots

from .closure_yields import BUNDLE, MIN_RAW
from .grid import load_grid

log = logging.getLogger(__name__)

CLS_TOLERANCE = 0.02
CLS_WINDOW = (0.01, 0.5)
ALPHA = 0.05
VARIANTS = ("official", "binned", "learned", "surrogate")
STYLES = {
    "official": ("black", "-"),
    "binned": ("tab:orange", "--"),
    "learned": ("tab:blue", "--"),
    "surrogate": ("tab:green", ":"),
}


def bundle_likelihood(bundle: str | Path = BUNDLE) -> LikelihoodSpec:
    loaded = load_bundle(bundle)
    if "likelihood" not in loaded.document:
        raise UsageError(
            f"{loaded.folder}: the bundle has no likelihood yet; publish it with "
            "python -m reference_experiment.publish_results"
        )
    source = str(loaded.folder / "analysis.json")
    return likelihood_from_document(loaded.document["likelihood"], loaded.folder, source)


def signal_of(
    point: Mapping[str, Any], variant: str, shift: bool = False
) -> dict[str, dict[str, float]]:
    """The signal yields (last cut, ± MC statistics) of one variant at one closure point;
    with ``shift``, each multiplied by 1 + its ratio's MC error (σ_R of closure_yields)."""
    out = {}
    for region, v in point["regions"].items():
        value = v[variant]["yield"][-1]
        if shift:
            value *= 1.0 + (v[variant].get("ratio_error", [0.0])[-1] or 0.0)
        out[region] = {"value": value, "mc_uncertainty": v[variant]["error"][-1]}
    return out


def _observed(entry: Mapping[str, Any] | None) -> float | None:
    return None if entry is None else entry.get("cls", {}).get("observed")


def _results(limits: Mapping[str, Any]) -> dict[str, float | None]:
    """Observed CLs by result: ``region NAME``, ``workspace``, ``combination A+B``."""
    out = {f"region {r}": _observed(e) for r, e in limits.get("regions", {}).items()}
    if "workspace" in limits:
        out["workspace"] = _observed(limits["workspace"])
    for entry in limits.get("combined", []):
        out["combination " + "+".join(entry["regions"])] = _observed(entry)
    return out


def point_limits(spec: LikelihoodSpec, point: Mapping[str, Any]) -> dict[str, Any]:
    """Per variant: the observed CLs of every result (regions, workspace, combination), the
    verdict, and for the emulations the CLs with the signal moved up by its ratio's MC error
    (how far MC statistics alone move CLs)."""
    variants = [v for v in VARIANTS if v in next(iter(point["regions"].values()))]
    raw = {r: v["official"]["raw"][-1] for r, v in point["regions"].items()}
    out: dict[str, Any] = {"raw": raw}
    for variant in variants:
        limits = compute_limits(spec, signal_of(point, variant), with_limits=False)
        verdict = limits["verdict"]
        out[variant] = {
            "cls": _results(limits),
            "verdict": {
                "source": verdict["source"],
                "observed": _observed(verdict),
                "expected": verdict.get("cls", {}).get("expected", {}).get("median"),
                "excluded": bool(verdict["excluded"]),
            },
        }
        if variant != "official":
            shifted = compute_limits(spec, signal_of(point, variant, True), with_limits=False)
            out[variant]["cls_shifted"] = _results(shifted)
    return out


def masses(name: str) -> tuple[str, float, float]:
    sample = load_grid().sample(name)
    if sample.model is None or sample.m_gluino is None or sample.m_lsp is None:
        raise UsageError(f"{name}: not a signal point of the grid")
    return sample.model, sample.m_gluino, sample.m_lsp


def _raw(result: str, raw: Mapping[str, int], workspace_regions: Sequence[str]) -> int:
    """Raw official MC events behind a result: its region's, or the sum over its regions."""
    if result.startswith("region "):
        return int(raw[result.removeprefix("region ")])
    names = result.removeprefix("combination ").split("+") if "+" in result else workspace_regions
    return int(sum(raw[n] for n in names if n in raw))


def targets(report: Mapping[str, Any]) -> dict[str, list]:
    """Per (point, result, emulation) where the official CLs is in the window: official and
    emulated CLs, the CLs shift MC statistics alone would make (σ), the official raw events,
    whether |ΔCLs| ≤ 0.02 and whether |ΔCLs| ≤ max(0.02, 2σ); and the exclusion verdicts
    (each side's own most sensitive result) that differ."""
    checks: dict[str, list] = {"cls": [], "verdict": []}
    signal_regions = report.get("workspace_regions", [])
    for point, entry in report["points"].items():
        official = entry["official"]
        for result, reference in official["cls"].items():
            if reference is None or not CLS_WINDOW[0] <= reference <= CLS_WINDOW[1]:
                continue
            raw = _raw(result, entry["raw"], signal_regions)
            for variant in VARIANTS[1:]:
                if variant not in entry:
                    continue
                value = entry[variant]["cls"][result]
                sigma = abs(entry[variant]["cls_shifted"][result] - value)
                delta = abs(value - reference)
                checks["cls"].append(
                    [
                        point,
                        result,
                        variant,
                        reference,
                        value,
                        sigma,
                        raw,
                        delta <= CLS_TOLERANCE,
                        delta <= max(CLS_TOLERANCE, 2.0 * sigma),
                    ]
                )
        for variant in VARIANTS[1:]:
            if variant in entry:
                other = entry[variant]["verdict"]
                same = other["excluded"] == official["verdict"]["excluded"]
                checks["verdict"].append(
                    [point, variant, official["verdict"]["observed"], other["observed"], same]
                )
    return checks


def closure_limits(
    closure: Mapping[str, Any],
    bundle: str | Path = BUNDLE,
    spec: LikelihoodSpec | None = None,
) -> dict[str, Any]:
    """The limits report of a closure report (:func:`closure_yields.closure`), with the
    bundle's published likelihood (or ``spec``)."""
    spec = spec or bundle_likelihood(bundle)
    report: dict[str, Any] = {
        "likelihood": spec.source,
        "alpha": ALPHA,
        "min_raw": MIN_RAW,
        "workspace_regions": list(spec.workspace.region_map) if spec.workspace else [],
        "points": {},
    }
    for name, point in closure["points"].items():
        report["points"][name] = point_limits(spec, point)
        model, m_gluino, m_lsp = masses(name)
        report["points"][name]["masses"] = {"model": model, "m_gluino": m_gluino, "m_lsp": m_lsp}
        log.info(
            "%s: verdict CLs %s",
            name,
            {
                v: round(e["verdict"]["observed"], 4)
                for v, e in report["points"][name].items()
                if v in VARIANTS
            },
        )
    masses_of = {n: p.pop("masses") for n, p in report["points"].items()}
    report["targets"] = targets(report)
    report["masses"] = masses_of
    return report


def summary(report: Mapping[str, Any]) -> dict[str, Any]:
    """Per emulation: the CLs rows within 0.02 and within max(0.02, 2σ_MC), over all rows in
    the window and over those with ≥ ``min_raw`` official raw events; the verdicts agreeing."""
    out: dict[str, Any] = {}
    for variant in VARIANTS[1:]:
        rows = [r for r in report["targets"]["cls"] if r[2] == variant]
        enough = [r for r in rows if r[6] >= report.get("min_raw", 0)]
        deltas = [abs(r[4] - r[3]) for r in rows]
        verdicts = [r for r in report["targets"]["verdict"] if r[1] == variant]
        out[variant] = {
            "compared": len(rows),
            "within": sum(bool(r[7]) for r in rows),
            "consistent": sum(bool(r[8]) for r in rows),
            "compared_enough_mc": len(enough),
            "within_enough_mc": sum(bool(r[7]) for r in enough),
            "median_abs_delta": float(np.median(deltas)) if deltas else None,
            "max_abs_delta": float(np.max(deltas)) if deltas else None,
            "median_sigma": float(np.median([r[5] for r in rows])) if rows else None,
            "same_verdict": sum(bool(r[-1]) for r in verdicts),
            "points": len(verdicts),
        }
    return out


def markdown(report: Mapping[str, Any]) -> str:
    """The verdict table (every point; ΔCLs of the official verdict's result) and the
    counts of the CLs target."""
    variants = [v for v in VARIANTS[1:] if v in next(iter(report["points"].values()))]
    lines = [
        "| point | official verdict: result, CLs obs (exp) | "
        + " | ".join(f"ΔCLs {v}" for v in variants)
        + " | excluded (official / "
        + " / ".join(variants)
        + ") |",
        "|" + "---|" * (3 + len(variants)),
    ]
    for name, entry in report["points"].items():
        o = entry["official"]["verdict"]
        deltas = " | ".join(
            f"{entry[v]['cls'][o['source']] - o['observed']:+.3f}" for v in variants
        )
        marks = " / ".join(
            "yes" if entry[v]["verdict"]["excluded"] else "no" for v in ("official", *variants)
        )
        lines.append(
            f"| {name} | {o['source']}, {o['observed']:.3f} ({o['expected']:.3f}) "
            f"| {deltas} | {marks} |"
        )
    lines += [
        "",
        "| emulation | \\|ΔCLs\\| ≤ 0.02 | ≤ max(0.02, 2σ_MC) | ≤ 0.02 with ≥ "
        f"{report.get('min_raw', 0)} raw events | median, max \\|ΔCLs\\| | median σ_MC "
        "| same verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for variant, c in summary(report).items():
        if c["compared"] == 0:
            continue
        lines.append(
            f"| {variant} | {c['within']}/{c['compared']} | {c['consistent']}/{c['compared']} "
            f"| {c['within_enough_mc']}/{c['compared_enough_mc']} "
            f"| {c['median_abs_delta']:.3f}, {c['max_abs_delta']:.3f} | {c['median_sigma']:.3f} "
            f"| {c['same_verdict']}/{c['points']} |"
        )
    return "\n".join(lines)


def exclusion_figure(report: Mapping[str, Any], path: str | Path) -> Path:
    """Observed CLs = 0.05 contours of the official result and of each emulation, per model."""
    models = sorted({m["model"] for m in report["masses"].values()}, reverse=True)
    figure, axes = subplots(
        "the exclusion figure", 1, len(models), figsize=(6.0 * len(models), 4.8), squeeze=False
    )
    for ax, model in zip(axes[0], models, strict=True):
        names = [n for n, m in report["masses"].items() if m["model"] == model]
        x = np.array([report["masses"][n]["m_gluino"] for n in names])
        y = np.array([report["masses"][n]["m_lsp"] for n in names])
        for variant in VARIANTS:
            if variant not in report["points"][names[0]]:
                continue
            cls = np.array([report["points"][n][variant]["verdict"]["observed"] for n in names])
            colour, style = STYLES[variant]
            log_cls = np.log(np.clip(cls, 1e-12, 1.0) / ALPHA)
            if len(names) >= 3 and log_cls.min() < 0 < log_cls.max():
                ax.tricontour(x, y, log_cls, levels=[0.0], colors=colour, linestyles=style)
            ax.plot([], [], color=colour, linestyle=style, label=variant)
        excluded = np.array([report["points"][n]["official"]["verdict"]["excluded"] for n in names])
        ax.scatter(
            x[excluded], y[excluded], marker="o", color="black", s=14, label="excluded (official)"
        )
        ax.scatter(
            x[~excluded],
            y[~excluded],
            marker="o",
            facecolors="none",
            edgecolors="grey",
            s=14,
            label="allowed (official)",
        )
        ax.set_xlabel("m(g̃) [GeV]")
        ax.set_ylabel("m(χ̃⁰₁) [GeV]")
        ax.set_title(f"{model}: observed CLs = 0.05")
        ax.legend(fontsize=8, loc="lower left")
    figure.tight_layout()
    path = Path(path)
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format=path.suffix.lstrip(".") or "png", dpi=120)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference_experiment.closure_limits", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--closure", type=Path, required=True, help="closure_yields' JSON")
    parser.add_argument("--out", type=Path, required=True, help="the limits report to write")
    parser.add_argument("--bundle", type=Path, default=BUNDLE)
    parser.add_argument("--figure", type=Path, default=None, help="exclusion contours (PNG)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    quieter = {"pyhf": logging.WARNING, "recast.likelihood": logging.ERROR}
    # pyhf logs a line per modifier and fit; zero signal in the 1-lepton regions of Gbb is
    # expected, not worth a line per point. Restored afterwards: main() is also called in process
    previous = {name: logging.getLogger(name).level for name in quieter}
    for name, level in quieter.items():
        logging.getLogger(name).setLevel(level)
    try:
        return _main(args)
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)


def _main(args: argparse.Namespace) -> int:
    try:
        from recast.schema import load_json

        closure = load_json(args.closure)
        if not isinstance(closure, dict) or not closure.get("points"):
            raise UsageError(
                f"{args.closure}: no 'points'; make it with "
                "python -m reference_experiment.closure_yields"
            )
        report = closure_limits(closure, args.bundle)
        if args.figure is not None:
            exclusion_figure(report, args.figure)
    except RecastError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    write_json(args.out, undefined_as_null(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
