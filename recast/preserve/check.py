"""`recast card check`: everything a card promises, verified against its ONNX files.

Schema problems stop the check at once (they are all reported together by the schema layer);
after that every problem is collected — digests, the ONNX checker, node names, dtypes and
shapes against the graph, opsets, reference vectors reproduced on onnxruntime CPU, and the
output activations against the graph (see :mod:`recast.preserve.activations`) — and raised
together in one :class:`CardCheckError`. Sizes and numbers a card cannot mean (a fixed batch,
absurd object counts, NaN or zero-width preprocessing) are refused when the card is read.

What the card does not yet say — inputs whose definition, unit or padding a tool guessed
(``guessed``, schema 1.1.0), definitions marked TODO, object slots without padding — is listed
by :func:`description_gaps`: warnings, or problems with ``strict``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort

from ..errors import CardCheckError
from . import activations, locate
from .card import NUMPY_DTYPES, ModelFile, NetworkCard
from .export import random_reference_inputs, reproduce_references
from .session import make_session, run_rows

log = logging.getLogger(__name__)

_ONNX_DTYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.DOUBLE: "float64",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.BOOL: "bool",
}


@dataclass
class CheckReport:
    """What `check_card` verified, for printing."""

    card: NetworkCard
    checked: list[str] = field(default_factory=list)
    #: what could not be checked: model files that are not distributed and were not found
    skipped: list[str] = field(default_factory=list)
    #: doubts that do not fail the check (e.g. outputs declared linear that look like softmax)
    warnings: list[str] = field(default_factory=list)
    #: what the card does not yet state (:func:`description_gaps`), also among the warnings
    gaps: list[str] = field(default_factory=list)


def check_card(
    path: str | Path, network_file: str | Path | None = None, strict: bool = False
) -> CheckReport:
    """Verify a card completely; raise :class:`CardCheckError` listing every problem.

    A model file marked ``"distributed": false`` that cannot be found is not a problem of the
    card: the report lists it under ``skipped``. ``network_file`` names it explicitly. What
    the card's description still lacks (:func:`description_gaps`) is a warning, or with
    ``strict`` a problem.
    """
    card = NetworkCard.load(path)
    if network_file is not None:
        card.use_files_from(network_file)
    report = CheckReport(card)
    problems: list[str] = []
    for model in card.model_files():
        found = list(_check_file(card, model, report))
        problems += [f"{model.path.name}: {p}" for p in found]
    gaps = description_gaps(card)
    if strict:
        problems += gaps
    else:
        report.gaps += gaps
        report.warnings += gaps
    if problems:
        raise CardCheckError(card.source, problems)
    return report


#: how many names a gap lists before "and N more"
GAP_NAMES = 6
_STATE_THEM = "state them with --definitions FILE or recast card edit"


def description_gaps(card: NetworkCard | Mapping[str, Any]) -> list[str]:
    """What the card does not yet say about its inputs, one readable line per kind: inputs
    whose definition, unit or padding is guessed (``guessed``, written by the importers),
    definitions containing TODO, and object-slot or sequence features without padding.
    Empty when the card states everything."""
    document = card.document if isinstance(card, NetworkCard) else card
    kinds: dict[str, list[str]] = {
        "a guessed definition": [],
        "a definition marked TODO": [],
        "a guessed unit": [],
        "a guessed padding": [],
        "no padding (an object slot or a sequence feature)": [],
    }
    for node in document.get("inputs", []):
        for feature in node.get("features", []):
            name, guessed = str(feature.get("name")), feature.get("guessed", [])
            if "definition" in guessed:
                kinds["a guessed definition"].append(name)
            elif "TODO" in str(feature.get("definition", "")):
                kinds["a definition marked TODO"].append(name)
            if "unit" in guessed:
                kinds["a guessed unit"].append(name)
            if "padding" in guessed:
                kinds["a guessed padding"].append(name)
            slot = "position" in feature.get("source", {}) or node.get("layout") == "sequence"
            if slot and "padding" not in feature:
                kinds["no padding (an object slot or a sequence feature)"].append(name)
    return [_gap(kind, names) for kind, names in kinds.items() if names]


def _gap(kind: str, names: Sequence[str]) -> str:
    shown = ", ".join(names[:GAP_NAMES])
    if len(names) > GAP_NAMES:
        shown += f" and {len(names) - GAP_NAMES} more"
    counted = "1 input has" if len(names) == 1 else f"{len(names)} inputs have"
    fix = _STATE_THEM.replace("them", "it") if len(names) == 1 else _STATE_THEM
    return f"{counted} {kind}: {shown} — {fix}"


def _check_file(card: NetworkCard, model: ModelFile, report: CheckReport) -> Iterator[str]:
    where = f"files[{model.index}]"
    if not model.path.is_file():
        if not model.distributed and card.file_override is None:
            report.skipped.append(card.missing_reason(model))
            return
        if model.path.exists():  # a folder, pipe or device stands under its name
            kind = "a folder" if model.path.is_dir() else "not a regular file (a pipe or device)"
            yield f"is {kind} (named by {where}.path); the path must name the ONNX file itself"
        else:
            yield f"no such file (named by {where}.path); put it beside the card or fix the path"
        return
    mismatch = locate.digest_mismatch(model.path, model.entry)
    if mismatch is not None:
        name, expected, actual = mismatch
        yield (
            f"{name} is {actual} but {where}.{name} records {expected}: the file was "
            "modified or replaced"
        )
        return
    report.checked.append(f"{model.path.name}: {locate.digest_field(model.entry)} matches")
    try:
        graph_model = onnx.load(str(model.path))
        onnx.checker.check_model(graph_model)
    except Exception as exc:  # onnx raises several untyped errors for broken files
        reason = str(exc).rstrip(".")
        yield (
            f"not a valid ONNX model ({reason}): the file is truncated, corrupt or not ONNX; "
            "fetch or export it again"
        )
        return
    report.checked.append(f"{model.path.name}: ONNX checker passes")
    opset = next((o.version for o in graph_model.opset_import if o.domain in ("", "ai.onnx")), None)
    recorded = model.entry.get("opset")  # unknown for a file that is not distributed
    if recorded is not None and opset != recorded:
        yield f"{where}.opset is {recorded} but the graph uses opset {opset}"
    graph = graph_model.graph
    initialisers = {i.name for i in graph.initializer}
    graph_inputs = {i.name: i for i in graph.input if i.name not in initialisers}
    graph_outputs = {o.name: o for o in graph.output}
    node_problems = list(_check_nodes(card.inputs, "inputs", graph_inputs, model))
    node_problems += _check_nodes(card.outputs, "outputs", graph_outputs, model)
    for name in sorted(set(graph_inputs) - {model.node_name(n["name"]) for n in card.inputs}):
        node_problems.append(f"the graph has an input {name!r} that the card does not describe")
    yield from node_problems
    if not node_problems:
        report.checked.append(f"{model.path.name}: nodes, dtypes and shapes agree with the graph")
    node_names = dict(model.entry.get("node_names", {}))
    session = make_session(str(model.path))
    references = model.entry.get("references", [])
    if not references:
        log.warning("%s: %s has no reference vectors", card.source, model.path.name)
    reproduced = []
    for k, reference in enumerate(references):
        problems = reproduce_references(session, reference, node_names)
        yield from (f"{where}.references[{k}]: {problem}" for problem in problems)
        if not problems:
            reproduced.append(reference)
    if references and len(reproduced) == len(references):
        report.checked.append(
            f"{model.path.name}: {len(references)} reference set(s) reproduced by onnxruntime"
        )
    activation_problems = list(activations.operation_problems(card.outputs, graph, node_names))
    if not node_problems:
        activation_problems += _value_problems(card, model, session, reproduced, report)
    yield from activation_problems
    if not activation_problems and not node_problems:
        report.checked.append(f"{model.path.name}: output activations agree with the graph")


def _value_problems(
    card: NetworkCard,
    model: ModelFile,
    session: ort.InferenceSession,
    references: list[Mapping[str, Any]],
    report: CheckReport,
) -> list[str]:
    """Declared activations against the graph's values on the references and random rows."""
    names = [n["name"] for n in card.outputs]
    graph_names = [model.node_name(n) for n in names]
    feeds = [
        {model.node_name(k): np.asarray(v, dtype=_dtype(card, k)) for k, v in r["inputs"].items()}
        for r in references
    ]
    random = random_reference_inputs(card.document, rows=activations.RANDOM_ROWS)
    feeds.append({model.node_name(k): v for k, v in random.items()})
    collected: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for feed in feeds:
        try:
            values = run_rows(session, graph_names, feed)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            report.warnings.append(
                f"{model.path.name}: output activations checked on the references only; "
                f"onnxruntime cannot run random inputs built from the card: {exc}"
            )
            break
        for name, value in zip(names, values, strict=True):
            if name in collected:
                array = _numeric(value)
                if array is None:
                    report.warnings.append(
                        f"{model.path.name}: output {name!r} is not a numeric tensor; its "
                        "activation is not checked"
                    )
                    del collected[name]
                else:
                    collected[name].append(array)
    outputs = {n: np.concatenate(v) for n, v in collected.items() if v}
    where = f"the references and {activations.RANDOM_ROWS} random rows"
    doubts = activations.looks_like_softmax(card.outputs, outputs, where)
    report.warnings += [f"{model.path.name}: {w}" for w in doubts]
    return list(activations.value_problems(card.outputs, outputs, where))


