"""lwtnn networks: read, converted to ONNX, imported as cards; every bad file refused.

Synthetic lwtnn documents (graph and sequential form) are built here and the converted ONNX
graph is compared with a forward pass written here in numpy, following lwtnn's definitions.
The five published ATLAS-SUSY-2019-04 lwtnn files in ../shared/data must give what the
published ONNX files give (and their zero-input anchors).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from click.testing import CliRunner

from recast.cli import cli
from recast.errors import InvalidLwtnnError, SidecarMismatchError
from recast.io import sha256_file
from recast.preserve.card import NetworkCard
from recast.preserve.check import check_card
from recast.preserve.importers import import_lwtnn, import_network, write_imported_card
from recast.preserve.lwtnn import expected_names, is_lwtnn, lwtnn_to_onnx, read_lwtnn
from recast.preserve.session import NetworkSession

from .docs_pages import DOCS, printed_differences, run_example

NAMES = ["HT", "met", "jets_pt_0", "jets_eta_0", "mbb"]
OFFSETS = [-500.0, -100.0, -150.0, 0.0, -120.0]
SCALES = [0.004, 0.01, 0.01, 0.5, 0.02]
#: The published networks fed an all-zero row (data/atlas_susy_2019_04/README.md).
ANCHORS = {4: 0.58691555, 5: 0.49117318, 6: 0.47799507, 7: 0.5353713, 8: 0.4478148}


# -- synthetic lwtnn documents -----------------------------------------------------------------
def dense(rng: np.random.Generator, n_in: int, n_out: int, activation: Any) -> dict[str, Any]:
    return {
        "architecture": "dense",
        "activation": activation,
        "weights": rng.normal(size=n_out * n_in).round(4).tolist(),
        "bias": rng.normal(size=n_out).round(4).tolist(),
    }


def graph_document(seed: int = 0) -> dict[str, Any]:
    """Two branches summed, a skip connection, normalization, softmax and maxout heads."""
    rng = np.random.default_rng(seed)
    variables = [
        {"name": n, "offset": o, "scale": s} for n, o, s in zip(NAMES, OFFSETS, SCALES, strict=True)
    ]
    layers = [
        dense(rng, 5, 4, "rectified"),
        dense(rng, 5, 4, {"function": "elu", "alpha": 0.5}),
        dense(rng, 9, 3, {"function": "leakyrelu", "alpha": 0.1}),
        {
            "architecture": "normalization",
            "weights": [1.5, 0.5, 2.0],
            "bias": [0.1, -0.2, 0.3],
        },
        dense(rng, 3, 2, "softmax"),
        {
            "architecture": "maxout",
            "sublayers": [
                {k: v for k, v in dense(rng, 3, 2, "linear").items() if k in ("weights", "bias")}
                for _ in range(3)
            ],
        },
        {"architecture": "dense", "activation": "sigmoid", "weights": [], "bias": []},
        dense(rng, 3, 2, "tanh"),
    ]
    nodes = [
        {"type": "feed_forward", "layer_index": 6, "sources": [8]},  # 0: sigmoid of the maxout
        {"type": "input", "size": 5, "sources": [0]},  # 1
        {"type": "feed_forward", "layer_index": 0, "sources": [1]},  # 2
        {"type": "feed_forward", "layer_index": 1, "sources": [1]},  # 3
        {"type": "add", "sources": [2, 3]},  # 4
        {"type": "concatenate", "sources": [4, 1]},  # 5: 9 wide
        {"type": "feed_forward", "layer_index": 2, "sources": [5]},  # 6
        {"type": "feed_forward", "layer_index": 3, "sources": [6]},  # 7
        {"type": "feed_forward", "layer_index": 5, "sources": [7]},  # 8: maxout
        {"type": "feed_forward", "layer_index": 4, "sources": [7]},  # 9: softmax
        {"type": "feed_forward", "layer_index": 7, "sources": [7]},  # 10: tanh
    ]
    return {
        "input_sequences": [],
        "inputs": [{"name": "node_0", "variables": variables}],
        "layers": layers,
        "nodes": nodes,
        "outputs": {
            "classes": {"labels": ["signal", "background"], "node_index": 9},
            "gate": {"labels": ["gate_0", "gate_1"], "node_index": 0},
            "extra": {"labels": ["t_0", "t_1"], "node_index": 10},
        },
    }


def sequential_document(seed: int = 1) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "inputs": [
            {"name": n, "offset": o, "scale": s}
            for n, o, s in zip(NAMES[:4], OFFSETS[:4], SCALES[:4], strict=True)
        ],
        "layers": [
            dense(rng, 4, 6, {"function": "swish", "alpha": 1.5}),
            dense(rng, 6, 5, "hard_sigmoid"),
            dense(rng, 5, 3, "abs"),
            dense(rng, 3, 1, "sigmoid"),
        ],
        "outputs": ["disc"],
        "defaults": {},
    }


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


# -- lwtnn's maths, by hand ----------------------------------------------------------------------
def activate(x: np.ndarray, activation: Any) -> np.ndarray:
    if isinstance(activation, dict):
        name, alpha = activation["function"], activation.get("alpha")
    else:
        name, alpha = activation, (1.0 if activation == "elu" else None)
    if name == "linear":
        return x
    if name == "rectified":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if name == "hard_sigmoid":
        return np.clip(0.2 * x + 0.5, 0.0, 1.0)
    if name == "elu":
        return np.where(x > 0, x, alpha * (np.exp(x) - 1.0))
    if name == "leakyrelu":
        return np.where(x > 0, x, alpha * x)
    if name == "swish":
        return x / (1.0 + np.exp(-alpha * x))
    if name == "abs":
        return np.abs(x)
    raise AssertionError(name)


def affine(x: np.ndarray, weights: list[float], bias: list[float]) -> np.ndarray:
    if weights:
        x = x @ np.reshape(weights, (-1, x.shape[1])).T
    return x + np.asarray(bias) if bias else x


def apply(layer: dict[str, Any], x: np.ndarray) -> np.ndarray:
    if layer["architecture"] == "normalization":
        return (x + np.asarray(layer["bias"])) * np.asarray(layer["weights"])
    if layer["architecture"] == "maxout":
        return np.max([affine(x, s["weights"], s["bias"]) for s in layer["sublayers"]], axis=0)
    return activate(affine(x, layer["weights"], layer["bias"]), layer["activation"])


def forward(document: dict[str, Any], x: np.ndarray) -> list[np.ndarray]:
    """The outputs (in the file's order) for preprocessed rows ``x``, in float64."""
    x = np.asarray(x, dtype=np.float64)
    if "nodes" not in document:
        for layer in document["layers"]:
            x = apply(layer, x)
        return [x]
    nodes, values = document["nodes"], {}

    def value(k: int) -> np.ndarray:
        if k not in values:
            node = nodes[k]
            if node["type"] == "input":
                values[k] = x
            elif node["type"] == "feed_forward":
                values[k] = apply(
                    document["layers"][node["layer_index"]], value(node["sources"][0])
                )
            elif node["type"] == "concatenate":
                values[k] = np.concatenate([value(s) for s in node["sources"]], axis=1)
            else:
                values[k] = np.sum([value(s) for s in node["sources"]], axis=0)
        return values[k]

    return [value(out["node_index"]) for out in document["outputs"].values()]


def run_onnx(model: onnx.ModelProto | str, x: np.ndarray) -> list[np.ndarray]:
    source = model.SerializeToString() if isinstance(model, onnx.ModelProto) else model
    session = ort.InferenceSession(source, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})


