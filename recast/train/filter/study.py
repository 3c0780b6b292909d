"""The selective-simulation study end to end (the API behind ``recast train filter CONFIG``).

Train the filter without (λ = 0) and with the dCorr penalty on one part of a sample, export both
as ONNX + card, evaluate the exported networks with onnxruntime on the held-out part, importance-
sample it, and report AUC, accuracy, kept fraction, speed-up, ESS per CPU second with and
without the filter, and the bias of chosen variables; optionally plot. The config
(``schemas/1.0.0/train-filter.json``)::

    {
      "output": "filter",                    # folder, relative to the config file
      "name": "toy_filter",                  # cards toy_filter_plain, toy_filter_dcorr
      "sample": {"synthetic": "decay_tree", "events": 6000, "seed": 1},
      "test_fraction": 0.5,
      "graph": {"max_particles": 100, "ordering": "pt"},
      "decorrelate": "m_vis", "decorrelation": 1.0,
      "trainer": {"max_epochs": 60, "batch_size": 512, "seed": 0},
      "importance": {"p_min": 0.05, "seed": 7},
      "downstream": [{"label": "full simulation", "generation_factor": 1000}],
      "bias": {"variables": ["m_vis"], "bins": 10},
      "plot": true
    }
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import UsageError, closest
from ...events.importance import importance_sample
from ...events.selective import EventFilter
from ...io import undefined_as_null, write_json
from ..core._torch import torch
from ..core.config import checked_config
from ..core.losses import distance_correlation
from ..core.staging import staged
from .merit import Timing, bias_report, figure_of_merit
from .plot import plot_bias, plot_speed_up
from .samples import FilterSample, load_sample, sample_variables
from .trainer import FilterTrainer, auc

log = logging.getLogger(__name__)

P_MIN_SCAN = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
MAX_DCORR_EVENTS = 4000


@dataclass(frozen=True, eq=False)
class FilterStudy:
    """What the study wrote, and its report."""

    folder: Path
    cards: dict[str, Path]
    report_path: Path
    plots: list[Path]
    report: dict[str, Any] = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """What the command prints: files and the headline figures per model."""
        models = {}
        for name, model in self.report["models"].items():
            headline = model["importance"]["scenarios"]
            models[name] = {
                "decorrelation": model["decorrelation"],
                "auc": round(model["auc"], 4),
                "accuracy": round(model["accuracy"], 4),
                "kept_fraction": round(model["importance"]["kept_fraction"], 4),
                "dcorr_pass": round(model["dcorr_pass"], 4),
                "effective_speed_up": {
                    s["label"]: round(s["effective_speed_up"], 3) for s in headline
                },
                "bias_unweighted_chi2_ndf": {
                    k: f"{v['unweighted_vs_truth']['chi2']:.1f}/{v['unweighted_vs_truth']['ndf']}"
                    for k, v in model["bias"].items()
                },
                "bias_weighted_chi2_ndf": {
                    k: f"{v['weighted_vs_truth']['chi2']:.1f}/{v['weighted_vs_truth']['ndf']}"
                    for k, v in model["bias"].items()
                },
            }
        return {
            "folder": str(self.folder),
            "cards": {k: str(v) for k, v in self.cards.items()},
            "report": str(self.report_path),
            "plots": [str(p) for p in self.plots],
            "models": models,
        }


def _dcorr(p: np.ndarray, x: np.ndarray) -> float:
    n = min(len(p), MAX_DCORR_EVENTS)
    if n < 3:
        return float("nan")
    with torch.no_grad():
        value = distance_correlation(
            torch.from_numpy(np.ascontiguousarray(p[:n], dtype=np.float64)),
            torch.from_numpy(np.ascontiguousarray(x[:n], dtype=np.float64)),
        )
    return float(value)


def onnx_probabilities(card: Path, sample: FilterSample) -> tuple[np.ndarray, float]:
    """The exported filter's pass probabilities on ``sample``, from its card alone
    (:class:`recast.events.selective.EventFilter`: onnxruntime, one thread), and the CPU seconds per
    event the network took on the prepared graphs."""
    selective = EventFilter.load(card)
    start = time.process_time()
    p = selective.probabilities(sample.graphs)
    return p, (time.process_time() - start) / max(len(sample), 1)


def _scenarios(document: Mapping[str, Any], sample: FilterSample) -> list[dict[str, Any]]:
    default: list[dict[str, Any]] = [
        {"label": "full simulation (assumed 1000× generation)", "generation_factor": 1000}
    ]
    if sample.downstream_seconds is not None:
        default.insert(0, {"label": "recast objects + selection (measured)", "measured": True})
    scenarios = []
    for k, entry in enumerate(document.get("downstream", default)):
        if "measured" in entry:
            if sample.downstream_seconds is None:
                raise UsageError(
                    f"downstream[{k}] asks for the measured downstream time, but a synthetic "
                    "sample has no downstream chain; give 'seconds' or 'generation_factor'"
                )
            seconds, source = sample.downstream_seconds, "measured"
        elif "seconds" in entry:
            seconds, source = float(entry["seconds"]), "assumed"
        else:
            seconds = float(entry["generation_factor"]) * sample.generation_seconds
            source = "assumed"
        scenarios.append({"label": entry["label"], "seconds": seconds, "source": source})
    return scenarios


def _evaluate(
    trainer: FilterTrainer,
    card: Path,
    test: FilterSample,
    document: Mapping[str, Any],
    scenarios: list[dict[str, Any]],
) -> dict[str, Any]:
    p, seconds = onnx_probabilities(card, test)
    settings = document.get("importance", {})
    p_min, seed = float(settings.get("p_min", 0.05)), int(settings.get("seed", 7))
    bias = document.get("bias", {})
    names = bias.get("variables", [document["decorrelate"]])
    for name in names:
        if name not in test.variables:
            raise UsageError(
                f"bias.variables names {name!r}, which the sample lacks; it has "
                f"{sorted(test.variables)}.{closest(name, test.variables)}"
            )
    variables = {n: test.variables[n] for n in names}
    sample = importance_sample(p, p_min, seed, test.event_number)
    timings = [
        Timing(test.generation_seconds, test.graph_seconds + seconds, s["seconds"], s["source"])
        for s in scenarios
    ]
    headline = []
    for scenario, timing in zip(scenarios, timings, strict=True):
        figures = figure_of_merit(test.passed, sample, timing)
        headline.append({"label": scenario["label"], "timing": timing.as_dict(), **figures})
    scan = []
    for value in sorted({*P_MIN_SCAN, p_min}):
        drawn = importance_sample(p, value, seed, test.event_number)
        scan.append(
            {
                "p_min": value,
                "kept_fraction": drawn.kept_fraction,
                "effective_speed_up": {
                    s["label"]: figure_of_merit(test.passed, drawn, t)["effective_speed_up"]
                    for s, t in zip(scenarios, timings, strict=True)
                },
            }
        )
    x = test.variables[document["decorrelate"]]
    return {
        "decorrelation": trainer.decorrelation,
        "card": card.name,
        "training": trainer.history_.as_dict(),
        "validation": trainer.validation_,
        "auc": auc(p, test.passed),
        "accuracy": float(np.mean((p > 0.5) == test.passed)),
        "dcorr_pass": _dcorr(p[test.passed], x[test.passed]),
        "filter_seconds_per_event": test.graph_seconds + seconds,
        "inference_seconds_per_event": seconds,
        "importance": {
            "p_min": p_min,
            "seed": seed,
            "kept_fraction": sample.kept_fraction,
            "scenarios": headline,
            "p_min_scan": scan,
        },
        "bias": bias_report(variables, test.passed, sample, int(bias.get("bins", 10))),
    }


def run_filter_study(
    document: Mapping[str, Any], base: Path, source: str = "config"
) -> FilterStudy:
    """Run the study a (validated) config describes; paths are relative to ``base``."""
    graph = document.get("graph", {})
    max_particles = int(graph.get("max_particles", 100))
    ordering = graph.get("ordering", "pt")
    strengths = {"plain": 0.0}
    if float(document.get("decorrelation", 0.0)) > 0:
        strengths["dcorr"] = float(document["decorrelation"])
    trainers = {
        label: FilterTrainer(
            **dict(document.get("trainer", {})),
            max_particles=max_particles,
            ordering=ordering,
            decorrelation=strength,
        )
        for label, strength in strengths.items()
    }
    for trainer in trainers.values():  # before the sample is made and anything is written
        trainer.check_parameters()
    check_before_sample(document, source)
    sample = load_sample(document["sample"], max_particles, ordering)
    if document["decorrelate"] not in sample.variables:
        raise UsageError(
            f"{source}: decorrelate is {document['decorrelate']!r}, which the sample lacks; it "
            f"has {sorted(sample.variables)}.{closest(document['decorrelate'], sample.variables)}"
        )
    order = np.random.default_rng(int(document["sample"].get("seed", 1))).permutation(len(sample))
    n_test = round(float(document.get("test_fraction", 0.5)) * len(sample))
    if not 0 < n_test < len(sample):
        raise UsageError(f"{source}: test_fraction leaves no events on one side")
    train, test = sample.take(np.sort(order[n_test:])), sample.take(np.sort(order[:n_test]))
    name = document.get("name", "event_filter")
    scenarios = _scenarios(document, sample)
    models, cards = {}, {}
    # every file goes to a staging folder, moved into the output folder only when the whole
    # study succeeded: a failure (or an interruption) leaves the output folder as it was
    with staged(base / document.get("output", "filter")) as stage:
        for label, trainer in trainers.items():
            trainer.fit(train.graphs, train.passed, train.variables[document["decorrelate"]])
            card = trainer.export(stage.path, f"{name}_{label}")
            models[label] = _evaluate(trainer, card, test, document, scenarios)
            cards[label] = stage.final(card)
            log.info("%s: AUC %.4f", label, models[label]["auc"])
        report = {
            "sample": sample.description,
            "events": {"train": len(train), "test": len(test)},
            "pass_fraction": float(test.passed.mean()),
            "cropped_fraction": sample.graphs.cropped_fraction(),
            "max_particles": max_particles,
            "ordering": ordering,
            "decorrelate": document["decorrelate"],
            "timing": {
                "generation_seconds_per_event": sample.generation_seconds,
                "graph_seconds_per_event": sample.graph_seconds,
                "downstream_measured_seconds_per_event": sample.downstream_seconds,
            },
            "models": models,
        }
        report_path = stage.path / f"{name}_report.json"
        write_json(report_path, undefined_as_null(report))
        plots: list[Path] = []
        if document.get("plot", False):
            plots = [
                plot_bias(report, stage.path / f"{name}_bias.png"),
                plot_speed_up(report, stage.path / f"{name}_speed_up.png"),
            ]
    return FilterStudy(
        stage.folder,
        cards,
        stage.final(report_path),
        [stage.final(p) for p in plots],
        report,
    )


def check_before_sample(document: Mapping[str, Any], source: str = "config") -> None:
    """What a config asks of its sample, checked before the sample is made: the variables
    named by ``decorrelate`` and ``bias.variables``, a measured downstream time (Pythia8
    samples only), and a ``test_fraction`` that leaves events on both sides. Every problem is
    named in one :class:`~recast.errors.UsageError`."""
    spec = document["sample"]
    known = list(sample_variables(spec))
    problems = []
    if known and document["decorrelate"] not in known:
        name = document["decorrelate"]
        problems.append(
            f"decorrelate is {name!r}, which the sample lacks; it has {sorted(known)}."
            f"{closest(name, known)}"
        )
    for name in document.get("bias", {}).get("variables", []):
        if known and name not in known:
            problems.append(
                f"bias.variables names {name!r}, which the sample lacks; it has "
                f"{sorted(known)}.{closest(name, known)}"
            )
    if "synthetic" in spec:
        problems += [
            f"downstream[{k}] asks for the measured downstream time, but a synthetic sample has "
            "no downstream chain; give 'seconds' or 'generation_factor'"
            for k, entry in enumerate(document.get("downstream", []))
            if "measured" in entry
        ]
    n_events = spec.get("events")
    if isinstance(n_events, int):
        n_test = round(float(document.get("test_fraction", 0.5)) * n_events)
        if not 0 < n_test < n_events:
            problems.append(
                f"test_fraction leaves no events on one side of the {n_events} events; "
                "give more events or another fraction"
            )
    if problems:
        raise UsageError(f"{source}: " + "; ".join(problems))


def train_filter(document: Mapping[str, Any], path: str | Path = "<config>") -> FilterStudy:
    """Validate a training config read from ``path`` (every problem with its JSON path, in one
    :class:`~recast.errors.InvalidDocumentError`) and run it; paths are relative to its folder.
    """
    base = checked_config(document, "train-filter", path)
    return run_filter_study(document, base, str(path))


__all__ = [
    "FilterStudy",
    "check_before_sample",
    "onnx_probabilities",
    "run_filter_study",
    "train_filter",
]
