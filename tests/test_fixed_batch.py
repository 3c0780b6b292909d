"""Networks whose batch axis is fixed: evaluated row by row, or re-exported and verified.

A tiny fixed-batch graph is built here (with a Reshape whose constant shape starts with the
batch, and value_info fixed to it); graphs that bake the batch in elsewhere must be refused.
With ../shared/data present, the published ATLAS-SUSY-2019-04 files re-export to graphs that
equal them row by row.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from recast.cli import cli
from recast.errors import CardError, ImportFormatError, OutputError
from recast.io import sha256_file
from recast.preserve.batch import (
    BATCH,
    dynamic_batch_model,
    fixed_batch,
    reexport_dynamic_batch,
)
from recast.preserve.card import NetworkCard
from recast.preserve.check import check_card
from recast.preserve.importers import import_network, write_imported_card
from recast.preserve.session import NetworkSession

NAMES = ["ht", "met", "mjj", "dphi"]
ANCHORS = {4: 0.58691555, 5: 0.49117318, 6: 0.47799507, 7: 0.5353713, 8: 0.4478148}


def lwtnn_metadata() -> dict[str, str]:
    """Form-3 metadata (x' = (x + mean) * std), so that the file imports without a side-car."""
    props = {}
    for k, name in enumerate(NAMES):
        props |= {f"input_{k}": name, f"{name}_mean": "-10.0", f"{name}_std": "0.05"}
    return props


def fixed_net(path: Path, *, mix_rows: str | None = None, batch: int = 1) -> Path:
    """x [batch, 4] -> Gemm -> Relu -> Reshape [batch, 3] -> Gemm -> Sigmoid, y [batch, 1].

    ``mix_rows`` adds an operation that is harmless for one row and wrong for several:
    "values" subtracts the mean over the batch axis (same shape, other numbers), "shape"
    sums over it (one row out whatever goes in).
    """
    rng = np.random.default_rng(0)
    w1 = rng.normal(size=(3, 4)).astype(np.float32)
    w2 = rng.normal(size=(1, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["x", "w1"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node(
            "Constant",
            [],
            ["shape"],
            value=numpy_helper.from_array(np.array([batch, 3], np.int64), "shape"),
        ),
        helper.make_node("Reshape", ["r", "shape"], ["flat"], name="flatten"),
    ]
    last = "flat"
    if mix_rows == "values":
        nodes += [
            helper.make_node("ReduceMean", ["flat"], ["mean"], axes=[0], keepdims=1),
            helper.make_node("Sub", ["flat", "mean"], ["centred"]),
            helper.make_node("Add", ["flat", "centred"], ["mixed"]),
        ]
        last = "mixed"
    elif mix_rows == "shape":
        nodes.append(helper.make_node("ReduceSum", ["flat", "axis0"], ["mixed"], keepdims=1))
        last = "mixed"
    nodes += [
        helper.make_node("Gemm", [last, "w2"], ["z"], transB=1),
        helper.make_node("Sigmoid", ["z"], ["y"]),
    ]
    initialisers = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")]
    if mix_rows == "shape":
        initialisers.append(numpy_helper.from_array(np.array([0], np.int64), "axis0"))
    graph = helper.make_graph(
        nodes,
        "fixed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 1])],
        initialisers,
        value_info=[helper.make_tensor_value_info("flat", TensorProto.FLOAT, [batch, 3])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="pytorch"
    )
    model.ir_version = 8
    helper.set_model_props(model, lwtnn_metadata())
    onnx.save(model, str(path))
    return path


def session(path: Path | bytes) -> ort.InferenceSession:
    source = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(source, providers=["CPUExecutionProvider"])


def one_at_a_time(path: Path, rows: np.ndarray, input_name: str = "x") -> np.ndarray:
    net = session(path)
    return np.concatenate(
        [net.run(None, {input_name: rows[i : i + 1]})[0] for i in range(len(rows))]
    )


def events(n: int, seed: int = 2) -> ak.Array:
    rng = np.random.default_rng(seed)
    return ak.Array(
        {
            "ht": rng.uniform(0, 80, n),
            "met": ak.zip({"pt": rng.uniform(0, 60, n), "phi": rng.uniform(-3, 3, n)}),
            "mjj": rng.uniform(0, 90, n),
            "dphi": rng.uniform(0, 3, n),
        }
    )


# -- detection and re-export -------------------------------------------------------------------
def test_a_fixed_batch_is_detected(tmp_path: Path) -> None:
    model = onnx.load(str(fixed_net(tmp_path / "net.onnx")))
    assert fixed_batch(model) == {"x": 1}
    dynamic, reshapes = dynamic_batch_model(model, "net.onnx")
    assert fixed_batch(dynamic) == {}
    assert reshapes == ["flatten"]
    assert dynamic.graph.input[0].type.tensor_type.shape.dim[0].dim_param == BATCH
    assert dynamic.graph.output[0].type.tensor_type.shape.dim[0].dim_param == BATCH
    assert not dynamic.graph.value_info  # re-inferred rather than left at 1
    assert fixed_batch(model) == {"x": 1}  # the original model is untouched
    with pytest.raises(ImportFormatError, match="nothing to re-export"):
        dynamic_batch_model(dynamic, "dynamic.onnx")


def test_reexport_gives_what_the_original_gives_row_by_row(tmp_path: Path) -> None:
    original = fixed_net(tmp_path / "net.onnx")
    digest = sha256_file(original)
    result = reexport_dynamic_batch(original, tmp_path / "net.dynamic-batch.onnx")
    assert sha256_file(original) == digest  # the input is never touched
    assert result.original_sha256 == digest and result.batch == 1
    assert result.reshapes == ["flatten"]
    assert result.max_difference <= 1e-6
    rows = np.random.default_rng(9).normal(size=(257, 4)).astype(np.float32)
    (whole,) = session(result.path).run(None, {"x": rows})
    np.testing.assert_allclose(whole, one_at_a_time(original, rows), rtol=1e-6, atol=1e-6)
    model = onnx.load(str(result.path))
    props = {p.key: p.value for p in model.metadata_props}
    assert props["recast.reexported_from"] == "net.onnx"
    assert props["recast.original_sha256"] == digest
    assert props["input_0"] == "ht"  # the published metadata is kept
    note = result.note()
    assert note.startswith(f"re-exported with a dynamic batch from net.onnx, sha256 {digest}")


def test_a_batch_other_than_one_reexports_too(tmp_path: Path) -> None:
    original = fixed_net(tmp_path / "net4.onnx", batch=4)
    result = reexport_dynamic_batch(original, tmp_path / "out.onnx")
    assert result.batch == 4 and result.rows_checked == 64
    rows = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    (whole,) = session(result.path).run(None, {"x": rows})
    assert whole.shape == (6, 1)


@pytest.mark.parametrize(
    ("mix", "words"),
    [
        ("values", ["differs from the original's fed 1 row(s) at a time", "mixes rows"]),
        ("shape", ["has shape [1, 1] for 64 rows", "[64, 1]"]),
    ],
)
def test_a_graph_that_bakes_its_batch_in_is_refused(
    tmp_path: Path, mix: str, words: list[str]
) -> None:
    original = fixed_net(tmp_path / "net.onnx", mix_rows=mix)
    target = tmp_path / "net.dynamic-batch.onnx"
    with pytest.raises(ImportFormatError) as caught:
        reexport_dynamic_batch(original, target)
    message = str(caught.value)
    for word in [str(original), *words, "export the network again from its source"]:
        assert word in message, message
    assert not target.exists()
    # through the command line: exit non-zero, one message, neither card nor copy written
    card_path = tmp_path / "net.card.json"
    result = CliRunner().invoke(
        cli, ["card", "import", str(original), "--dynamic-batch", "-o", str(card_path)]
    )
    assert result.exit_code != 0
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx"]


def test_the_reexport_never_replaces_its_input(tmp_path: Path) -> None:
    original = fixed_net(tmp_path / "net.onnx")
    digest = sha256_file(original)
    with pytest.raises(OutputError):
        reexport_dynamic_batch(original, original)
    assert sha256_file(original) == digest


# -- evaluating ------------------------------------------------------------------------------------
def imported(tmp_path: Path, dynamic: bool, stem: str) -> NetworkCard:
    card_path = tmp_path / f"{stem}.card.json"
    document = import_network(tmp_path / "net.onnx", card_path=card_path, dynamic_batch=dynamic)
    return write_imported_card(document, card_path)


def test_a_fixed_batch_card_evaluates_chunks_row_by_row(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fixed_net(tmp_path / "net.onnx")
    with caplog.at_level(logging.WARNING, logger="recast.preserve.importers"):
        fixed = imported(tmp_path, False, "fixed")
    assert "--dynamic-batch" in caplog.text  # the import says what row by row costs
    assert fixed.inputs[0]["shape"] == [1, 4]
    dynamic = imported(tmp_path, True, "dynamic")
    assert dynamic.inputs[0]["shape"] == [None, 4]
    assert dynamic.document["files"][0]["path"] == "net.dynamic-batch.onnx"
    notes = dynamic.document["provenance"]["notes"]
    digest = sha256_file(tmp_path / "net.onnx")
    assert f"re-exported with a dynamic batch from net.onnx, sha256 {digest}" in notes
    check_card(tmp_path / "dynamic.card.json")
    check_card(tmp_path / "fixed.card.json")
    chunk = events(300)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="recast.preserve.session"):
        net = NetworkSession(fixed)
        row_by_row = [net.evaluate(chunk).score, net.evaluate(chunk[:7]).score]
    said = [r for r in caplog.records if "one row at a time" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.INFO  # once per session
    whole = NetworkSession(dynamic).evaluate(chunk).score
    np.testing.assert_allclose(np.asarray(row_by_row[0]), np.asarray(whole), rtol=1e-6, atol=1e-6)
    assert len(row_by_row[1]) == 7
    assert len(net.evaluate(chunk[:0]).score) == 0


def test_dynamic_batch_leaves_a_dynamic_network_alone(tmp_path: Path) -> None:
    fixed_net(tmp_path / "net.onnx")
    reexport_dynamic_batch(tmp_path / "net.onnx", tmp_path / "dyn.onnx")
    card_path = tmp_path / "c.card.json"
    document = import_network(tmp_path / "dyn.onnx", card_path=card_path, dynamic_batch=True)
    assert document["files"][0]["path"] == "dyn.onnx"
    assert "notes" not in document["provenance"]
    assert not list(tmp_path.glob("*.dynamic-batch.onnx"))


def test_a_card_claiming_a_dynamic_batch_for_a_fixed_graph_is_refused(tmp_path: Path) -> None:
    fixed_net(tmp_path / "net.onnx")
    card = imported(tmp_path, False, "fixed")
    document: dict[str, Any] = json.loads(json.dumps(card.document))
    document["inputs"][0]["shape"] = [None, 4]
    document["inputs"][0]["dynamic_axes"] = {"0": "batch"}
    lying = tmp_path / "lying.card.json"
    lying.write_text(json.dumps(document))
    with pytest.raises(CardError) as caught:
        NetworkSession(NetworkCard.load(lying)).evaluate(events(10))
    message = str(caught.value)
    for word in [str(lying), "'x'", "net.onnx fixes it to 1", "--dynamic-batch", "shape[0] to 1"]:
        assert word in message, message
    result = CliRunner().invoke(cli, ["card", "check", str(lying)])
    assert result.exit_code == 1 and "dynamic in the card but fixed to 1" in result.output


def test_the_cli_reexports_and_says_so(tmp_path: Path) -> None:
    fixed_net(tmp_path / "net.onnx")
    card_path = tmp_path / "cards" / "net.card.json"
    result = CliRunner().invoke(
        cli, ["card", "import", str(tmp_path / "net.onnx"), "--dynamic-batch", "-o", str(card_path)]
    )
    assert result.exit_code == 0, result.output
    assert "net.dynamic-batch.onnx (re-exported with a dynamic batch)" in result.output
    assert (tmp_path / "cards" / "net.dynamic-batch.onnx").is_file()
    assert CliRunner().invoke(cli, ["card", "check", str(card_path)]).exit_code == 0


# -- the published networks ------------------------------------------------------------------------
@pytest.mark.parametrize("jets", sorted(ANCHORS))
def test_published_networks_reexport_to_equal_graphs(
    shared_data: Path, tmp_path: Path, jets: int
) -> None:
    original = (
        shared_data / "atlas_susy_2019_04" / "onnx" / f"OneLeptonMultiJets2018_{jets}jets.onnx"
    )
    if not original.is_file():
        pytest.skip(f"the ATLAS-SUSY-2019-04 networks are not in {original.parent}")
    assert fixed_batch(onnx.load(str(original))) == {"input.1": 1}
    result = reexport_dynamic_batch(original, tmp_path / "net.onnx")
    assert result.reshapes == []  # its Reshape to [-1, 2] needs nothing
    rows = np.random.default_rng(jets).normal(scale=2.0, size=(1000, 65)).astype(np.float32)
    (whole,) = session(result.path).run(["39"], {"input.1": rows})
    np.testing.assert_allclose(whole, one_at_a_time(original, rows, "input.1"), rtol=0, atol=1e-6)
    (zero,) = session(result.path).run(["39"], {"input.1": np.zeros((2, 65), np.float32)})
    np.testing.assert_allclose(zero, ANCHORS[jets], atol=1e-6)