# -- conversion ------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [graph_document, sequential_document], ids=["graph", "sequential"])
def test_converted_network_equals_lwtnn_maths(tmp_path: Path, make: Callable[[], Any]) -> None:
    document = make()
    path = write(tmp_path / "net.json", document)
    assert is_lwtnn(path)
    network = read_lwtnn(path)
    model = lwtnn_to_onnx(network)
    width = len(network.names)
    x = np.random.default_rng(5).normal(scale=2.0, size=(500, width))
    expected = forward(document, x.astype(np.float32))
    got = run_onnx(model, x)
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=2e-5, atol=2e-6)
    # the batch axis is dynamic, the metadata names the source
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == width
    props = {p.key: p.value for p in model.metadata_props}
    assert props["recast.source_sha256"] == sha256_file(path)
    assert json.loads(props["lwtnn.variables"]) == {network.inputs[0].name: NAMES[:width]}
    assert [props[f"input_{k}"] for k in range(width)] == NAMES[:width]


def test_output_names_come_from_the_labels(tmp_path: Path) -> None:
    graph = lwtnn_to_onnx(read_lwtnn(write(tmp_path / "g.json", graph_document())))
    assert [o.name for o in graph.graph.output] == ["classes", "gate", "extra"]
    single = lwtnn_to_onnx(read_lwtnn(write(tmp_path / "s.json", sequential_document())))
    assert [o.name for o in single.graph.output] == ["disc"]


