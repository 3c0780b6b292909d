"""ATLAS_SUSY_2019_04 per event: the whole bundle, its analysis, and its network stage next to
bare onnxruntime on the same inputs.

Generates (in process, seeded) Pythia8 events of the published benchmark (pure-higgsino
χ̃₁⁰χ̃₂⁰ at 250 GeV), builds their truth objects and applies the bundle's detector once, then
prints medians of several repeats on one core:

- the floor of the network stage: bare onnxruntime on the 65-input rows the five cards build
  (each network on every 1-lepton event with its jet count, ≥ 4 b-jets not required so that
  the rows are many), one call per network;
- the network stage as the bundle runs it: the cards build the rows from the objects and the
  sessions run them (``NetworkSession.evaluate``);
- the analysis: objects → variables → every network → every region's cuts;
- the truth objects (FastJet clustering, labels, leptons, MET), which every run pays;
- the whole bundle from the HepMC3 file (``recast.run``, one worker).

    python benchmarks/bench_atlas_susy_2019_04.py [--events 2000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import onnxruntime as ort
from _timing import median_seconds

import recast
from recast.analysis.bundle import load_bundle
from recast.detector.description import load_detector
from recast.events.hepmc import HepMCReader
from recast.events.pythia import generate_to_hepmc
from recast.model import process_settings
from recast.objects import ObjectConfig, build_objects
from recast.preserve.card import NetworkCard
from recast.preserve.session import NetworkSession

NETWORKS = (4, 5, 6, 7, 8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    bundle = load_bundle("ATLAS_SUSY_2019_04")
    point = recast.find_benchmark(bundle, "higgsino_n1n2_250")
    with tempfile.TemporaryDirectory() as tmp:
        hepmc = Path(tmp) / "bench.hepmc"
        start = time.perf_counter()
        setup = process_settings("higgsino-n1n2", point.slha)
        generate_to_hepmc(setup, args.events, args.seed, hepmc)
        rate = args.events / (time.perf_counter() - start)
        events = ak.concatenate(list(HepMCReader(hepmc, chunk_size=args.events)))
        config = ObjectConfig(**bundle.document["objects"])
        objects = build_objects(events, config)
        detector = load_detector(bundle.folder / "detector.json")
        emulated = detector.apply(objects, 1)
        sessions = {
            f"nn_{n}j": NetworkSession(
                NetworkCard.load(bundle.folder / "networks" / f"nn_{n}j.card.json")
            )
            for n in NETWORKS
        }
        analysis = bundle.analysis_class(
            {name: r["cuts"] for name, r in bundle.document["regions"].items()},
            networks=sessions,
        )
        derived = analysis.derive(emulated)
        fed: dict[int, Any] = {}
        rows: dict[int, np.ndarray] = {}
        for n in NETWORKS:
            chosen = np.flatnonzero(
                np.asarray((derived.n_signal_leptons >= 1) & (derived.n_jets_20 == n))
            )
            fed[n] = analysis._network_events(derived[chosen])
            built = sessions[f"nn_{n}j"].builder.build(fed[n])
            rows[n] = built.at()["input.1"]
        n_rows = sum(len(r) for r in rows.values())
        bare = {
            n: ort.InferenceSession(
                str(bundle.folder / "networks" / f"nn_{n}j.onnx"),
                providers=["CPUExecutionProvider"],
                sess_options=_one_thread(),
            )
            for n in NETWORKS
        }

        def bare_onnxruntime() -> None:
            for n in NETWORKS:
                bare[n].run(None, {"input.1": rows[n]})

        def network_stage() -> None:
            for n in NETWORKS:
                sessions[f"nn_{n}j"].evaluate(fed[n])

        def analysis_stage() -> None:
            analysis.cut_values(analysis.derive(emulated))

        n = len(events)
        print(
            f"higgsino_n1n2_250: {n} events, {n_rows} network rows (1 lepton, 4-8 jets), "
            f"1 core, median of {args.repeats} (generation once: {rate:,.0f} events/s)"
        )
        floor = median_seconds(bare_onnxruntime, args.repeats)
        stage = median_seconds(network_stage, args.repeats)
        print(f"  {'floor: bare onnxruntime on the built rows':<46} {floor * 1e3:8.1f} ms "
              f"{n_rows / floor:12,.0f} rows/s")  # fmt: skip
        print(f"  {'network stage (cards build + sessions run)':<46} {stage * 1e3:8.1f} ms "
              f"{n_rows / stage:12,.0f} rows/s  ({stage / floor:.1f}x the floor)")  # fmt: skip
        for label, func in (
            (
                "truth objects (FastJet, labels, leptons, MET)",
                lambda: build_objects(events, config),
            ),
            ("analysis (variables, 5 networks, all cuts)", analysis_stage),
            ("whole bundle from HepMC3 (recast.run)", lambda: recast.run(bundle, hepmc)),
        ):
            seconds = median_seconds(func, args.repeats)
            print(f"  {label:<46} {seconds * 1e3:8.1f} ms {n / seconds:12,.0f} events/s")


def _one_thread() -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return options


if __name__ == "__main__":
    main()
