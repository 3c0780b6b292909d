"""The efficiency study end to end: train the learned map, measure the binned map from the same
data, and write both with their closure report and plot.

:func:`run_study` works on samples in memory; :func:`train_efficiency` reads a training config
(the API behind ``recast train efficiency CONFIG``), validated by the schema
``train-efficiency`` (every problem reported at once with its path, see
:func:`config_problems`): samples from Parquet files or the synthetic processes of
:mod:`.samples`, trainer settings, the binned map's axes::

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
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import awkward as ak
import jsonschema

from ..detector.maps import load_map
from ..errors import (
    ArtefactNotFoundError,
    InvalidDocumentError,
    MissingCollectionError,
    UnknownSchemaVersionError,
    UsageError,
    closest,
)
from ..io import undefined_as_null, write_json
from ..paths import inside
from ..schema import CURRENT_VERSION, _validator, json_path, known_versions
from .binned import PT_ETA_AXES, binned_map_document, save_map
from .checks import staged, value_problems
from .efficiency import EfficiencyMapTrainer
from .report import closure_report
from .samples import TaggedSample, synthetic

log = logging.getLogger(__name__)

REPORT_NAME, PLOT_NAME = "closure_report.json", "closure.png"
#: the schema of the training config
CONFIG_KIND = "train-efficiency"


@dataclass(frozen=True, eq=False)
class EfficiencyStudy:
    """What a study wrote, and the closure report it computed."""

    folder: Path
    learned_map: Path
    binned_map: Path
    card: Path
    report_path: Path
    plot_path: Path | None
    report: dict[str, Any] = field(repr=False)
    trainer: EfficiencyMapTrainer = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """What a command prints: the files, and per held-out sample and map the largest
        |map − truth| (or, without truth, the χ² of observed − map) over populated bins."""
        files = {
            "learned_map": self.learned_map,
            "binned_map": self.binned_map,
            "card": self.card,
            "report": self.report_path,
            "plot": self.plot_path,
        }
        samples = {}
        for sample in self.report["samples"]:
            key = "max_abs_bias" if sample["truth_known"] else "chi2"
            samples[sample["name"]] = {
                name: {key: content[key], "ndf": content["ndf"]}
                for name, content in sample["summary"].items()
            }
        return {
            "files": {k: None if v is None else str(v) for k, v in files.items()},
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
    succeeded (:func:`.checks.staged`): a failure leaves ``folder`` as it was."""
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
        report["training"] = {
            "sample": train.name,
            "events": trainer.n_events_,
            "objects": trainer.n_objects_,
            "trainer": {k: _jsonable(v) for k, v in trainer.get_params().items()},
            "members": [h.as_dict() for h in trainer.histories_],
        }
        report = stage.relocate(report)
        write_json(stage.path / REPORT_NAME, undefined_as_null(report))
        if plot:
            from .plot import plot_closure

            plot_closure(report, stage.path / PLOT_NAME)
    final = stage.folder
    trainer.map_ = load_map(final / learned_path.name)  # the staged copy is gone
    return EfficiencyStudy(
        final,
        final / learned_path.name,
        final / binned_path.name,
        final / f"{name}_learned.card.json",
        final / REPORT_NAME,
        final / PLOT_NAME if plot else None,
        report,
        trainer,
    )


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# -- training configs: validated by schemas/<version>/train-*.json -----------------------------
#: JSON types as a Python user reads them in a message
_TYPE_NAMES = {
    "integer": "int",
    "number": "float",
    "string": "str",
    "boolean": "bool",
    "object": "dict",
    "array": "list",
    "null": "null",
}


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path != "(document)" else key


