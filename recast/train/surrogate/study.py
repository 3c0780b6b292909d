"""The surrogate-tagger study end to end: train, export, check on held-out samples, plot.

:func:`run_surrogate_study` works on samples in memory; :func:`train_surrogate` reads a
training config (the API behind ``recast train surrogate CONFIG``), validated by the schema
``train-surrogate`` (every problem reported at once with its path)::

    {
      "output": "maps",                  # folder, relative to the config file
      "name": "dl1r_surrogate",          # dl1r_surrogate.json / .card.json / .onnx
      "working_point": "DL1r 77%",
      "threshold": 0.7,
      "collection": "jets",
      "train": {"synthetic": "flavoured", "events": 8000, "seed": 1, "score_seed": 2},
      "held_out": [
        {"synthetic": "flavoured", "events": 3000, "seed": 5, "score_seed": 6},
        {"parquet": "ttbar.parquet", "score": "dl1r", "weight": "weight", "name": "ttbar"}
      ],
      "trainer": {"n_models": 5, "seed": 0},
      "check": {"seed": 1, "pt_edges": [20, 40, 70, 120, 250, 2000], "min_objects": 100},
      "plot": true
    }
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import awkward as ak
import numpy as np

from ...detector.learned import SurrogateTagger
from ...detector.maps import load_map
from ...errors import MissingCollectionError
from ..core import study as common
from ..core.config import checked_config
from ..core.staging import staged
from .closure import PT_EDGES, surrogate_closure, surrogate_uncertainty
from .inputs import DISAGREEMENT
from .plot import plot_surrogate_closure
from .samples import SYNTHETIC, ScoredSample
from .trainer import SurrogateTrainer, check_threshold

log = logging.getLogger(__name__)

CONFIG_KIND = "train-surrogate"


@dataclass(frozen=True, eq=False, kw_only=True)
class SurrogateStudy(common.MapStudy):
    """What a study wrote, and the closure report it computed."""

    REPORT_NAME = "surrogate_report.json"
    PLOT_NAME = "surrogate_closure.png"

    map_path: Path
    trainer: SurrogateTrainer = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """What a command prints: the files, the training, and per held-out sample and table
        the combined χ² p-value, the smallest KS p-value and the verdict."""
        return {
            "files": self.files(map=self.map_path),
            "training": {
                k: self.report["training"][k] for k in ("events", "objects", "seconds", "device")
            },
            "closure": {s["name"]: s["summary"] for s in self.report["samples"]},
            "support": {s["name"]: s["support"] for s in self.report["samples"]},
        }


def _support(tagger: Any, sample: ScoredSample) -> dict[str, Any]:
    """How the map flags a sample: the share outside ``validity`` and the ensemble spread."""
    flags = surrogate_uncertainty(tagger, sample.events)
    out: dict[str, Any] = {"outside_validity": float(flags["outside"].mean())}
    if DISAGREEMENT in flags:
        values = flags[DISAGREEMENT]
        out["disagreement"] = {
            "median": float(np.median(values)),
            "p99": float(np.percentile(values, 99)),
        }
    return out


def run_surrogate_study(
    train: ScoredSample,
    held_out: Sequence[ScoredSample],
    folder: str | Path,
    *,
    trainer: SurrogateTrainer | None = None,
    name: str = "surrogate",
    threshold: float | None = None,
    working_point: str | None = None,
    seed: int = 1,
    pt_edges: Sequence[float] = PT_EDGES,
    min_objects: int = 100,
    plot: bool = True,
) -> SurrogateStudy:
    """Train on ``train``, export, and check the sampled scores on ``held_out``.

    Every file is written into a staging folder and moved into ``folder`` only when the whole
    study succeeded (:func:`recast.train.core.staging.staged`): a failure leaves ``folder`` as
    it was."""
    trainer = trainer or SurrogateTrainer(collection=train.collection)
    trainer.check_parameters()
    check_threshold(threshold, trainer.edges)
    if not held_out:
        log.warning(
            "no held_out sample: the surrogate is written without a closure check; add one "
            "(e.g. a synthetic 'flavoured' sample with other seeds) to test it"
        )
    start = time.perf_counter()
    trainer.fit(train.events, train.score, train.weight)
    seconds = time.perf_counter() - start
    with staged(folder) as stage:
        map_path = trainer.export(
            stage.path, name, threshold=threshold, working_point=working_point
        )
        tagger = trainer.map_
        report = surrogate_closure(
            tagger, held_out, seed=seed, pt_edges=pt_edges, min_objects=min_objects
        )
        for sample, entry in zip(held_out, report["samples"], strict=True):
            entry["support"] = _support(tagger, sample)
        report["training"] = common.training_record(
            train.name, trainer, seconds=round(seconds, 2), device=trainer.device_
        )
        plotter = plot_surrogate_closure if plot else None
        report = SurrogateStudy.write_report(stage, report, plotter)
    final = stage.folder
    trainer.map_ = cast(SurrogateTagger, load_map(final / map_path.name))  # staged copy gone
    return SurrogateStudy(
        folder=final,
        map_path=final / map_path.name,
        card=final / f"{name}.card.json",
        trainer=trainer,
        **SurrogateStudy.written(final, report, plot),
    )


def load_scored_sample(
    block: Mapping[str, Any], base: Path, collection: str, where: str = "train"
) -> ScoredSample:
    """A sample of a config: synthetic, or events read from a Parquet file."""
    if "synthetic" in block:
        return common.synthetic_sample(SYNTHETIC, block, "score_seed")
    events, name = common.parquet_events(block, base, collection, where)
    objects = events[collection]
    if block["score"] not in ak.fields(objects):
        raise MissingCollectionError(
            str(base / block["parquet"]), "score field", block["score"], ak.fields(objects)
        )
    return ScoredSample(
        name, events, objects[block["score"]], collection, name, block.get("weight")
    )


def train_surrogate(config: Mapping[str, Any], source: str | Path = "<config>") -> SurrogateStudy:
    """Run the study a training config describes; paths are relative to ``source``'s folder.

    Raises :class:`~recast.errors.InvalidDocumentError` listing every problem of the config.
    """
    base = checked_config(config, CONFIG_KIND, source)
    trainer = common.configured_trainer(SurrogateTrainer, config)
    check_threshold(config.get("threshold"), trainer.edges, str(source))
    train, held_out = common.configured_samples(config, base, load_scored_sample)
    check = config.get("check", {})
    return run_surrogate_study(
        train,
        held_out,
        base / config["output"],
        trainer=trainer,
        name=config.get("name", "surrogate"),
        threshold=config.get("threshold"),
        working_point=config.get("working_point"),
        seed=check.get("seed", 1),
        pt_edges=check.get("pt_edges", PT_EDGES),
        min_objects=check.get("min_objects", 100),
        plot=config.get("plot", True),
    )


__all__ = ["SurrogateStudy", "load_scored_sample", "run_surrogate_study", "train_surrogate"]
