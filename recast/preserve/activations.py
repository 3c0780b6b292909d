"""Does each output's declared activation match what the graph computes?

A selection reads a card's outputs as it says they are: a cut ``signal > 0.9`` on a column the
card calls ``sigmoid`` means a probability, on a ``linear`` one a logit. A wrong activation is
a silently wrong selection, so ``recast card check`` verifies it two ways:

1. **The graph's last operation**, looking through ``Identity`` nodes: an output made by a
   ``Sigmoid``, ``Softmax``, ``Tanh`` or ``Relu`` node has that activation (``probability``
   is accepted for ``Sigmoid`` and ``Softmax``). Any other last node (``MatMul``, ``Add``,
   ``Concat``, ...) proves nothing; the values then decide.
2. **The values** the graph gives on the card's reference inputs and on a few seeded random
   inputs built from the card (standard normal, in the network's input space):
   ``sigmoid``/``probability`` lie in [0, 1]; ``softmax`` lie in [0, 1] and the softmax
   columns of one node sum to 1 per row (to at most 1 if some columns of the node have no
   label); ``tanh`` lie in [-1, 1]; ``relu`` are >= 0; ``linear`` may be anything. Each
   bound is allowed :data:`RANGE_TOLERANCE`, each sum :data:`SUM_TOLERANCE` (float32).

A node whose columns are all ``linear`` (or undeclared) while every value lies in [0, 1] and
each row sums to 1 looks like softmax probabilities, and a single such column whose every
value lies strictly between 0 and 1 looks like a probability: those are warnings, not
refusals (a regression network may legitimately output fractions).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import onnx

log = logging.getLogger(__name__)

#: How far outside its range a bounded activation's value may be (float32 rounding).
RANGE_TOLERANCE = 1e-5
#: How far from 1 the row sum of a node's softmax columns may be (float32 rounding).
SUM_TOLERANCE = 1e-4
#: Rows of seeded random inputs run through the graph in addition to the references.
RANDOM_ROWS = 16

#: ONNX operator -> the activations a card may declare for an output it makes
GRAPH_ACTIVATIONS = {
    "Sigmoid": ("sigmoid", "probability"),
    "Softmax": ("softmax", "probability"),
    "Tanh": ("tanh",),
    "Relu": ("relu",),
}

_RANGES = {
    "sigmoid": (0.0, 1.0),
    "probability": (0.0, 1.0),
    "softmax": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, np.inf),
}


def last_operation(graph: onnx.GraphProto, output: str) -> str | None:
    """The op type of the node making ``output``, looking through Identity nodes (tf2onnx
    adds them); None for a graph input or initialiser."""
    made_by = {out: node for node in graph.node for out in node.output}
    node = made_by.get(output)
    while node is not None and node.op_type == "Identity" and node.input:
        node = made_by.get(node.input[0])
    return node.op_type if node is not None else None


def graph_activation(graph: onnx.GraphProto, output: str) -> str | None:
    """The activation an output certainly has from its last operation, or None."""
    op = last_operation(graph, output)
    return GRAPH_ACTIVATIONS[op][0] if op in GRAPH_ACTIVATIONS else None


def _column(node: Mapping[str, Any], i: int, j: int) -> str:
    column = node["columns"][j]
    return f"outputs[{i}].columns[{j}] (index {column['index']}, label {column['label']!r})"


def operation_problems(
    nodes: Sequence[Mapping[str, Any]], graph: onnx.GraphProto, node_names: Mapping[str, str]
) -> Iterator[str]:
    """Declared activations that the graph's last operation contradicts."""
    for i, node in enumerate(nodes):
        name = node_names.get(node["name"], node["name"])
        op = last_operation(graph, name)
        allowed = GRAPH_ACTIVATIONS.get(op or "")
        if allowed is None:
            continue
        for j, column in enumerate(node["columns"]):
            declared = column.get("activation")
            if declared is not None and declared not in allowed:
                yield (
                    f"{_column(node, i, j)} says activation {declared!r} but the graph's output "
                    f"{name!r} is made by a {op} node; set it to {allowed[0]!r}"
                )


