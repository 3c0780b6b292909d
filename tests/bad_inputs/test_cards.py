"""Catalogue of bad network cards, ONNX files, side-cars and templates (`recast card ...`).

Every case runs the real command line from a folder holding a freshly exported card and its
ONNX file (made by fixtures, never copied from the shared data) and asserts the exit code, the
words of the message (file, field or position, fix), no traceback, and that nothing was
written or changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from recast.errors import InputBuildError
from recast.preserve import builder
from recast.preserve.builder import InputBuilder
from recast.preserve.card import NetworkCard
from recast.preserve.export import export_onnx_file
from recast.preserve.session import NetworkSession

from . import assert_refused, cases, invoke

CARD = "net.card.json"
NAN = float("nan")
INF = float("inf")
#: bytes that are no ONNX model (seeded: the same on every run)
JUNK = np.random.default_rng(0).bytes(300)


# -- tiny networks and their cards -------------------------------------------------------------
def write_net(
    path: Path,
    n_inputs: int = 3,
    n_outputs: int = 1,
    last: str | None = None,
    metadata: dict[str, str] | None = None,
    scale_after: float | None = None,
    batch: str | int = "batch",
) -> Path:
    """y = last(x @ W), ``last`` an ONNX op (Sigmoid, Softmax) or None; ``scale_after``
    multiplies the result (a last op that proves nothing about the activation)."""
    weights = np.random.default_rng(1).normal(size=(n_inputs, n_outputs)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h" if last or scale_after else "y"])]
    inits = [helper.make_tensor("W", TensorProto.FLOAT, weights.shape, weights.ravel())]
    current = "h"
    if last:
        target = "y" if scale_after is None else "a"
        extra = {"axis": -1} if last == "Softmax" else {}
        nodes.append(helper.make_node(last, [current], [target], **extra))
        current = target
    if scale_after is not None:
        inits.append(helper.make_tensor("k", TensorProto.FLOAT, [], [scale_after]))
        nodes.append(helper.make_node("Mul", [current, "k"], ["y"]))
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, n_inputs])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, n_outputs])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tests", ir_version=8
    )
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.save(model, str(path))
    return path


def feature(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "index": i,
        "name": f"v{i}",
        "definition": f"test feature v{i}",
        "role": "feature",
        "source": {"attribute": f"v{i}"},
        "unit": "1",
        "preprocessing": {"formula": "(x - mean) / std", "mean": 1.0, "std": 2.0},
    } | extra


def template(n_outputs: int = 1, activation: str | None = "linear") -> dict[str, Any]:
    columns = [{"index": k, "label": f"out{k}" if k else "score"} for k in range(n_outputs)]
    for column in columns:
        if activation:
            column["activation"] = activation
    return {
        "name": "net",
        "description": "three scalars",
        "inputs": [{"name": "x", "layout": "flat", "features": [feature(i) for i in range(3)]}],
        "outputs": [{"name": "y", "columns": columns}],
        "provenance": {"analysis_id": "TEST"},
    }


def export(folder: Path, onnx_path: Path, document: dict[str, Any]) -> Path:
    """Export to ``folder``/net.onnx + net.card.json, built from a valid template."""
    return Path(export_onnx_file(onnx_path, document, folder).source)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder holding a good card (net.card.json, linear output) and its net.onnx."""
    source = tmp_path / "source"
    source.mkdir()
    folder = tmp_path / "work"
    export(folder, write_net(source / "raw.onnx"), template())
    return folder