def _numeric(value: Any) -> np.ndarray | None:
    """An output as float64 rows, or None for a non-tensor (e.g. a ZipMap list of dicts)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array.reshape(len(array), -1) if array.ndim else array.reshape(1, 1)


def _dtype(card: NetworkCard, node_name: str) -> Any:
    for node in card.inputs:
        if node["name"] == node_name:
            return NUMPY_DTYPES[node["dtype"]]
    return None


def _check_nodes(
    nodes: list[dict[str, Any]], kind: str, graph_nodes: Mapping[str, Any], model: ModelFile
) -> Iterator[str]:
    for i, node in enumerate(nodes):
        name = model.node_name(node["name"])
        if name not in graph_nodes:
            yield (
                f"{kind}[{i}].name {name!r} is not a graph {kind[:-1]}; the graph has "
                f"{sorted(graph_nodes)}"
            )
            continue
        tensor = graph_nodes[name].type.tensor_type
        dtype = _ONNX_DTYPES.get(tensor.elem_type, f"onnx type {tensor.elem_type}")
        if dtype != node["dtype"]:
            yield f"{kind}[{i}].dtype is {node['dtype']!r} but the graph's {name!r} is {dtype!r}"
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        if len(dims) != len(node["shape"]):
            yield (
                f"{kind}[{i}].shape {node['shape']} has rank {len(node['shape'])} but the "
                f"graph's {name!r} has shape {dims}"
            )
            continue
        for axis, (card_dim, graph_dim) in enumerate(zip(node["shape"], dims, strict=True)):
            if card_dim is not None and graph_dim is not None and card_dim != graph_dim:
                what = "features" if kind == "inputs" and axis == len(dims) - 1 else "size"
                yield (
                    f"{kind}[{i}].shape[{axis}] is {card_dim} but the graph's {name!r} has "
                    f"{graph_dim} ({what} along axis {axis})"
                )
            if card_dim is None and graph_dim is not None:
                yield (
                    f"{kind}[{i}].shape[{axis}] is dynamic in the card but fixed to {graph_dim} "
                    f"in the graph"
                )
