"""Importing published networks: the three side-car conventions, their cross-check, folds.

Synthetic ONNX files made here cover every form and every refusal; the real ATLAS networks in
../shared/data pin published numbers, check that both published conventions agree and that
separately normalised folds go into one card, each file keeping its own preprocessing.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from recast.errors import (
    ArtefactNotFoundError,
    ImportFormatError,
    PathEscapeError,
    SidecarMismatchError,
    UsageError,
)
from recast.io import sha256_file
from recast.preserve.builder import InputBuilder, linear_form
from recast.preserve.card import NetworkCard
from recast.preserve.check import check_card
from recast.preserve.importers import (
    FoldFile,
    import_folds,
    import_network,
    write_imported_card,
)
from recast.preserve.session import NetworkSession
from recast.preserve.standin import make_standin_mlp

HIGP = "onnx/atlas_higp_2024_32/ANA-HIGP-2024-32_{}DNN_model_{}"
SUSY_CONFIG = "atlas_susy_2018_30/ANA-SUSY-2018-30_config.json"
#: The ONNX graphs fed an all-zero (already preprocessed) row, as published in data/README.md.
ANCHORS = {
    ("nonres", "even"): 0.6339933,
    ("nonres", "odd"): 0.67168486,
    ("res", "even"): 0.33911848,
    ("res", "odd"): 0.32113734,
}


# -- synthetic networks ------------------------------------------------------------------------
def make_net(
    path: Path,
    n_inputs: int,
    *,
    n_outputs: int = 1,
    input_name: str = "x",
    output_name: str = "y",
    metadata: Mapping[str, str] | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """y = sigmoid(x @ W + b) written to ``path``; returns (W, b) to compute by hand."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(n_inputs, n_outputs)).astype(np.float32)
    bias = rng.normal(size=n_outputs).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", [input_name, "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], [output_name]),
        ],
        "net",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", n_inputs])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["batch", n_outputs])],
        [
            helper.make_tensor("W", TensorProto.FLOAT, weights.shape, weights.ravel()),
            helper.make_tensor("b", TensorProto.FLOAT, bias.shape, bias),
        ],
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="test-producer",
        producer_version="4.2",
        ir_version=8,
    )
    if metadata:
        helper.set_model_props(model, dict(metadata))
    onnx.save(model, str(path))
    return weights, bias


