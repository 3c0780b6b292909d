"""Read lwtnn network files and convert them to ONNX.

lwtnn (the "lightweight trained neural network" C++ library used in ATLAS) stores a network
as JSON in one of two forms:

- **graph** (``lwtnn.LightweightGraph``): ``inputs`` (input nodes, each with ``variables``
  ``{name, offset, scale}``), ``input_sequences``, ``layers``, ``nodes`` (a DAG of ``input``,
  ``feed_forward``, ``concatenate`` and ``add`` nodes) and ``outputs`` (``{key: {labels,
  node_index}}``);
- **sequential** (``lwtnn.LightweightNeuralNetwork``): ``inputs`` (``{name, offset,
  scale}``), ``layers`` applied in order and ``outputs`` (the labels).

lwtnn feeds its network x' = (x + offset) * scale; the ONNX file made here takes x' (the card
carries the preprocessing, as for every imported network). Dense layers store their weights
flat, row-major, n_out x n_in. Only feed-forward networks convert: sequence inputs and
recurrent, highway and embedding layers are refused by name, as is anything the file gets
wrong (weight counts, dangling node or layer numbers, cycles), with its JSON path.

>>> network = read_lwtnn("ATLAS_13TeV_1LEPJets_139invfb_6j.json")     # doctest: +SKIP
>>> model = lwtnn_to_onnx(network)                                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from ..errors import ArtefactNotFoundError, InvalidLwtnnError
from ..io import sha256_file
from ..schema import load_json
from ..version import __version__

log = logging.getLogger(__name__)

#: The ONNX opset and IR version of converted files (onnxruntime >= 1.10 runs them).
OPSET = 13
IR_VERSION = 8
#: The symbolic name of the batch axis of converted files.
BATCH = "batch"

#: lwtnn activation -> what it computes (for messages and docs)
ACTIVATIONS = {
    "linear": "x",
    "rectified": "max(x, 0)",
    "sigmoid": "1 / (1 + exp(-x))",
    "tanh": "tanh(x)",
    "softmax": "exp(x_i) / sum_j exp(x_j)",
    "hard_sigmoid": "clip(0.2 x + 0.5, 0, 1)",
    "elu": "x if x > 0 else alpha (exp(x) - 1)",
    "leakyrelu": "x if x > 0 else alpha x",
    "swish": "x sigmoid(alpha x)",
    "abs": "|x|",
}
_NEEDS_ALPHA = ("elu", "leakyrelu", "swish")
#: the architectures converted; the others lwtnn knows, with why they are not
ARCHITECTURES = ("dense", "normalization", "maxout")
_REFUSED_ARCHITECTURES = {
    "lstm": "a recurrent layer, run over a sequence of objects",
    "gru": "a recurrent layer, run over a sequence of objects",
    "simplernn": "a recurrent layer, run over a sequence of objects",
    "embedding": "an embedding of integer categories in a sequence",
    "highway": "a highway layer",
}
_NODE_TYPES = ("input", "feed_forward", "concatenate", "add")
_SEQUENCE_NODES = ("input_sequence", "sequence", "time_distributed", "sum")
_SEQUENCE_FIX = (
    "recast-nn converts feed-forward lwtnn networks only; convert this network from its "
    "original (Keras) model with tf2onnx instead"
)


# -- the network as read -----------------------------------------------------------------------
@dataclass(frozen=True)
class Variable:
    """One input of an input node: x' = (x + offset) * scale."""

    name: str
    offset: float
    scale: float


@dataclass(frozen=True)
class InputNode:
    name: str
    variables: tuple[Variable, ...]

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]


@dataclass(frozen=True)
class Activation:
    function: str  # a key of ACTIVATIONS
    alpha: float | None = None


@dataclass(frozen=True)
class Dense:
    """Weights (n_out x n_in, row-major, possibly empty) and bias (possibly empty)."""

    weights: np.ndarray
    bias: np.ndarray


@dataclass(frozen=True)
class Layer:
    architecture: str  # one of ARCHITECTURES
    where: str  # its JSON path, "layers[3]"
    activation: Activation | None = None  # dense layers only
    dense: Dense | None = None  # dense and normalization (weights are the factors)
    sublayers: tuple[Dense, ...] = ()  # maxout


@dataclass(frozen=True)
class Node:
    type: str  # one of _NODE_TYPES
    sources: tuple[int, ...]
    layer: int | None = None  # feed_forward
    size: int | None = None  # input


@dataclass(frozen=True)
class Output:
    key: str
    labels: tuple[str, ...]
    node: int


