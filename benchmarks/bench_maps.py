"""Detector emulation throughput: efficiency maps and truth tagging, 1e5 events of ~8 jets.

Prints events/s for a binned pT × |η| × flavour map, a learned map (a stand-in MLP on pT, |η|,
ΔR to the nearest jet and the jet multiplicity, context included), a surrogate tagger's
efficiency above its threshold, sampled decisions, truth-tagging weights and the choice of the
tagged jets; with the floors measured in the same run (a bare numpy gather of the table, bare
onnxruntime on the prepared per-jet array). Medians of several repeats, one thread.

    python benchmarks/bench_maps.py [--events 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import awkward as ak
import numpy as np
import vector
from _timing import median_seconds

from recast.detector.context import with_context
from recast.detector.maps import load_map
from recast.detector.tagging import choose_tagged, sample_decisions, truth_tag_weight
from recast.io import sha256_file
from recast.preserve.card import attribute_feature
from recast.preserve.export import export_onnx_file
from recast.preserve.standin import make_standin_mlp

vector.register_awkward()


def jets_events(n: int, seed: int = 1) -> ak.Array:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(8.0, n)
    total = int(counts.sum())
    jets = ak.zip(
        {
            "pt": 20.0 + rng.exponential(60.0, total),
            "eta": rng.uniform(-2.5, 2.5, total),
            "phi": rng.uniform(-np.pi, np.pi, total),
            "mass": rng.uniform(2.0, 20.0, total),
            "flavour": rng.choice([0, 0, 0, 4, 5, 15], total),
        },
        with_name="Momentum4D",
    )
    return ak.zip(
        {
            "event_number": np.arange(n, dtype=np.int64),
            "weight": np.ones(n),
            "jets": ak.unflatten(jets, counts),
        },
        depth_limit=1,
    )


def scaled(scale: float) -> dict:
    return {"formula": "(x - offset) / scale", "offset": 0.0, "scale": scale}


def write_maps(folder: Path) -> dict[str, Path]:
    base = {"schema_version": "1.0.0", "object": "jets", "out_of_range": "clamp", "provenance": {}}
    binned = {
        **base,
        "name": "binned",
        "kind": "binned",
        "axes": [
            {
                "variable": "pt",
                "unit": "GeV",
                "edges": [20, 30, 40, 60, 85, 110, 140, 175, 250, 600],
            },
            {"variable": "abs_eta", "unit": "1", "edges": [0.0, 0.6, 1.2, 1.8, 2.5]},
            {"variable": "flavour", "categories": [0, 4, 5, 15]},
        ],
        "values": np.random.default_rng(0).uniform(0.01, 0.9, (9, 4, 4)).tolist(),
    }
    maps = {"binned": folder / "binned.json"}
    maps["binned"].write_text(json.dumps(binned))
    features = [
        attribute_feature(0, "pt", "GeV", scaled(100.0)),
        attribute_feature(1, "abs_eta", "1", scaled(1.0)),
        attribute_feature(2, "dr_nearest", "1", scaled(1.0)),
        attribute_feature(3, "n_objects", "1", scaled(10.0)),
    ]
    for kind, outputs in (("network", 2), ("surrogate", 5)):
        stem = f"{kind}_mlp"
        make_standin_mlp(folder / f"{stem}.onnx", 4, outputs, (32, 32), "x", "y")
        labels = ["background", "efficiency"] if outputs == 2 else [f"bin{k}" for k in range(5)]
        template = {
            "name": stem,
            "description": f"stand-in {kind} on context inputs",
            "evaluate_per": "jets",
            "inputs": [{"name": "x", "layout": "flat", "features": features}],
            "outputs": [
                {"name": "y", "columns": [{"index": i, "label": x} for i, x in enumerate(labels)]}
            ],
        }
        card = export_onnx_file(folder / f"{stem}.onnx", template, folder, stem=stem)
        document = {
            **base,
            "name": kind,
            "kind": kind,
            "network": {
                "card": Path(card.source).name,
                "sha256": sha256_file(card.source),
                "output": "efficiency" if outputs == 2 else "bin0",
            },
        }
        if kind == "surrogate":
            document |= {"score_edges": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], "threshold": 0.65}
        maps[kind] = folder / f"{kind}.json"
        maps[kind].write_text(json.dumps(document))
    return maps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, repeats = args.events, args.repeats
    events = jets_events(n)
    n_jets = int(ak.sum(ak.num(events.jets)))
    maps = {k: load_map(p) for k, p in write_maps(Path(tempfile.mkdtemp())).items()}
    network = maps["network"]
    efficiency = network.efficiency(events)
    context = with_context(events, "jets", ["dr_nearest", "n_objects", "abs_eta"])
    prepared = network.session.builder.build(context).at()
    session = network.session.sessions[0]
    table = maps["binned"].values.reshape(-1)
    index = np.random.default_rng(0).integers(0, len(table), n_jets)
    rows = [
        ("floor: numpy gather of a table, one per jet", lambda: table[index]),
        ("binned map pT × |η| × flavour (incl. |η|)", lambda: maps["binned"].efficiency(events)),
        (
            "context: dr_nearest, n_objects, abs_eta",
            lambda: with_context(events, "jets", network.context),
        ),
        ("floor: bare onnxruntime on the prepared jets", lambda: session.run(None, prepared)),
        ("learned map, MLP 4→32→32→2 (incl. context)", lambda: network.efficiency(events)),
        (
            "surrogate: P(score > threshold) (incl. context)",
            lambda: maps["surrogate"].efficiency(events),
        ),
        ("sampled decisions", lambda: sample_decisions(events, efficiency, 1, "btag")),
        ("truth-tag weights P(≥ 2)", lambda: truth_tag_weight(efficiency, 2)),
        ("choice of the 2 tagged jets", lambda: choose_tagged(events, efficiency, 2, 1, "tt")),
    ]
    print(f"{n} events, {n_jets} jets ({n_jets / n:.1f} per event), 1 thread, median of {repeats}")
    seconds = {}
    for label, func in rows:
        seconds[label] = median_seconds(func, repeats)
        print(f"  {label:<52} {seconds[label] * 1e3:8.1f} ms {n / seconds[label]:12,.0f} events/s")
    learned = seconds[rows[4][0]] + seconds[rows[7][0]]
    print(
        f"  {'learned efficiency + truth-tag weights':<52} {learned * 1e3:8.1f} ms "
        f"{n / learned:12,.0f} events/s (target ≥ 50,000)"
    )


if __name__ == "__main__":
    main()
