"""The efficiency study end to end: train the learned map, measure the binned map from the same
data, and write both with their closure report and plot.

:func:`run_study` works on samples in memory; :func:`train_efficiency` reads a training config
(the API behind ``recast train efficiency CONFIG``), validated by the schema
``train-efficiency`` (every problem reported at once with its path, see
:func:`recast.train.core.config.config_problems`): samples from Parquet files or the
synthetic processes of :mod:`.samples`, trainer settings, the binned map's axes::

    {
      "output": "maps",                 # folder, relative to the config file
      "name": "btag",                   # maps btag_learned.json and btag_binned.json
      "working_point": "DL1r 77%",
      "collection": "jets",
      "train": {"synthetic": "proximity", "events": 20000, "seed": 1, "tag_seed": 7},
      "held_out": [
        {"synthetic": "proximity", "events": 20000, "seed": 2, "tag_seed": 8},
        {"parquet": "scalar.parquet", "tag": "btag", "weight": "weight", "name": "scalar"}
      ],
      "trainer": {"n_models": 5, "seed": 0},
      "binned_axes": [{"variable": "pt", "unit": "GeV", "edges": [20, 40, 70, 120, 250, 2000]},
                      {"variable": "abs_eta", "unit": "1", "edges": [0, 0.8, 1.6, 2.5]}],
      "min_objects": 200,
      "plot": true
    }

The report (``closure_report.json``) and the figure (``closure.png``) go beside the maps.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...detector.maps import load_map
from ..core import study as common
from ..core.config import checked_config
from ..core.staging import staged
from .binned import PT_ETA_AXES, binned_map_document, save_map
from .closure import closure_report
from .plot import plot_closure
from .samples import SYNTHETIC, TaggedSample
from .trainer import EfficiencyMapTrainer

log = logging.getLogger(__name__)

#: the schema of the training config
CONFIG_KIND = "train-efficiency"


@dataclass(frozen=True, eq=False, kw_only=True)
class EfficiencyStudy(common.MapStudy):
    """What a study wrote, and the closure report it computed."""

    REPORT_NAME = "closure_report.json"
    PLOT_NAME = "closure.png"

    learned_map: Path
    binned_map: Path
    trainer: EfficiencyMapTrainer = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """What a command prints: the files, and per held-out sample and map the largest
        |map − truth| (or, without truth, the χ² of observed − map) over populated bins."""
        samples = {}
        for sample in self.report["samples"]:
            key = "max_abs_bias" if sample["truth_known"] else "chi2"
            samples[sample["name"]] = {
                name: {key: content[key], "ndf": content["ndf"]}
                for name, content in sample["summary"].items()
            }
        return {
            "files": self.files(learned_map=self.learned_map, binned_map=self.binned_map),
            "calibration": {
                "chi2": self.trainer.calibration_["chi2"],
                "ndf": self.trainer.calibration_["ndf"],
            },
            "closure": samples,
        }


def run_study(
    train: TaggedSample,
    held_out: Sequence[TaggedSample],
    folder: str | Path,
    *,
    trainer: EfficiencyMapTrainer | None = None,
    name: str = "efficiency",
    working_point: str | None = None,
    axes: Sequence[Mapping[str, Any]] = PT_ETA_AXES,
    min_objects: int = 200,
    plot: bool = True,
) -> EfficiencyStudy:
    """Train on ``train``, derive both maps from it, and report their closure on ``held_out``.

    The binned map is measured first (an empty bin is refused before any training); every file
    is written into a staging folder and moved into ``folder`` only when the whole study
    succeeded (:func:`recast.train.core.staging.staged`): a failure leaves ``folder`` as it
    was."""
    trainer = trainer or EfficiencyMapTrainer(collection=train.collection)
    trainer.check_parameters()
    document = binned_map_document(
        train.events,
        train.tagged,
        collection=train.collection,
        axes=axes,
        sample_weight=train.weight,
        name=f"{name}_binned",
        working_point=working_point,
    )
    trainer.fit(train.events, train.tagged, train.weight)
    with staged(folder) as stage:
        learned_path = trainer.export(stage.path, f"{name}_learned", working_point=working_point)
        binned_path = stage.path / f"{name}_binned.json"
        maps = {"binned": save_map(document, binned_path), "learned": trainer.map_}
        report = closure_report(
            maps, held_out, min_objects=min_objects, calibrations={"learned": trainer.calibration_}
        )
        report["training"] = common.training_record(train.name, trainer)
        report = EfficiencyStudy.write_report(stage, report, plot_closure if plot else None)
    final = stage.folder
    trainer.map_ = load_map(final / learned_path.name)  # the staged copy is gone
    return EfficiencyStudy(
        folder=final,
        learned_map=final / learned_path.name,
        binned_map=final / binned_path.name,
        card=final / f"{name}_learned.card.json",
        trainer=trainer,
        **EfficiencyStudy.written(final, report, plot),
    )


def load_sample(
    block: Mapping[str, Any], base: Path, collection: str, where: str = "train"
) -> TaggedSample:
    """A sample of a config: synthetic, or events read from a Parquet file."""
    if "synthetic" in block:
        return common.synthetic_sample(SYNTHETIC, block, "tag_seed")
    events, name = common.parquet_events(block, base, collection, where)
    objects = events[collection]
    truth = objects[block["truth"]] if "truth" in block else None
    return TaggedSample(
        name, events, objects[block["tag"]], truth, collection, name, block.get("weight")
    )


def train_efficiency(config: Mapping[str, Any], source: str | Path = "<config>") -> EfficiencyStudy:
    """Run the study a training config describes; paths are relative to ``source``'s folder.

    Raises :class:`~recast.errors.InvalidDocumentError` listing every problem of the config.
    """
    base = checked_config(config, CONFIG_KIND, source)
    trainer = common.configured_trainer(EfficiencyMapTrainer, config)
    train, held_out = common.configured_samples(config, base, load_sample)
    return run_study(
        train,
        held_out,
        base / config["output"],
        trainer=trainer,
        name=config.get("name", "efficiency"),
        working_point=config.get("working_point"),
        axes=config.get("binned_axes", PT_ETA_AXES),
        min_objects=config.get("min_objects", 200),
        plot=config.get("plot", True),
    )


__all__ = ["EfficiencyStudy", "load_sample", "run_study", "train_efficiency"]