def edit(folder: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """Change the card in place (JSON may then hold NaN, as Python's json writes it)."""
    path = folder / CARD
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


def step(**numbers: Any) -> Callable[[dict[str, Any]], None]:
    """An edit setting feature 1's preprocessing to ``numbers``."""

    def change(card: dict[str, Any]) -> None:
        card["inputs"][0]["features"][1]["preprocessing"] = numbers

    return change


def rehash(folder: Path, content: bytes) -> None:
    """Replace net.onnx by ``content`` and record its digest: a card made for a broken file."""
    (folder / "net.onnx").write_bytes(content)
    edit(folder, lambda c: c["files"][0].update(sha256=hashlib.sha256(content).hexdigest()))


def test_the_good_card_passes(work: Path) -> None:
    result = invoke(["card", "check", CARD], work)
    assert result.exit_code == 0, result.output
    assert "output activations agree with the graph" in result.output


# -- preprocessing that cannot be right ------------------------------------------------------
MEAN_STD = "(x - mean) / std"
PREPROCESSING = [
    ("nan-mean", step(formula=MEAN_STD, mean=NAN, std=2.0), ["preprocessing.mean", "is nan"]),
    ("nan-std", step(formula=MEAN_STD, mean=1.0, std=NAN), ["preprocessing.std", "is nan"]),
    (
        "inf-offset",
        step(formula="(x - offset) / scale", offset=INF, scale=2.0),
        ["preprocessing.offset", "is inf", "finite"],
    ),
    ("zero-std", step(formula=MEAN_STD, mean=1.0, std=0), ["preprocessing.std", "divides by zero"]),
    (
        "negative-std",
        step(formula=MEAN_STD, mean=1.0, std=-2.0),
        ["preprocessing.std", "is -2.0", "> 0"],
    ),
    (
        "zero-scale-divides",
        step(formula="(x - offset) / scale", offset=1.0, scale=0),
        ["preprocessing.scale", "divides by zero"],
    ),
    (
        "zero-scale-kills",
        step(formula="(x + offset) * scale", offset=1.0, scale=0),
        ["preprocessing.scale", "never sees the feature"],
    ),
    (
        "zero-width",
        step(formula="(x - min) / (max - min)", min=5.0, max=5.0),
        ["preprocessing", "zero width", "max > min"],
    ),
    (
        "negative-width",
        step(formula="(x - min) / (max - min)", min=5.0, max=1.0),
        ["preprocessing", "negative width"],
    ),
    (
        "overflowing-factor",
        step(formula=MEAN_STD, mean=1.0, std=1e-320),
        ["preprocessing", "overflows"],
    ),
    (
        # 1/1e308 is a number in float64 but 0 in the float32 input: a multiply-by-0
        "factor-zero-in-float32",
        step(formula=MEAN_STD, mean=1.0, std=1e308),
        ["inputs[0].features[1].preprocessing", "'v1'", "1e-308", "float32", "trained with"],
    ),
    (
        "factor-infinite-in-float32",
        step(formula="(x + offset) * scale", offset=0.0, scale=1e300),
        ["inputs[0].features[1].preprocessing", "1e+300", "beyond float32"],
    ),
]


def test_a_folds_own_preprocessing_is_checked_too(work: Path) -> None:
    nan_override = {"v2": {"formula": MEAN_STD, "mean": 0.0, "std": NAN}}
    edit(work, lambda c: c["files"][0].update(preprocessing=nan_override))
    words = [CARD, "files[0].preprocessing['v2'].std", "'v2'", "is nan"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


# -- absurd static shapes --------------------------------------------------------------------
def fixed_batch(card: dict[str, Any]) -> None:
    card["inputs"][0]["shape"] = [10**12, 3]


def fixed_batch_as_float(card: dict[str, Any]) -> None:
    card["inputs"][0]["shape"] = [1e12, 3]


def sequence_of_1e9(card: dict[str, Any]) -> None:
    node = card["inputs"][0]
    node.update(
        layout="sequence",
        shape=[None, 10**9, 3],
        collection="jets",
        ordering={"by": "pt", "descending": True},
        max_count=10**9,
    )
    for f in node["features"]:
        f["padding"] = {"value": 0.0, "stage": "before_preprocessing"}


def slot_of_1e9(card: dict[str, Any]) -> None:
    card["inputs"][0]["features"][0].update(
        source={
            "collection": "jets",
            "attribute": "pt",
            "position": 0,
            "ordering": "as_given",
            "max_count": 10**9,
        },
        padding={"value": 0.0, "stage": "before_preprocessing"},
    )


def huge_output(card: dict[str, Any]) -> None:
    card["outputs"][0]["shape"] = [None, 10**7]


def sequence_too_wide(card: dict[str, Any]) -> None:
    sequence_of_1e9(card)
    node = card["inputs"][0]
    node["shape"] = [None, 5000, 3]
    node["max_count"] = 5000
    node["features"] = [
        feature(i, padding={"value": 0.0, "stage": "before_preprocessing"}) for i in range(300)
    ]
    for f in node["features"]:
        f["source"] = {"attribute": f["name"]}
    node["shape"][2] = 300


SHAPES = [
    ("batch-1e12", fixed_batch, ["inputs[0].shape[0]", "batch", "1000000000000", "dynamic"]),
    ("batch-as-float", fixed_batch_as_float, ["inputs[0].shape[0]", "integers"]),
    (
        "sequence-1e9-objects",
        sequence_of_1e9,
        ["inputs[0].max_count", "'x'", "axis 1", "1000000000", "10000", "fix max_count"],
    ),
    (
        "slot-1e9-objects",
        slot_of_1e9,
        ["inputs[0].features[0].source.max_count", "'v0'", "1000000000", "fix max_count"],
    ),
    ("output-1e7-columns", huge_output, ["outputs[0].shape[1]", "'y'", "10000000", "per row"]),
    (
        "sequence-1.5e6-values",
        sequence_too_wide,
        ["inputs[0]", "'x'", "1500000 values per row", "fix the shape"],
    ),
]


#: what every refusal of a preprocessing step names besides its own words
STEP_WORDS = ["inputs[0].features[1]", "'v1'", "trained with"]


@cases(
    ("change", "words"),
    [*((name, change, [*STEP_WORDS, *words]) for name, change, words in PREPROCESSING), *SHAPES],
)
@pytest.mark.parametrize("command", ["check", "show"])
def test_impossible_preprocessing_and_absurd_shapes_are_refused(
    work: Path, command: str, change: Callable, words: list[str]
) -> None:
    edit(work, change)
    assert_refused(["card", command, CARD], work, [CARD, *words], exit_code=1)


def test_the_builder_refuses_a_chunk_beyond_its_memory_bound(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card bounds a row; the builder bounds rows x row before allocating."""
    import awkward as ak

    card = NetworkCard.load(work / CARD)
    events = ak.Array({f"v{i}": np.ones(1000) for i in range(3)})
    assert InputBuilder(card).build(events).arrays["x"].shape == (1000, 3)
    monkeypatch.setattr(builder, "MAX_INPUT_BYTES", 1000 * 3 * 4 - 1)
    with pytest.raises(InputBuildError, match=r"input 'x' for 1000 rows .* smaller chunks"):
        InputBuilder(card).build(events)


def test_a_batch_fixed_to_one_is_a_published_form(work: Path) -> None:
    """Exit 0: some published graphs fix the batch axis to 1; they are run row by row."""
    import awkward as ak

    events = ak.Array({f"v{i}": np.linspace(-2.0, 3.0, 5) * (i + 1) for i in range(3)})
    dynamic = NetworkSession(NetworkCard.load(work / CARD)).evaluate(events)
    write_net(work / "net.onnx", batch=1)  # the same weights, batch axis fixed to 1
    rehash(work, (work / "net.onnx").read_bytes())

    def batch_one(card: dict[str, Any]) -> None:
        card["inputs"][0]["shape"] = [1, 3]
        card["outputs"][0]["shape"] = [1, 1]

    edit(work, batch_one)
    result = invoke(["card", "check", CARD], work)
    assert result.exit_code == 0, result.output
    assert "passes every check" in result.output
    net = NetworkSession(NetworkCard.load(work / CARD))
    np.testing.assert_array_equal(net.evaluate(events).score, dynamic.score)
    assert len(net.evaluate(events[:0]).score) == 0


# -- outputs whose activation disagrees with the graph ---------------------------------------
def declare(activation: str, drop_references: bool = False) -> Callable[[dict[str, Any]], None]:
    def change(card: dict[str, Any]) -> None:
        for column in card["outputs"][0]["columns"]:
            column["activation"] = activation
        if drop_references:
            del card["files"][0]["references"]

    return change


@pytest.mark.parametrize("drop_references", [False, True], ids=["references", "random-rows"])
def test_sigmoid_declared_on_a_linear_output(work: Path, drop_references: bool) -> None:
    edit(work, declare("sigmoid", drop_references))
    words = [CARD, "outputs[0].columns[0]", "index 0", "'score'", "'sigmoid'", "[0, 1]", "linear"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


def folder_with(tmp_path: Path, document: dict[str, Any], **net: Any) -> Path:
    source = tmp_path / "source"
    source.mkdir(exist_ok=True)
    folder = tmp_path / "work"
    export(folder, write_net(source / "raw.onnx", **net), document)
    return folder


def test_linear_declared_on_a_sigmoid_graph(tmp_path: Path) -> None:
    work = folder_with(tmp_path, template(activation="sigmoid"), last="Sigmoid")
    edit(work, declare("linear"))
    words = [CARD, "outputs[0].columns[0]", "'score'", "'linear'", "Sigmoid node", "'sigmoid'"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


def test_softmax_declared_on_independent_sigmoids(tmp_path: Path) -> None:
    """The last op (Mul) proves nothing; the rows of the 3 'softmax' columns do not sum to 1."""
    work = folder_with(
        tmp_path, template(3, activation="sigmoid"), n_outputs=3, last="Sigmoid", scale_after=1.0
    )
    edit(work, declare("softmax"))
    words = [CARD, "outputs[0]", "'y'", "softmax", "['score', 'out1', 'out2']", "sum to", "not 1"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


def test_softmax_declared_on_a_sigmoid_graph(tmp_path: Path) -> None:
    work = folder_with(tmp_path, template(3, activation="sigmoid"), n_outputs=3, last="Sigmoid")
    edit(work, declare("softmax"))
    words = [CARD, "outputs[0].columns[0]", "'softmax'", "Sigmoid node"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


def test_export_refuses_a_template_whose_activation_the_network_contradicts(
    tmp_path: Path,
) -> None:
    write_net(tmp_path / "raw.onnx")
    (tmp_path / "template.json").write_text(json.dumps(template(activation="sigmoid")))
    args = ["card", "export", "template.json", "--model", "raw.onnx", "-o", "out"]
    words = ["export of net", "outputs[0].columns[0]", "'sigmoid'", "[0, 1]"]
    assert_refused(args, tmp_path, words, exit_code=1)


def test_linear_outputs_that_look_like_softmax_are_a_warning(tmp_path: Path) -> None:
    """Exit 0: a regression may output fractions, but the user is told."""
    work = folder_with(
        tmp_path, template(3, activation=None), n_outputs=3, last="Softmax", scale_after=1.0
    )
    edit(work, declare("linear"))
    result = invoke(["card", "check", CARD], work)
    assert result.exit_code == 0, result.output
    assert "warning  net.onnx: outputs[0] ('y') is declared 'linear'" in result.output
    assert "sums to 1, as softmax probabilities do" in result.output


def test_a_linear_output_that_looks_like_a_probability_is_a_warning(tmp_path: Path) -> None:
    work = folder_with(tmp_path, template(activation=None), last="Sigmoid", scale_after=1.0)
    edit(work, declare("linear"))
    result = invoke(["card", "check", CARD], work)
    assert result.exit_code == 0, result.output
    assert "strictly between 0 and 1, as a probability does" in result.output


def test_softmax_declared_on_a_softmax_graph_passes(tmp_path: Path) -> None:
    work = folder_with(tmp_path, template(3, activation="softmax"), n_outputs=3, last="Softmax")
    result = invoke(["card", "check", CARD], work)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


# -- reference vectors -------------------------------------------------------------------------
def reference(kind: str, value: float) -> Callable[[dict[str, Any]], None]:
    def change(card: dict[str, Any]) -> None:
        ref = card["files"][0]["references"][0]
        if kind == "tolerance":
            ref["tolerance"]["absolute"] = value
        else:
            ref[kind][next(iter(ref[kind]))][1][0] = value

    return change


@pytest.mark.parametrize(
    ("kind", "value", "where"),
    [
        ("outputs", NAN, "files[0].references[0].outputs.y"),
        ("inputs", NAN, "files[0].references[0].inputs.x"),
        ("inputs", -INF, "files[0].references[0].inputs.x"),
        ("tolerance", NAN, "files[0].references[0].tolerance.absolute"),
    ],
    ids=["nan-output", "nan-input", "inf-input", "nan-tolerance"],
)
def test_non_finite_reference_vectors(work: Path, kind: str, value: float, where: str) -> None:
    edit(work, reference(kind, value))
    words = [CARD, where, str(value), "finite", "re-export"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


def test_ragged_reference_vectors(work: Path) -> None:
    edit(work, lambda c: c["files"][0]["references"][0]["inputs"]["x"][1].pop())
    words = [CARD, "files[0].references[0]", "inputs.x", "not a rectangular array"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


def padding(card: dict[str, Any]) -> None:
    card["inputs"][0]["features"][2]["padding"] = {"value": NAN, "stage": "after_preprocessing"}


def nan_replacement(card: dict[str, Any]) -> None:
    card["inputs"][0]["features"][0]["nan"] = {"policy": "replace", "value": INF}


def parameter_point(card: dict[str, Any]) -> None:
    card["parameter_points"] = [{"m": 1000.0}, {"m": NAN}]


NON_FINITE = [
    ("padding", padding, "inputs[0].features[2].padding.value is nan"),
    ("nan-replacement", nan_replacement, "inputs[0].features[0].nan.value is inf"),
    ("parameter-point", parameter_point, "parameter_points[1].m is nan"),
]


@cases(("change", "where"), NON_FINITE)
def test_non_finite_numbers_anywhere_in_a_card(work: Path, change: Callable, where: str) -> None:
    edit(work, change)
    words = [CARD, where, "finite numbers only", "fix the program that wrote it"]
    assert_refused(["card", "show", CARD], work, words, exit_code=1)


def test_reference_not_reproduced(work: Path) -> None:
    edit(work, reference("outputs", 123.0))
    words = [CARD, "files[0].references[0]", "output 'y' not reproduced", "tolerance"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


# -- a card that disagrees with its graph ----------------------------------------------------
def fewer_features(card: dict[str, Any]) -> None:
    card["inputs"][0]["features"].pop()
    card["inputs"][0]["shape"] = [None, 2]
    card["files"][0].pop("references")


def other_dtype(card: dict[str, Any]) -> None:
    card["inputs"][0]["dtype"] = "float64"


def other_name(card: dict[str, Any]) -> None:
    card["inputs"][0]["name"] = "inputs"
    ref = card["files"][0]["references"][0]
    ref["inputs"]["inputs"] = ref["inputs"].pop("x")


def second_input(card: dict[str, Any]) -> None:
    node = dict(card["inputs"][0], name="extra")
    card["inputs"].append(node | {"features": [feature(i) for i in range(3)]})


GRAPH = [
    ("input-count", fewer_features, ["inputs[0].shape[1] is 2", "graph's 'x' has 3", "features"]),
    ("input-dtype", other_dtype, ["inputs[0].dtype is 'float64'", "graph's 'x' is 'float32'"]),
    ("input-name", other_name, ["inputs[0].name 'inputs' is not a graph input", "['x']"]),
    ("extra-node", second_input, ["inputs[1].name 'extra' is not a graph input"]),
]


@cases(("change", "words"), GRAPH)
def test_a_card_disagreeing_with_its_graph(work: Path, change: Callable, words: list[str]) -> None:
    edit(work, change)
    assert_refused(["card", "check", CARD], work, [CARD, "net.onnx", *words], exit_code=1)


# -- files that are not what the card says -----------------------------------------------------
def test_tampered_onnx(work: Path) -> None:
    onnx_path = work / "net.onnx"
    onnx_path.write_bytes(onnx_path.read_bytes() + b"\0")
    words = [CARD, "net.onnx", "sha256 is", "files[0].sha256 records", "modified or replaced"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (JUNK, ["not a valid onnx model", "fetch"]),
        (b"\x0a\xff\xff\xff\xff\x0f" + JUNK, ["not a valid onnx model"]),
        (b"", ["not a valid onnx model", "fetch"]),
    ],
    ids=["random-bytes", "corrupt", "empty"],
)
def test_onnx_file_that_is_not_onnx(work: Path, content: bytes, words: list[str]) -> None:
    """Even with a digest that matches (a card written for a broken file)."""
    rehash(work, content)
    assert_refused(["card", "check", CARD], work, [CARD, "net.onnx", *words], exit_code=1)


def test_truncated_onnx_with_matching_digest(work: Path) -> None:
    rehash(work, (work / "net.onnx").read_bytes()[:40])
    words = [CARD, "net.onnx", "not a valid onnx model", "fetch"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


def test_missing_onnx(work: Path) -> None:
    (work / "net.onnx").unlink()
    words = [CARD, "net.onnx", "no such file", "files[0].path", "beside the card"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


@pytest.mark.parametrize("kind", ["folder", "pipe"])
def test_onnx_name_that_is_no_file(work: Path, kind: str) -> None:
    # both were reported as "no such file"; a pipe must not hang the check
    (work / "net.onnx").unlink()
    if kind == "folder":
        (work / "net.onnx").mkdir()
    else:
        os.mkfifo(work / "net.onnx")
    words = [CARD, "net.onnx", "files[0].path", "must name the ONNX file itself"]
    words.append("a folder" if kind == "folder" else "not a regular file")
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


# -- documents that are not cards --------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "words", "code"),
    [
        ("", ["not valid JSON", "line 1 column 1"], 1),
        ("{not json", ["not valid JSON", "line 1"], 1),
        ("[1, 2]", ["expected a JSON object"], 1),
        (None, ["schema_version", "'9.9.9'", "known versions: 1.0.0", "upgrade"], 1),
        ("missing", ["no such file"], 2),
    ],
    ids=["empty", "not-json", "a-list", "unknown-version", "missing"],
)
@pytest.mark.parametrize("command", ["check", "show"])
def test_documents_that_are_not_cards(
    work: Path, command: str, text: str | None, words: list[str], code: int
) -> None:
    if text is None:
        edit(work, lambda c: c.update(schema_version="9.9.9"))
    elif text == "missing":
        (work / CARD).unlink()
    else:
        (work / CARD).write_text(text)
    assert_refused(["card", command, CARD], work, [CARD, *words], exit_code=code)


# -- card import: published ONNX and side-cars --------------------------------------------------
NAMES = ["ht", "dR", "mbb"]


def lwtnn(std: str = "0.5", mean: str = "-1.0") -> dict[str, str]:
    props: dict[str, str] = {}
    for i, name in enumerate(NAMES):
        props |= {f"input_{i}": name, f"{name}_mean": mean if i == 1 else "-1.0"}
        props[f"{name}_std"] = std if i == 1 else "0.5"
    return props


SIDECARS: list[tuple[str, Any, list[str], int]] = [
    (
        "form1-zero-scale",
        {"variables": NAMES, "scale": [1.0, 0.0, 2.0], "offset": [0.0, 0.0, 0.0]},
        ["side.json", "scale is 0 for ['dR']", "divides by zero", "fix the side-car"],
        1,
    ),
    (
        "form2-nan-mean",
        '{"branches": ["ht", "dR", "mbb"], "normalization": '
        '{"mean": [0, NaN, 0], "stddev": [1, 1, 1]}}',
        ["side.json", "normalization.mean", "finite numbers"],
        1,
    ),
    (
        "form2-infinite-std",
        '{"branches": ["ht", "dR", "mbb"], "normalization": '
        '{"mean": [0, 0, 0], "stddev": [1, Infinity, 1]}}',
        ["side.json", "normalization.stddev", "finite numbers"],
        1,
    ),
    (
        "form2-negative-std",
        {"branches": NAMES, "normalization": {"mean": [0, 0, 0], "stddev": [1, -1, 1]}},
        ["side.json", "normalization.stddev", "['dR']", "std > 0", "fix the side-car"],
        1,
    ),
    (
        "form2-std-overflows",
        {"branches": NAMES, "normalization": {"mean": [0, 0, 0], "stddev": [1, 1e-320, 1]}},
        ["imported from side-car side.json", "features[1]", "'dR'", "overflows"],
        1,
    ),
    ("empty", "", ["side.json", "not valid JSON"], 1),
    ("unknown-form", {"means": [1, 2, 3]}, ["side.json", "not a side-car form", "form 1"], 1),
]


@cases(("sidecar", "words", "code"), SIDECARS)
def test_import_refuses_bad_sidecars(
    tmp_path: Path, sidecar: Any, words: list[str], code: int
) -> None:
    write_net(tmp_path / "net.onnx")
    text = sidecar if isinstance(sidecar, str) else json.dumps(sidecar)
    (tmp_path / "side.json").write_text(text)
    args = ["card", "import", "net.onnx", "--sidecar", "side.json", "-o", CARD]
    assert_refused(args, tmp_path, words, exit_code=code)


@pytest.mark.parametrize(
    ("props", "words"),
    [
        (lwtnn(std="0"), ["dR_std is 0.0", "non-zero std", "--sidecar"]),
        (lwtnn(mean="nan"), ["dR_mean nan", "finite mean", "--sidecar"]),
        (lwtnn(std="inf"), ["dR_std is inf", "--sidecar"]),
    ],
    ids=["zero-std", "nan-mean", "inf-std"],
)
def test_import_refuses_bad_lwtnn_metadata(
    tmp_path: Path, props: dict[str, str], words: list[str]
) -> None:
    write_net(tmp_path / "net.onnx", metadata=props)
    args = ["card", "import", "net.onnx", "-o", CARD]
    # the metadata is a document inside the ONNX file: an invalid one exits 1
    assert_refused(args, tmp_path, ["net.onnx", "metadata_props", *words], exit_code=1)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (JUNK, ["not a readable ONNX model"]),
        (b"", ["not an ONNX model", "holds no graph", "fetch"]),
    ],
    ids=["random-bytes", "empty"],
)
def test_import_refuses_files_that_are_not_onnx(
    tmp_path: Path, content: bytes, words: list[str]
) -> None:
    (tmp_path / "net.onnx").write_bytes(content)
    assert_refused(
        ["card", "import", "net.onnx", "-o", CARD], tmp_path, ["net.onnx", *words], exit_code=2
    )


def test_import_refuses_a_truncated_onnx(tmp_path: Path) -> None:
    data = write_net(tmp_path / "full.onnx").read_bytes()
    (tmp_path / "net.onnx").write_bytes(data[: len(data) // 2])
    words = ["net.onnx", "not a readable ONNX model"]
    assert_refused(["card", "import", "net.onnx", "-o", CARD], tmp_path, words, exit_code=2)


# -- card export: templates and model files ------------------------------------------------------
def nan_template(document: dict[str, Any]) -> None:
    document["inputs"][0]["features"][2]["preprocessing"]["mean"] = NAN


def wrong_input_name(document: dict[str, Any]) -> None:
    document["inputs"][0]["name"] = "zz"


def huge_template(document: dict[str, Any]) -> None:
    document["inputs"][0]["shape"] = [None, 10**9]


EXPORTS = [
    ("nan-mean", nan_template, ["template.json", "features[2].preprocessing.mean", "is nan"], 1),
    ("node-names", wrong_input_name, ["raw.onnx", "inputs are ['zz']", "graph's are ['x']"], 1),
    ("huge-shape", huge_template, ["template.json", "inputs[0].shape[1]", "1000000000"], 1),
]


@cases(("change", "words", "code"), EXPORTS)
def test_export_refuses_bad_templates(
    tmp_path: Path, change: Callable, words: list[str], code: int
) -> None:
    write_net(tmp_path / "raw.onnx")
    document = template()
    change(document)
    (tmp_path / "template.json").write_text(json.dumps(document))
    args = ["card", "export", "template.json", "--model", "raw.onnx", "-o", "out"]
    assert_refused(args, tmp_path, words, exit_code=code)


@pytest.mark.parametrize("content", [JUNK, b""], ids=["random-bytes", "empty"])
def test_export_refuses_a_model_that_is_not_onnx(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "raw.onnx").write_bytes(content)
    (tmp_path / "template.json").write_text(json.dumps(template()))
    args = ["card", "export", "template.json", "--model", "raw.onnx", "-o", "out"]
    words = ["raw.onnx", "cannot load this network", "export it again"]
    assert_refused(args, tmp_path, words, exit_code=1)


# -- reference tolerances, link loops, schema messages -------------------------------------------
@pytest.mark.parametrize(("kind", "value"), [("absolute", 1e9), ("relative", 0.5)])
def test_a_reference_tolerance_that_proves_nothing_is_refused(
    work: Path, kind: str, value: float
) -> None:
    edit(work, lambda c: c["files"][0]["references"][0]["tolerance"].update({kind: value}))
    words = [CARD, f"files[0].references[0].tolerance.{kind}", f"{value:g}", "above 0.01"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


@pytest.mark.parametrize("command", ["check", "show"])
def test_an_onnx_file_that_is_a_link_to_itself(work: Path, command: str) -> None:
    (work / "net.onnx").unlink()
    (work / "net.onnx").symlink_to("net.onnx")
    words = [CARD, "files[0].path", "symbolic link loop", "replace the link"]
    assert_refused(["card", command, CARD], work, words, exit_code=1)


def test_a_fractional_max_count_names_the_field_not_another_branch(work: Path) -> None:
    def fractional(card: dict[str, Any]) -> None:
        slot_of_1e9(card)
        card["inputs"][0]["features"][0]["source"]["max_count"] = 4.5

    edit(work, fractional)
    refusal = assert_refused(
        ["card", "check", CARD],
        work,
        [CARD, "inputs[0].features[0].source.max_count", "4.5", "integer"],
        exit_code=1,
    )
    assert "'parameter' is a required property" not in refusal.message


# -- documents as data: JSON the loader refuses, names printed as they are -----------------------
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"name": "a", "name": "b"}', ["line 1 column 1", "key 'name' twice", '"a"', '"b"']),
        ('{"x": ' + "[" * 100000 + "]" * 100000 + "}", ["nested", "levels"]),
        ('{"x": 1' + "0" * 400 + "}", ["line 1 column 7", "401 digits", "finite"]),
        ('{"x": ' + "7" * 5000 + "}", ["5000 digits"]),
    ],
    ids=["duplicate-key", "100000-deep", "10^400", "5000-digits"],
)
@pytest.mark.parametrize("command", ["check", "show"])
def test_json_the_loader_refuses(work: Path, command: str, text: str, words: list[str]) -> None:
    (work / CARD).write_text(text)
    assert_refused(["card", command, CARD], work, [CARD, *words], exit_code=1)


def test_a_duplicate_key_inside_a_card_is_refused_not_resolved(work: Path) -> None:
    text = (work / CARD).read_text()
    # the second "std" would silently win: a preprocessing nobody wrote down
    (work / CARD).write_text(text.replace('"std": 2.0', '"std": 2.0, "std": 2000.0', 1))
    words = [CARD, "key 'std' twice", "2.0", "2000.0", "delete the other"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_a_card_not_in_utf8(work: Path, encoding: str) -> None:
    text = (work / CARD).read_text()
    (work / CARD).write_bytes(text.encode(encoding))
    words = [CARD, encoding.upper(), "save it as UTF-8"]
    assert_refused(["card", "check", CARD], work, words, exit_code=1)


def test_a_utf8_byte_order_mark_is_accepted(work: Path) -> None:
    (work / CARD).write_bytes(b"\xef\xbb\xbf" + (work / CARD).read_bytes())
    result = invoke(["card", "check", CARD], work)
    assert result.exit_code == 0, result.output


def test_card_show_prints_markup_and_control_characters_literally(work: Path) -> None:
    def odd_names(card: dict[str, Any]) -> None:
        card["description"] = "scores [/x] oops [bold]b[/bold]"
        card["inputs"][0]["features"][0]["name"] = "[/meff]"
        card["inputs"][0]["features"][1]["name"] = "v1\x1b[2J"

    edit(work, odd_names)
    result = invoke(["card", "show", CARD], work)
    assert result.exit_code == 0, result.output
    assert "scores [/x] oops [bold]b[/bold]" in result.output
    assert "[/meff]" in result.output
    assert "v1\\x1b[2J" in result.output  # the escape shown, never sent to the terminal
    assert "\x1b" not in result.output


# -- card export --stem and card import --fold ----------------------------------------------------
@pytest.mark.parametrize("stem", ["../escape", "a/b", "..", ".", ".hidden", ""])
def test_export_refuses_a_stem_that_is_not_a_plain_file_name(tmp_path: Path, stem: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    write_net(work / "raw.onnx")
    (work / "template.json").write_text(json.dumps(template()))
    (tmp_path / "escape.onnx").write_bytes(b"someone's file")
    args = ["card", "export", "template.json", "--model", "raw.onnx", "-o", "pub", "--stem", stem]
    # the parent folder is watched: ../escape would have replaced escape.onnx there
    assert_refused(args, work, ["--stem", "plain file name"], exit_code=2, watch=[tmp_path])


@pytest.mark.parametrize(
    ("folds", "words"),
    [
        (["a.onnx=-1"], ["--fold a.onnx=-1", "non-negative whole number"]),
        (["a.onnx=0", "a.onnx=1"], ["--fold a.onnx", "given twice"]),
    ],
    ids=["negative-remainder", "one-file-two-folds"],
)
def test_import_refuses_bad_folds(tmp_path: Path, folds: list[str], words: list[str]) -> None:
    write_net(tmp_path / "a.onnx")
    args = ["card", "import", *(a for f in folds for a in ("--fold", f)), "-o", CARD]
    assert_refused(args, tmp_path, words, exit_code=2)
