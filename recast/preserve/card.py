"""The network card: a validated document describing one preserved ONNX network.

A :class:`NetworkCard` wraps the JSON document (schema ``network-card``) with the folder it was
read from, so that model files named relative to the card can be found and verified.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import schema
from ..errors import (
    ArtefactNotFoundError,
    CardCheckError,
    CardError,
    DigestMismatchError,
    NetworkUnavailableError,
    UsageError,
)
from ..io import write_json
from . import locate

log = logging.getLogger(__name__)

KIND = "network-card"

#: Units by dimension; the value inside recast-nn is in the first unit of each list.
ENERGY_UNITS = {"GeV": 1.0, "MeV": 1000.0, "TeV": 1e-3, "100 GeV": 0.01}
LENGTH_UNITS = {"mm": 1.0, "cm": 0.1, "m": 1e-3}


#: the card's dtype names as numpy types
NUMPY_DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "float16": np.float16,
    "int64": np.int64,
    "int32": np.int32,
    "bool": np.bool_,
}


def unit_factor(unit: str) -> float:
    """Factor from the package's internal unit (GeV, mm, ns, rad) to ``unit``."""
    return ENERGY_UNITS.get(unit) or LENGTH_UNITS.get(unit) or 1.0


@dataclass(frozen=True)
class ModelFile:
    """One ONNX file of a card (one fold, or the only file)."""

    path: Path
    entry: Mapping[str, Any]
    index: int

    @property
    def sha256(self) -> str:
        """The recorded sha256 ("" for a file named by its git blob id)."""
        return str(self.entry.get("sha256", ""))

    @property
    def digest(self) -> str:
        """The recorded digest, labelled: ``sha256 <hex>`` or ``git_blob <hex>``."""
        name = locate.digest_field(self.entry)
        return f"{name} {self.entry[name]}"

    @property
    def distributed(self) -> bool:
        return locate.is_distributed(self.entry)

    @property
    def applies_to(self) -> Mapping[str, int] | None:
        return self.entry.get("applies_to")

    def node_name(self, card_name: str) -> str:
        """This file's name for the card's node ``card_name``."""
        return str(self.entry.get("node_names", {}).get(card_name, card_name))

    @property
    def label(self) -> str:
        fold = self.applies_to
        if fold is None:
            return self.path.name
        return f"{self.path.name} (event_number % {fold['modulus']} == {fold['remainder']})"


