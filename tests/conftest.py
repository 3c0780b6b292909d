"""Shared fixtures: toy card templates, tiny ONNX graphs, and the real published data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, or a skip saying why the real published files are not used."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real published material not found at {SHARED_DATA} (see DESIGN.md)")
    return SHARED_DATA


def feature(
    index: int,
    name: str,
    source: dict[str, Any],
    unit: str = "1",
    preprocessing: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One card feature with sensible defaults."""
    return {
        "index": index,
        "name": name,
        "definition": f"test feature {name}",
        "role": "parameter" if "parameter" in source else "feature",
        "source": source,
        "unit": unit,
        "preprocessing": preprocessing or {"formula": "x"},
        **extra,
    }


def linear_onnx(
    path: Path,
    n_inputs: int,
    n_outputs: int = 1,
    input_name: str = "x",
    output_name: str = "y",
    seed: int = 0,
    opset: int = 13,
    input_dtype: int = TensorProto.FLOAT,
) -> np.ndarray:
    """A one-layer ONNX network y = x @ W, written to ``path``; returns W."""
    weights = np.random.default_rng(seed).normal(size=(n_inputs, n_outputs)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", [input_name, "W"], [output_name])],
        "linear",
        [helper.make_tensor_value_info(input_name, input_dtype, ["batch", n_inputs])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", n_outputs])],
        [helper.make_tensor("W", TensorProto.FLOAT, weights.shape, weights.ravel())],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="recast-tests",
        producer_version="1",
    )
    model.ir_version = 8  # onnx writes a newer IR than onnxruntime reads by default
    onnx.save(model, str(path))
    return weights
