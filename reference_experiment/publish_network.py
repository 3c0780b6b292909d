"""Train the DEMO_MULTIB_GLUINO network from the reference samples and publish it in the bundle.

::

    python -m reference_experiment.samples --what all --out build/demo_multib   # the samples first
    python -m reference_experiment.publish_network --samples build/demo_multib \\
        --out analyses/DEMO_MULTIB_GLUINO

Reads the reference detector's objects of the TRAINING mass points and of the tt̄ samples
(never the held-out points, which only enter the AUCs reported afterwards), derives the
analysis's collections with :class:`DemoMultibGluino` itself, builds the 87 raw inputs through
the card's own input builder (so training and runtime read the objects identically), trains
:mod:`.network` and exports ``networks/multib_demo.onnx`` + ``.card.json``
with :func:`recast.preserve.export.export_torch`; then refreshes the card's digest in
``analysis.json`` and writes the training report (AUCs, rows, samples used) to ``--report``.

Rows: signal events passing the preselection (≥ 4 jets, ≥ 3 b-jets, E_T^miss > 200 GeV);
tt̄ events passing a looser one (≥ 2 b-jets instead of ≥ 3), because only a few dozen
simulated tt̄ events pass the full one. 75 % of each sample's rows train, 25 % test (seeded).

The analysis code is the bundle's own ``analysis.py`` in :data:`.closure_yields.BUNDLE` (the
flagship in this repository); ``--out`` names the folder written to. A development module
beside the bundle rather than in it: the wheel ships bundles, never training code.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from recast.analysis.bundle import import_file
from recast.errors import RecastError, UsageError
from recast.io import sha256_file, write_json
from recast.preserve.builder import InputBuilder
from recast.preserve.export import export_torch, template_card
from recast.toy import multib_template

from . import network
from .closure_yields import BUNDLE
from .grid import Sample, load_grid
from .read import sample_chunks, sample_summary


def _bundle_analysis() -> Any:
    """The bundle's analysis.py, imported under a name no other module uses."""
    return import_file(
        "recast_bundle_DEMO_MULTIB_GLUINO_analysis", BUNDLE / "analysis.py", reuse=True
    )


_analysis = _bundle_analysis()
NETWORK: str = _analysis.NETWORK
NN_POINTS: dict[str, tuple[int, int, int]] = _analysis.NN_POINTS
OUTPUT_LABELS: tuple[str, ...] = _analysis.OUTPUT_LABELS
DemoMultibGluino = _analysis.DemoMultibGluino

log = logging.getLogger(__name__)
LUMINOSITY_PB = 139_000.0  # 139 fb⁻¹ in pb⁻¹
TEST_FRACTION = 0.25
BACKGROUND_MIN_B = 2


def _floats(values: np.ndarray | None) -> Sequence[float] | None:
    return None if values is None else [float(v) for v in values]


def card_template(means: np.ndarray | None = None, stds: np.ndarray | None = None) -> dict:
    """The card of the network: the 87-input layout read from the analysis's derived
    collections (small_R_jets with its ``btag`` flag, large_R_jets, leptons, met), φ(MET) in
    (−π, π], three softmax outputs."""
    points = [
        {"isGtt": float(g), "mGluino": float(m), "mLSP": float(n)} for g, m, n in NN_POINTS.values()
    ]
    template = multib_template(_floats(means), _floats(stds), points, met_phi_range="(-pi, pi]")
    template = copy.deepcopy(template)
    template["name"] = NETWORK
    template["description"] = (
        "DEMO_MULTIB_GLUINO parameterised multi-class network (87 inputs → 64 → 64 → 3): "
        "P(background), P(Gtt), P(Gbb) at a hypothesis (isGtt, mGluino, mLSP)"
    )
    template["outputs"] = [
        {
            "name": "probabilities",
            "dtype": "float32",
            "shape": [None, len(OUTPUT_LABELS)],
            "columns": [
                {"index": i, "label": label, "activation": "softmax"}
                for i, label in enumerate(OUTPUT_LABELS)
            ],
        }
    ]
    template["provenance"] = {
        "analysis_id": "DEMO_MULTIB_GLUINO",
        "experiment": "the recast-nn reference experiment (reference_experiment)",
        "source": "reference_experiment/publish_network.py (reference_experiment.network)",
        "notes": (
            "trained on reference-detector objects of the 16 training mass points of "
            "reference_experiment/grid.json and tt̄; inputs (x - mean)/std with the mean and std of "
            "the training rows (background rows carry parameters drawn from the training "
            "points); objects zero-padded in raw units before the standardisation"
        ),
    }
    return template


