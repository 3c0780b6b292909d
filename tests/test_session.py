"""The ONNX session wrapper: folds, several input nodes, labelled outputs, parameter points."""

from __future__ import annotations

from pathlib import Path

import awkward as ak
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from recast.errors import CardError, MissingCollectionError
from recast.io import sha256_file
from recast.preserve.card import NetworkCard
from recast.preserve.session import NetworkSession

from .conftest import feature, linear_onnx


def events(n: int = 9) -> ak.Array:
    rng = np.random.default_rng(5)
    return ak.zip(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "event_number": np.arange(n) + 100},
        depth_limit=1,
    )


def two_feature_card(tmp_path: Path, files: list[dict], parameter: bool = False) -> NetworkCard:
    second = (
        feature(1, "mass", {"parameter": "mass"}, "GeV")
        if parameter
        else feature(1, "b", {"attribute": "b"})
    )
    document = {
        "schema_version": "1.0.0",
        "name": "folded",
        "description": "two folds",
        "evaluate_per": "event",
        "inputs": [
            {
                "name": "x",
                "dtype": "float32",
                "shape": [None, 2],
                "layout": "flat",
                "features": [feature(0, "a", {"attribute": "a"}), second],
            }
        ],
        "outputs": [
            {
                "name": "y",
                "dtype": "float32",
                "shape": [None, 2],
                "columns": [{"index": 0, "label": "signal"}, {"index": 1, "label": "background"}],
            }
        ],
        "files": files,
        "runtimes_tested": [],
        "provenance": {},
    }
    if parameter:
        document["parameter_points"] = [{"mass": 1.0}, {"mass": 2.0}]
    path = tmp_path / "card.json"
    return NetworkCard(document, path)


def file_entry(path: Path, remainder: int | None = None, **extra: object) -> dict:
    entry = {
        "path": path.name,
        "sha256": sha256_file(path),
        "opset": 13,
        "producer": {"name": "recast-tests", "version": "1"},
        **extra,
    }
    if remainder is not None:
        entry["applies_to"] = {"modulus": 2, "remainder": remainder}
    return entry


def test_folds_route_events_by_event_number_parity(tmp_path: Path) -> None:
    w_even = linear_onnx(tmp_path / "even.onnx", 2, 2, input_name="input", seed=1)
    w_odd = linear_onnx(
        tmp_path / "odd.onnx", 2, 2, input_name="input_1", output_name="out", seed=2
    )
    card = two_feature_card(
        tmp_path,
        [
            file_entry(tmp_path / "even.onnx", 0, node_names={"x": "input"}),
            file_entry(tmp_path / "odd.onnx", 1, node_names={"x": "input_1", "y": "out"}),
        ],
    )
    chunk = events()
    scores = NetworkSession(card).evaluate(chunk)
    x = np.stack([ak.to_numpy(chunk.a), ak.to_numpy(chunk.b)], axis=1).astype(np.float32)
    odd = ak.to_numpy(chunk.event_number) % 2 == 1
    expected = np.where(odd[:, None], x @ w_odd, x @ w_even)
    np.testing.assert_allclose(ak.to_numpy(scores.signal), expected[:, 0], rtol=1e-6)
    np.testing.assert_allclose(ak.to_numpy(scores.background), expected[:, 1], rtol=1e-6)
    assert ak.fields(scores) == ["signal", "background"]
    with pytest.raises(MissingCollectionError, match="event_number"):
        NetworkSession(card).evaluate(ak.zip({"a": [1.0], "b": [2.0]}))


def test_parameter_points_run_stacked_in_one_call(tmp_path: Path) -> None:
    weights = linear_onnx(tmp_path / "net.onnx", 2, 2)
    card = two_feature_card(tmp_path, [file_entry(tmp_path / "net.onnx")], parameter=True)
    chunk = events(5)
    net = NetworkSession(card)
    results = net.evaluate(chunk, parameters=card.parameter_points)
    assert len(results) == 2
    for point, result in zip(card.parameter_points, results, strict=True):
        x = np.stack([ak.to_numpy(chunk.a), np.full(5, point["mass"])], axis=1)
        np.testing.assert_allclose(ak.to_numpy(result.signal), (x @ weights)[:, 0], rtol=1e-6)