def _messages(error: jsonschema.ValidationError) -> list[tuple[str, str]]:
    """One schema error as (JSON path, message) pairs a user can act on. A schema may word
    its own messages with an ``x-messages`` annotation (keyword → text) beside the keyword."""
    path = json_path(error.absolute_path)
    own = error.schema if isinstance(error.schema, Mapping) else {}
    worded: Mapping[str, str] = own.get("x-messages", {})
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword == "additionalProperties":
        allowed = list(own.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        text = worded.get(keyword, "unknown key")
        return [(_at(path, k), f"{text}.{closest(k, allowed)}") for k in extra]
    if keyword == "required":
        missing = [k for k in value if k not in instance]
        if keyword in worded:
            return [(path, worded[keyword].format(name=repr(k))) for k in missing]
        return [(_at(path, k), "missing") for k in missing]
    if keyword == "type":
        names = " or ".join(
            _TYPE_NAMES.get(t, t) for t in ([value] if isinstance(value, str) else value)
        )
        return [(path, f"expected {names}, got {instance!r}")]
    if keyword == "enum":
        return [(path, f"{worded.get(keyword, f'{instance!r} is not allowed')}; known: {value}")]
    if keyword in worded:
        return [(path, worded[keyword])]
    if keyword in ("oneOf", "anyOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            return _messages(best)
    return [(path, error.message)]


def config_problems(config: Any, kind: str, source: str = "<config>") -> list[tuple[str, str]]:
    """Every problem of a training config against ``schemas/<version>/<kind>.json`` and
    :func:`.checks.value_problems` (finite numbers, increasing edges, bounded counts), each
    with its JSON path (all collected, none raised). ``schema_version`` is optional in a config
    (the current version); an unknown one raises :class:`UnknownSchemaVersionError`."""
    if not isinstance(config, Mapping):
        return [("(document)", "expected a JSON object (a mapping of settings)")]
    version = config.get("schema_version", CURRENT_VERSION)
    if version not in known_versions(kind):
        raise UnknownSchemaVersionError(source, version, known_versions(kind))
    problems: list[tuple[str, str]] = []
    errors = _validator(kind, version).iter_errors(config)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        problems += [p for p in _messages(error) if p not in problems]
    problems += [p for p in value_problems(config, kind) if p not in problems]
    return problems


def confine_paths(config: Mapping[str, Any], source: str | Path) -> None:
    """The files a config file names (``output``, each sample's ``parquet``) must stay inside
    its folder: :class:`~recast.errors.PathEscapeError` otherwise. A config given as a mapping
    in Python (``source`` ``<config>``) names paths from the working directory, as its caller
    chose."""
    if str(source) == "<config>":
        return
    fields = [("output", config.get("output"))]
    samples = [("train", config.get("train"))]
    samples += [(f"held_out[{i}]", b) for i, b in enumerate(config.get("held_out", []))]
    fields += [(f"{w}.parquet", b.get("parquet")) for w, b in samples if isinstance(b, Mapping)]
    folder = Path(source).resolve().parent
    for where, value in fields:
        if isinstance(value, str):
            inside(folder, value, source, where)


def read_parquet(path: Path, where: str) -> ak.Array:
    """The events of a sample's Parquet file; a missing or unreadable file is a user error
    naming the file and the config field."""
    if not path.is_file():
        raise ArtefactNotFoundError(
            f"{path}: no such file, named by {where}.parquet of the training config; "
            "give a path relative to the config file"
        )
    try:
        return ak.from_parquet(path)
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise UsageError(
            f"{path}: not a Parquet file ({exc}), named by {where}.parquet of the training "
            "config; write the events with ak.to_parquet"
        ) from None


def load_sample(
    block: Mapping[str, Any], base: Path, collection: str, where: str = "train"
) -> TaggedSample:
    """A sample of a config: synthetic, or events read from a Parquet file."""
    if "synthetic" in block:
        drawn = synthetic(block["synthetic"], block["events"], block["seed"], block["tag_seed"])
        return dataclasses.replace(drawn, name=block.get("name", drawn.name))
    path = base / block["parquet"]
    events = read_parquet(path, where)
    if collection not in ak.fields(events):
        raise MissingCollectionError(str(path), "collection", collection, ak.fields(events))
    objects = events[collection]
    truth = objects[block["truth"]] if "truth" in block else None
    name = block.get("name", path.stem)
    return TaggedSample(
        name, events, objects[block["tag"]], truth, collection, name, block.get("weight")
    )


def train_efficiency(config: Mapping[str, Any], source: str | Path = "<config>") -> EfficiencyStudy:
    """Run the study a training config describes; paths are relative to ``source``'s folder.

    Raises :class:`~recast.errors.InvalidDocumentError` listing every problem of the config.
    """
    problems = config_problems(config, CONFIG_KIND, str(source))
    if problems:
        raise InvalidDocumentError(str(source), problems)
    confine_paths(config, source)
    base = Path(source).resolve().parent if str(source) != "<config>" else Path.cwd()
    collection = config.get("collection", "jets")
    trainer = EfficiencyMapTrainer(**{"collection": collection, **config.get("trainer", {})})
    trainer.check_parameters()  # before any sample is made
    train = load_sample(config["train"], base, collection)
    held_out = [
        load_sample(b, base, collection, f"held_out[{i}]")
        for i, b in enumerate(config.get("held_out", []))
    ]
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


__all__ = [
    "EfficiencyStudy",
    "config_problems",
    "confine_paths",
    "load_sample",
    "read_parquet",
    "run_study",
    "train_efficiency",
]