def test_import_makes_a_card_whose_preprocessing_is_lwtnns(tmp_path: Path) -> None:
    lwtnn_path = write(tmp_path / "net.json", graph_document())
    card_path = tmp_path / "cards" / "net.card.json"
    document = import_lwtnn(lwtnn_path, card_path=card_path)
    onnx_path = tmp_path / "cards" / "net.onnx"
    assert onnx_path.is_file()  # beside the card
    card = write_imported_card(document, card_path)
    features = [f for _, f in card.features()]
    assert [f["name"] for f in features] == NAMES
    assert features[0]["preprocessing"] == {
        "formula": "(x + offset) * scale",
        "offset": -500.0,
        "scale": 0.004,
    }
    assert features[2]["source"]["collection"] == "jets"  # names guessed as for any import
    labels = [c["label"] for node in card.outputs for c in node["columns"]]
    assert labels == ["signal", "background", "gate_0", "gate_1", "t_0", "t_1"]
    assert card.outputs[0]["columns"][0]["activation"] == "softmax"
    assert card.outputs[1]["columns"][0]["activation"] == "sigmoid"
    provenance = card.document["provenance"]
    assert provenance["source"] == "net.json"
    assert sha256_file(lwtnn_path) in provenance["notes"]
    assert "converted to ONNX (net.onnx) by recast-nn" in provenance["notes"]
    assert card.document["files"][0]["producer"]["name"] == "recast-nn"
    check_card(card_path)
    # raw events in, (x + offset) * scale inside, lwtnn's numbers out
    rng = np.random.default_rng(3)
    n = 50
    raw = np.column_stack(
        [
            rng.uniform(200, 900, n),
            rng.uniform(0, 300, n),
            rng.uniform(30, 400, n),
            rng.uniform(-2.5, 2.5, n),
            rng.uniform(20, 300, n),
        ]
    )
    events = ak.Array(
        {
            "HT": raw[:, 0],
            "met": ak.zip({"pt": raw[:, 1], "phi": np.zeros(n)}),
            "jets": ak.unflatten(ak.zip({"pt": raw[:, 2], "eta": raw[:, 3]}), np.ones(n, int)),
            "mbb": raw[:, 4],
        }
    )
    scores = NetworkSession(card).evaluate(events)
    expected = forward(graph_document(), (raw + OFFSETS) * SCALES)
    np.testing.assert_allclose(np.asarray(scores.signal), expected[0][:, 0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(scores.t_1), expected[2][:, 1], rtol=1e-5, atol=1e-6)


def test_names_and_sidecar_that_agree_are_accepted(tmp_path: Path) -> None:
    lwtnn_path = write(tmp_path / "net.json", graph_document())
    sidecar = write(
        tmp_path / "vars.json",
        {"variables": NAMES, "offset": [-o for o in OFFSETS], "scale": [1 / s for s in SCALES]},
    )
    names = write(tmp_path / "names.json", NAMES)
    document = import_lwtnn(lwtnn_path, sidecar, names=names, card_path=tmp_path / "c.json")
    assert "side-car vars.json checked" in document["provenance"]["notes"]
    assert expected_names(sidecar) == NAMES == expected_names(names)


# -- bad files -------------------------------------------------------------------------------------
def edit_graph(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    document = graph_document()
    change(document)
    return document


def setter(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting the JSON path ``layers[1].architecture`` (dots and [k]) to ``value``."""
    keys = [int(k) if k.isdigit() else k for k in re.findall(r"[^.\[\]]+", path)]

    def change(document: dict[str, Any]) -> None:
        target = document
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def cycle(document: dict[str, Any]) -> None:
    document["nodes"][2]["sources"] = [6]  # 6 <- 5 <- 4 <- 2 <- 6


BAD_FILES = [
    (
        "lstm",
        setter("layers[1].architecture", "lstm"),
        ["layers[1].architecture", "'lstm'", "recurrent"],
    ),
    ("gru", setter("layers[2].architecture", "gru"), ["layers[2].architecture", "'gru'"]),
    ("highway", setter("layers[0].architecture", "highway"), ["layers[0].architecture", "highway"]),
    (
        "embedding",
        setter("layers[0].architecture", "embedding"),
        ["layers[0].architecture", "'embedding'"],
    ),
    (
        "unknown-architecture",
        setter("layers[0].architecture", "conv1d"),
        ["layers[0].architecture", "'conv1d'", "not an lwtnn architecture"],
    ),
    (
        "unknown-activation",
        setter("layers[0].activation", "gelu"),
        ["layers[0].activation", "'gelu'", "known:"],
    ),
    (
        "alpha-missing",
        setter("layers[2].activation", "leakyrelu"),
        ["layers[2].activation", "'leakyrelu'", "alpha"],
    ),
    (
        "weights-count",
        setter("layers[2].weights", [0.1] * 26),
        ["layers[2].weights", "26", "3 x 9 = 27", "nodes[5]"],
    ),
    (
        "bias-length",
        setter("layers[0].bias", [0.1] * 3),
        ["layers[0].bias", "3 numbers", "n_out = 4"],
    ),
    (
        "nan-weight",
        setter("layers[0].weights[3]", math.nan),
        ["layers[0].weights[3]", "nan", "finite"],
    ),
    (
        "null-bias",
        setter("layers[0].bias[1]", None),
        ["layers[0].bias[1]", "is None", "expected a number"],
    ),
    (
        "missing-node",
        setter("nodes[4].sources", [2, 30]),
        ["nodes[4].sources[1]", "30", "11 nodes"],
    ),
    (
        "missing-layer",
        setter("nodes[2].layer_index", 8),
        ["nodes[2].layer_index", "is 8", "8 layers"],
    ),
    ("cycle", cycle, ["cycle", "nodes[6] -> nodes[5] -> nodes[4] -> nodes[2] -> nodes[6]"]),
    (
        "sequence-input",
        setter("input_sequences", [{"name": "tracks", "variables": []}]),
        ["input_sequences", "sequence inputs are not supported", "'tracks'"],
    ),
    (
        "sequence-node",
        setter("nodes[1].type", "input_sequence"),
        ["nodes[1].type", "sequence inputs are not supported"],
    ),
    ("output-node", setter("outputs.gate.node_index", 99), ["outputs.gate.node_index", "99"]),
    (
        "output-labels",
        setter("outputs.gate.labels", ["only_one"]),
        ["outputs.gate.labels", "1 label", "2 value"],
    ),
    ("input-size", setter("nodes[1].size", 6), ["nodes[1].size", "6", "5 variables"]),
    ("add-widths", setter("nodes[4].sources", [2, 1]), ["nodes[4].sources", "different widths"]),
]


@pytest.mark.parametrize(
    ("change", "words"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES]
)
def test_a_bad_file_is_refused_with_its_json_path(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], words: list[str]
) -> None:
    path = write(tmp_path / "bad.json", edit_graph(change))
    with pytest.raises(InvalidLwtnnError) as caught:
        read_lwtnn(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for word in words:
        assert word in message, message
    # through the command line: one line, exit 1, nothing written
    result = CliRunner().invoke(
        cli, ["card", "import", str(path), "-o", str(tmp_path / "out" / "c.card.json")]
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1, result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["bad.json"]


def test_a_bad_sequential_file_names_its_own_paths(tmp_path: Path) -> None:
    document = sequential_document()
    document["layers"][2]["weights"] = document["layers"][2]["weights"][:-1]
    with pytest.raises(InvalidLwtnnError, match=r"layers\[2\]\.weights .* width of layers\[1\]"):
        read_lwtnn(write(tmp_path / "seq.json", document))
    document = sequential_document()
    document["layers"][0]["weights"] = document["layers"][0]["weights"][:-1]
    with pytest.raises(InvalidLwtnnError, match=r"the width of the inputs"):
        read_lwtnn(write(tmp_path / "seq.json", document))


def test_names_that_disagree_are_refused_at_the_first_difference(tmp_path: Path) -> None:
    lwtnn_path = write(tmp_path / "net.json", graph_document())
    swapped = [NAMES[0], NAMES[1], NAMES[3], NAMES[2], NAMES[4]]
    template = write(
        tmp_path / "template.json",
        {
            "inputs": [
                {"name": "x", "features": [{"index": k, "name": n} for k, n in enumerate(swapped)]}
            ]
        },
    )
    words = ["at index 2", "'jets_eta_0'", "'jets_pt_0'", str(template)]
    with pytest.raises(InvalidLwtnnError) as caught:
        import_lwtnn(lwtnn_path, names=template, card_path=tmp_path / "c.json")
    assert all(w in str(caught.value) for w in words), caught.value
    with pytest.raises(InvalidLwtnnError, match="agree up to index 3, then at index 4"):
        import_lwtnn(lwtnn_path, names=NAMES[:4], card_path=tmp_path / "c.json")
    sidecar = write(
        tmp_path / "vars.json", {"variables": swapped, "offset": [0] * 5, "scale": [1] * 5}
    )
    card_path = tmp_path / "out" / "c.card.json"
    for option, file, exit_code in (("--names", template, 1), ("--sidecar", sidecar, 1)):
        result = CliRunner().invoke(
            cli, ["card", "import", str(lwtnn_path), option, str(file), "-o", str(card_path)]
        )
        assert result.exit_code == exit_code, result.output
        assert result.output.startswith("error: ") and "Traceback" not in result.output
        assert "at index 2" in result.output and "'jets_eta_0'" in result.output
        assert not (tmp_path / "out").exists()
    assert not (tmp_path / "net.onnx").exists()


def test_a_sidecar_that_preprocesses_otherwise_is_refused(tmp_path: Path) -> None:
    lwtnn_path = write(tmp_path / "net.json", graph_document())
    sidecar = write(
        tmp_path / "vars.json",  # offset and scale as lwtnn writes them, read as form 1: wrong
        {"variables": NAMES, "offset": OFFSETS, "scale": SCALES},
    )
    with pytest.raises(SidecarMismatchError, match=r"5 variable\(s\)") as caught:
        import_lwtnn(lwtnn_path, sidecar, card_path=tmp_path / "c.json")
    assert "HT: side-car offset -500.0 and scale 0.004" in str(caught.value)
    assert not list(tmp_path.glob("*.onnx"))


def test_the_converted_file_never_replaces_an_input(tmp_path: Path) -> None:
    document = graph_document()
    lwtnn_path = write(tmp_path / "net.onnx", document)  # an lwtnn file named .onnx
    result = CliRunner().invoke(
        cli, ["card", "import", str(lwtnn_path), "-o", str(tmp_path / "c.card.json")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(lwtnn_path.read_text()) == document
    assert (tmp_path / "net.converted.onnx").is_file()
    names = write(tmp_path / "names.json", NAMES)
    with pytest.raises(Exception, match=r"names\.json"):
        import_lwtnn(lwtnn_path, names=names, onnx_path=names, card_path=tmp_path / "d.json")
    assert json.loads(names.read_text()) == NAMES


def test_an_lwtnn_file_among_onnx_folds_is_refused(tmp_path: Path) -> None:
    from recast.errors import ImportFormatError
    from recast.preserve.importers import FoldFile, import_folds

    path = write(tmp_path / "net.json", graph_document())
    with pytest.raises(ImportFormatError, match="is an lwtnn network"):
        import_folds([FoldFile(path, 0), FoldFile(path, 1)])
    with pytest.raises(ImportFormatError, match="import_lwtnn"):
        import_network(path)


# -- the published networks ------------------------------------------------------------------------
def published(shared_data: Path, jets: int) -> tuple[Path, Path]:
    folder = shared_data / "atlas_susy_2019_04"
    lwtnn_path = folder / "lwtnn" / f"ATLAS_13TeV_1LEPJets_139invfb_{jets}j.json"
    onnx_path = folder / "onnx" / f"OneLeptonMultiJets2018_{jets}jets.onnx"
    if not lwtnn_path.is_file() or not onnx_path.is_file():
        pytest.skip(f"the ATLAS-SUSY-2019-04 networks are not in {folder}")
    return lwtnn_path, onnx_path


@pytest.mark.parametrize("jets", sorted(ANCHORS))
def test_published_lwtnn_files_equal_the_published_onnx(shared_data: Path, jets: int) -> None:
    lwtnn_path, onnx_path = published(shared_data, jets)
    network = read_lwtnn(lwtnn_path)
    assert network.form == "graph" and len(network.names) == 65
    assert network.names[:3] == ["n_jet", "n_bcat", "n_bjet"]
    converted = ort.InferenceSession(
        lwtnn_to_onnx(network).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    original = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rows = np.random.default_rng(jets).normal(scale=2.0, size=(1000, 65)).astype(np.float32)
    (mine,) = converted.run(["out_0"], {"node_0": rows})
    theirs = np.concatenate(  # the published file takes one row per call
        [original.run(["39"], {"input.1": rows[i : i + 1]})[0] for i in range(len(rows))]
    )
    assert mine.shape == theirs.shape == (1000, 1)
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-6)
    (zero,) = converted.run(["out_0"], {"node_0": np.zeros((1, 65), np.float32)})
    assert zero[0, 0] == pytest.approx(ANCHORS[jets], abs=1e-6)


def test_published_lwtnn_file_imports_as_a_card_that_checks(
    shared_data: Path, tmp_path: Path
) -> None:
    lwtnn_path, _ = published(shared_data, 6)
    card_path = tmp_path / "nn_6j.card.json"
    result = CliRunner().invoke(
        cli, ["card", "import", str(lwtnn_path), "--unit", "100 GeV", "-o", str(card_path)]
    )
    assert result.exit_code == 0, result.output
    assert "converted from lwtnn" in result.output
    card = NetworkCard.load(card_path)
    assert card.inputs[0]["shape"] == [None, 65]
    assert card.outputs[0]["name"] == "out_0"
    assert card.outputs[0]["columns"][0] == {"index": 0, "label": "out_0", "activation": "sigmoid"}
    assert sha256_file(lwtnn_path) in card.document["provenance"]["notes"]
    check_card(card_path)
    zero = NetworkSession(card).run({"node_0": np.zeros((3, 65), np.float32)})["out_0"]
    np.testing.assert_allclose(zero, ANCHORS[6], atol=1e-6)


# -- the docs page -------------------------------------------------------------------------------
def section(page: str, title: str) -> str:
    text = (DOCS / page).read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_lwtnn_example_of_the_docs_prints_what_it_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = section("importing.md", "lwtnn networks")
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    (printed,) = re.findall(r"\nIt prints\n\n```\n(.*?)```", text, re.S)
    run_example(code, tmp_path, monkeypatch)
    problems = printed_differences(capsys.readouterr().out, printed)
    assert not problems, "\n".join(problems)
    # and the console lines below it run as written
    for line in re.findall(r"^\$ recast (card import .*)$", text, re.M):
        args = [a.strip("'\"") for a in re.findall(r"'[^']*'|\"[^\"]*\"|\S+", line)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output


def test_the_pages_worked_example_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", section("importing.md", "Worked example"), re.S)
    run_example(code, tmp_path, monkeypatch)
    assert "jets_pt_0" in capsys.readouterr().out


def test_a_graph_with_two_input_nodes_converts_but_does_not_import(tmp_path: Path) -> None:
    document = graph_document()
    second = copy.deepcopy(document["inputs"][0]) | {"name": "node_1"}
    document["inputs"].append(second)
    document["nodes"].append({"type": "input", "size": 5, "sources": [1]})
    document["nodes"][5]["sources"] = [4, 11]
    path = write(tmp_path / "two.json", document)
    model = lwtnn_to_onnx(read_lwtnn(path))
    assert [i.name for i in model.graph.input] == ["node_0", "node_1"]
    from recast.errors import ImportFormatError

    with pytest.raises(ImportFormatError, match="2 input nodes"):
        import_lwtnn(path, card_path=tmp_path / "c.json")
    assert not list(tmp_path.glob("*.onnx"))


def test_a_json_file_that_is_not_lwtnn_is_named_for_what_it_is(tmp_path: Path) -> None:
    path = write(tmp_path / "card.json", {"name": "x", "inputs": []})
    assert not is_lwtnn(path)
    result = CliRunner().invoke(
        cli, ["card", "import", str(path), "-o", str(tmp_path / "c.card.json")]
    )
    assert result.exit_code == 2
    assert "is a JSON document (keys ['inputs', 'name']), not an ONNX file" in result.output
    assert result.output.count("\n") == 1


def test_a_sequential_file_imports_as_a_card_that_checks(tmp_path: Path) -> None:
    path = write(tmp_path / "seq.json", sequential_document())
    card_path = tmp_path / "seq.card.json"
    card = write_imported_card(import_lwtnn(path, card_path=card_path), card_path)
    assert card.inputs[0]["name"] == "input" and card.inputs[0]["shape"] == [None, 4]
    assert card.outputs[0]["columns"] == [{"index": 0, "label": "disc", "activation": "sigmoid"}]
    check_card(card_path)
