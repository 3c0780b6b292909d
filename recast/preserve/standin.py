"""Stand-in ONNX networks for published networks whose files are not at hand.

Some analyses publish a network's input definition but the ONNX file itself is large or held
elsewhere (ATLAS-SUSY-2018-30: input ``input_1`` [N, 87] → output ``dense_4``). A stand-in has
the same signature (node names, dtype, widths, dynamic batch axis) and a seeded random MLP
inside, so that importing, input building, folds and throughput can be exercised end to end.
Its scores mean nothing: never use one for physics.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..io import write_bytes

log = logging.getLogger(__name__)

#: Opset 13: Softmax normalises over the last axis only (opset < 13 flattened the trailing axes).
STANDIN_OPSET = 13
#: IR version 8 is what opset 13 introduced; older onnxruntime builds refuse newer IR versions.
STANDIN_IR_VERSION = 8


def _dense(rng: np.random.Generator, fan_in: int, fan_out: int) -> tuple[np.ndarray, np.ndarray]:
    # He initialisation keeps the ReLU activations of order one whatever the depth
    weight = rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
    bias = 0.1 * rng.standard_normal(fan_out)
    return weight.astype(np.float32), bias.astype(np.float32)


def standin_mlp_model(
    n_inputs: int = 87,
    n_outputs: int = 5,
    hidden: Sequence[int] = (64, 64),
    input_name: str = "input_1",
    output_name: str = "dense_4",
    seed: int = 0,
) -> onnx.ModelProto:
    """The stand-in model in memory: ReLU hidden layers, softmax over ``n_outputs`` classes."""
    if n_inputs < 1 or n_outputs < 1 or any(h < 1 for h in hidden):
        raise ValueError(f"widths must be positive: {n_inputs=}, {n_outputs=}, {hidden=}")
    rng = np.random.default_rng(seed)
    widths = [n_inputs, *hidden, n_outputs]
    nodes: list[onnx.NodeProto] = []
    initializers: list[onnx.TensorProto] = []
    current = input_name
    for layer, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        weight, bias = _dense(rng, fan_in, fan_out)
        initializers += [
            numpy_helper.from_array(weight, f"W{layer}"),
            numpy_helper.from_array(bias, f"b{layer}"),
        ]
        nodes += [
            helper.make_node("MatMul", [current, f"W{layer}"], [f"matmul{layer}"]),
            helper.make_node("Add", [f"matmul{layer}", f"b{layer}"], [f"dense{layer}"]),
        ]
        current = f"dense{layer}"
        if layer < len(widths) - 2:
            nodes.append(helper.make_node("Relu", [current], [f"relu{layer}"]))
            current = f"relu{layer}"
    nodes.append(helper.make_node("Softmax", [current], [output_name], axis=-1))
    graph = helper.make_graph(
        nodes,
        "standin_mlp",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", n_inputs])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", n_outputs])],
        initializers,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", STANDIN_OPSET)],
        producer_name="recast-nn standin",
        producer_version="1",
        ir_version=STANDIN_IR_VERSION,
        doc_string=(
            f"STAND-IN, not a published network: seeded random MLP (seed {seed}), "
            f"{n_inputs} -> {list(hidden)} -> {n_outputs} softmax"
        ),
    )
    onnx.checker.check_model(model)
    return model


def make_standin_mlp(
    path: str | Path,
    n_inputs: int = 87,
    n_outputs: int = 5,
    hidden: Sequence[int] = (64, 64),
    input_name: str = "input_1",
    output_name: str = "dense_4",
    seed: int = 0,
) -> Path:
    """Write a stand-in MLP to ``path`` atomically and return the path.

    The same arguments always give byte-identical files (and so the same sha256).

    >>> make_standin_mlp("standin.onnx")    # doctest: +SKIP
    PosixPath('standin.onnx')
    """
    model = standin_mlp_model(n_inputs, n_outputs, hidden, input_name, output_name, seed)
    path = Path(path)
    write_bytes(path, model.SerializeToString())
    log.info("wrote stand-in network %s (%d inputs, %d outputs)", path, n_inputs, n_outputs)
    return path


__all__ = ["make_standin_mlp", "standin_mlp_model"]