def test_several_input_nodes(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Add", ["u", "v"], ["s"])],
        "add",
        [
            helper.make_tensor_value_info("u", TensorProto.FLOAT, ["n", 1]),
            helper.make_tensor_value_info("v", TensorProto.FLOAT, ["n", 1]),
        ],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, ["n", 1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "add.onnx"))
    document = {
        "schema_version": "1.0.0",
        "name": "adder",
        "description": "two nodes",
        "evaluate_per": "event",
        "inputs": [
            {
                "name": name,
                "dtype": "float32",
                "shape": [None, 1],
                "layout": "flat",
                "features": [feature(0, name, {"attribute": attribute})],
            }
            for name, attribute in (("u", "a"), ("v", "b"))
        ],
        "outputs": [
            {
                "name": "s",
                "dtype": "float32",
                "shape": [None, 1],
                "columns": [{"index": 0, "label": "sum"}],
            }
        ],
        "files": [file_entry(tmp_path / "add.onnx")],
        "runtimes_tested": [],
        "provenance": {},
    }
    chunk = events(4)
    scores = NetworkSession(NetworkCard(document, tmp_path / "c.json")).evaluate(chunk)
    np.testing.assert_allclose(
        ak.to_numpy(scores["sum"]), ak.to_numpy(chunk.a + chunk.b), rtol=1e-6
    )


def test_an_empty_chunk_gives_empty_columns(tmp_path: Path) -> None:
    linear_onnx(tmp_path / "net.onnx", 2, 2)
    card = two_feature_card(tmp_path, [file_entry(tmp_path / "net.onnx")])
    scores = NetworkSession(card).evaluate(events(0))
    assert len(scores) == 0
    assert ak.fields(scores) == ["signal", "background"]


def test_a_node_name_missing_from_the_graph(tmp_path: Path) -> None:
    linear_onnx(tmp_path / "net.onnx", 2, 2, input_name="dense_input")
    card = two_feature_card(tmp_path, [file_entry(tmp_path / "net.onnx")])
    with pytest.raises(
        CardError,
        match=r"input node 'x' is not in net.onnx, whose inputs are "
        r"\['dense_input'\]",
    ):
        NetworkSession(card)


def test_folds_with_their_own_normalisation(tmp_path: Path) -> None:
    """Each fold's file applies its own preprocessing to its own events."""
    w_even = linear_onnx(tmp_path / "even.onnx", 2, 2, seed=1)
    w_odd = linear_onnx(tmp_path / "odd.onnx", 2, 2, seed=2)
    odd_a = {"formula": "(x - offset) / scale", "offset": 1.0, "scale": 4.0}
    card = two_feature_card(
        tmp_path,
        [
            file_entry(tmp_path / "even.onnx", 0),
            file_entry(tmp_path / "odd.onnx", 1, preprocessing={"a": odd_a}),
        ],
    )
    chunk = events(11)
    scores = NetworkSession(card).evaluate(chunk)
    a, b = ak.to_numpy(chunk.a), ak.to_numpy(chunk.b)
    odd = ak.to_numpy(chunk.event_number) % 2 == 1
    x_even = np.stack([a, b], axis=1)
    x_odd = np.stack([(a - 1.0) / 4.0, b], axis=1)
    expected = np.where(odd[:, None], x_odd @ w_odd, x_even @ w_even)
    np.testing.assert_allclose(ak.to_numpy(scores.signal), expected[:, 0], rtol=1e-5)
    np.testing.assert_allclose(ak.to_numpy(scores.background), expected[:, 1], rtol=1e-5)


def test_per_file_preprocessing_must_name_a_feature(tmp_path: Path) -> None:
    linear_onnx(tmp_path / "net.onnx", 2, 2)
    with pytest.raises(CardError, match=r"files\[0\]\.preprocessing names 'c', which is not"):
        two_feature_card(
            tmp_path, [file_entry(tmp_path / "net.onnx", preprocessing={"c": {"formula": "x"}})]
        )