@dataclass(frozen=True)
class LwtnnNetwork:
    """An lwtnn network, checked: every node, layer and size is consistent.

    A sequential file is held as a graph (one input node, a chain of feed-forward nodes);
    ``form`` says which it was, so that messages use the file's own JSON paths.
    """

    path: Path
    sha256: str
    form: str  # "graph" or "sequential"
    inputs: tuple[InputNode, ...]
    layers: tuple[Layer, ...]
    nodes: tuple[Node, ...]
    outputs: tuple[Output, ...]
    #: width of every node's output, in node order
    widths: tuple[int, ...] = field(default=())
    #: node indices in an order where every node follows its sources
    order: tuple[int, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        """The variable names of the only input node (the importer's case)."""
        return [n for node in self.inputs for n in node.names]

    def node_label(self, index: int) -> str:
        """A node as the file names it: ``nodes[3]``, or for a sequential file what it is."""
        if self.form == "graph":
            return f"nodes[{index}]"
        return "the inputs" if index == 0 else f"layers[{index - 1}]"


# -- reading -----------------------------------------------------------------------------------
class _Reader:
    """Typed access to one lwtnn document, each refusal naming the file and the JSON path."""

    def __init__(self, source: Path) -> None:
        self.source = source

    def fail(self, where: str, what: str, fix: str) -> InvalidLwtnnError:
        return InvalidLwtnnError(f"{self.source}: {where} {what}; {fix}")

    def get(self, mapping: Mapping[str, Any], key: str, where: str) -> Any:
        if not isinstance(mapping, Mapping):
            raise self.fail(where, f"is a JSON {_kind(mapping)}", "expected an object")
        if key not in mapping:
            found = ", ".join(sorted(map(str, mapping))) or "nothing"
            raise self.fail(
                f"{where}.{key}" if where else key,
                f"is missing (found {found})",
                "lwtnn writes it: fetch the file again or fix the program that wrote it",
            )
        return mapping[key]

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"is a JSON {_kind(value)}", "expected an array")
        return value

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"is {_shown(value)}", "expected a non-empty string")
        return value

    def integer(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(where, f"is {_shown(value)}", "expected a whole number >= 0")
        return value

    def number(self, value: Any, where: str) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value):
            raise self.fail(where, f"is {_shown(value)}", "expected a finite number")
        return float(value)

    def numbers(self, value: Any, where: str) -> np.ndarray:
        items = self.array(value, where)
        for k, item in enumerate(items):  # null, text, nested lists: named, not made NaN
            if isinstance(item, bool) or not isinstance(item, int | float):
                raise self.fail(f"{where}[{k}]", f"is {_shown(item)}", "expected a number")
        array = np.asarray(items, dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(array))
        if bad.size:
            k = int(bad[0])
            raise self.fail(
                f"{where}[{k}]",
                f"is {array[k]} ({bad.size} non-finite value(s))",
                "a network's numbers must be finite: fetch the file again or fix its converter",
            )
        return array


def _kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "null" if value is None else "number"
    )


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def looks_like_lwtnn(document: Any) -> bool:
    """Whether a parsed JSON document is an lwtnn network (``layers`` and ``inputs``/``nodes``)."""
    return (
        isinstance(document, Mapping)
        and "layers" in document
        and ("inputs" in document or "nodes" in document)
    )