def raw_builder() -> InputBuilder:
    """The card's builder with identity preprocessing: raw inputs, padded, angles wrapped."""
    return InputBuilder(template_card(card_template(), "multib_demo.template"))


@dataclass
class Rows:
    """Raw inputs of one sample's selected events, and what they are."""

    name: str
    label: int
    point: tuple[float, float, float] | None
    x: np.ndarray
    weight: np.ndarray  # events at 139 fb⁻¹ per row
    test: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _label(sample: Sample) -> int:
    if not sample.is_signal:
        return 0
    return 1 if sample.model == "Gtt" else 2


def _point(sample: Sample) -> tuple[float, float, float] | None:
    if not sample.is_signal:
        return None
    assert sample.m_gluino is not None and sample.m_lsp is not None
    return (1.0 if sample.model == "Gtt" else 0.0, float(sample.m_gluino), float(sample.m_lsp))


def selected_events(
    analysis: Any, chunks: Iterator[ak.Array], min_b: int
) -> Iterator[tuple[ak.Array, int]]:
    """Derived events with ≥ 4 jets, ≥ ``min_b`` b-jets and MET > 200 GeV, and the number of
    events read, chunk by chunk."""
    for chunk in chunks:
        events = analysis.derive(chunk)
        keep = (events.n_jets >= 4) & (events.n_b >= min_b) & (events.met_pt > 200.0)
        yield events[np.asarray(ak.to_numpy(keep), dtype=bool)], len(chunk)


def sample_rows(samples: Path, sample: Sample, seed: int) -> Rows:
    """The raw inputs of a sample's selected events, split train/test with a seeded draw."""
    analysis = DemoMultibGluino({})
    builder = raw_builder()
    label = _label(sample)
    min_b = 3 if label else BACKGROUND_MIN_B
    blocks, n_read = [], 0
    for events, n in selected_events(analysis, sample_chunks(samples, sample.name), min_b):
        n_read += n
        if len(events):
            blocks.append(builder.build(events).arrays["input_1"].astype(np.float64))
    x = np.concatenate(blocks) if blocks else np.zeros((0, network.N_INPUTS))
    sigma = float(sample_summary(samples, sample.name)["cross_section_pb"])
    weight = np.full(len(x), sigma * LUMINOSITY_PB / max(n_read, 1))
    rng = np.random.default_rng([seed, zlib.crc32(sample.name.encode())])
    test = rng.random(len(x)) < TEST_FRACTION
    log.info("%s: %d of %d events selected", sample.name, len(x), n_read)
    return Rows(sample.name, label, _point(sample), x, weight, test)


def _with_own_point(rows: Rows, mask: np.ndarray) -> np.ndarray:
    return network.set_parameters(rows.x[mask], np.asarray(rows.point))


