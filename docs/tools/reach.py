"""A bundle's reach along a line of gluino masses: signal efficiencies, CLs and the mass limit.

Generates each point with Pythia8 in process (LO cross-section from Pythia itself), runs the
bundle on it, scans the points with the bundle's likelihood and interpolates where the
expected (and observed) upper limit on the signal strength crosses 1::

    python docs/tools/reach.py ATLAS_SUSY_2018_30 --decay ttbar --lsp 1 \\
        --masses 1800 2000 2200 2400 2600 --events 2000 --out build/reach_gtt

writes ``OUT/<point>.results.json``, ``OUT/grid.json``, ``OUT/scan.json`` and ``OUT/reach.json``
and prints a Markdown table (the docs' sanity tables come from it). Results already in OUT
are reused, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from recast.events.slha import write_gluino_slha
from recast.io import write_json
from recast.likelihood.demo import gluino_cross_section_fb
from recast.pipeline.run import recast_run
from recast.pipeline.scan import scan


def crossing(masses: list[float], mu_upper: list[float | None]) -> float | None:
    """The mass where μ_up crosses 1 going up in mass (log μ interpolated linearly)."""
    pairs = [(m, u) for m, u in zip(masses, mu_upper, strict=True) if u and math.isfinite(u)]
    for (m0, u0), (m1, u1) in itertools.pairwise(pairs):
        if u0 <= 1.0 < u1:
            t = (0.0 - math.log(u0)) / (math.log(u1) - math.log(u0))
            return m0 + t * (m1 - m0)
    return None


def label(args: argparse.Namespace, mass: float) -> str:
    return f"{args.decay}_{mass:g}_{args.lsp:g}"


def run_point(
    bundle: str, decay: str, mass: float, lsp: float, events: int, seed: int, out: Path
) -> dict[str, Any]:
    label = f"{decay}_{mass:g}_{lsp:g}"
    results = out / f"{label}.results.json"
    if results.is_file():
        return json.loads(results.read_text())
    slha = out / f"{label}.slha"
    write_gluino_slha(slha, mass, lsp, decay=decay)
    start = time.perf_counter()
    document = recast_run(
        bundle, [], pythia_slha=slha, n_events=events, seed=seed, workers=2, output=results
    )
    print(f"{label}: {events} events in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("bundle")
    parser.add_argument("--decay", choices=("ttbar", "bbbar"), required=True)
    parser.add_argument("--lsp", type=float, default=1.0)
    parser.add_argument("--masses", type=float, nargs="+", required=True)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    documents = [
        run_point(args.bundle, args.decay, m, args.lsp, args.events, args.seed, args.out)
        for m in args.masses
    ]
    grid = {
        "schema_version": "1.0.0",
        "parameters": ["m_gluino", "m_lsp"],
        "points": [
            {"m_gluino": m, "m_lsp": args.lsp, "results": f"{label(args, m)}.results.json"}
            for m in args.masses
        ],
    }
    write_json(args.out / "grid.json", grid)
    table = scan(args.bundle, args.out / "grid.json", output=args.out / "scan.json")
    rows = table["points"]
    observed = [r.get("mu_upper", {}).get("observed") for r in rows]
    expected = [r.get("mu_upper", {}).get("expected", {}).get("median") for r in rows]
    # μ_up scales as 1/σ (the MC uncertainty scales with the yield): the limits at an
    # approximate NNLO+NNLL cross-section follow from those at Pythia's LO one
    lo = [d["normalisation"]["cross_section_pb"] * 1000.0 for d in documents]
    k_factor = [float(gluino_cross_section_fb(m)) / x for m, x in zip(args.masses, lo, strict=True)]
    rescaled = [None if u is None else u / k for u, k in zip(expected, k_factor, strict=True)]
    rescaled_obs = [None if u is None else u / k for u, k in zip(observed, k_factor, strict=True)]
    reach = {
        "bundle": args.bundle,
        "decay": args.decay,
        "m_lsp": args.lsp,
        "events_per_point": args.events,
        "expected_limit_gev": crossing(args.masses, expected),
        "observed_limit_gev": crossing(args.masses, observed),
        "expected_limit_nnlo_approx_gev": crossing(args.masses, rescaled),
        "observed_limit_nnlo_approx_gev": crossing(args.masses, rescaled_obs),
        "points": [
            {
                "m_gluino": m,
                "cross_section_fb": d["normalisation"]["cross_section_pb"] * 1000.0,
                "nnlo_approx_over_lo": k,
                "best_expected_region": r.get("best_expected_region"),
                "cls_observed": r.get("cls", {}).get("observed"),
                "cls_expected": r.get("cls", {}).get("expected", {}).get("median"),
                "mu_upper_expected": e,
                "mu_upper_observed": o,
                "efficiency": {k: v.get("efficiency") for k, v in d["yields"].items()},
            }
            for m, d, r, e, o, k in zip(
                args.masses, documents, rows, expected, observed, k_factor, strict=True
            )
        ],
    }
    write_json(args.out / "reach.json", reach)
    print(
        "| m(g̃) [GeV] | σ LO [fb] | best expected region | CLs obs | CLs exp | μ_up exp "
        "| σ NNLO+NNLL/LO | μ_up exp at NNLO+NNLL |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for p in reach["points"]:
        values = [p["cls_observed"], p["cls_expected"], p["mu_upper_expected"]]
        k = p["nnlo_approx_over_lo"]
        values += [k, None if p["mu_upper_expected"] is None else p["mu_upper_expected"] / k]
        cells = " | ".join("–" if v is None else f"{v:.3g}" for v in values)
        print(
            f"| {p['m_gluino']:g} | {p['cross_section_fb']:.3g} | "
            f"{p['best_expected_region']} | {cells} |"
        )
    for kind in ("expected", "observed"):
        for suffix, xsec in (("", "LO"), ("_nnlo_approx", "NNLO+NNLL approx.")):
            limit = reach[f"{kind}{suffix}_limit_gev"]
            text = "not crossed in the range" if limit is None else f"{limit:.0f} GeV"
            print(f"{kind} limit on m(g̃) at m(χ̃⁰₁) = {args.lsp:g} GeV, σ {xsec}: {text}")


if __name__ == "__main__":  # recast_run with workers=2 starts processes
    main()
