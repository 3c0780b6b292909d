"""The published-cutflow comparison and the convention sensitivity of ATLAS_SUSY_2019_04.

    python studies/atlas_susy_2019_04/cutflow.py --events 20000 --work /tmp/susy_2019_04

Generates the benchmark ``higgsino_n1n2_250`` with Pythia8 in process (seeded blocks, one
process per core), keeps the truth objects in Parquet caches, then runs the bundle once per
convention (its options and detectors) on the same events and prints the tables of
docs/atlas-susy-2019-04.md: ATLAS, CheckMATE and this package step by step with ratios and
MC uncertainties, and the network-region yields under each convention. Everything it
writes stays in ``--work``; ``--json`` keeps the numbers. Not run by the tests (minutes).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import logging
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import recast
from recast import schema
from recast.io import write_json

HERE = Path(__file__).resolve().parents[2] / "analyses" / "ATLAS_SUSY_2019_04"
sys.path.insert(0, str(HERE))
from regions import NN_BINS, nn_cuts, nn_region, score_cut  # noqa: E402

log = logging.getLogger("study")
DATA = HERE.parents[2] / "shared" / "data" / "atlas_susy_2019_04"
BENCHMARK = "higgsino_n1n2_250"
BLOCK = 2500
#: name → (what, run keywords): each convention the public sources disagree on (§8)
CONVENTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "default": ("this bundle's defaults (selection.md §9)", {}),
    "flat70": ("70 % b-tag flat in pT", {"detector": "flat70"}),
    "wp77": ("77 % b-tag working point (MV2c10 table)", {"detector": "wp77"}),
    "btag_minus_half": ("untagged b-tag bin −0.5", {"options": {"btag_bin_untagged": -0.5}}),
    "eta_pad": ("η padding 1e-7", {"options": {"eta_padding": 1e-7}}),
    "phi_0_2pi": ("φ in [0, 2π)", {"options": {"phi_range": "[0, 2pi)"}}),
    "lepton_gev": ("lepton pT, E in GeV", {"options": {"lepton_met_units": "GeV lepton"}}),
    "lepton_met_gev": (
        "lepton pT, E and MET in GeV",
        {"options": {"lepton_met_units": "GeV lepton and MET"}},
    ),
    "met_out_of_mass": ("MET out of the 3j+ℓ+MET mass", {"options": {"met_in_mass": False}}),
    "leading_lepton_dr": (
        "minDeltaRlj, leading lepton",
        {"options": {"min_dr_leptons": "leading"}},
    ),
    "fixed_cone": ("lepton–jet OR cone fixed 0.4", {"options": {"lepton_jet_overlap": "fixed"}}),
    "gambit": (
        "GAMBIT-like inputs: η pad 1e-7, lepton and MET in GeV",
        {"options": {"eta_padding": 1e-7, "lepton_met_units": "GeV lepton and MET"}},
    ),
    "rivet": (
        "Rivet-like inputs: η pad 1e-7, lepton in GeV, φ in [0, 2π), MET out of the mass",
        {
            "options": {
                "eta_padding": 1e-7,
                "lepton_met_units": "GeV lepton",
                "phi_range": "[0, 2pi)",
                "met_in_mass": False,
            }
        },
    ),
}


def _generate(slha: str, n_events: int, seed: int, path: Path) -> bool:
    """One block by `recast generate` in its own process: a crash of Pythia (it happened once
    in 24 blocks, in the hadronisation of baryon-number-violating decays) loses that block."""
    recast_command = str(Path(sys.executable).with_name("recast"))
    command = [recast_command, "generate", "--slha", slha, "--process", "higgsino-n1n2",
               "--events", str(n_events), "--seed", str(seed), "-o", str(path)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [""])[-1]
        log.warning("seed %d: Pythia failed (exit %d: %s); block left out", seed,
                    done.returncode, tail)  # fmt: skip
    return done.returncode == 0


def samples(work: Path, n_events: int, workers: int) -> list[Path]:
    """Objects caches of ``n_events`` generated in seeded blocks (reused when present)."""
    point = recast.find_benchmark("ATLAS_SUSY_2019_04", BENCHMARK)
    blocks = [
        (i, min(BLOCK, n_events - first)) for i, first in enumerate(range(0, n_events, BLOCK))
    ]
    caches = [work / f"block{i}.parquet" for i, _ in blocks]
    todo = [(i, n) for (i, n), cache in zip(blocks, caches, strict=True) if not cache.exists()]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        jobs = {
            pool.submit(_generate, str(point.slha), n, 1000 + i, work / f"block{i}.hepmc.zst"): i
            for i, n in todo
        }
        for job in concurrent.futures.as_completed(jobs):
            i = jobs[job]
            hepmc = work / f"block{i}.hepmc.zst"
            if job.result():
                recast.cache(hepmc, caches[i], analysis="ATLAS_SUSY_2019_04")
                hepmc.unlink()
    return [cache for cache in caches if cache.exists()]


def _flows(result: Any) -> dict[str, Any]:
    return dict(result.document["cutflows"])


def comparison(flows: dict[str, Any], published: dict[str, Any]) -> list[dict[str, Any]]:
    """Per step: ATLAS, CheckMATE, this package (± MC), each ratio to ATLAS, and the ratios
    after the lepton row (its ratio divided out)."""
    steps = {s["step"]: s for s in published["cutflow_atlas_vs_checkmate"]["steps"]}
    first = flows[nn_region(4)]
    lepton = first["sumw"][first["cuts"].index(nn_cuts(4)[0])]
    scale = steps["Lead lep pT > 27 GeV"]["atlas"] / lepton
    rows = [("All", first, "initial"), ("Lead lep pT > 27 GeV", first, nn_cuts(4)[0])]
    for n in NN_BINS:
        flow = flows[nn_region(n)]
        rows.append((f"== {n} jets", flow, nn_cuts(n)[2]))
    for n in NN_BINS:
        rows.append((f"== {n} jets, >= 4b", flows[nn_region(n)], nn_cuts(n)[3]))
    for n, (threshold, _, _) in NN_BINS.items():
        rows.append((f"NN {n}j bin 4", flows[nn_region(n)], score_cut(n, threshold)))
    out = []
    for label, flow, cut in rows:
        k = flow["cuts"].index(cut)
        value, error = flow["sumw"][k], math.sqrt(max(flow["sumw2"][k], 0.0))
        atlas, checkmate = steps[label]["atlas"], steps[label]["checkmate"]
        out.append(
            {
                "step": label,
                "atlas": atlas,
                "checkmate": checkmate,
                "recast": value,
                "recast_error": error,
                "checkmate_ratio": checkmate / atlas,
                "recast_ratio": value / atlas,
                "recast_ratio_after_lepton": value * scale / atlas if k >= 2 else None,
                "recast_ratio_error": error / atlas,
            }
        )
    return out


def sensitivity(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per convention and N: the ≥ 4b yield, the network-region yield and their ratio."""
    rows = []
    for name, flows in results.items():
        for n, (threshold, _, _) in NN_BINS.items():
            flow = flows[nn_region(n)]
            four_b = flow["sumw"][flow["cuts"].index(nn_cuts(n)[3])]
            k = flow["cuts"].index(score_cut(n, threshold))
            nn, error = flow["sumw"][k], math.sqrt(max(flow["sumw2"][k], 0.0))
            rows.append(
                {"convention": name, "n_jets": n, "four_b": four_b, "nn": nn, "nn_error": error,
                 "fraction": nn / four_b if four_b else math.nan}
            )  # fmt: skip
    return rows