def build_training_set(
    signal: list[Rows], background: list[Rows], seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw training rows, labels and weights (class-balanced): signal rows with their own
    point, background rows with points drawn from the signal ones."""
    points = [r.point for r in signal if r.point is not None]
    xs, labels, weights = [], [], []
    for r in signal:
        xs.append(_with_own_point(r, ~r.test))
        labels.append(np.full(int((~r.test).sum()), r.label))
        weights.append(np.ones(int((~r.test).sum())))  # every training point counts alike
    for k, r in enumerate(background):
        n = int((~r.test).sum())
        xs.append(
            network.set_parameters(r.x[~r.test], network.draw_parameters(n, points, seed + k))
        )
        labels.append(np.zeros(n, dtype=np.int64))
        weights.append(r.weight[~r.test])
    label = np.concatenate(labels).astype(np.int64)
    return np.concatenate(xs), label, network.class_weights(label, np.concatenate(weights))


#: columns of the small-R jets' b-tag flags in the 87-input layout (5 values per jet)
BTAG_COLUMNS = [5 * k + 4 for k in range(10)]


def measure_aucs(
    model: network.MultibNetwork,
    mean: np.ndarray,
    std: np.ndarray,
    signal: list[Rows],
    background: list[Rows],
    use_test_rows: bool,
) -> dict[str, dict[str, float]]:
    """Per signal sample, at its own point, against the tt̄ test rows (weighted by σ): the
    AUC of P(its class), of P(background) (signal as the negative class), and of P(its class)
    against the tt̄ test rows with ≥ 3 b-jets (those the network is applied to)."""
    out = {}
    bkg_x = np.concatenate([r.x[r.test] for r in background])
    bkg_w = np.concatenate([r.weight[r.test] for r in background])
    three_b = bkg_x[:, BTAG_COLUMNS].sum(axis=1) >= 3
    for r in signal:
        mask = r.test if use_test_rows else np.ones(len(r.x), dtype=bool)
        s = network.predict(model, (_with_own_point(r, mask) - mean) / std)
        at_point = network.set_parameters(bkg_x, np.asarray(r.point))
        b = network.predict(model, (at_point - mean) / std)
        c = r.label
        out[r.name] = {
            "rows": int(mask.sum()),
            "auc_signal_class": network.auc(s[:, c], b[:, c], bkg_w),
            "auc_background_class": 1.0 - network.auc(s[:, 0], b[:, 0], bkg_w),
            "auc_signal_class_vs_3b_ttbar": network.auc(s[:, c], b[three_b, c], bkg_w[three_b]),
            "ttbar_rows": len(b),
            "ttbar_rows_3b": int(three_b.sum()),
        }
    return out


def run(samples: Path, out: Path, settings: network.TrainingSettings) -> dict[str, Any]:
    grid = load_grid()
    training = grid.samples("training")
    held_out = grid.samples("held_out")
    backgrounds = []
    for s in grid.samples("background"):
        if (samples / s.name / "sample.json").is_file():
            backgrounds.append(s)
        else:
            log.warning("%s: not in %s; the network is trained without it", s.name, samples)
    if not backgrounds:
        raise UsageError(f"{samples}: no background sample; make them first (module docstring)")
    signal = [sample_rows(samples, s, settings.seed) for s in training]
    background = [sample_rows(samples, s, settings.seed) for s in backgrounds]
    x, labels, weights = build_training_set(signal, background, settings.seed)
    mean, std = network.standardisation(x)
    model = network.train((x - mean) / std, labels, weights, settings)
    # every measurement before the first file is written: a failure leaves the bundle as it was
    held = [sample_rows(samples, s, settings.seed) for s in held_out]
    auc_test = measure_aucs(model, mean, std, signal, background, True)
    auc_held = measure_aucs(model, mean, std, held, background, False)
    reference = ((x[:4] - mean) / std).astype(np.float32)
    card = export_torch(
        model,
        card_template(mean, std),
        out / "networks",
        stem=NETWORK,
        reference_inputs={"input_1": reference},
    )
    _refresh_digest(out / "analysis.json", Path(card.source))
    return {
        "settings": settings.__dict__,
        "samples": str(samples),
        "background_samples": [s.name for s in backgrounds],
        "rows": {"train": len(x), "per_class": np.bincount(labels).tolist()},
        "onnx_sha256": sha256_file(card.model_files()[0].path),
        "auc_test_split": auc_test,
        "auc_held_out_points": auc_held,
    }


def _refresh_digest(analysis_json: Path, card_path: Path) -> None:
    if not analysis_json.is_file():
        return
    document = json.loads(analysis_json.read_text())
    entry = document.get("networks", {}).get(NETWORK)
    if entry is not None:
        entry["sha256"] = sha256_file(card_path)
        write_json(analysis_json, document)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=Path("build/demo_multib"))
    parser.add_argument("--out", type=Path, default=BUNDLE, help="the bundle folder")
    parser.add_argument("--report", type=Path, default=None, help="training report (JSON)")
    parser.add_argument("--seed", type=int, default=network.TrainingSettings.seed)
    parser.add_argument("--epochs", type=int, default=network.TrainingSettings.epochs)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    settings = network.TrainingSettings(epochs=args.epochs, seed=args.seed)
    try:
        report = run(args.samples, args.out, settings)
    except RecastError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    write_json(args.report or args.samples / "multib_demo_training.json", report)
    print(json.dumps({k: report[k] for k in ("rows", "onnx_sha256")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
