"""`recast card check`: everything a card promises, verified against its ONNX files.

Schema problems stop the check at once (they are all reported together by the schema layer);
after that every problem is collected — digests, the ONNX checker, node names, dtypes and
shapes against the graph, opsets, and reference vectors reproduced on onnxruntime CPU — and
raised together in one :class:`CardCheckError`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx

from ..errors import CardCheckError
from . import locate
from .card import ModelFile, NetworkCard
from .export import reproduce_references
from .session import make_session

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


def check_card(path: str | Path, network_file: str | Path | None = None) -> CheckReport:
    """Verify a card completely; raise :class:`CardCheckError` listing every problem.

    A model file marked ``"distributed": false`` that cannot be found is not a problem of the
    card: the report lists it under ``skipped``. ``network_file`` names it explicitly.
    """
    card = NetworkCard.load(path)
    if network_file is not None:
        card.use_files_from(network_file)
    report = CheckReport(card)
    problems: list[str] = []
    for model in card.model_files():
        found = list(_check_file(card, model, report))
        problems += [f"{model.path.name}: {p}" for p in found]
    if problems:
        raise CardCheckError(card.source, problems)
    return report


def _check_file(card: NetworkCard, model: ModelFile, report: CheckReport) -> Iterator[str]:
    where = f"files[{model.index}]"
    if not model.path.is_file():
        if not model.distributed and card.file_override is None:
            report.skipped.append(card.missing_reason(model))
            return
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
        yield f"not a valid ONNX model: {exc}"
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
    yield from _check_nodes(card.inputs, "inputs", graph_inputs, model)
    yield from _check_nodes(card.outputs, "outputs", graph_outputs, model)
    for name in sorted(set(graph_inputs) - {model.node_name(n["name"]) for n in card.inputs}):
        yield f"the graph has an input {name!r} that the card does not describe"
    report.checked.append(f"{model.path.name}: nodes, dtypes and shapes agree with the graph")
    references = model.entry.get("references", [])
    if not references:
        log.warning("%s: %s has no reference vectors", card.source, model.path.name)
        return
    session = make_session(str(model.path))
    node_names = dict(model.entry.get("node_names", {}))
    for k, reference in enumerate(references):
        for problem in reproduce_references(session, reference, node_names):
            yield f"{where}.references[{k}]: {problem}"
    report.checked.append(
        f"{model.path.name}: {len(references)} reference set(s) reproduced by onnxruntime"
    )


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