def print_tables(table: list[dict[str, Any]], shifts: list[dict[str, Any]]) -> None:
    print("| step | ATLAS | CheckMATE | CM/ATLAS | recast-nn | recast/ATLAS | after lepton row |")
    print("|---|---|---|---|---|---|---|")
    for r in table:
        after = r["recast_ratio_after_lepton"]
        print(
            f"| {r['step']} | {r['atlas']:g} | {r['checkmate']:g} | {r['checkmate_ratio']:.2f} | "
            f"{r['recast']:.3g} ± {r['recast_error']:.2g} | {r['recast_ratio']:.2f} | "
            + (f"{after:.2f} ± {r['recast_ratio_error'] * after / r['recast_ratio']:.2f} |"
               if after is not None else "– |")
        )  # fmt: skip
    print()
    names = list(dict.fromkeys(r["convention"] for r in shifts))
    default = {r["n_jets"]: r for r in shifts if r["convention"] == "default"}
    print("| convention | " + " | ".join(f"NN {n}j" for n in NN_BINS) + " |")
    print("|---|" + "---|" * len(NN_BINS))
    for name in names:
        cells = []
        for r in (r for r in shifts if r["convention"] == name):
            base = default[r["n_jets"]]["nn"]
            ratio = r["nn"] / base if base else math.nan
            cells.append(f"{r['nn']:.3g} ({ratio:.2f}×)")
        print(f"| {CONVENTIONS[name][0]} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.work.mkdir(parents=True, exist_ok=True)
    caches = samples(args.work, args.events, args.workers)
    log.info("%d blocks of %d events kept", len(caches), BLOCK)
    results: dict[str, dict[str, Any]] = {}
    for name, (what, keywords) in CONVENTIONS.items():
        run = recast.run(
            "ATLAS_SUSY_2019_04", caches, xsec=0.104252, workers=args.workers, **keywords
        )
        results[name] = _flows(run)
        log.info("%s: done", what)
    validation = recast.validate(
        "ATLAS_SUSY_2019_04", caches, benchmark=BENCHMARK, workers=args.workers
    )
    published = schema.load_json(args.data / "published.json")
    table = comparison(results["default"], published)
    shifts = sensitivity(results)
    print_tables(table, shifts)
    print()
    print(validation.summary())
    if args.json is not None:
        write_json(args.json, {"comparison": table, "sensitivity": shifts, "events": args.events})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
