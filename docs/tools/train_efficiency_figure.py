"""Draw docs/figures/train_efficiency_closure.png: binned vs learned maps trained on the same data.

    python docs/tools/train_efficiency_figure.py [-o docs/figures/train_efficiency_closure.png]

Runs the seeded study that tests/test_train_efficiency.py checks (:func:`closure_study`):
20 000 training events of 2 + Poisson(5) jets whose b-tagging efficiency has a proximity effect,
ε = ε_f(pT, |η|) · Π_j f(ΔR_ij); a learned map (three bootstrap members of the set network)
and a binned pT–|η| map derived from their sampled tags; closure on 20 000 held-out events of
the same process and on 10 000 events of two close jets from a boosted scalar. Prints the
largest |map − truth| over populated bins per table and writes the figure (and the report
JSON beside it with ``--report``). About a minute on one CPU core; needs torch (extra
``train``) and matplotlib (extra ``plot``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from recast.train import EfficiencyMapTrainer, EfficiencyStudy, run_study
from recast.train.efficiency.samples import boosted_pair, proximity

FIGURE = Path(__file__).resolve().parents[1] / "figures" / "train_efficiency_closure.png"
TABLES = ("pt_abs_eta", "dr_nearest", "n_objects", "pt_abs_eta_dr")


def closure_study(folder: str | Path) -> EfficiencyStudy:
    """The seeded study of the figure, written into ``folder``."""
    return run_study(
        proximity(20000, seed=1, tag_seed=7),
        [proximity(20000, seed=2, tag_seed=8), boosted_pair(10000, seed=3, tag_seed=9)],
        folder,
        trainer=EfficiencyMapTrainer(n_models=3, seed=0),
        name="btag",
        working_point="closure study",
        min_objects=400,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=FIGURE)
    parser.add_argument("--report", type=Path, help="also keep the closure report JSON here")
    args = parser.parse_args()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        study = closure_study(folder)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        assert study.plot_path is not None
        shutil.copyfile(study.plot_path, args.output)
        if args.report:
            args.report.write_text(json.dumps(study.report, indent=1))
    print(f"largest |map − truth| over bins with ≥ {study.report['min_objects']} jets:")
    print(f"  {'sample':<14} {'map':<8} " + " ".join(f"{t:>14}" for t in TABLES))
    for sample in study.report["samples"]:
        for name, summary in sample["summary"].items():
            biases = summary["max_abs_bias"]
            values = " ".join(f"{biases.get(t, float('nan')):14.3f}" for t in TABLES)
            print(f"  {sample['name']:<14} {name:<8} {values}")
    calibration = study.trainer.calibration_
    chi2, ndf = calibration["chi2"], calibration["ndf"]
    print(f"calibration on the validation split: χ²/ndf = {chi2:.1f}/{ndf}")
    size = args.output.stat().st_size / 1024
    print(f"wrote {args.output} ({size:.0f} kB) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
