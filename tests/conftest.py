"""Shared fixtures: toy card templates, tiny ONNX graphs, and the real published data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _no_installed_bundles(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Bundles the developer installed must not change listings and lookups in the tests;
    subprocesses inherit the empty folder too."""
    import os

    os.environ["RECAST_DATA_DIR"] = str(tmp_path_factory.mktemp("recast-data"))


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


class GttSample:
    """The EXAMPLE_JETS_MET benchmark sample (g̃ → t t̄ χ̃⁰₁, 1200/100 GeV) in HepMC3 files.

    ``first`` and ``second``: the 200 events (Pythia8 seed 2026) from which the bundle's
    reference cutflows were made, split 100/100 (sums are exact, so the split changes
    nothing); ``small``: the first 30 events; ``tiny_a``/``tiny_b``: the first 15 and the next 15.
    """

    SEED = 2026
    EVENTS = 200

    def __init__(self, folder: Path) -> None:
        import awkward as ak

        from recast.events.hepmc_writer import write_hepmc
        from recast.events.pythia import generate
        from recast.events.slha import write_gluino_slha

        self.folder = folder
        self.slha = write_gluino_slha(folder / "gtt_1200_100.slha", 1200.0, 100.0, "ttbar")
        self.events = ak.concatenate(list(generate(self.slha, self.EVENTS, self.SEED)))
        self.first, self.second = folder / "gtt_a.hepmc", folder / "gtt_b.hepmc"
        self.small = folder / "gtt_small.hepmc"
        self.tiny_a, self.tiny_b = folder / "gtt_tiny_a.hepmc", folder / "gtt_tiny_b.hepmc"
        for path, part in (
            (self.first, slice(0, 100)),
            (self.second, slice(100, 200)),
            (self.small, slice(0, 30)),
            (self.tiny_a, slice(0, 15)),
            (self.tiny_b, slice(15, 30)),
        ):
            write_hepmc(self.events[part], path)


@pytest.fixture(scope="session")
def gtt(tmp_path_factory: pytest.TempPathFactory) -> GttSample:
    """Generated once per session (about 4 s); needs the [gen] extra."""
    pytest.importorskip("pythia8mc")
    return GttSample(tmp_path_factory.mktemp("gtt"))