def json_document(path: str | Path) -> Any | None:
    """The parsed document if the file is JSON (it starts with ``{``), else None: an ONNX
    file (binary) is not read whole."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            start = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return None
    if not start.startswith(b"{"):
        return None
    try:
        return load_json(path)
    except Exception:  # not JSON after all: whoever reads it as ONNX says what it is
        return None


def is_lwtnn(path: str | Path) -> bool:
    """Whether the file is an lwtnn network, by its content (not its name): a JSON object
    with ``layers`` and ``inputs`` or ``nodes``."""
    return looks_like_lwtnn(json_document(path))


def read_lwtnn(path: str | Path) -> LwtnnNetwork:
    """Read and check an lwtnn network file (graph or sequential form).

    Raises :class:`~recast.errors.InvalidLwtnnError` naming the file, the JSON path, what is
    wrong and the fix; :class:`~recast.errors.ArtefactNotFoundError` if there is no file.
    """
    path = Path(path)
    if not path.is_file():
        raise ArtefactNotFoundError(f"{path}: no such lwtnn file")
    document = load_json(path)
    reader = _Reader(path)
    if not looks_like_lwtnn(document):
        found = sorted(document) if isinstance(document, Mapping) else _kind(document)
        raise reader.fail(
            "(document)",
            f"is not an lwtnn network (found {found})",
            "an lwtnn file is a JSON object with 'layers' and 'inputs' (sequential form) or "
            "'inputs', 'input_sequences', 'nodes' and 'outputs' (graph form)",
        )
    digest = sha256_file(path)
    if "nodes" in document:
        network = _read_graph_form(document, reader, path, digest)
    else:
        network = _read_sequential_form(document, reader, path, digest)
    order = _topological_order(network, reader)
    widths = _widths(network, order, reader)
    network = LwtnnNetwork(**{**network.__dict__, "widths": tuple(widths), "order": order})
    log.info(
        "read lwtnn %s network %s: %d inputs, %d layers, outputs %s",
        network.form,
        path.name,
        sum(len(i.variables) for i in network.inputs),
        len(network.layers),
        [label for o in network.outputs for label in o.labels],
    )
    return network


def _variables(items: Any, where: str, reader: _Reader) -> tuple[Variable, ...]:
    variables = []
    seen: dict[str, int] = {}
    for k, item in enumerate(reader.array(items, where)):
        at = f"{where}[{k}]"
        name = reader.text(reader.get(item, "name", at), f"{at}.name")
        if name in seen:
            raise reader.fail(
                f"{at}.name",
                f"{name!r} repeats {where}[{seen[name]}].name",
                "each input of a node needs its own name",
            )
        seen[name] = k
        offset = reader.number(reader.get(item, "offset", at), f"{at}.offset")
        scale = reader.number(reader.get(item, "scale", at), f"{at}.scale")
        variables.append(Variable(name, offset, scale))
    if not variables:
        raise reader.fail(where, "is empty", "a network needs at least one input")
    return tuple(variables)


def _read_graph_form(
    document: Mapping[str, Any], reader: _Reader, path: Path, digest: str
) -> LwtnnNetwork:
    sequences = document.get("input_sequences", [])
    if sequences:
        names = [s.get("name", "?") if isinstance(s, Mapping) else "?" for s in sequences]
        raise reader.fail(
            "input_sequences",
            f"holds {len(sequences)} sequence input(s) {names}: sequence inputs are not supported",
            _SEQUENCE_FIX,
        )
    inputs: list[InputNode] = []
    for k, item in enumerate(reader.array(reader.get(document, "inputs", ""), "inputs")):
        name = reader.text(reader.get(item, "name", f"inputs[{k}]"), f"inputs[{k}].name")
        if name in [i.name for i in inputs]:
            raise reader.fail(f"inputs[{k}].name", f"{name!r} repeats", "name each input node once")
        variables = _variables(
            reader.get(item, "variables", f"inputs[{k}]"), f"inputs[{k}].variables", reader
        )
        inputs.append(InputNode(name, variables))
    if not inputs:
        raise reader.fail("inputs", "is empty", "a network needs an input node")
    layers = _layers(document, reader)
    nodes = tuple(
        _node(item, k, reader, len(inputs), len(layers))
        for k, item in enumerate(reader.array(reader.get(document, "nodes", ""), "nodes"))
    )
    outputs = []
    raw_outputs = reader.get(document, "outputs", "")
    if not isinstance(raw_outputs, Mapping) or not raw_outputs:
        raise reader.fail(
            "outputs", f"is {_shown(raw_outputs)}", "expected {name: {labels, node_index}}"
        )
    for key, item in raw_outputs.items():
        at = f"outputs.{key}"
        labels = tuple(
            reader.text(label, f"{at}.labels[{j}]")
            for j, label in enumerate(reader.array(reader.get(item, "labels", at), f"{at}.labels"))
        )
        node = reader.integer(reader.get(item, "node_index", at), f"{at}.node_index")
        if node >= len(nodes):
            raise reader.fail(
                f"{at}.node_index",
                f"is {node} but the file has {len(nodes)} nodes (0 to {len(nodes) - 1})",
                "point the output at an existing node",
            )
        if not labels:
            raise reader.fail(f"{at}.labels", "is empty", "give one label per output value")
        outputs.append(Output(str(key), labels, node))
    return LwtnnNetwork(path, digest, "graph", tuple(inputs), layers, nodes, tuple(outputs))


def _node(item: Any, k: int, reader: _Reader, n_inputs: int, n_layers: int) -> Node:
    at = f"nodes[{k}]"
    kind = reader.text(reader.get(item, "type", at), f"{at}.type")
    if kind in _SEQUENCE_NODES:
        raise reader.fail(
            f"{at}.type", f"is {kind!r}: sequence inputs are not supported", _SEQUENCE_FIX
        )
    if kind not in _NODE_TYPES:
        raise reader.fail(
            f"{at}.type",
            f"is {kind!r}, not an lwtnn node type",
            f"lwtnn graphs use {', '.join(_NODE_TYPES + _SEQUENCE_NODES)}",
        )
    raw = reader.array(reader.get(item, "sources", at), f"{at}.sources")
    sources = tuple(reader.integer(s, f"{at}.sources[{j}]") for j, s in enumerate(raw))
    if kind == "input":
        if len(sources) != 1 or sources[0] >= n_inputs:
            raise reader.fail(
                f"{at}.sources",
                f"is {list(sources)}: an input node names one of the {n_inputs} entries of "
                f"'inputs' (0 to {n_inputs - 1})",
                "fix the index",
            )
        size = reader.integer(reader.get(item, "size", at), f"{at}.size")
        return Node(kind, sources, size=size)
    if not sources:
        raise reader.fail(f"{at}.sources", "is empty", "a node needs at least one source")
    layer = None
    if kind == "feed_forward":
        if len(sources) != 1:
            raise reader.fail(
                f"{at}.sources",
                f"is {list(sources)}: a feed_forward node has one source",
                "concatenate the sources in a node of their own first",
            )
        layer = reader.integer(reader.get(item, "layer_index", at), f"{at}.layer_index")
        if layer >= n_layers:
            raise reader.fail(
                f"{at}.layer_index",
                f"is {layer} but the file has {n_layers} layers (0 to {n_layers - 1})",
                "point the node at an existing layer",
            )
    return Node(kind, sources, layer=layer)


def _read_sequential_form(
    document: Mapping[str, Any], reader: _Reader, path: Path, digest: str
) -> LwtnnNetwork:
    variables = _variables(reader.get(document, "inputs", ""), "inputs", reader)
    layers = _layers(document, reader)
    raw = reader.array(reader.get(document, "outputs", ""), "outputs")
    labels = tuple(reader.text(label, f"outputs[{j}]") for j, label in enumerate(raw))
    if not labels:
        raise reader.fail("outputs", "is empty", "give one label per output value")
    nodes = [Node("input", (0,), size=len(variables))]
    nodes += [Node("feed_forward", (k,), layer=k) for k in range(len(layers))]
    outputs = (Output("output", labels, len(nodes) - 1),)
    inputs = (InputNode("input", variables),)
    return LwtnnNetwork(path, digest, "sequential", inputs, layers, tuple(nodes), outputs)


def _layers(document: Mapping[str, Any], reader: _Reader) -> tuple[Layer, ...]:
    raw = reader.array(reader.get(document, "layers", ""), "layers")
    return tuple(_layer(item, f"layers[{k}]", reader) for k, item in enumerate(raw))


def _layer(item: Any, at: str, reader: _Reader) -> Layer:
    architecture = reader.text(reader.get(item, "architecture", at), f"{at}.architecture")
    if architecture in _REFUSED_ARCHITECTURES:
        raise reader.fail(
            f"{at}.architecture",
            f"is {architecture!r} ({_REFUSED_ARCHITECTURES[architecture]}), which recast-nn "
            f"does not convert (it converts {', '.join(ARCHITECTURES)} layers)",
            "convert this network from its original (Keras) model with tf2onnx instead",
        )
    if architecture not in ARCHITECTURES:
        raise reader.fail(
            f"{at}.architecture",
            f"is {architecture!r}, not an lwtnn architecture",
            f"lwtnn knows {', '.join([*ARCHITECTURES, *_REFUSED_ARCHITECTURES])}",
        )
    if architecture == "maxout":
        if item.get("activation") not in (None, "linear"):
            raise reader.fail(
                f"{at}.activation",
                f"is {_shown(item['activation'])}: lwtnn's maxout layers take no activation",
                "remove it",
            )
        subs = reader.array(reader.get(item, "sublayers", at), f"{at}.sublayers")
        if not subs:
            raise reader.fail(f"{at}.sublayers", "is empty", "a maxout layer needs sublayers")
        return Layer(
            architecture,
            at,
            sublayers=tuple(_dense(s, f"{at}.sublayers[{j}]", reader) for j, s in enumerate(subs)),
        )
    dense = _dense(item, at, reader)
    if architecture == "normalization":
        return Layer(architecture, at, dense=dense)
    if "activation" not in item:
        raise reader.fail(
            f"{at}.activation",
            "is missing",
            "lwtnn needs one on every dense layer ('linear': none)",
        )
    return Layer(
        architecture, at, _activation(item["activation"], f"{at}.activation", reader), dense
    )


def _dense(item: Any, at: str, reader: _Reader) -> Dense:
    weights = reader.numbers(reader.get(item, "weights", at), f"{at}.weights")
    bias = reader.numbers(reader.get(item, "bias", at), f"{at}.bias")
    return Dense(weights, bias)


def _activation(value: Any, at: str, reader: _Reader) -> Activation:
    """A string (``"rectified"``) or lwtnn's object form ``{"function": ..., "alpha": ...}``."""
    alpha: float | None = None
    if isinstance(value, Mapping):
        function = reader.text(reader.get(value, "function", at), f"{at}.function")
        if "alpha" in value:
            alpha = reader.number(value["alpha"], f"{at}.alpha")
        where = f"{at}.function"
    else:
        function = reader.text(value, at)
        where = at
    function = function.removesuffix("_legacy")  # lwtnn's older implementations, same maths
    if function not in ACTIVATIONS:
        raise reader.fail(
            where,
            f"is {function!r}, not an activation recast-nn converts",
            f"known: {', '.join(ACTIVATIONS)}",
        )
    if function == "elu" and alpha is None:
        alpha = 1.0  # lwtnn reads a bare "elu" with alpha 1 (older converters wrote it so)
    if function in _NEEDS_ALPHA and alpha is None:
        raise reader.fail(
            at,
            f"is {function!r} without its parameter",
            f'write it as {{"function": "{function}", "alpha": <value>}} with the value the '
            "network was trained with",
        )
    return Activation(function, alpha if function in _NEEDS_ALPHA else None)


