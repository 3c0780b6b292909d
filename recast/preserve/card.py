"""The network card: a validated document describing one preserved ONNX network.

A :class:`NetworkCard` wraps the JSON document (schema ``network-card``) with the folder it was
read from, so that model files named relative to the card can be found and verified.
"""

from __future__ import annotations

import copy
import fnmatch
import itertools
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from .. import schema
from ..errors import (
    ArtefactNotFoundError,
    CardCheckError,
    CardError,
    DigestMismatchError,
    InvalidDocumentError,
    NetworkUnavailableError,
    UsageError,
)
from ..io import write_json
from ..paths import inside
from . import locate

log = logging.getLogger(__name__)

KIND = "network-card"

#: Most objects of one collection a card may ask for (``max_count``, a sequence or mask axis).
#: Published event-level networks take at most a few hundred objects (jets, leptons, tracks
#: or particle-flow candidates of a jet); 10 000 is far above any, and still small enough
#: that the padded tensors of a chunk fit in memory.
MAX_OBJECTS = 10_000
#: Most values one row (event or object) of a node may hold, the product of its static axes
#: after the batch axis: 1e6 float32 values are 4 MB per row, so 4 GB per 1000-event chunk.
MAX_ROW_ELEMENTS = 1_000_000

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


def attribute_feature(
    index: int, name: str, unit: str = "1", preprocessing: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A template's feature that reads the objects' attribute ``name`` (also its definition),
    with ``preprocessing`` (default: none, ``{"formula": "x"}``)."""
    return {
        "index": index,
        "name": name,
        "definition": name,
        "role": "feature",
        "source": {"attribute": name},
        "unit": unit,
        "preprocessing": dict(preprocessing or {"formula": "x"}),
    }


def linear_form(preprocessing: Mapping[str, Any]) -> tuple[float, float]:
    """(centre, factor) such that the card's formula equals ``(x - centre) * factor``."""
    formula = preprocessing["formula"]
    if formula == "x":
        return 0.0, 1.0
    if formula == "(x - mean) / std":
        return float(preprocessing["mean"]), 1.0 / float(preprocessing["std"])
    if formula == "(x - offset) / scale":
        return float(preprocessing["offset"]), 1.0 / float(preprocessing["scale"])
    if formula == "(x + offset) * scale":
        return -float(preprocessing["offset"]), float(preprocessing["scale"])
    if formula == "(x - min) / (max - min)":
        lo, hi = float(preprocessing["min"]), float(preprocessing["max"])
        return lo, 1.0 / (hi - lo)
    raise ValueError(f"unknown preprocessing formula {formula!r}")


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
        try:
            schema.validate(document, KIND, self.source)
        except InvalidDocumentError as exc:
            _explain_schema_error(document, exc, self.source)
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
            beside = inside(self.folder, entry["path"], self.source, f"files[{i}].path")
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

    def edited(self, changes: Mapping[str, Mapping[str, Any]], why: str) -> NetworkCard:
        """A copy whose features take other conventions: ``changes`` maps a feature name, or
        a shell pattern of names (``jet_eta_*``), to the fields to replace (``unit``,
        ``padding``, ``angle_range``, ``preprocessing``...). The copy is validated like any
        card, finds its model files where this one does, and says ``why`` in its provenance
        notes. Used by bundles to study conventions a publication leaves open.

        Raises :class:`~recast.errors.UsageError` for a pattern no feature matches or a
        field a feature cannot have (the schema names it)."""
        document = copy.deepcopy(self.document)
        names = [f["name"] for _, f in self.features()]
        for pattern, fields in changes.items():
            matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
            if not matched:
                raise UsageError(
                    f"{self.source}: no feature matches {pattern!r} (asked for by: {why}); "
                    f"the card's features are {names[:6]}..."
                )
            for node in document["inputs"]:
                for feature in node.get("features", []):
                    if feature["name"] in matched:
                        feature.update(copy.deepcopy(dict(fields)))
        provenance = document.setdefault("provenance", {})
        notes = provenance.get("notes")
        provenance["notes"] = f"{notes}; edited: {why}" if notes else f"edited: {why}"
        card = NetworkCard(document, f"{self.source} ({why})")
        card.folder, card.file_override, card.network_key = (
            self.folder,
            self.file_override,
            self.network_key,
        )
        return card

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
    yield from _shape_problems(card)
    yield from _preprocessing_problems(card)
    yield from itertools.islice(_finite_problems(card, ""), 20)
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
            yield from _tolerance_problems(reference, f"files[{i}].references[{k}].tolerance")
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


# -- numbers a card cannot mean ---------------------------------------------------------------
def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _whole(value: Any) -> str:
    """A size as written, for messages: 1000000000000 rather than 1e+12."""
    return str(int(value)) if _is_number(value) and math.isfinite(value) else repr(value)


def _preprocessing_steps(card: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(JSON path, feature name, step) of every preprocessing step, for any JSON document:
    also used before the schema passes, so every access is guarded."""
    inputs = card.get("inputs")
    for i, node in enumerate(inputs if isinstance(inputs, list) else []):
        features = node.get("features") if isinstance(node, Mapping) else None
        for j, feature in enumerate(features if isinstance(features, list) else []):
            step = feature.get("preprocessing") if isinstance(feature, Mapping) else None
            if isinstance(step, Mapping):
                yield f"inputs[{i}].features[{j}].preprocessing", str(feature.get("name")), step
    files = card.get("files")
    for i, entry in enumerate(files if isinstance(files, list) else []):
        overrides = entry.get("preprocessing") if isinstance(entry, Mapping) else None
        for name, step in overrides.items() if isinstance(overrides, Mapping) else ():
            if isinstance(step, Mapping):
                yield f"files[{i}].preprocessing[{name!r}]", str(name), step


def _step_problems(step: Mapping[str, Any], where: str, name: str) -> Iterator[str]:
    """A preprocessing step that divides by zero, loses the feature or is not finite."""
    formula = step.get("formula")
    numbers = {k: v for k, v in step.items() if k != "formula" and _is_number(v)}
    bad = {k: v for k, v in numbers.items() if not math.isfinite(v)}
    for key, value in bad.items():
        yield (
            f"{where}.{key} of feature {name!r} is {value}: x' = {formula} needs finite "
            "numbers; give the value the network was trained with"
        )
    if bad:
        return
    fix = "give the value the network was trained with"
    if formula == "(x - mean) / std" and numbers.get("std", 1.0) <= 0:
        std = numbers["std"]
        why = "x' = (x - mean) / 0 divides by zero" if std == 0 else "a standard deviation is > 0"
        yield f"{where}.std of feature {name!r} is {std}: {why}; {fix}"
    elif formula == "(x - offset) / scale" and numbers.get("scale") == 0:
        yield (
            f"{where}.scale of feature {name!r} is 0: x' = (x - offset) / 0 divides by zero; {fix}"
        )
    elif formula == "(x + offset) * scale" and numbers.get("scale") == 0:
        yield (
            f"{where}.scale of feature {name!r} is 0: x' = (x + offset) * 0 is 0 for every event, "
            f"so the network never sees the feature; {fix}"
        )
    elif formula == "(x - min) / (max - min)" and {"min", "max"} <= set(numbers):
        width = numbers["max"] - numbers["min"]
        if width <= 0:
            kind = "zero" if width == 0 else "negative"
            yield (
                f"{where} of feature {name!r}: max - min is {width:g} ({kind} width: min "
                f"{numbers['min']}, max {numbers['max']}); give the range the network was "
                "trained with, max > min"
            )
    else:
        try:
            centre, factor = linear_form(step)
        except (KeyError, ValueError, TypeError, ZeroDivisionError):
            return  # the schema names what is missing
        if not (math.isfinite(centre) and math.isfinite(factor)):
            yield (
                f"{where} of feature {name!r}: x' = {formula} overflows (factor {factor}, "
                f"centre {centre}) with these numbers; {fix}"
            )


def _preprocessing_problems(card: Mapping[str, Any]) -> Iterator[str]:
    for where, name, step in _preprocessing_steps(card):
        yield from _step_problems(step, where, name)
    yield from _precision_problems(card)


def _precision_problems(card: Mapping[str, Any]) -> Iterator[str]:
    """A factor the input's dtype cannot hold: 1e-308 is 0 in float32 (the feature is then
    multiplied by 0, which the float64 check cannot see), 1e300 is infinite there."""
    dtypes = {
        f"inputs[{i}]": str(node.get("dtype"))
        for i, node in enumerate(card.get("inputs") or [])
        if isinstance(node, Mapping)
    }
    # a file's own preprocessing may feed any input: hold it to the narrowest dtype
    narrowest = "float32" if "float32" in dtypes.values() or not dtypes else "float64"
    for where, name, step in _preprocessing_steps(card):
        dtype = dtypes.get(where.split(".", 1)[0], narrowest)
        if dtype not in ("float32", "float64"):
            continue
        try:
            centre, factor = linear_form(step)
        except (KeyError, ValueError, TypeError, ZeroDivisionError, OverflowError):
            continue
        info = np.finfo(dtype)
        tiny, largest = float(info.tiny), float(info.max)  # compared in float64: no cast warning
        if not (math.isfinite(centre) and math.isfinite(factor)):
            continue  # said by _step_problems
        if factor != 0 and abs(factor) < tiny:
            yield (
                f"{where} of feature {name!r}: x' = {step.get('formula')} multiplies by "
                f"{factor:.3g}, below the smallest normal {dtype} ({tiny:.3g}): the "
                f"{dtype} input is 0 (or loses its digits) for every event; give the value the "
                "network was trained with"
            )
        elif abs(factor) > largest or abs(centre) > largest:
            yield (
                f"{where} of feature {name!r}: x' = {step.get('formula')} has factor "
                f"{factor:.3g} and centre {centre:.3g}, beyond {dtype} ({largest:.3g}): "
                "the input is infinite; give the value the network was trained with"
            )


#: reference tolerances above this prove nothing: runtimes agree to ~1e-6 on float32 networks,
#: the shipped defaults are 1e-5 absolute and 1e-4 relative, and 1e-2 already lets a score of
#: 0.90 pass for 0.91 (a cut's worth); beyond it a wrong network would pass its own references
MAX_REFERENCE_TOLERANCE = 1e-2


def _tolerance_problems(reference: Mapping[str, Any], where: str) -> Iterator[str]:
    tolerance = reference.get("tolerance")
    for kind in ("absolute", "relative"):
        value = tolerance.get(kind) if isinstance(tolerance, Mapping) else None
        if _is_number(value) and math.isfinite(value) and value > MAX_REFERENCE_TOLERANCE:
            yield (
                f"{where}.{kind} is {value:g}: above {MAX_REFERENCE_TOLERANCE:g}, the reference "
                "check would pass a different network; give the agreement the outputs really "
                "have (recast's default: absolute 1e-5, relative 1e-4)"
            )


def _explain_schema_error(document: Any, error: InvalidDocumentError, source: str) -> None:
    """Re-raise a schema error, with impossible preprocessing said plainly.

    The schema does refuse ``std <= 0`` or ``scale: 0``, but as a failed ``oneOf`` whose
    closest branch is another formula; the meaning check names the field and the fix.
    """
    if not isinstance(document, Mapping):
        raise error
    flagged = [
        (where, list(_step_problems(step, where, name)))
        for where, name, step in _preprocessing_steps(document)
    ]
    flagged = [(where, found) for where, found in flagged if found]
    if not flagged:
        raise error
    problems = [p for _, found in flagged for p in found]
    problems += [
        f"at {path}: {message}"
        for path, message in error.problems
        if not any(path.startswith(where) for where, _ in flagged)
    ]
    raise CardCheckError(source, problems) from None


def _finite_problems(value: Any, path: str) -> Iterator[str]:
    """NaN or infinity anywhere (preprocessing aside: it has its own messages)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            yield f"{path} is {value}: {_finite_fix(path)}"
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key != "preprocessing":
                yield from _finite_problems(item, f"{path}.{key}" if path else str(key))
        return
    if not isinstance(value, list) or not value:
        return
    try:  # reference vectors are large: one numpy pass, not one Python call per number
        array: np.ndarray | None = np.asarray(value)
    except (TypeError, ValueError):  # ragged
        array = None
    if array is None or array.dtype.kind not in "fiub":  # ragged, or with null, text, objects
        for k, item in enumerate(value):
            yield from _finite_problems(item, f"{path}[{k}]")
        return
    bad = np.flatnonzero(~np.isfinite(array.reshape(-1)))
    if bad.size:
        first = array.reshape(-1)[bad[0]]
        yield (
            f"{path} holds {bad.size} non-finite value(s) (first {first} at flat index "
            f"{int(bad[0])}): {_finite_fix(path)}"
        )


def _finite_fix(path: str) -> str:
    if ".references[" in path:
        return "reference vectors must be finite numbers; recompute them (re-export the card)"
    return "a card holds finite numbers only; fix the program that wrote it"


def _shape_problems(card: Mapping[str, Any]) -> Iterator[str]:
    """Static sizes no network has: a fixed batch, absurd object counts or row sizes.

    These are refused before any tensor is built, so that a card cannot make the input
    builder (or a check's random inputs) allocate more memory than a machine has.
    """
    for kind in ("inputs", "outputs"):
        for i, node in enumerate(card[kind]):
            yield from _node_shape_problems(node, f"{kind}[{i}]", kind)


def _node_shape_problems(node: Mapping[str, Any], where: str, kind: str) -> Iterator[str]:
    name, shape = node["name"], node["shape"]
    floats = [axis for axis, dim in enumerate(shape) if isinstance(dim, float)]
    for axis in floats:
        yield f"{where}.shape[{axis}] of {name!r} is {shape[axis]!r}; write sizes as integers"
    batch = shape[0]
    if batch is not None and batch > 1:
        yield (
            f"{where}.shape[0] (the batch axis of {name!r}) is fixed to {_whole(batch)}: recast "
            "evaluates chunks of any number of rows, so the batch axis must be dynamic (null) "
            'or 1; re-export the network with a dynamic batch axis (dynamic_axes {"0": "batch"})'
        )
    layout = node.get("layout")
    counted = layout in ("sequence", "mask")  # axis 1 counts objects: max_count governs it
    max_count = node.get("max_count")
    if kind == "inputs" and max_count is not None:
        if isinstance(max_count, float):
            yield f"{where}.max_count of {name!r} is {max_count!r}; write it as an integer"
        if max_count > MAX_OBJECTS:
            yield (
                f"{where}.max_count of {name!r} (axis 1, objects of {node.get('collection')!r}) "
                f"is {_whole(max_count)}: more than {MAX_OBJECTS} objects per row is no real "
                "collection (published networks take at most a few hundred); fix max_count "
                "and shape[1]"
            )
    for axis, dim in enumerate(shape[1:], start=1):
        if dim is None or (counted and axis == 1 and kind == "inputs"):
            continue
        if dim > MAX_ROW_ELEMENTS:
            yield (
                f"{where}.shape[{axis}] of {name!r} is {_whole(dim)}: more than "
                f"{MAX_ROW_ELEMENTS} values per row along axis {axis}; fix the size"
            )
            return
    per_row = _row_elements(node, kind)
    if per_row > MAX_ROW_ELEMENTS and not (max_count is not None and max_count > MAX_OBJECTS):
        yield (
            f"{where} ({name!r}, shape {[_whole(d) if d else d for d in shape]}) holds {per_row} "
            f"values per row, more than {MAX_ROW_ELEMENTS}; no published network takes so many "
            "inputs: fix the shape"
        )
    if kind == "inputs":
        for j, feature in enumerate(node.get("features", [])):
            count = feature["source"].get("max_count")
            if count is not None and count > MAX_OBJECTS:
                yield (
                    f"{where}.features[{j}].source.max_count of {feature['name']!r} is "
                    f"{_whole(count)}: more than {MAX_OBJECTS} objects per row is no real "
                    "collection; fix max_count"
                )


def _row_elements(node: Mapping[str, Any], kind: str) -> int:
    """Values per row of a node as the builder makes it (static axes after the batch)."""
    size = 1
    for dim in node["shape"][1:]:
        size *= int(dim) if dim is not None else 1
    if kind == "inputs":
        width = len(node.get("features", [])) or 1
        layout = node.get("layout")
        if layout == "sequence":
            size = max(size, int(node.get("max_count", 1)) * width)
        elif layout == "mask":
            size = max(size, int(node.get("max_count", 1)))
        else:
            size = max(size, width)
    return size