def by_hand(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return 1.0 / (1.0 + np.exp(-(x.astype(np.float64) @ weights + bias)))


def lwtnn(names: list[str], offset: list[float], scale: list[float]) -> dict[str, str]:
    """metadata_props in the lwtnn convention x' = (x + mean) * std for a given (x - o) / s."""
    props = {}
    for i, (name, o, s) in enumerate(zip(names, offset, scale, strict=True)):
        props |= {f"input_{i}": name, f"{name}_mean": repr(-o), f"{name}_std": repr(1.0 / s)}
    return props


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def features(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in document["inputs"][0]["features"]}


NAMES = ["ht", "dR", "mbb"]
OFFSET = [400.0, 1.5, 120.0]
SCALE = [150.0, 0.5, 40.0]


@pytest.fixture
def form1(tmp_path: Path) -> tuple[Path, Path, tuple[np.ndarray, np.ndarray]]:
    onnx_path = tmp_path / "net.onnx"
    weights = make_net(onnx_path, 3, metadata=lwtnn(NAMES, OFFSET, SCALE))
    sidecar = write(
        tmp_path / "net_variables.json", {"variables": NAMES, "scale": SCALE, "offset": OFFSET}
    )
    return onnx_path, sidecar, weights


# -- form 1 ------------------------------------------------------------------------------------
def test_form1_card_fields(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, _ = form1
    card_path = tmp_path / "cards" / "net.card.json"
    doc = import_network(onnx_path, sidecar, card_path=card_path)
    assert doc["schema_version"] == "1.1.0"  # importers write the current card version
    assert doc["name"] == "net"
    node = doc["inputs"][0]
    assert (node["name"], node["dtype"], node["shape"], node["layout"]) == (
        "x",
        "float32",
        [None, 3],
        "flat",
    )
    assert node["dynamic_axes"] == {"0": "batch"}
    ht = features(doc)["ht"]
    assert ht["preprocessing"] == {
        "formula": "(x - offset) / scale",
        "offset": 400.0,
        "scale": 150.0,
    }
    assert ht["source"] == {"attribute": "ht"} and ht["role"] == "feature"
    assert ht["definition"]
    assert ht["guessed"] == ["definition", "source", "unit"]  # only its name is published
    (entry,) = doc["files"]
    assert entry["path"] == "../net.onnx"
    assert entry["sha256"] == sha256_file(onnx_path)
    assert entry["opset"] == 13
    assert entry["producer"] == {"name": "test-producer", "version": "4.2"}
    assert "applies_to" not in entry and "node_names" not in entry
    assert doc["runtimes_tested"] == [{"name": "onnxruntime", "version": ort.__version__}]
    assert doc["outputs"] == [
        {
            "name": "y",
            "dtype": "float32",
            "shape": [None, 1],
            "columns": [{"index": 0, "label": "score", "activation": "sigmoid"}],
        }
    ]
    assert "checked against the ONNX metadata_props" in doc["description"]
    assert doc["provenance"]["source"] == "net.onnx + net_variables.json"


def test_form1_reference_is_the_network_output(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, (weights, bias) = form1
    doc = import_network(onnx_path, sidecar, card_path=tmp_path / "net.card.json")
    (reference,) = doc["files"][0]["references"]
    rows = np.asarray(reference["inputs"]["x"])
    assert rows.shape == (4, 3)
    assert (rows[0] == 0).all() and np.abs(rows[1:]).max() > 0.1  # a zero row, then random
    outputs = np.asarray(reference["outputs"]["y"])
    np.testing.assert_allclose(outputs, by_hand(rows, weights, bias), rtol=1e-6)
    assert outputs[0, 0] == pytest.approx(1 / (1 + math.exp(-bias[0])), rel=1e-6)
    assert reference["tolerance"] == {"absolute": 1e-5, "relative": 1e-4}
    assert reference["computed_by"]["name"] == "onnxruntime"


def test_form1_scores_match_hand_computation(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, (weights, bias) = form1
    card_path = tmp_path / "net.card.json"
    card = write_imported_card(import_network(onnx_path, sidecar, card_path=card_path), card_path)
    events = ak.zip(
        {"ht": [400.0, 700.0, 250.0], "dR": [1.5, 0.4, 3.0], "mbb": [120.0, 80.0, 200.0]}
    )
    scores = NetworkSession(card).evaluate(events)
    x = np.stack(
        [(np.asarray(events[n]) - o) / s for n, o, s in zip(NAMES, OFFSET, SCALE, strict=True)],
        axis=1,
    )
    np.testing.assert_allclose(np.asarray(scores.score), by_hand(x, weights, bias)[:, 0], rtol=1e-6)
    assert x[0] == pytest.approx([0.0, 0.0, 0.0])  # the first event sits at the offsets


def test_written_card_passes_the_full_check(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, _ = form1
    card_path = tmp_path / "net.card.json"
    write_imported_card(import_network(onnx_path, sidecar, card_path=card_path), card_path)
    report = check_card(card_path)
    assert report.card.name == "net"
    assert NetworkCard.load(card_path).document["files"][0]["path"] == "net.onnx"


def test_a_card_naming_a_file_outside_its_folder_is_not_written(form1: Any, tmp_path: Path) -> None:
    """A card names its files inside its own folder: one in out/ cannot name ../net.onnx."""
    onnx_path, sidecar, _ = form1
    card_path = tmp_path / "out" / "net.card.json"
    doc = import_network(onnx_path, sidecar, card_path=card_path)
    assert doc["files"][0]["path"] == "../net.onnx"
    with pytest.raises(PathEscapeError, match=r"files\[0\]\.path '\.\./net\.onnx' leads outside"):
        write_imported_card(doc, card_path)
    assert not card_path.exists()


def test_writing_elsewhere_than_announced_is_refused(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, _ = form1
    doc = import_network(onnx_path, sidecar, card_path=tmp_path / "net.card.json")
    with pytest.raises(ArtefactNotFoundError, match=r"net\.onnx: no such file"):
        write_imported_card(doc, tmp_path / "a" / "b" / "net.card.json")
    assert not (tmp_path / "a").exists()  # a refused card leaves nothing behind


# -- form 2 ------------------------------------------------------------------------------------
FORM2_NAMES = [
    "jets_pt_0",
    "jets_eta_0",
    "jets_phi_0",
    "jets_isb_0",
    "jets_pt_1",
    "jets_eta_1",
    "jets_phi_1",
    "jets_isb_1",
    "met",
    "met_phi",
    "isA",
    "mX",
]
FORM2_MEAN = [200.0, 0.0, 0.01, 0.5, 100.0, 0.0, -0.02, 0.4, 150.0, 3.1, 0.5, 1000.0]
FORM2_STD = [100.0, 1.2, 1.8, 0.5, 50.0, 1.1, 1.8, 0.5, 90.0, 1.8, 0.5, 400.0]
FORM2_POINTS = [{"isA": 1, "mX": 800}, {"isA": 0, "mX": 1200}]


@pytest.fixture
def form2(tmp_path: Path) -> tuple[Path, Path, tuple[np.ndarray, np.ndarray]]:
    onnx_path = tmp_path / "param.onnx"
    weights = make_net(onnx_path, 12, n_outputs=3, input_name="input_1", output_name="dense_4")
    sidecar = write(
        tmp_path / "config.json",
        {
            "branches": FORM2_NAMES,
            "normalization": {"mean": FORM2_MEAN, "stddev": FORM2_STD},
            "parameters": FORM2_POINTS,
        },
    )
    return onnx_path, sidecar, weights


def test_form2_physics_metadata(
    form2: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    onnx_path, sidecar, _ = form2
    with caplog.at_level(logging.WARNING, logger="recast.preserve.names"):
        doc = import_network(
            onnx_path, sidecar, card_path=tmp_path / "c.json", unit="MeV", padding=-5.0
        )
    f = features(doc)
    assert f["jets_pt_1"]["source"] == {
        "collection": "jets",
        "attribute": "pt",
        "position": 1,
        "ordering": {"by": "pt", "descending": True},
        "max_count": 2,
    }
    assert f["jets_pt_1"]["unit"] == "MeV"
    assert f["jets_pt_1"]["padding"] == {"value": -5.0, "stage": "before_preprocessing"}
    assert f["jets_pt_1"]["definition"].startswith("transverse momentum of the 2nd jets object")
    assert (f["jets_eta_0"]["unit"], f["jets_isb_0"]["unit"]) == ("1", "1")
    assert f["jets_isb_0"]["source"]["attribute"] == "btag"
    assert f["jets_phi_0"]["unit"] == "rad"
    assert f["jets_phi_0"]["angle_range"] == f["jets_phi_1"]["angle_range"] == "(-pi, pi]"
    assert f["met"]["source"] == {"collection": "met", "attribute": "pt"}
    assert f["met"]["unit"] == "MeV"
    assert f["met_phi"]["source"] == {"collection": "met", "attribute": "phi"}
    assert f["met_phi"]["angle_range"] == "[0, 2pi)"
    assert "inferred" in f["met_phi"]["notes"]
    assert [r.getMessage() for r in caplog.records if "met_phi" in r.getMessage()]
    assert f["mX"] | {"definition": ""} == {
        "index": 11,
        "name": "mX",
        "definition": "",
        "role": "parameter",
        "source": {"parameter": "mX"},
        "unit": "MeV",
        "preprocessing": {"formula": "(x - mean) / std", "mean": 1000.0, "std": 400.0},
        "guessed": ["definition"],  # the unit was stated (unit="MeV"), the source published
    }
    assert (f["isA"]["role"], f["isA"]["unit"]) == ("parameter", "1")
    # stated: unit and padding; guessed: what the names alone say
    assert f["jets_pt_1"]["guessed"] == ["definition", "source"]
    assert f["met_phi"]["guessed"] == ["definition", "source", "angle_range"]
    assert f["isA"]["guessed"] == ["definition", "unit"]
    assert doc["parameter_points"] == FORM2_POINTS
    assert [c["label"] for c in doc["outputs"][0]["columns"]] == [
        "output_0",
        "output_1",
        "output_2",
    ]


def test_form2_inputs_built_element_by_element(form2: Any, tmp_path: Path) -> None:
    """The card's metadata drives the builder to the row one writes down by hand."""
    onnx_path, sidecar, (weights, bias) = form2
    card_path = tmp_path / "c.json"
    card = write_imported_card(
        import_network(onnx_path, sidecar, card_path=card_path, padding=-5.0), card_path
    )
    jets = ak.Array(
        [
            [
                {"pt": 50.0, "eta": 0.5, "phi": 1.0, "btag": True},
                {"pt": 300.0, "eta": -1.0, "phi": -2.0, "btag": False},
                {"pt": 20.0, "eta": 2.0, "phi": 0.3, "btag": True},
            ],
            [{"pt": 80.0, "eta": 0.1, "phi": 3.0, "btag": False}],
        ]
    )
    met = ak.zip({"pt": [120.0, 60.0], "phi": [-1.0, 2.0]})
    events = ak.zip({"jets": jets, "met": met}, depth_limit=1)
    point = {"isA": 1, "mX": 800}
    raw = np.array(
        [
            [300.0, -1.0, -2.0, 0.0, 50.0, 0.5, 1.0, 1.0, 120.0, 2 * np.pi - 1.0, 1.0, 800.0],
            # one jet: the second slot is padded with -5 in raw units, before preprocessing
            [80.0, 0.1, 3.0, 0.0, -5.0, -5.0, -5.0, -5.0, 60.0, 2.0, 1.0, 800.0],
        ]
    )
    expected = (raw - np.array(FORM2_MEAN)) / np.array(FORM2_STD)
    built = InputBuilder(card).build(events).at(point)["input_1"]
    np.testing.assert_allclose(built, expected.astype(np.float32), rtol=1e-6, atol=1e-7)
    scores = NetworkSession(card).evaluate(events, parameters=point)
    np.testing.assert_allclose(
        np.asarray(scores.output_1), by_hand(expected, weights, bias)[:, 1], rtol=1e-5
    )


def test_parameters_not_among_branches_are_refused(tmp_path: Path) -> None:
    make_net(tmp_path / "n.onnx", 2)
    sidecar = write(
        tmp_path / "s.json",
        {
            "branches": ["a", "b"],
            "normalization": {"mean": [0, 0], "stddev": [1, 1]},
            "parameters": [{"mZ": 3}],
        },
    )
    with pytest.raises(ImportFormatError, match=r"parameters \['mZ'\] are not among"):
        import_network(tmp_path / "n.onnx", sidecar)


# -- form 3 ------------------------------------------------------------------------------------
def test_form3_from_metadata_only(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, _ = form1
    from_meta = import_network(onnx_path, card_path=tmp_path / "m.json")
    from_side = import_network(onnx_path, sidecar, card_path=tmp_path / "s.json")
    meta = features(from_meta)
    assert meta["ht"]["preprocessing"] == {
        "formula": "(x + offset) * scale",
        "offset": -400.0,
        "scale": 1 / 150.0,
    }
    for name in NAMES:
        assert linear_form(meta[name]["preprocessing"]) == pytest.approx(
            linear_form(features(from_side)[name]["preprocessing"]), rel=1e-12
        )
    assert "metadata_props" in from_meta["description"]
    assert from_meta["provenance"]["source"] == "net.onnx"


def test_without_sidecar_or_metadata_is_refused(tmp_path: Path) -> None:
    make_net(tmp_path / "bare.onnx", 2)
    with pytest.raises(ImportFormatError, match="no side-car given and no lwtnn-style"):
        import_network(tmp_path / "bare.onnx")


def test_incomplete_metadata_is_refused(tmp_path: Path) -> None:
    make_net(
        tmp_path / "n.onnx",
        2,
        metadata={"input_0": "a", "a_mean": "1", "a_std": "2", "input_1": "b", "b_mean": "0"},
    )
    with pytest.raises(ImportFormatError, match=r"lacks \['b_std'\]"):
        import_network(tmp_path / "n.onnx")


# -- disagreements and refusals ----------------------------------------------------------------
def test_swapped_scale_and_offset_are_refused(form1: Any, tmp_path: Path) -> None:
    onnx_path, _, _ = form1
    swapped = write(
        tmp_path / "swapped.json", {"variables": NAMES, "scale": OFFSET, "offset": SCALE}
    )
    with pytest.raises(SidecarMismatchError) as caught:
        import_network(onnx_path, swapped)
    message = str(caught.value)
    assert "disagree for 3 variable(s)" in message
    for name in NAMES:
        assert f"  {name}: side-car" in message
    # both values, as written in each source
    assert (
        "ht: side-car offset 150.0 and scale 400.0 (x' = (x - offset) / scale) imply "
        "ht_mean -150 and ht_std 0.0025, but the metadata has ht_mean -400.0 and "
        "ht_std 0.006666666666666667"
    ) in message
    assert "look swapped" in message


def test_one_disagreeing_variable_is_named_alone(form1: Any, tmp_path: Path) -> None:
    onnx_path, _, _ = form1
    sidecar = write(
        tmp_path / "s.json", {"variables": NAMES, "scale": SCALE, "offset": [400.0, 1.5, 121.0]}
    )
    with pytest.raises(SidecarMismatchError, match="disagree for 1 variable") as caught:
        import_network(onnx_path, sidecar)
    assert "mbb: side-car offset 121.0 and scale 40.0" in str(caught.value)
    assert "ht:" not in str(caught.value) and "swapped" not in str(caught.value)


def test_tiny_rounding_differences_are_accepted(form1: Any, tmp_path: Path) -> None:
    onnx_path, _, _ = form1
    sidecar = write(
        tmp_path / "s.json",
        {"variables": NAMES, "scale": SCALE, "offset": [o * (1 + 1e-8) for o in OFFSET]},
    )
    assert import_network(onnx_path, sidecar, card_path=tmp_path / "c.json")["inputs"]


def test_variable_order_differs(form1: Any, tmp_path: Path) -> None:
    onnx_path, _, _ = form1
    sidecar = write(
        tmp_path / "s.json", {"variables": ["dR", "ht", "mbb"], "scale": SCALE, "offset": OFFSET}
    )
    with pytest.raises(SidecarMismatchError, match="same names in another order"):
        import_network(onnx_path, sidecar)


def test_variable_names_differ(form1: Any, tmp_path: Path) -> None:
    onnx_path, _, _ = form1
    sidecar = write(
        tmp_path / "s.json", {"variables": ["ht", "dR", "mjj"], "scale": SCALE, "offset": OFFSET}
    )
    with pytest.raises(
        SidecarMismatchError,
        match=r"only in the side-car: \['mjj'\]; only in the metadata: \['mbb'\]",
    ):
        import_network(onnx_path, sidecar)


def test_unknown_sidecar_form(form1: Any, tmp_path: Path) -> None:
    onnx_path, _, _ = form1
    sidecar = write(tmp_path / "weird.json", {"inputs": NAMES, "means": OFFSET})
    with pytest.raises(ImportFormatError) as caught:
        import_network(onnx_path, sidecar)
    message = str(caught.value)
    assert "weird.json" in message and "['inputs', 'means']" in message
    assert "{variables, scale, offset}" in message and "{branches, normalization" in message
    with pytest.raises(ImportFormatError, match="found a JSON list"):
        import_network(onnx_path, write(tmp_path / "list.json", [1, 2]))


def test_width_mismatch_names_both_numbers(tmp_path: Path) -> None:
    make_net(tmp_path / "n.onnx", 3)
    sidecar = write(
        tmp_path / "s.json", {"variables": ["a", "b"], "scale": [1, 1], "offset": [0, 0]}
    )
    with pytest.raises(
        ImportFormatError, match=r"lists 2 variables but input 'x' of n\.onnx has 3"
    ):
        import_network(tmp_path / "n.onnx", sidecar)


def test_sidecar_lists_of_different_lengths(tmp_path: Path) -> None:
    make_net(tmp_path / "n.onnx", 2)
    sidecar = write(
        tmp_path / "s.json", {"variables": ["a", "b"], "scale": [1, 1, 1], "offset": [0, 0]}
    )
    with pytest.raises(ImportFormatError, match="variables has 2, scale has 3, offset has 2"):
        import_network(tmp_path / "n.onnx", sidecar)


def test_zero_scale_is_refused(tmp_path: Path) -> None:
    make_net(tmp_path / "n.onnx", 2)
    sidecar = write(
        tmp_path / "s.json", {"variables": ["a", "b"], "scale": [1, 0], "offset": [0, 0]}
    )
    with pytest.raises(ImportFormatError, match=r"scale is 0 for \['b'\]"):
        import_network(tmp_path / "n.onnx", sidecar)


def test_missing_files(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, _ = form1
    with pytest.raises(ArtefactNotFoundError, match=r"nope\.onnx: no such ONNX file"):
        import_network(tmp_path / "nope.onnx", sidecar)
    with pytest.raises(FileNotFoundError, match=r"nope\.json: no such file"):
        import_network(onnx_path, tmp_path / "nope.json")


def test_not_an_onnx_file(tmp_path: Path) -> None:
    (tmp_path / "junk.onnx").write_bytes(b"\x00\x01 certainly not protobuf \xff")
    with pytest.raises(ImportFormatError, match=r"junk\.onnx: not a readable ONNX model"):
        import_network(tmp_path / "junk.onnx")


# -- options -----------------------------------------------------------------------------------
def test_angle_range_override(form2: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, _ = form2
    doc = import_network(
        onnx_path,
        sidecar,
        card_path=tmp_path / "c.json",
        angle_ranges={"met_phi": "(-pi, pi]", "jets_phi_1": "[0, 2pi)"},
    )
    f = features(doc)
    assert f["met_phi"]["angle_range"] == "(-pi, pi]"
    assert f["jets_phi_1"]["angle_range"] == "[0, 2pi)"
    assert "stated when importing" in f["met_phi"]["notes"]
    with pytest.raises(UsageError, match=r"'met_ph'.*Did you mean 'met_phi'"):
        import_network(onnx_path, sidecar, angle_ranges={"met_ph": "[0, 2pi)"})
    with pytest.raises(UsageError, match=r"angle range '\[0, 360\)'"):
        import_network(onnx_path, sidecar, angle_ranges={"met_phi": "[0, 360)"})
    with pytest.raises(UsageError, match="not an angle"):
        import_network(onnx_path, sidecar, angle_ranges={"met": "[0, 2pi)"})


def test_units_override_and_bad_unit(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, _ = form1
    doc = import_network(onnx_path, sidecar, card_path=tmp_path / "c.json", units={"ht": "MeV"})
    assert features(doc)["ht"]["unit"] == "MeV" and "notes" not in features(doc)["ht"]
    assert features(doc)["dR"]["unit"] == "1" and "unit not stated" in features(doc)["dR"]["notes"]
    with pytest.raises(UsageError, match="unit 'rad' is not an energy unit"):
        import_network(onnx_path, sidecar, unit="rad")


def test_output_labels(tmp_path: Path) -> None:
    make_net(tmp_path / "n.onnx", 2, n_outputs=3, metadata=lwtnn(["a", "b"], [0, 0], [1, 1]))
    doc = import_network(tmp_path / "n.onnx", output_labels=["sig", "ttbar", "zjets"])
    assert [(c["index"], c["label"]) for c in doc["outputs"][0]["columns"]] == [
        (0, "sig"),
        (1, "ttbar"),
        (2, "zjets"),
    ]
    with pytest.raises(UsageError, match="2 output labels given for 3 output column"):
        import_network(tmp_path / "n.onnx", output_labels=["sig", "ttbar"])


def test_provenance_and_name(form1: Any, tmp_path: Path) -> None:
    onnx_path, sidecar, _ = form1
    doc = import_network(
        onnx_path,
        sidecar,
        name="my_net",
        card_path=tmp_path / "c.json",
        provenance={"analysis_id": "ATLAS-X", "arxiv": "2411.02040"},
    )
    assert doc["name"] == "my_net"
    assert doc["provenance"] == {
        "source": "net.onnx + net_variables.json",
        "analysis_id": "ATLAS-X",
        "arxiv": "2411.02040",
    }


# -- folds -------------------------------------------------------------------------------------
def make_folds(tmp_path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    meta = lwtnn(NAMES, OFFSET, SCALE)
    return {
        "even": make_net(tmp_path / "net_even.onnx", 3, input_name="input", metadata=meta, seed=1),
        "odd": make_net(tmp_path / "net_odd.onnx", 3, input_name="input_1", metadata=meta, seed=2),
    }


def test_folds_into_one_card(tmp_path: Path) -> None:
    weights = make_folds(tmp_path)
    card_path = tmp_path / "net.card.json"
    # the caller says which events each file is applied to; here "_even" goes to odd numbers
    doc = import_folds(
        [
            FoldFile(tmp_path / "net_even.onnx", remainder=1),
            FoldFile(tmp_path / "net_odd.onnx", remainder=0),
        ],
        name="net",
        card_path=card_path,
    )
    first, second = doc["files"]
    assert first["path"] == "net_odd.onnx" and first["applies_to"] == {"modulus": 2, "remainder": 0}
    assert second["path"] == "net_even.onnx" and second["applies_to"] == {
        "modulus": 2,
        "remainder": 1,
    }
    assert doc["inputs"][0]["name"] == "input_1"  # from the file with remainder 0
    assert "node_names" not in first and second["node_names"] == {"input_1": "input"}
    assert list(second["references"][0]["inputs"]) == ["input_1"]

    card = write_imported_card(doc, card_path)
    events = ak.zip(
        {
            "ht": [400.0, 500.0, 600.0, 700.0],
            "dR": [1.0, 2.0, 1.5, 0.5],
            "mbb": [100.0, 130.0, 90.0, 150.0],
            "event_number": [10, 11, 12, 13],
        }
    )
    scores = np.asarray(NetworkSession(card).evaluate(events).score)
    x = np.stack(
        [(np.asarray(events[n]) - o) / s for n, o, s in zip(NAMES, OFFSET, SCALE, strict=True)],
        axis=1,
    )
    odd_file, even_file = by_hand(x, *weights["odd"])[:, 0], by_hand(x, *weights["even"])[:, 0]
    expected = np.where(np.asarray(events.event_number) % 2 == 0, odd_file, even_file)
    np.testing.assert_allclose(scores, expected, rtol=1e-6)
    assert not np.allclose(odd_file, even_file)  # the fold choice matters in this test
    check_card(card_path)


def test_fold_remainders_must_cover_the_modulus(tmp_path: Path) -> None:
    make_folds(tmp_path)
    with pytest.raises(UsageError, match=r"remainders \[0, 0\] with modulus 2"):
        import_folds(
            [FoldFile(tmp_path / "net_even.onnx", 0), FoldFile(tmp_path / "net_odd.onnx", 0)]
        )
    with pytest.raises(UsageError, match=r"remainders \[0, 1\] with modulus 3"):
        import_folds(
            [FoldFile(tmp_path / "net_even.onnx", 0), FoldFile(tmp_path / "net_odd.onnx", 1)],
            modulus=3,
        )


def effective_steps(card: NetworkCard) -> list[dict[str, tuple[float, float]]]:
    """Per file, each feature's (centre, factor) as applied: the file's override, else its own."""
    return [
        {
            feature["name"]: linear_form(
                model.entry.get("preprocessing", {}).get(feature["name"], feature["preprocessing"])
            )
            for _, feature in card.features()
        }
        for model in card.model_files()
    ]


def test_folds_normalised_separately_keep_their_own_preprocessing(tmp_path: Path) -> None:
    """The first fold's preprocessing goes on the features; another file records only the
    features it normalised differently, as published for it."""
    odd_offset, odd_scale = [400.0, 1.5, 125.0], [150.0, 0.5, 38.0]  # mbb differs only
    w_even = make_net(tmp_path / "even.onnx", 3, metadata=lwtnn(NAMES, OFFSET, SCALE), seed=1)
    w_odd = make_net(tmp_path / "odd.onnx", 3, seed=2)  # no metadata: its side-car alone
    odd_sidecar = write(
        tmp_path / "odd_variables.json",
        {"variables": NAMES, "scale": odd_scale, "offset": odd_offset},
    )
    card_path = tmp_path / "net.card.json"
    doc = import_folds(
        [FoldFile(tmp_path / "odd.onnx", 1, odd_sidecar), FoldFile(tmp_path / "even.onnx", 0)],
        name="net",
        card_path=card_path,
    )
    even, odd = doc["files"]
    assert "preprocessing" not in even
    assert odd["preprocessing"] == {
        "mbb": {"formula": "(x - offset) / scale", "offset": 125.0, "scale": 38.0}
    }
    # the features: the even file's (remainder 0) metadata, written in its own convention
    assert features(doc)["mbb"]["preprocessing"] == {
        "formula": "(x + offset) * scale",
        "offset": -120.0,
        "scale": 1 / 40.0,
    }
    assert "normalised separately" in doc["description"]

    card = write_imported_card(doc, card_path)
    steps = effective_steps(card)
    assert steps[1]["mbb"] == pytest.approx((125.0, 1 / 38.0))
    assert steps[1]["ht"] == pytest.approx((400.0, 1 / 150.0))
    assert steps[0]["mbb"] == pytest.approx((120.0, 1 / 40.0))
    events = ak.zip(
        {
            "ht": [400.0, 500.0, 600.0, 700.0, 350.0],
            "dR": [1.0, 2.0, 1.5, 0.5, 2.5],
            "mbb": [100.0, 130.0, 90.0, 150.0, 125.0],
            "event_number": [10, 11, 12, 13, 15],
        }
    )
    scores = np.asarray(NetworkSession(card).evaluate(events).score)
    raw = np.stack([np.asarray(events[n]) for n in NAMES], axis=1)
    x_even = (raw - np.array(OFFSET)) / np.array(SCALE)
    x_odd = (raw - np.array(odd_offset)) / np.array(odd_scale)
    odd_events = np.asarray(events.event_number) % 2 == 1
    expected = np.where(odd_events, by_hand(x_odd, *w_odd)[:, 0], by_hand(x_even, *w_even)[:, 0])
    np.testing.assert_allclose(scores, expected, rtol=1e-6, atol=1e-7)  # float32 inputs
    # the override matters: the odd file with the even normalisation gives other scores
    assert not np.allclose(
        by_hand(x_odd, *w_odd)[odd_events], by_hand(x_even, *w_odd)[odd_events], rtol=1e-3
    )
    check_card(card_path)


def test_folds_that_are_not_one_network_are_refused(tmp_path: Path) -> None:
    make_net(tmp_path / "a.onnx", 3, metadata=lwtnn(NAMES, OFFSET, SCALE))
    make_net(tmp_path / "b.onnx", 3, metadata=lwtnn(["ht", "dR", "mjj"], OFFSET, SCALE))
    make_net(tmp_path / "c.onnx", 3, n_outputs=2, metadata=lwtnn(NAMES, OFFSET, SCALE))
    make_net(tmp_path / "d.onnx", 2, metadata=lwtnn(NAMES[:2], OFFSET[:2], SCALE[:2]))
    for other, message in (
        ("b", r"input variables differ: \['ht', 'dR', 'mjj'\] vs"),
        ("c", r"output widths differ: \[2\] vs \[1\]"),
        ("d", "input variables differ"),
    ):
        with pytest.raises(ImportFormatError, match=f"folds {other}.onnx vs a.onnx: {message}"):
            import_folds(
                [FoldFile(tmp_path / "a.onnx", 0), FoldFile(tmp_path / f"{other}.onnx", 1)],
                card_path=tmp_path / "c.json",
            )


def test_folds_whose_phi_normalisations_fit_different_ranges(tmp_path: Path) -> None:
    names = ["met", "met_phi"]
    make_net(tmp_path / "a.onnx", 2, metadata=lwtnn(names, [100.0, 3.1], [50.0, 1.8]))
    make_net(tmp_path / "b.onnx", 2, metadata=lwtnn(names, [100.0, 0.01], [50.0, 1.8]))
    folds = [FoldFile(tmp_path / "a.onnx", 0), FoldFile(tmp_path / "b.onnx", 1)]
    with pytest.raises(ImportFormatError, match=r"'met_phi' fit different φ ranges"):
        import_folds(folds, card_path=tmp_path / "c.json")
    doc = import_folds(folds, card_path=tmp_path / "c.json", angle_ranges={"met_phi": "(-pi, pi]"})
    assert features(doc)["met_phi"]["angle_range"] == "(-pi, pi]"
    assert list(doc["files"][1]["preprocessing"]) == ["met_phi"]


# -- the stand-in network ----------------------------------------------------------------------
def test_standin_signature_and_determinism(tmp_path: Path) -> None:
    path = make_standin_mlp(tmp_path / "a.onnx")
    make_standin_mlp(tmp_path / "b.onnx")
    make_standin_mlp(tmp_path / "c.onnx", seed=1)
    assert sha256_file(path) == sha256_file(tmp_path / "b.onnx")
    assert sha256_file(path) != sha256_file(tmp_path / "c.onnx")
    model = onnx.load(str(path))
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 13)]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (graph_input,), (graph_output,) = session.get_inputs(), session.get_outputs()
    assert (graph_input.name, graph_input.type, graph_input.shape[1]) == (
        "input_1",
        "tensor(float)",
        87,
    )
    assert graph_output.name == "dense_4" and graph_output.shape[1] == 5
    rows = np.random.default_rng(0).standard_normal((7, 87)).astype(np.float32)
    (scores,) = session.run(None, {"input_1": rows})
    assert scores.shape == (7, 5)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-6)


# -- real published networks -------------------------------------------------------------------
def higp_events(sidecar: Mapping[str, Any], n: int = 200) -> ak.Array:
    """Seeded physical values around each published offset, spread by its scale."""
    rng = np.random.default_rng(2024)
    return ak.zip(
        {
            name: offset + scale * rng.standard_normal(n)
            for name, offset, scale in zip(
                sidecar["variables"], sidecar["offset"], sidecar["scale"], strict=True
            )
        }
    )


@pytest.mark.shared_data
@pytest.mark.parametrize(("kind", "fold"), sorted(ANCHORS))
def test_higp_anchor_and_both_conventions_agree(
    shared_data: Path, tmp_path: Path, kind: str, fold: str
) -> None:
    # a card names its files inside its folder: the network is copied beside the cards
    onnx_path = Path(shutil.copy(shared_data / (HIGP.format(kind, fold) + ".onnx"), tmp_path))
    sidecar_path = shared_data / (HIGP.format(kind, fold) + "_variables.json")
    sidecar = json.loads(sidecar_path.read_text())
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    (zero,) = session.run(None, {input_name: np.zeros((1, 10), np.float32)})
    assert float(zero[0, 0]) == pytest.approx(ANCHORS[kind, fold])

    cards = {}
    for route, source in (("sidecar", sidecar_path), ("metadata", None)):
        path = tmp_path / f"{route}.card.json"
        cards[route] = write_imported_card(import_network(onnx_path, source, card_path=path), path)
        reference = cards[route].document["files"][0]["references"][0]
        assert reference["outputs"]["dense_3"][0][0] == pytest.approx(ANCHORS[kind, fold])
    by_name = {f["name"]: f for _, f in cards["metadata"].features()}
    for _, feature in cards["sidecar"].features():
        assert feature["preprocessing"]["formula"] == "(x - offset) / scale"
        other = by_name[feature["name"]]["preprocessing"]
        assert other["formula"] == "(x + offset) * scale"
        assert linear_form(feature["preprocessing"]) == pytest.approx(linear_form(other), rel=1e-12)
    events = higp_events(sidecar)
    scores = {r: np.asarray(NetworkSession(c).evaluate(events).score) for r, c in cards.items()}
    np.testing.assert_allclose(scores["sidecar"], scores["metadata"], rtol=1e-6, atol=1e-7)
    # and an independent route: the side-car's formula by hand, then onnxruntime directly
    x = np.stack(
        [
            (np.asarray(events[n]) - o) / s
            for n, o, s in zip(
                sidecar["variables"], sidecar["offset"], sidecar["scale"], strict=True
            )
        ],
        axis=1,
    )
    (direct,) = session.run(None, {input_name: x.astype(np.float32)})
    np.testing.assert_allclose(scores["sidecar"], direct[:, 0], rtol=1e-6, atol=1e-7)
    assert scores["sidecar"].std() > 0.05  # the events really span the network's range


@pytest.mark.shared_data
def test_higp_swapped_sidecar_is_refused(shared_data: Path, tmp_path: Path) -> None:
    sidecar = json.loads(
        (shared_data / (HIGP.format("nonres", "even") + "_variables.json")).read_text()
    )
    swapped = write(
        tmp_path / "swapped.json",
        sidecar | {"scale": sidecar["offset"], "offset": sidecar["scale"]},
    )
    with pytest.raises(SidecarMismatchError) as caught:
        import_network(shared_data / (HIGP.format("nonres", "even") + ".onnx"), swapped)
    message = str(caught.value)
    assert "disagree for 10 variable(s)" in message and "look swapped" in message
    for name in sidecar["variables"]:
        assert f"  {name}: side-car" in message
    # what the metadata really says for mHradius, digit for digit
    assert "the metadata has mHradius_mean -46.3783153511815 and mHradius_std " in message


@pytest.mark.shared_data
@pytest.mark.parametrize("kind", ["nonres", "res"])
def test_higp_folds_in_one_card_by_both_routes(
    shared_data: Path, tmp_path: Path, kind: str
) -> None:
    """Even and odd files in one card, once from the side-cars and once from the metadata.

    Assumption (the importer cannot know it, the caller states it): the ``_even`` file is
    applied to even event numbers (remainder 0) and the ``_odd`` file to odd ones, as the public
    CheckMATE reimplementation does (CheckMATE2/checkmate2, atlas_2411_02040.cc, which picks
    the odd file when its running event counter is odd). The test checks that the card applies
    what was stated; were the analysis the other way round, only the remainders would swap.
    """
    stem = {fold: shared_data / HIGP.format(kind, fold) for fold in ("even", "odd")}
    if not all(Path(f"{s}.onnx").is_file() for s in stem.values()):
        pytest.skip(f"ATLAS-HIGP-2024-32 {kind} networks not found under {shared_data}")
    # a card names its files inside its folder: the networks are copied beside the cards
    for route in ("sidecar", "metadata"):
        (tmp_path / route).mkdir()
        for s in stem.values():
            shutil.copy(f"{s}.onnx", tmp_path / route)
    sidecars = {f: json.loads(Path(f"{s}_variables.json").read_text()) for f, s in stem.items()}
    cards = {}
    for route in ("sidecar", "metadata"):
        folds = [
            FoldFile(
                tmp_path / route / f"{stem[fold].name}.onnx",
                remainder,
                f"{stem[fold]}_variables.json" if route == "sidecar" else None,
            )
            for fold, remainder in (("even", 0), ("odd", 1))
        ]
        path = tmp_path / route / f"{kind}.card.json"
        cards[route] = write_imported_card(import_folds(folds, card_path=path), path)
        even, odd = cards[route].document["files"]
        assert (even["applies_to"], odd["applies_to"]) == (
            {"modulus": 2, "remainder": 0},
            {"modulus": 2, "remainder": 1},
        )
        assert "preprocessing" not in even and odd["node_names"] == {"input": "input_1"}
        assert len(odd["preprocessing"]) == 10  # every mean and scale differs a little
        assert cards[route].inputs[0]["name"] == "input"
        check_card(path)

    # equivalent cards: per file, the same (centre, factor) for every feature, and each the
    # file's own side-car's
    by_route = {route: effective_steps(card) for route, card in cards.items()}
    for k, fold in enumerate(("even", "odd")):
        own = sidecars[fold]
        for name, offset, scale in zip(own["variables"], own["offset"], own["scale"], strict=True):
            assert by_route["sidecar"][k][name] == pytest.approx((offset, 1 / scale), rel=1e-12)
            assert by_route["metadata"][k][name] == pytest.approx((offset, 1 / scale), rel=1e-12)

    events = higp_events(sidecars["even"], 400)
    events = ak.with_field(
        events, np.random.default_rng(7).integers(0, 2**40, len(events)), "event_number"
    )
    scores = {r: np.asarray(NetworkSession(c).evaluate(events).score) for r, c in cards.items()}
    np.testing.assert_allclose(scores["sidecar"], scores["metadata"], rtol=1e-6, atol=1e-7)

    # independently: each event through onnxruntime on its parity's file, after that file's
    # own side-car formula (x - offset) / scale by hand
    parity = np.asarray(events.event_number) % 2
    assert 150 < parity.sum() < 250
    expected = np.full(len(events), np.nan)
    for remainder, fold in enumerate(("even", "odd")):
        own = sidecars[fold]
        x = np.stack(
            [
                (np.asarray(events[n]) - o) / s
                for n, o, s in zip(own["variables"], own["offset"], own["scale"], strict=True)
            ],
            axis=1,
        )
        session = ort.InferenceSession(f"{stem[fold]}.onnx", providers=["CPUExecutionProvider"])
        (out,) = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})
        expected[parity == remainder] = out[parity == remainder, 0]
        other = 1 - remainder  # the normalisation matters at this precision
        assert np.abs(out[parity == other, 0] - scores["sidecar"][parity == other]).max() > 1e-6
    np.testing.assert_allclose(scores["sidecar"], expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(scores["metadata"], expected, rtol=1e-6, atol=1e-7)


@pytest.mark.shared_data
def test_susy_2018_30_config_with_standin(
    shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = json.loads((shared_data / SUSY_CONFIG).read_text())
    onnx_path = make_standin_mlp(tmp_path / "standin.onnx")
    card_path = tmp_path / "susy.card.json"
    with caplog.at_level(logging.WARNING, logger="recast.preserve.names"):
        doc = import_network(
            onnx_path,
            shared_data / SUSY_CONFIG,
            card_path=card_path,
            name="ATLAS_SUSY_2018_30_standin",
            output_labels=["Gtt", "Gbb", "ttbar", "class_3", "class_4"],
        )
    assert len(caplog.records) == 1 and "met_phi" in caplog.records[0].getMessage()
    f = features(doc)
    assert len(f) == 87 and list(f) == config["branches"]
    assert f["met_phi"]["angle_range"] == "[0, 2pi)"
    assert f["met_phi"]["preprocessing"]["mean"] == pytest.approx(3.157931327819824)
    phis = [
        n
        for n in f
        if n.endswith(("_phi_0", "_phi_1", "_phi_2", "_phi_3", "_phi_9")) or "_phi_" in n
    ]
    assert len(phis) == 18
    assert all(f[n]["angle_range"] == "(-pi, pi]" for n in phis)
    assert {n: (f[n]["role"], f[n]["unit"]) for n in ("isGtt", "mGluino", "mLSP")} == {
        "isGtt": ("parameter", "1"),
        "mGluino": ("parameter", "GeV"),
        "mLSP": ("parameter", "GeV"),
    }
    assert doc["parameter_points"] == config["parameters"] and len(doc["parameter_points"]) == 8
    counts = {
        f[n]["source"]["collection"]: f[n]["source"]["max_count"]
        for n in f
        if "position" in f[n]["source"]
    }
    assert counts == {"small_R_jets": 10, "large_R_jets": 4, "leptons": 4}
    assert f["small_R_jets_isb_9"]["padding"] == {"value": 0.0, "stage": "before_preprocessing"}
    assert doc["inputs"][0]["name"] == "input_1" and doc["outputs"][0]["name"] == "dense_4"

    card = write_imported_card(doc, card_path)
    jets = ak.Array(
        [
            [
                {"pt": 400.0 - 30 * k, "eta": 0.1 * k, "phi": 0.5, "mass": 10.0, "btag": k % 2 == 0}
                for k in range(4)
            ]
        ]
    )
    lepton = ak.Array([[{"pt": 50.0, "eta": 1.0, "phi": -1.0, "mass": 0.0}]])
    no_large_r = ak.Array([[{"pt": 1.0, "eta": 0.0, "phi": 0.0, "mass": 1.0}]])[:, :0]
    events = ak.zip(
        {
            "small_R_jets": jets,
            "large_R_jets": no_large_r,
            "leptons": lepton,
            "met": ak.zip({"pt": [300.0], "phi": [-0.5]}),
        },
        depth_limit=1,
    )
    point = config["parameters"][0]
    row = InputBuilder(card).build(events).at(point)["input_1"][0]
    mean, std = (np.asarray(config["normalization"][k]) for k in ("mean", "stddev"))
    index = {n: i for i, n in enumerate(config["branches"])}
    for name, raw in (
        ("small_R_jets_pt_3", 310.0),
        ("small_R_jets_isb_2", 1.0),
        ("small_R_jets_pt_5", 0.0),
        ("large_R_jets_m_0", 0.0),
        ("leptons_phi_0", -1.0),
        ("met_phi", 2 * np.pi - 0.5),
        ("mGluino", 1900.0),
        ("isGtt", 1.0),
    ):
        i = index[name]
        assert row[i] == pytest.approx((raw - mean[i]) / std[i], rel=1e-5, abs=1e-6), name
    scores = NetworkSession(card).evaluate(events, parameters=card.parameter_points)
    assert len(scores) == 8
    totals = sum(
        np.asarray(scores[0][label]) for label in ("Gtt", "Gbb", "ttbar", "class_3", "class_4")
    )
    assert totals == pytest.approx([1.0], rel=1e-5)
    check_card(card_path)
