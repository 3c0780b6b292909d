"""Regenerate every artefact of the EXAMPLE_JETS_MET bundle and print their sha256.

    python analyses/EXAMPLE_JETS_MET/make_artefacts.py            # everything (needs [gen])
    python analyses/EXAMPLE_JETS_MET/make_artefacts.py --no-cutflows

Writes ``maps/btag.json``, ``detector.json``, ``networks/signal_mlp.{onnx,card.json}`` and,
from a seeded Pythia8 sample run through the bundle itself, ``cutflows/*.json``; then records
every digest in ``analysis.json`` (whose other fields are written by hand). All of it is
seeded: the same versions of Pythia8, FastJet and onnxruntime give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from recast.analysis.bundle import stamp_code
from recast.io import sha256_file, write_json

HERE = Path(__file__).resolve().parent
NETWORK_SEED = 7
#: the benchmark sample: the tests regenerate it and expect exactly these cutflows
BENCHMARK: dict[str, Any] = {
    "name": "gtt_1200_100",
    "m_gluino": 1200.0,
    "m_lsp": 100.0,
    "seed": 2026,
}
BENCHMARK_EVENTS = 200
DETECTOR_SEED = 1

BTAG_MAP = {
    "schema_version": "1.0.0",
    "name": "btag_77",
    "description": "b-tagging efficiency per truth flavour and jet pT (made-up numbers)",
    "object": "jets",
    "working_point": "77%",
    "kind": "binned",
    "axes": [
        {"variable": "flavour", "categories": [5, 4, 15, 0], "out_of_range": "zero"},
        {"variable": "pt", "unit": "GeV", "edges": [30.0, 60.0, 100.0, 200.0, 400.0]},
    ],
    "values": [
        [0.70, 0.76, 0.78, 0.74],
        [0.18, 0.20, 0.21, 0.20],
        [0.06, 0.07, 0.07, 0.06],
        [0.006, 0.008, 0.010, 0.015],
    ],
    "out_of_range": "clamp",
    "validity": {"pt": [30.0, 400.0]},
    "provenance": {"notes": "EXAMPLE_JETS_MET: illustrative numbers, not a measurement"},
}

#: (name, definition, source, unit, mean, std) of the network's inputs, in column order
INPUTS: list[tuple[str, str, dict[str, Any], float, float]] = [
    ("meff", "HT of the jets + MET", {"attribute": "meff"}, 1500.0, 600.0),
    ("met", "missing transverse momentum", {"collection": "met", "attribute": "pt"}, 350.0, 200.0),
]
_JETS = {"collection": "jets", "attribute": "pt", "ordering": {"by": "pt", "descending": True}}
for _k, (_mean, _std) in enumerate([(400.0, 200.0), (300.0, 150.0), (200.0, 100.0), (120.0, 70.0)]):
    INPUTS.append(
        (
            f"jet{_k}_pt",
            f"pT of the jet ranked {_k + 1} by pT",
            {**_JETS, "position": _k, "max_count": 4},
            _mean,
            _std,
        )
    )


def write_btag_map() -> Path:
    path = HERE / "maps" / "btag.json"
    write_json(path, BTAG_MAP)
    return path


def write_detector(btag: Path) -> Path:
    digest = sha256_file(btag)
    document = {
        "schema_version": "1.0.0",
        "name": "example_detector",
        "description": "jets smeared and b-tagged by truth-tagging weights; MET follows the jets",
        "provenance": {"notes": "EXAMPLE_JETS_MET: illustrative resolutions, not a measurement"},
        "objects": {
            "jets": {
                "smearing": [
                    {
                        "variable": "pt",
                        "model": "calorimeter",
                        "argument": "energy",
                        "stochastic": 0.6,
                        "constant": 0.03,
                        "noise": 3.0,
                    },
                    {"variable": "phi", "model": "constant", "sigma": 0.01},
                ],
                "acceptance": {"min_pt": 30.0, "max_abs_eta": 2.8},
                "tags": [
                    {
                        "name": "btag",
                        "map": "maps/btag.json",
                        "sha256": digest,
                        "mode": "truth_tag",
                        "max_count": 2,
                    }
                ],
            }
        },
        "met": {
            "recompute_from": ["jets"],
            "sum_pt_of": ["jets"],
            "smearing": [
                {
                    "variable": "components",
                    "model": "calorimeter",
                    "argument": "sum_pt",
                    "stochastic": 0.5,
                }
            ],
        },
    }
    path = HERE / "detector.json"
    write_json(path, document)
    return path


def network_model() -> onnx.ModelProto:
    """6 → 8 (ReLU) → 1 (sigmoid), seeded; positive weights make the score rise with every
    input, a stand-in for a trained signal-versus-background classifier."""
    rng = np.random.default_rng(NETWORK_SEED)
    w1 = np.abs(rng.normal(0.0, 0.6, (len(INPUTS), 8))).astype(np.float32)
    b1 = rng.normal(0.0, 0.1, 8).astype(np.float32)
    w2 = np.abs(rng.normal(0.0, 0.6, (8, 1))).astype(np.float32)
    b2 = np.array([-1.0], dtype=np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W1"], ["h0"]),
            helper.make_node("Add", ["h0", "b1"], ["h1"]),
            helper.make_node("Relu", ["h1"], ["h2"]),
            helper.make_node("MatMul", ["h2", "W2"], ["h3"]),
            helper.make_node("Add", ["h3", "b2"], ["h4"]),
            helper.make_node("Sigmoid", ["h4"], ["score"]),
        ],
        "signal_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", len(INPUTS)])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["batch", 1])],
        [
            numpy_helper.from_array(w1, "W1"),
            numpy_helper.from_array(b1, "b1"),
            numpy_helper.from_array(w2, "W2"),
            numpy_helper.from_array(b2, "b2"),
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="EXAMPLE_JETS_MET make_artefacts.py",
        producer_version="1",
        doc_string=f"seeded example network (seed {NETWORK_SEED}), not trained",
    )
    model.ir_version = 8  # readable by older onnxruntime builds
    onnx.checker.check_model(model)
    return model


#: a missing jet enters with pT = 0 GeV, before standardisation
PADDING = {"value": 0.0, "stage": "before_preprocessing"}


def write_network() -> Path:
    from recast.preserve.export import export_onnx_file

    features = [
        {
            "index": i,
            "name": name,
            "definition": definition,
            "role": "feature",
            "unit": "GeV",
            "source": source,
            "preprocessing": {"formula": "(x - mean) / std", "mean": mean, "std": std},
            **({"padding": PADDING} if "position" in source else {}),
        }
        for i, (name, definition, source, mean, std) in enumerate(INPUTS)
    ]
    template = {
        "name": "signal_mlp",
        "description": "EXAMPLE_JETS_MET signal network: seeded, monotone, untrained",
        "inputs": [{"name": "x", "layout": "flat", "features": features}],
        "outputs": [
            {
                "name": "score",
                "columns": [
                    {"index": 0, "label": "signal", "activation": "sigmoid", "use": "SR_nn: > 0.9"}
                ],
            }
        ],
        "provenance": {"analysis_id": "EXAMPLE_JETS_MET", "license": "CC0-1.0"},
    }
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "signal_mlp.onnx"
        onnx.save(network_model(), str(source))
        card = export_onnx_file(source, template, HERE / "networks", stem="signal_mlp")
    return Path(card.source)


def _record(document: dict[str, Any], cutflows: list[Path] | None) -> None:
    document["detector"]["sha256"] = sha256_file(HERE / document["detector"]["path"])
    for artefact in document["networks"].values():
        artefact["sha256"] = sha256_file(HERE / artefact["path"])
    if cutflows is None:
        document.pop("cutflows", None)
    else:
        document["cutflows"] = [
            {"path": str(p.relative_to(HERE)), "sha256": sha256_file(p)} for p in cutflows
        ]
    document.update(stamp_code(HERE, document))  # and the digest of every Python file
    write_json(HERE / "analysis.json", document)


def write_cutflows(document: dict[str, Any]) -> list[Path]:
    """Generate the benchmark sample, run the bundle on it, and keep every region's cutflow."""
    from recast.analysis.cutflow import Cutflow, step_uncertainties
    from recast.events.pythia import generate_to_hepmc
    from recast.events.slha import write_gluino_slha
    from recast.pipeline.run import recast_run

    name = BENCHMARK["name"]
    slha = write_gluino_slha(
        HERE / "cutflows" / f"{name}.slha", BENCHMARK["m_gluino"], BENCHMARK["m_lsp"], "ttbar"
    )
    with tempfile.TemporaryDirectory() as tmp:
        events = Path(tmp) / f"{name}.hepmc"
        generate_to_hepmc(slha, BENCHMARK_EVENTS, BENCHMARK["seed"], events)
        results = recast_run(HERE, [events], seed=DETECTOR_SEED)
    norm = results["normalisation"]
    paths = []
    factor = norm["factor"]
    for region, counts in results["cutflows"].items():  # already at σ × L
        flow = Cutflow.from_dict(counts)
        errors = step_uncertainties(flow)  # what recast validate uses for its own side
        steps = [
            {"cut": cut, "value": float(flow.sumw[i]), "uncertainty": float(errors[i])}
            for i, cut in enumerate(flow.steps)
            if i > 0
        ]
        cutflow = {
            "schema_version": "1.0.0",
            "analysis": document["id"],
            "region": region,
            "benchmark": {
                "name": name,
                "description": (
                    f"gluino pairs, g̃ → t t̄ χ̃⁰₁, m(g̃) = {BENCHMARK['m_gluino']:g} GeV, "
                    f"m(χ̃⁰₁) = {BENCHMARK['m_lsp']:g} GeV (Gtt)"
                ),
                "slha": slha.name,
                "generator": (
                    f"Pythia8 (pythia8mc {version('pythia8mc')}) in process "
                    f"(recast.events.pythia), LO, seed {BENCHMARK['seed']}; "
                    f"detector seed {DETECTOR_SEED}"
                ),
                # the value the run used: as the HepMC3 file stores it (8 significant digits)
                "cross_section_pb": norm["cross_section_pb"],
                "events_generated": BENCHMARK_EVENTS,
            },
            "unit": "events",
            "initial": float(flow.sumw[0]),
            "steps": steps,
            "provenance": {
                "analysis_id": document["id"],
                "notes": (
                    "No experiment published this example: produced with recast itself "
                    "(make_artefacts.py) from the seeded sample described in 'benchmark', at "
                    f"{norm['luminosity_fb']:g} fb⁻¹ with Pythia's LO cross-section "
                    f"(σ·L/Σw = {factor:.6g}). Uncertainties are the sample's MC statistics "
                    "(binomial, as recast validate computes them). "
                    "It is a regression reference: the same sample must give these numbers."
                ),
            },
        }
        path = HERE / "cutflows" / f"{name}_{region}.json"
        write_json(path, cutflow)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cutflows", action="store_true", help="keep the cutflows as they are")
    args = parser.parse_args()
    document = json.loads((HERE / "analysis.json").read_text())
    write_detector(write_btag_map())
    write_network()
    if args.no_cutflows:
        kept = [HERE / c["path"] for c in document.get("cutflows", [])]
        _record(document, kept or None)
    else:
        _record(document, None)  # the bundle must load before its cutflows exist
        _record(document, write_cutflows(document))
    for path in sorted(p for p in HERE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        print(f"{sha256_file(path)}  {path.relative_to(HERE)}")


if __name__ == "__main__":
    main()
