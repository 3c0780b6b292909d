"""The higgsino mass scan of ATLAS_SUSY_2019_04: the expected limit beside the published one.

    python studies/atlas_susy_2019_04/higgsino_scan.py --masses 200,250,300,350,400 \
        --events 4000 --work /tmp/higgsino_scan

The full higgsino model (degenerate χ̃₁⁰, χ̃₂⁰, χ̃₁±, all → t b s / b̄ b̄ s̄) is four productions
with their own NLO+NLL cross-sections: χ̃₁⁰χ̃₂⁰, χ̃₁⁰χ̃₁±, χ̃₂⁰χ̃₁± and χ̃₁⁺χ̃₁⁻. Each is generated
with Pythia8 from models/higgsino.slha.in and run through the bundle at its own σ; χ̃₁⁰χ̃₁±
equals χ̃₂⁰χ̃₁± for pure degenerate higgsinos (same σ to the last digit, same decays), so the
χ̃₂⁰χ̃₁± yields count twice. The summed yields go through the bundle's likelihood (the best
expected region) for CLs; the expected exclusion is where the expected CLs crosses 0.05.
Also printed: χ̃₁⁰χ̃₂⁰ alone. Not run by the tests (minutes).
"""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

import recast
from recast.io import write_json
from recast.likelihood.limits import compute_limits
from recast.model import load_template, points
from recast.pipeline.limits import bundle_likelihood
from recast.xsec import cross_section

HERE = Path(__file__).resolve().parents[2] / "analyses" / "ATLAS_SUSY_2019_04"
log = logging.getLogger("study_higgsino")
#: production → how many times its yields count in the full model
PRODUCTIONS = {"higgsino-n1n2": 1, "higgsino-n2c1": 2, "higgsino-c1c1": 1}
#: production → the share of --events it is generated with: χ̃₁⁺χ̃₁⁻ → b̄b̄s̄ bbs has no prompt
#: lepton and fills no region (0 of 15 000 events in a first scan), so fewer suffice
SHARE = {"higgsino-n1n2": 1.0, "higgsino-n2c1": 1.0, "higgsino-c1c1": 0.25}
PUBLISHED_LIMIT_GEV = 320.0  # the paper's abstract (selection.md §0)


def yields_at(mass: float, n_events: int, work: Path, workers: int) -> dict[str, Any]:
    """Per production: the region yields (at its own NLO+NLL σ) at one mass."""
    template = load_template(HERE / "models" / "higgsino.slha.in")
    (point,) = points(template, {"m_higgsino": mass})
    slha = work / f"higgsino_{mass:g}.slha"
    slha.write_text(point.slha)
    out = {}
    for process in PRODUCTIONS:
        sigma = cross_section(process, mass).value_pb
        result = recast.run(
            "ATLAS_SUSY_2019_04",
            slha=slha,
            process=process,
            n_events=max(1, int(n_events * SHARE[process])),
            xsec=sigma,
            workers=workers,
            seed=int(mass),
        )
        out[process] = {"sigma_pb": sigma, "yields": result.document["yields"]}
        log.info("m = %g GeV, %s: σ = %.4g pb, done", mass, process, sigma)
    return out


def summed(parts: dict[str, Any], productions: dict[str, int]) -> dict[str, dict[str, float]]:
    total: dict[str, dict[str, float]] = {}
    for process, times in productions.items():
        for region, entry in parts[process]["yields"].items():
            row = total.setdefault(region, {"value": 0.0, "variance": 0.0})
            row["value"] += times * entry["value"]
            row["variance"] += (times * entry["mc_uncertainty"]) ** 2
    return {
        r: {"value": v["value"], "mc_uncertainty": math.sqrt(v["variance"])}
        for r, v in total.items()
    }


def expected_cls(yields: dict[str, Any]) -> tuple[float, float, str]:
    spec = bundle_likelihood(recast.load_bundle("ATLAS_SUSY_2019_04"))
    assert spec is not None
    limits = compute_limits(spec, yields, with_limits=False)
    best = limits["best_expected_region"]
    region = limits["regions"][best]["cls"]
    return float(region["expected"]["median"]), float(region["observed"]), best


def crossing(masses: list[float], cls: list[float]) -> float | None:
    """Where log CLs rises through log 0.05, linearly between the heaviest excluded mass and
    the next one (the reach of the search: lighter points excluded, heavier not)."""
    logs = np.log(np.maximum(cls, 1e-12))
    target = math.log(0.05)
    for i in reversed(range(len(masses) - 1)):
        if (logs[i] - target) * (logs[i + 1] - target) <= 0 and logs[i] != logs[i + 1]:
            t = (target - logs[i]) / (logs[i + 1] - logs[i])
            return masses[i] + t * (masses[i + 1] - masses[i])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--masses", default="200,250,300,350,400")
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.work.mkdir(parents=True, exist_ok=True)
    masses = [float(m) for m in args.masses.split(",")]
    rows: list[dict[str, Any]] = []
    for mass in masses:
        parts = yields_at(mass, args.events, args.work, args.workers)
        full = expected_cls(summed(parts, PRODUCTIONS))
        n1n2 = expected_cls(summed(parts, {"higgsino-n1n2": 1}))
        rows.append({"mass": mass, "full": full, "n1n2": n1n2, "parts": parts})
    print("| m (GeV) | CLs exp (full) | CLs obs (full) | best region | CLs exp (χ̃₁⁰χ̃₂⁰) |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['mass']:g} | {r['full'][0]:.3g} | {r['full'][1]:.3g} | {r['full'][2]} | "
            f"{r['n1n2'][0]:.3g} |"
        )
    for label, key in (("full higgsino model", "full"), ("χ̃₁⁰χ̃₂⁰ alone", "n1n2")):
        limit = crossing(masses, [r[key][0] for r in rows])
        observed = crossing(masses, [r[key][1] for r in rows])
        print(
            f"{label}: expected exclusion up to "
            + (f"{limit:.0f} GeV" if limit is not None else "no crossing in the scan")
            + (f", observed {observed:.0f} GeV" if observed is not None else "")
            + f" (published: {PUBLISHED_LIMIT_GEV:.0f} GeV, observed)"
        )
    if args.json is not None:
        write_json(args.json, {"events": args.events, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
