"""Publish the reference experiment's detector emulation into an analysis bundle.

::

    python -m reference_experiment.publish_detector --samples build/demo_multib \\
        --out analyses/DEMO_MULTIB_GLUINO

From the TRAINING points of ``reference_experiment/grid.json`` and tt̄ only (a held-out point is
refused), it measures and writes into ``<out>/maps/``: the b-tagging map at the 77 % working
point per truth flavour × pT × \\|η\\| (``btag_77_binned.json``), a learned map with jet
context (``btag_77_learned.*``: ONNX + card + map), a surrogate of the continuous score
(``btag_score_surrogate.*``), lepton identification and isolation maps; and three detector
descriptions in ``<out>``: ``detector.json`` (binned map), ``detector_learned.json`` and
``detector_surrogate.json``, with the same smearing and acceptance fitted from the reference
detector, each tag named ``btag_77``. Then it checks them on the HELD-OUT points
(:mod:`.publish_closure`). Everything is seeded; see ``docs/flagship.md``.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from recast.detector.description import load_detector
from recast.errors import RecastError, UsageError
from recast.io import sha256_file, undefined_as_null, write_json
from recast.schema import CURRENT_VERSION
from recast.train import save_map

from .btag import TRACKER_ABS_ETA, WORKING_POINTS
from .grid import Grid, load_grid
from .publish_fit import (
    LEPTON_MIN_PT,
    LEPTONS,
    Measurements,
    btag_binned_document,
    collect,
    jet_smearing,
    lepton_maps,
    lepton_smearing,
    met_smearing,
)
from .read import paired_chunks

log = logging.getLogger(__name__)

TAG = "btag_77"
THRESHOLD = float(WORKING_POINTS[77])
#: the score bins of the surrogate: -10 is the score outside the tracker; the 77 % cut is an edge
SCORE_EDGES = (
    -10.5,
    -9.5,
    -4.0,
    -2.5,
    -1.5,
    -0.75,
    0.0,
    0.5,
    1.0,
    1.5,
    1.9,
    2.2,
    THRESHOLD,
    2.75,
    3.1,
    3.5,
    4.0,
    4.5,
    5.0,
    6.0,
    9.0,
)
CONTEXT_FEATURES = ("pt", "abs_eta", "dr_nearest", "flavour", "n_bhadrons")
#: the networks take log pT (inside the exported graph; the cards still pass pT in GeV): the
#: tagger's efficiency is steep in ln pT below 40 GeV, a sliver of a linear 20–3000 GeV range
LOG_FEATURES = ("pt",)
JET_ACCEPTANCE = {"min_pt": 20.0, "max_abs_eta": 4.5}
DEFAULT_TRAINING = "training,background"


def training_samples(grid: Grid, what: str) -> list[str]:
    """The sample names to train on; a held-out point is refused, naming it."""
    chosen = grid.samples(what)
    held = [s.name for s in chosen if s.role == "held_out"]
    if held:
        raise UsageError(
            f"--training names held-out point(s) {', '.join(held)}: {grid.source} keeps them "
            "for the closure only; train on 'training' and backgrounds (e.g. "
            f"--training {DEFAULT_TRAINING})"
        )
    return [s.name for s in chosen]


def held_out_samples(grid: Grid, samples: Path) -> list[str]:
    return [
        s.name for s in grid.samples("held_out") if (samples / s.name / "sample.json").is_file()
    ]


def measure(samples: Path, names: Sequence[str], max_events: int | None = None) -> Measurements:
    data = Measurements()
    for name in names:
        collect(paired_chunks(samples, name), data, max_events)
        log.info("read %s: %d events so far", name, data.n_events)
    return data


def _subsample(jets: ak.Array, per_sample: Sequence[int], limit: int) -> ak.Array:
    """The first ``limit`` events of every sample (``per_sample``: events of each, in order)."""
    starts = np.cumsum([0, *per_sample[:-1]])
    keep = np.concatenate(
        [np.arange(s, s + min(n, limit)) for s, n in zip(starts, per_sample, strict=True)]
    )
    return jets[keep]


def publish(
    samples: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    grid: str | os.PathLike[str] | None = None,
    training: str = DEFAULT_TRAINING,
    seed: int = 1,
    n_models: int = 3,
    learn_events: int = 2500,
    max_epochs: int = 25,
    max_events: int | None = None,
    closure: bool = True,
    figure: Path | None = Path("docs/figures/flagship_btag_closure.png"),
) -> dict[str, Any]:
    """Measure, train, write the maps and the three detector descriptions; returns a summary."""
    samples, out = Path(samples), Path(out)
    if not samples.is_dir():
        raise UsageError(
            f"{samples}: no samples folder; make it with `python -m reference_experiment.samples "
            f"--what all --out {samples}`"
        )
    if n_models < 3:
        raise UsageError(
            f"--models {n_models}: the published maps need an ensemble of at least 3 members "
            "(their spread is the statistical uncertainty)"
        )
    the_grid = load_grid(grid) if grid is not None else load_grid()
    names = training_samples(the_grid, training)
    maps = out / "maps"
    maps.mkdir(parents=True, exist_ok=True)
    timing: dict[str, float] = {}
    start = time.perf_counter()
    per_sample = []
    data = Measurements()
    for name in names:
        before = data.n_events
        collect(paired_chunks(samples, name), data, max_events)
        per_sample.append(data.n_events - before)
    timing["reading_s"] = time.perf_counter() - start
    jets = data.jets()
    log.info(
        "%d training events, %d reconstructed jets", data.n_events, int(ak.sum(ak.num(jets.jets)))
    )

    start = time.perf_counter()
    provenance = {
        "source": "reference_experiment.publish_detector",
        "notes": f"training samples: {', '.join(names)}; seed {seed}",
    }
    save_map(btag_binned_document(jets, TAG), maps / f"{TAG}_binned.json")
    lepton_files: dict[str, tuple[str, str]] = {}
    for lepton in LEPTONS:
        identification, isolation = lepton_maps(data, lepton)
        for document in (identification, isolation):
            save_map(document, maps / f"{document['name']}.json")
        lepton_files[lepton] = (f"{identification['name']}.json", f"{isolation['name']}.json")
    smearing = {"jets": jet_smearing(data), **{k: lepton_smearing(data, k) for k in LEPTONS}}
    met = met_smearing(data)
    timing["binned_and_smearing_s"] = time.perf_counter() - start

    # the tagger stops at the tracker's edge (|η| = 2.5): a smooth network would blur that step
    # into the last |η| bin, so the learned map and the surrogate are trained, and valid
    # (their ``validity``), inside the tracker only; the analysis tags nothing beyond it
    learn = _subsample(jets, per_sample, learn_events)
    learn = ak.with_field(learn, learn.jets[abs(learn.jets.eta) < TRACKER_ABS_ETA], "jets")
    n_learn = int(ak.sum(ak.num(learn.jets)))
    from recast.train import EfficiencyMapTrainer, SurrogateTrainer  # torch only for training

    # the learned map and the surrogate see the same inputs and train alike
    common: dict[str, Any] = {
        "own_features": CONTEXT_FEATURES,
        "log_features": LOG_FEATURES,
        "n_models": n_models,
        "seed": seed,
        "max_epochs": max_epochs,
        "patience": 4,
        "batch_size": 1024,
        "device": "cpu",
        "threads": 1,
    }
    start = time.perf_counter()
    trainer = EfficiencyMapTrainer(**common).fit(learn, TAG)
    trainer.export(maps, f"{TAG}_learned", working_point="77%", provenance=provenance)
    timing["learned_s"] = time.perf_counter() - start
    start = time.perf_counter()
    flat = np.asarray(ak.to_numpy(ak.flatten(learn.jets.btag_score)), dtype=np.float64)
    clipped = ak.unflatten(np.clip(flat, SCORE_EDGES[0], SCORE_EDGES[-1]), ak.num(learn.jets))
    scored = ak.with_field(learn.jets, clipped, "btag_score")
    surrogate = SurrogateTrainer(score_edges=SCORE_EDGES, **common).fit(
        ak.with_field(learn, scored, "jets"), "btag_score"
    )
    surrogate.export(
        maps,
        "btag_score_surrogate",
        threshold=THRESHOLD,
        working_point="77%",
        provenance=provenance,
    )
    timing["surrogate_s"] = time.perf_counter() - start

    paths = write_detectors(out, smearing, met, lepton_files, names, seed)
    summary: dict[str, Any] = {
        "training_samples": names,
        "training_events": data.n_events,
        "learned_training_jets": n_learn,
        "learned_calibration": {k: trainer.calibration_[k] for k in ("chi2", "ndf")},
        "timing": {k: round(v, 1) for k, v in timing.items()},
        "files": {str(p.relative_to(out)): sha256_file(p) for p in sorted(_published(out))},
        "detectors": [str(p) for p in paths],
    }
    if closure:
        from .publish_closure import closure_study

        report = closure_study(
            samples,
            out,
            held_out_samples(the_grid, samples),
            figure=figure,
            report_path=samples / "publish_detector_closure.json",
        )
        summary["closure"] = report["summary"]
    write_json(samples / "publish_detector.json", undefined_as_null(summary))
    return summary


def _published(out: Path) -> list[Path]:
    return [*out.glob("detector*.json"), *(out / "maps").glob("*")]


def _use(folder: Path, relative: str) -> str:
    return sha256_file(folder / relative)


def write_detectors(
    out: Path,
    smearing: dict[str, list[dict[str, Any]]],
    met: dict[str, Any],
    lepton_files: dict[str, tuple[str, str]],
    names: Sequence[str],
    seed: int,
) -> list[Path]:
    """The three detector descriptions: the same smearing and acceptance, three b-taggers."""
    leptons: dict[str, Any] = {}
    for lepton, (identification, isolation) in lepton_files.items():
        leptons[lepton] = {
            "smearing": smearing[lepton],
            "acceptance": {"min_pt": LEPTON_MIN_PT, "max_abs_eta": LEPTONS[lepton][0]},
            "efficiency": {
                "map": f"maps/{identification}",
                "sha256": _use(out, f"maps/{identification}"),
                "mode": "sample",
            },
            "tags": [
                {
                    "name": "isolated_reco",
                    "map": f"maps/{isolation}",
                    "sha256": _use(out, f"maps/{isolation}"),
                    "mode": "sample",
                    "description": "the reference detector's isolation decision",
                }
            ],
        }
    taggers = {
        "detector.json": (f"maps/{TAG}_binned.json", "binned pT-|eta| map per truth flavour"),
        "detector_learned.json": (
            f"maps/{TAG}_learned.json",
            "learned map with jet context (pT, |eta|, dR to the nearest jet, flavour, "
            "n_bhadrons, the 3 nearest jets)",
        ),
        "detector_surrogate.json": (
            "maps/btag_score_surrogate.json",
            f"surrogate of the continuous score, P(score > {THRESHOLD:g})",
        ),
    }
    paths = []
    for filename, (tag_map, what) in taggers.items():
        document = {
            "schema_version": CURRENT_VERSION,
            "name": Path(filename).stem,
            "description": f"DEMO_MULTIB_GLUINO detector emulation, b-tagging from a {what}; "
            "jet response, resolutions and lepton efficiencies fitted on the reference "
            "detector. Apply to truth objects built with jet_min_pt=15, jet_exclude_leptons.",
            "provenance": {
                "analysis_id": "DEMO_MULTIB_GLUINO",
                "experiment": "the recast-nn reference experiment (reference_experiment)",
                "source": "python -m reference_experiment.publish_detector",
                "notes": f"training samples: {', '.join(names)}; seed {seed}",
            },
            "objects": {
                "jets": {
                    "smearing": smearing["jets"],
                    "acceptance": dict(JET_ACCEPTANCE),
                    "tags": [
                        {
                            "name": TAG,
                            "map": tag_map,
                            "sha256": _use(out, tag_map),
                            "mode": "sample",
                            "description": "b-tag at the 77 % WP",
                        }
                    ],
                },
                **leptons,
            },
            "met": met,
        }
        path = out / filename
        write_json(path, document)
        load_detector(path)
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reference_experiment.publish_detector", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--samples", required=True, help="folder of reference_experiment.samples")
    parser.add_argument("--out", required=True, help="the bundle folder, e.g. analyses/ID")
    parser.add_argument("--grid", default=None, help="grid.json (default: the package's)")
    parser.add_argument(
        "--training", default=DEFAULT_TRAINING, help="samples to train on (no held-out point)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--models", type=int, default=3, help="ensemble members (>= 3)")
    parser.add_argument(
        "--learn-events",
        type=int,
        default=2500,
        help="events per sample for the learned map and the surrogate",
    )
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--max-events", type=int, default=None, help="events per sample read")
    parser.add_argument("--no-closure", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        summary = publish(
            args.samples,
            args.out,
            grid=args.grid,
            training=args.training,
            seed=args.seed,
            n_models=args.models,
            learn_events=args.learn_events,
            max_epochs=args.epochs,
            max_events=args.max_events,
            closure=not args.no_closure,
        )
    except RecastError as err:
        print(f"error: {err}")
        return 2
    for name, digest in summary["files"].items():
        print(f"{digest}  {name}")
    print("timing (s):", summary["timing"])
    if "closure" in summary:
        closure = summary["closure"]
        print("closure on the held-out points, largest |map - truth| per pT x |eta| bin:")
        for flavour, worst in closure["max_abs_error_pt_eta"].items():
            print(f"  {flavour:6}", worst)
        print("  the same for reco pT > 30 GeV (the analysis' jets):")
        for flavour, worst in closure["max_abs_error_pt_eta_above_30_gev"].items():
            print(f"  {flavour:6}", worst)
        print("  b, dR < 0.6 bands", closure["max_abs_error_dr_below_0p6"])
        for label, entry in closure["means"].items():
            numbers = ", ".join(f"{k} {v:.4f}" for k, v in entry.items() if k != "jets")
            print(f"  {label} ({entry['jets']} jets): {numbers}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