class NetworkCard:
    """A network card read from ``source`` (a path, or a label for an in-memory document)."""

    def __init__(self, document: Mapping[str, Any], source: str | Path = "<card>") -> None:
        self.source = str(source)
        self.folder = Path(source).resolve().parent if isinstance(source, Path) else Path.cwd()
        #: a user-given file (or folder) for the model files (``--network NAME=PATH``)
        self.file_override: Path | None = None
        #: the name a bundle gives this network (its key under ``networks``), for messages
        self.network_key: str | None = None
        schema.validate(document, KIND, self.source)
        self.document: dict[str, Any] = copy.deepcopy(dict(document))
        problems = list(_semantic_problems(self.document))
        if problems:
            raise CardCheckError(self.source, problems)

    # -- reading and writing ---------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> NetworkCard:
        path = Path(path)
        return cls(schema.load_json(path), path)

    def save(self, path: str | Path) -> None:
        write_json(path, self.document)

    # -- accessors -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.document["name"])

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return list(self.document["inputs"])

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return list(self.document["outputs"])

    @property
    def evaluate_per(self) -> str:
        return str(self.document["evaluate_per"])

    @property
    def parameter_names(self) -> list[str]:
        return [
            f["source"]["parameter"]
            for node in self.inputs
            for f in node.get("features", [])
            if "parameter" in f["source"]
        ]

    @property
    def parameter_points(self) -> list[dict[str, float]]:
        return list(self.document.get("parameter_points", []))

    def features(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Every (input node, feature) pair, in node then index order."""
        for node in self.inputs:
            for feature in sorted(node.get("features", []), key=lambda f: f["index"]):
                yield node, feature

    def use_files_from(self, path: str | Path) -> None:
        """Take the model file(s) from ``path``: the file itself, or a folder holding them.

        A file stands for the card's only model file, or for the one with the same name.
        """
        path = Path(path).expanduser()
        names = [Path(entry["path"]).name for entry in self.document["files"]]
        if path.is_file() and len(names) > 1 and path.name not in names:
            raise UsageError(
                f"{path}: {self.source} has {len(names)} model files ({', '.join(names)}); give "
                "a folder holding them, or a file with one of these names"
            )
        self.file_override = path

    def file_names(self) -> list[str]:
        """The base names of the card's model files."""
        return [Path(entry["path"]).name for entry in self.document["files"]]

    def model_files(self) -> list[ModelFile]:
        """The model files, each where it was found (see :mod:`recast.preserve.locate`)."""
        files = []
        for i, entry in enumerate(self.document["files"]):
            beside = Path(os.path.normpath(self.folder / entry["path"]))
            override = self.file_override
            if override is not None and override.is_file() and len(self.document["files"]) > 1:
                override = override if override.name == beside.name else None
            files.append(ModelFile(locate.locate(beside, override), entry, i))
        return files

    def missing_reason(self, model: ModelFile) -> str:
        """Why ``model`` cannot be used, with the places it was looked for."""
        where = f"files[{model.index}]"
        if model.distributed:
            return (
                f"{model.path}: no such file, named by {where}.path of {self.source}; put "
                "the ONNX file beside the card or fix the path"
            )
        looked = [model.path] if self.file_override is not None else locate.candidates(model.path)
        source = model.entry.get("source", "its publication")
        return (
            f"{model.path.name} ({model.digest}) is not distributed with {self.source}; "
            f"looked in {', '.join(map(str, looked))}. Get it from {source}, then pass "
            f"--network {self.network_key or self.name}=PATH or copy it to "
            f"{locate.user_data_dir() / 'networks'}"
        )

    def missing_files(self) -> list[str]:
        """Why each model file that cannot be found is missing (empty when all are there)."""
        return [self.missing_reason(m) for m in self.model_files() if not m.path.is_file()]

    def verify_digests(self) -> None:
        """Check that every model file exists and has the digest the card records."""
        for model in self.model_files():
            if not model.path.is_file():
                error = ArtefactNotFoundError if model.distributed else NetworkUnavailableError
                raise error(self.missing_reason(model))
            mismatch = locate.digest_mismatch(model.path, model.entry)
            if mismatch is not None:
                name, expected, actual = mismatch
                field = f"files[{model.index}].{name} of {self.source}"
                raise DigestMismatchError(str(model.path), expected, actual, field, kind=name)

    def output_column(self, label: str) -> tuple[dict[str, Any], int]:
        """The output node and column index carrying ``label``."""
        for node in self.outputs:
            for column in node["columns"]:
                if column["label"] == label:
                    return node, int(column["index"])
        labels = [c["label"] for node in self.outputs for c in node["columns"]]
        from ..errors import closest

        raise CardError(
            f"{self.source}: no output labelled {label!r}; outputs are {labels}."
            + closest(label, labels)
        )


def _semantic_problems(card: Mapping[str, Any]) -> Iterator[str]:
    """Meaning checks the schema cannot express; each message names the JSON path."""
    node_names = [n["name"] for n in card["inputs"]] + [n["name"] for n in card["outputs"]]
    for name in {n for n in node_names if node_names.count(n) > 1}:
        yield f"node name {name!r} is used twice among inputs/outputs"
    for i, node in enumerate(card["inputs"]):
        where = f"inputs[{i}]"
        shape = node["shape"]
        layout = node["layout"]
        expected_rank = {"flat": 2, "sequence": 3, "mask": 2}[layout]
        if len(shape) != expected_rank:
            yield f"{where}.shape has rank {len(shape)} but layout {layout!r} needs {expected_rank}"
            continue
        features = node.get("features", [])
        indices = sorted(f["index"] for f in features)
        if layout != "mask":
            if indices != list(range(len(features))):
                yield (
                    f"{where}.features: indices must be 0..{len(features) - 1} once each, "
                    f"got {indices}"
                )
            if shape[-1] is not None and shape[-1] != len(features):
                yield f"{where}.shape[-1] is {shape[-1]} but {len(features)} features are listed"
        if (
            layout in ("sequence", "mask")
            and shape[1] is not None
            and shape[1] != node["max_count"]
        ):
            yield f"{where}.shape[1] is {shape[1]} but max_count is {node['max_count']}"
        names = [f["name"] for f in features]
        for name in {n for n in names if names.count(n) > 1}:
            yield f"{where}.features: name {name!r} appears twice"
        for j, feature in enumerate(features):
            yield from _feature_problems(feature, f"{where}.features[{j}]", layout)
    for i, node in enumerate(card["outputs"]):
        width = node["shape"][-1] if len(node["shape"]) > 1 else 1
        for j, column in enumerate(node["columns"]):
            if width is not None and column["index"] >= width:
                yield (
                    f"outputs[{i}].columns[{j}].index is {column['index']} but the node has "
                    f"{width} column(s)"
                )
    labels = [c["label"] for node in card["outputs"] for c in node["columns"]]
    for label in {x for x in labels if labels.count(x) > 1}:
        yield f"output label {label!r} is used twice"
    yield from _fold_problems(card)
    feature_names = {f["name"] for n in card["inputs"] for f in n.get("features", [])}
    for i, entry in enumerate(card["files"]):
        for name in sorted(set(entry.get("preprocessing", {})) - feature_names):
            yield f"files[{i}].preprocessing names {name!r}, which is not a feature of the card"
    input_names = {n["name"] for n in card["inputs"]}
    output_names = {n["name"] for n in card["outputs"]}
    for i, entry in enumerate(card["files"]):
        for k, reference in enumerate(entry.get("references", [])):
            for kind, known in (("inputs", input_names), ("outputs", output_names)):
                for name in sorted(set(reference[kind]) - known):
                    yield (
                        f"files[{i}].references[{k}].{kind} names {name!r}, which is not an "
                        f"{kind[:-1]} node of the card ({sorted(known)})"
                    )
    parameters = {
        f["source"]["parameter"]
        for node in card["inputs"]
        for f in node.get("features", [])
        if "parameter" in f["source"]
    }
    for k, point in enumerate(card.get("parameter_points", [])):
        if set(point) != parameters:
            yield (
                f"parameter_points[{k}] names {sorted(point)} but the network's parameters are "
                f"{sorted(parameters)}"
            )


def _feature_problems(feature: Mapping[str, Any], where: str, layout: str) -> Iterator[str]:
    source = feature["source"]
    is_parameter = "parameter" in source
    if is_parameter != (feature["role"] == "parameter"):
        yield f"{where}: role is {feature['role']!r} but the source is {source}"
    if "angle_range" in feature and feature["unit"] != "rad":
        yield f"{where}.angle_range is set but the unit is {feature['unit']!r}, not 'rad'"
    if "position" in source:
        if source["position"] >= source["max_count"]:
            yield (
                f"{where}.source.position {source['position']} is not below max_count "
                f"{source['max_count']}"
            )
        if "padding" not in feature:
            yield f"{where}: an object slot needs 'padding' for events with fewer objects"
    if layout == "sequence":
        if "collection" in source or is_parameter:
            yield f"{where}.source: a sequence feature names only the attribute of each object"
        if "padding" not in feature:
            yield f"{where}: a sequence feature needs 'padding'"


def _fold_problems(card: Mapping[str, Any]) -> Iterator[str]:
    files = card["files"]
    folds = [f.get("applies_to") for f in files]
    if len(files) == 1:
        if folds[0] is not None and folds[0]["modulus"] != 1:
            yield "files[0].applies_to: a single file must apply to every event; drop applies_to"
        return
    if any(f is None for f in folds):
        yield "files: with several files each needs applies_to (which events it is applied to)"
        return
    moduli = {f["modulus"] for f in folds}
    if len(moduli) != 1:
        yield f"files[*].applies_to.modulus differ: {sorted(moduli)}"
        return
    (modulus,) = moduli
    remainders = sorted(f["remainder"] for f in folds)
    if remainders != list(range(modulus)):
        yield (
            f"files[*].applies_to remainders {remainders} must cover 0..{modulus - 1} once each "
            "so that every event has exactly one file"
        )