# -- structure: order and widths -------------------------------------------------------------
def _topological_order(network: LwtnnNetwork, reader: _Reader) -> tuple[int, ...]:
    """Every node after its sources; a cycle is refused, naming its nodes."""
    nodes = network.nodes
    for k, node in enumerate(nodes):
        if node.type == "input":
            continue
        for j, source in enumerate(node.sources):
            if source >= len(nodes):
                raise reader.fail(
                    f"nodes[{k}].sources[{j}]",
                    f"is {source} but the file has {len(nodes)} nodes (0 to {len(nodes) - 1})",
                    "point the source at an existing node",
                )
    state = [0] * len(nodes)  # 0 unseen, 1 on the current path, 2 done
    order: list[int] = []
    for start in range(len(nodes)):
        if state[start]:
            continue
        state[start] = 1
        path = [start]
        stack: list[Iterator[int]] = [iter(_dependencies(nodes[start]))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
            elif state[following] == 1:
                cycle = [*path[path.index(following) :], following]
                raise reader.fail(
                    "nodes",
                    "form a cycle: "
                    + " -> ".join(f"nodes[{n}]" for n in cycle)
                    + " (each takes the next as a source)",
                    "a network is acyclic: fix the sources",
                )
            elif state[following] == 0:
                state[following] = 1
                path.append(following)
                stack.append(iter(_dependencies(nodes[following])))
    return tuple(order)


def _dependencies(node: Node) -> tuple[int, ...]:
    return () if node.type == "input" else node.sources


def _widths(network: LwtnnNetwork, order: Sequence[int], reader: _Reader) -> list[int]:
    widths = [0] * len(network.nodes)
    for k in order:
        node = network.nodes[k]
        label = network.node_label(k)
        if node.type == "input":
            variables = network.inputs[node.sources[0]].variables
            if node.size != len(variables):
                raise reader.fail(
                    f"nodes[{k}].size",
                    f"is {node.size} but inputs[{node.sources[0]}] has {len(variables)} variables",
                    "the size of an input node is its number of variables",
                )
            widths[k] = len(variables)
        elif node.type == "feed_forward":
            assert node.layer is not None
            source = node.sources[0]
            fed = f"{network.node_label(source)}, which feeds {label}"
            widths[k] = _layer_width(network.layers[node.layer], widths[source], fed, reader)
        elif node.type == "concatenate":
            widths[k] = sum(widths[s] for s in node.sources)
        else:  # add
            sizes = {s: widths[s] for s in node.sources}
            if len(set(sizes.values())) > 1:
                listed = ", ".join(f"nodes[{s}] {w}" for s, w in sizes.items())
                raise reader.fail(
                    f"nodes[{k}].sources",
                    f"are of different widths ({listed})",
                    "an add node sums nodes of one width",
                )
            widths[k] = widths[node.sources[0]]
    for out in network.outputs:
        if widths[out.node] != len(out.labels):
            where = f"outputs.{out.key}.labels" if network.form == "graph" else "outputs"
            raise reader.fail(
                where,
                f"has {len(out.labels)} label(s) but {network.node_label(out.node)} gives "
                f"{widths[out.node]} value(s)",
                "give one label per output value",
            )
    return widths


def _dense_width(dense: Dense, n_in: int, at: str, fed: str, reader: _Reader) -> int:
    """n_out of a weight matrix and bias fed ``n_in`` values; refuses counts that disagree."""
    n_w, n_b = dense.weights.size, dense.bias.size
    if n_w == 0:
        if n_b not in (0, n_in):
            raise reader.fail(
                f"{at}.bias",
                f"holds {n_b} numbers but the layer has no weights, so it adds one per input "
                f"value: n_in = {n_in} (the width of {fed})",
                "the bias needs n_out numbers",
            )
        return n_in
    if n_w % n_in == 0 and (n_b == 0 or n_b == n_w // n_in):
        return n_w // n_in
    if n_w % n_in == 0:
        n_out = n_w // n_in
        raise reader.fail(
            f"{at}.bias",
            f"holds {n_b} numbers but the layer has n_out = {n_out} outputs ({n_w} weights / "
            f"n_in = {n_in}, the width of {fed})",
            "the bias needs n_out numbers, one per output",
        )
    n_out = n_b if n_b else math.ceil(n_w / n_in)
    raise reader.fail(
        f"{at}.weights",
        f"holds {n_w} numbers but n_out x n_in = {n_out} x {n_in} = {n_out * n_in} (n_out = "
        f"{'the length of ' + at + '.bias' if n_b else 'weights / n_in, rounded up'}, n_in = the "
        f"width of {fed})",
        "a dense layer's weights are its n_out x n_in matrix, row-major; check that the layer "
        "is fed the node it was trained on",
    )


def _layer_width(layer: Layer, n_in: int, fed: str, reader: _Reader) -> int:
    at = layer.where
    if layer.architecture == "dense":
        assert layer.dense is not None
        return _dense_width(layer.dense, n_in, at, fed, reader)
    if layer.architecture == "normalization":
        assert layer.dense is not None
        for key, values in (("weights", layer.dense.weights), ("bias", layer.dense.bias)):
            if values.size != n_in:
                raise reader.fail(
                    f"{at}.{key}",
                    f"holds {values.size} numbers but a normalization layer needs one per "
                    f"input value: n_in = {n_in} (the width of {fed})",
                    "give the layer's weights and bias for every input",
                )
        return n_in
    outs = {
        _dense_width(sub, n_in, f"{at}.sublayers[{j}]", fed, reader)
        for j, sub in enumerate(layer.sublayers)
    }
    if len(outs) > 1:
        raise reader.fail(
            f"{at}.sublayers",
            f"give different numbers of outputs {sorted(outs)}",
            "the sublayers of a maxout layer have one width",
        )
    return outs.pop()


# -- ONNX --------------------------------------------------------------------------------------
class _Builder:
    """Accumulates ONNX nodes and initialisers, float32, with unique tensor names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initialisers: dict[str, onnx.TensorProto] = {}
        self.count = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"lwtnn/{stem}_{self.count}"

    def constant(self, name: str, values: np.ndarray) -> str:
        if name not in self.initialisers:
            array = np.asarray(values, dtype=np.float32)
            self.initialisers[name] = onnx.numpy_helper.from_array(array, name)
        return name

    def op(self, op_type: str, inputs: Sequence[str], stem: str, **attributes: Any) -> str:
        out = self.name(stem)
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attributes))
        return out


def _dense_ops(
    builder: _Builder, x: str, dense: Dense, n_in: int, stem: str, key: str
) -> tuple[str, int]:
    """x W^T + b as one Gemm (transB: the matrix kept as lwtnn stores it, n_out x n_in)."""
    if dense.weights.size == 0:
        if dense.bias.size == 0:
            return x, n_in
        bias = builder.constant(f"{key}.bias", dense.bias)
        return builder.op("Add", [x, bias], stem), n_in
    n_out = dense.weights.size // n_in
    weight = builder.constant(f"{key}.weight.{n_in}", dense.weights.reshape(n_out, n_in))
    inputs = [x, weight]
    if dense.bias.size:
        inputs.append(builder.constant(f"{key}.bias", dense.bias))
    return builder.op("Gemm", inputs, stem, transB=1), n_out


def _activation_ops(builder: _Builder, x: str, activation: Activation, key: str) -> str:
    function, alpha = activation.function, activation.alpha
    simple = {
        "rectified": "Relu",
        "sigmoid": "Sigmoid",
        "tanh": "Tanh",
        "abs": "Abs",
    }
    if function == "linear":
        return x
    if function in simple:
        return builder.op(simple[function], [x], function)
    if function == "softmax":
        return builder.op("Softmax", [x], function, axis=-1)
    if function == "hard_sigmoid":
        return builder.op("HardSigmoid", [x], function, alpha=0.2, beta=0.5)
    assert alpha is not None
    if function == "elu":
        return builder.op("Elu", [x], function, alpha=alpha)
    if function == "leakyrelu":
        return builder.op("LeakyRelu", [x], function, alpha=alpha)
    # swish: x * sigmoid(alpha x)
    scaled = x
    if alpha != 1.0:
        scaled = builder.op("Mul", [x, builder.constant(f"{key}.alpha", np.array(alpha))], "swish")
    return builder.op("Mul", [x, builder.op("Sigmoid", [scaled], "swish")], "swish")


def _layer_ops(builder: _Builder, x: str, layer: Layer, n_in: int, index: int) -> str:
    key = f"layers.{index}"
    if layer.architecture == "dense":
        assert layer.dense is not None and layer.activation is not None
        y, _ = _dense_ops(builder, x, layer.dense, n_in, "dense", key)
        return _activation_ops(builder, y, layer.activation, key)
    if layer.architecture == "normalization":  # lwtnn: W * (x + b), element by element
        assert layer.dense is not None
        shifted = builder.op("Add", [x, builder.constant(f"{key}.bias", layer.dense.bias)], "norm")
        factor = builder.constant(f"{key}.weight", layer.dense.weights)
        return builder.op("Mul", [shifted, factor], "norm")
    parts = [
        _dense_ops(builder, x, sub, n_in, "maxout", f"{key}.sublayers.{j}")[0]
        for j, sub in enumerate(layer.sublayers)
    ]
    return builder.op("Max", parts, "maxout") if len(parts) > 1 else parts[0]


def output_names(network: LwtnnNetwork) -> list[str]:
    """The ONNX output of each lwtnn output: its label when it has one, else its key."""
    taken = {i.name for i in network.inputs}
    names = []
    for out in network.outputs:
        name = out.labels[0] if len(out.labels) == 1 else out.key
        if name in taken:
            name = out.key if out.key not in taken else f"{out.key}_output"
        taken.add(name)
        names.append(name)
    return names


def _metadata(network: LwtnnNetwork) -> dict[str, str]:
    """The source file, its digest and the variables; with one input node also lwtnn-style
    ``input_<i>``, ``<var>_mean``, ``<var>_std`` (x' = (x + mean) * std), which the importer
    reads as form 3 when the converted file is imported on its own."""
    props = {
        "recast.converted_from": network.path.name,
        "recast.source_sha256": network.sha256,
        "recast.converter": f"recast-nn {__version__} (lwtnn {network.form} form)",
        "lwtnn.variables": json.dumps({i.name: i.names for i in network.inputs}),
    }
    if len(network.inputs) == 1:
        variables = network.inputs[0].variables
        if all(v.scale != 0 for v in variables):
            for k, v in enumerate(variables):
                props[f"input_{k}"] = v.name
                props[f"{v.name}_mean"] = repr(v.offset)
                props[f"{v.name}_std"] = repr(v.scale)
    return props


def lwtnn_to_onnx(network: LwtnnNetwork) -> onnx.ModelProto:
    """The network as an ONNX model (float32, opset :data:`OPSET`, dynamic batch axis).

    Inputs: one per lwtnn input node, named like it, float32 ``[batch, n_variables]``, fed
    the preprocessed x' = (x + offset) * scale. Outputs: one per lwtnn output, named by
    :func:`output_names`, ``[batch, n_labels]``. Dense layers become ``Gemm`` (+ the
    activation), concatenate nodes ``Concat``, add nodes ``Sum``. The metadata_props record
    the source file, its sha256 and the variable names.
    """
    builder = _Builder()
    tensors: dict[int, str] = {}
    used_inputs: set[int] = set()
    for k in network.order:
        node = network.nodes[k]
        if node.type == "input":
            used_inputs.add(node.sources[0])
            tensors[k] = network.inputs[node.sources[0]].name
        elif node.type == "feed_forward":
            assert node.layer is not None
            source = node.sources[0]
            layer = network.layers[node.layer]
            tensors[k] = _layer_ops(
                builder, tensors[source], layer, network.widths[source], node.layer
            )
        elif node.type == "concatenate":
            sources = [tensors[s] for s in node.sources]
            tensors[k] = builder.op("Concat", sources, "concat", axis=1)
        else:
            tensors[k] = builder.op("Sum", [tensors[s] for s in node.sources], "add")
    outputs = []
    for out, name in zip(network.outputs, output_names(network), strict=True):
        builder.nodes.append(helper.make_node("Identity", [tensors[out.node]], [name]))
        outputs.append(
            helper.make_tensor_value_info(name, TensorProto.FLOAT, [BATCH, len(out.labels)])
        )
    inputs = [
        helper.make_tensor_value_info(i.name, TensorProto.FLOAT, [BATCH, len(i.variables)])
        for i in network.inputs
    ]
    graph = helper.make_graph(
        builder.nodes,
        re.sub(r"\W", "_", network.path.stem),
        inputs,
        outputs,
        list(builder.initialisers.values()),
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="recast-nn",
        producer_version=__version__,
        ir_version=IR_VERSION,
        doc_string=(
            f"Converted by recast-nn {__version__} from the lwtnn {network.form} file "
            f"{network.path.name} (sha256 {network.sha256}). Inputs are preprocessed: "
            "x' = (x + offset) * scale with lwtnn's offsets and scales."
        ),
    )
    helper.set_model_props(model, _metadata(network))
    onnx.checker.check_model(model)
    unused = [network.inputs[i].name for i in range(len(network.inputs)) if i not in used_inputs]
    if unused:
        log.info("%s: input node(s) %s feed no node of the graph", network.path.name, unused)
    return model


def convert_lwtnn(path: str | Path) -> tuple[LwtnnNetwork, bytes]:
    """Read an lwtnn file and give the network and its ONNX model's bytes (nothing written)."""
    network = read_lwtnn(path)
    return network, lwtnn_to_onnx(network).SerializeToString()


# -- names given to compare with ----------------------------------------------------------
def expected_names(path: str | Path) -> list[str]:
    """The input names a file lists, in order: a card or card template (its first input
    node's features, by index), a side-car (form 1 ``variables`` or form 2 ``branches``), or
    a JSON array of names."""
    from .sidecars import read_sidecar

    path = Path(path)
    document = load_json(path)
    if isinstance(document, list) and all(isinstance(n, str) for n in document):
        return list(document)
    if isinstance(document, Mapping) and isinstance(document.get("inputs"), list):
        nodes = [n for n in document["inputs"] if isinstance(n, Mapping) and "features" in n]
        if nodes and isinstance(nodes[0]["features"], list):
            features = [f for f in nodes[0]["features"] if isinstance(f, Mapping)]
            ordered = sorted(features, key=lambda f: f.get("index", 0))
            names = [f.get("name") for f in ordered]
            if all(isinstance(n, str) for n in names):
                return [str(n) for n in names]
    if isinstance(document, Mapping) and (
        {"variables"} <= set(document) or {"branches"} <= set(document)
    ):
        return read_sidecar(path).names
    raise InvalidLwtnnError(
        f"{path}: lists no input names recast-nn can read; give a card or card template "
        "(inputs[0].features[*].name), a side-car (variables, or branches) or a JSON array "
        "of names"
    )


def check_names(network: LwtnnNetwork, names: Sequence[str], source: str) -> None:
    """Refuse names that are not the lwtnn variables, in order: the first differing index."""
    mine = network.names
    if list(names) == mine:
        return
    for k, (given, own) in enumerate(zip(names, mine, strict=False)):
        if given != own:
            raise InvalidLwtnnError(
                f"{source} and the lwtnn file {network.path} name different inputs: at index "
                f"{k}, {source} has {given!r} and the lwtnn file {own!r} ({len(names)} vs "
                f"{len(mine)} names); the lwtnn order is the network's input order: check that "
                "both describe this network"
            )
    k = min(len(names), len(mine))
    extra = (
        f"the lwtnn file goes on with {mine[k]!r}"
        if len(mine) > k
        else f"{source} goes on with {names[k]!r}"
    )
    raise InvalidLwtnnError(
        f"{source} lists {len(names)} names and the lwtnn file {network.path} {len(mine)}: they "
        f"agree up to index {k - 1}, then at index {k} {extra}; check that both describe this "
        "network"
    )


__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURES",
    "LwtnnNetwork",
    "check_names",
    "convert_lwtnn",
    "expected_names",
    "is_lwtnn",
    "json_document",
    "looks_like_lwtnn",
    "lwtnn_to_onnx",
    "output_names",
    "read_lwtnn",
]