def _as_rows(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim <= 1:
        return values.reshape(-1, 1)
    return values.reshape(-1, values.shape[-1])


def value_problems(
    nodes: Sequence[Mapping[str, Any]], outputs: Mapping[str, np.ndarray], where: str
) -> Iterator[str]:
    """Declared activations that the values the graph gave contradict.

    ``outputs``: card output node name -> the graph's values, rows stacked; ``where`` says on
    which inputs (for the message).
    """
    for i, node in enumerate(nodes):
        if node["name"] not in outputs:
            continue
        rows = _as_rows(outputs[node["name"]])
        softmax = []
        for j, column in enumerate(node["columns"]):
            declared = column.get("activation")
            if declared is None or column["index"] >= rows.shape[1]:
                continue
            values = rows[:, column["index"]]
            if declared == "softmax":
                softmax.append(column["index"])
            if declared not in _RANGES:
                continue
            low, high = _RANGES[declared]
            outside = (values < low - RANGE_TOLERANCE) | (values > high + RANGE_TOLERANCE)
            if outside.any() or np.isnan(values).any():
                yield (
                    f"{_column(node, i, j)} says activation {declared!r} but the graph gives "
                    f"values from {np.nanmin(values):.4g} to {np.nanmax(values):.4g} on {where} "
                    f"(a {declared} output lies in [{low:g}, {high:g}]); fix the activation "
                    "(e.g. 'linear' for a logit) or the network"
                )
        if softmax:
            yield from _sum_problems(node, i, rows, softmax, where)


def _sum_problems(
    node: Mapping[str, Any], i: int, rows: np.ndarray, softmax: list[int], where: str
) -> Iterator[str]:
    """The softmax columns of a node sum to 1 per row (to at most 1 when columns of the
    node carry no label, since those may be part of the softmax too)."""
    sums = rows[:, softmax].sum(axis=1)
    every_column = len({c["index"] for c in node["columns"]}) >= rows.shape[1]
    too_big = sums > 1.0 + SUM_TOLERANCE
    too_small = (sums < 1.0 - SUM_TOLERANCE) if every_column else np.zeros_like(too_big)
    if too_big.any() or too_small.any():
        labels = [c["label"] for c in node["columns"] if c["index"] in softmax]
        worst = int(np.argmax(np.abs(sums - 1.0)))
        yield (
            f"outputs[{i}] ({node['name']!r}): the columns declared 'softmax' {labels} sum to "
            f"{sums[worst]:.6g} in row {worst} of {where}, not 1 (tolerance {SUM_TOLERANCE:g}); "
            "declare them 'linear' (logits) or 'sigmoid' (independent probabilities), or fix "
            "the network"
        )


def looks_like_softmax(
    nodes: Sequence[Mapping[str, Any]], outputs: Mapping[str, np.ndarray], where: str
) -> Iterator[str]:
    """Warnings for nodes declared linear whose every row looks like probabilities."""
    for i, node in enumerate(nodes):
        declared = {c.get("activation") for c in node["columns"]}
        if node["name"] not in outputs or not declared <= {None, "linear"}:
            continue
        rows = _as_rows(outputs[node["name"]])
        if not len(rows):
            continue
        if rows.shape[1] == 1 and ((rows > 0) & (rows < 1)).all():
            yield (
                f"outputs[{i}] ({node['name']!r}) is declared 'linear' but every value of "
                f"{where} lies strictly between 0 and 1, as a probability does; if it is one, "
                "declare it 'sigmoid' or 'probability'"
            )
            continue
        inside = (rows >= -RANGE_TOLERANCE).all() and (rows <= 1 + RANGE_TOLERANCE).all()
        if inside and np.allclose(rows.sum(axis=1), 1.0, rtol=0, atol=SUM_TOLERANCE):
            yield (
                f"outputs[{i}] ({node['name']!r}) is declared 'linear' but every row of {where} "
                "lies in [0, 1] and sums to 1, as softmax probabilities do; if so, declare "
                "its columns 'softmax'"
            )
