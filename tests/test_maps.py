"""Efficiency maps: binned lookups read off by hand, every bad map, learned maps, surrogates."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import onnx
import pytest
import vector
from onnx import TensorProto, helper

from recast.detector.learned import NetworkMap, SurrogateTagger
from recast.detector.maps import BinnedMap, MapCheckError, MapError, load_map
from recast.errors import (
    ArtefactNotFoundError,
    DigestMismatchError,
    InvalidDocumentError,
    MissingCollectionError,
)
from recast.io import sha256_file

from .conftest import feature

vector.register_awkward()


def make_events(
    pt: list[float],
    eta: list[float],
    phi: list[float],
    counts: list[int],
    flavour: list[int] | None = None,
    first_event: int = 100,
) -> ak.Array:
    n = len(pt)
    jets = ak.zip(
        {
            "pt": np.asarray(pt, dtype=np.float64),
            "eta": np.asarray(eta, dtype=np.float64),
            "phi": np.asarray(phi, dtype=np.float64),
            "mass": np.zeros(n),
            "flavour": np.asarray(flavour if flavour is not None else [5] * n, dtype=np.int64),
        },
        with_name="Momentum4D",
    )
    return ak.zip(
        {
            "event_number": np.arange(len(counts), dtype=np.int64) + first_event,
            "weight": np.ones(len(counts)),
            "jets": ak.unflatten(jets, np.asarray(counts)),
        },
        depth_limit=1,
    )


def random_events(seed: int, mean_jets: float, n_events: int) -> ak.Array:
    """Poisson(``mean_jets``) b-jets per event, pT uniform in [20, 400] GeV, |η| < 2.4, φ = 0."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(mean_jets, n_events)
    n = int(counts.sum())
    pt, eta = list(rng.uniform(20, 400, n)), list(rng.uniform(-2.4, 2.4, n))
    return make_events(pt, eta, [0.0] * n, list(counts))


@pytest.fixture
def hand_events() -> ak.Array:
    """Three events: three jets, one jet, none."""
    return make_events(
        pt=[30.0, 80.0, 250.0, 45.0],
        eta=[0.5, -1.8, 2.2, -0.1],
        phi=[0.0, 1.0, -2.0, 0.3],
        counts=[3, 1, 0],
        flavour=[5, 4, 0, 5],
    )


BINNED: dict[str, Any] = {
    "schema_version": "1.0.0",
    "name": "btag_77",
    "object": "jets",
    "working_point": "77%",
    "kind": "binned",
    "axes": [
        {"variable": "pt", "unit": "GeV", "edges": [20.0, 50.0, 100.0, 200.0]},
        {"variable": "abs_eta", "unit": "1", "edges": [0.0, 1.5, 2.5]},
    ],
    "values": [[0.6, 0.5], [0.7, 0.65], [0.75, 0.7]],
    "uncertainties": [[0.01, 0.02], [0.01, 0.02], [0.03, 0.04]],
    "out_of_range": "clamp",
    "provenance": {"analysis_id": "TEST"},
}


def write_map(folder: Path, document: dict[str, Any], name: str = "map.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(document))
    return path


def binned(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(BINNED)
    document.update(changes)
    return document


# -- binned maps --------------------------------------------------------------------------------
def test_binned_values_read_off_by_hand(tmp_path: Path, hand_events: ak.Array) -> None:
    btag = load_map(write_map(tmp_path, binned()))
    assert isinstance(btag, BinnedMap)
    # (30, |η| 0.5) → [0][0]; (80, 1.8) → [1][1]; (250 clamped to the last pT bin, 2.2) → [2][1];
    # (45, 0.1) → [0][0]
    assert btag.efficiency(hand_events).tolist() == [[0.6, 0.65, 0.7], [0.6], []]
    assert btag.uncertainty(hand_events).tolist() == [[0.01, 0.02, 0.04], [0.01], []]


def test_out_of_range_zero_gives_efficiency_zero(tmp_path: Path, hand_events: ak.Array) -> None:
    btag = load_map(write_map(tmp_path, binned(out_of_range="zero")))
    assert btag.efficiency(hand_events).tolist() == [[0.6, 0.65, 0.0], [0.6], []]


def test_out_of_range_error_names_the_variable_value_and_range(
    tmp_path: Path, hand_events: ak.Array
) -> None:
    path = write_map(tmp_path, binned(out_of_range="error"))
    with pytest.raises(MapError) as error:
        load_map(path).efficiency(hand_events)
    message = str(error.value)
    assert str(path) in message
    assert "axes[0] (pt): pt = 250 GeV of jets in event_number 100" in message
    assert "outside the axis range [20, 200) GeV" in message
    assert "widen axes[0].edges, or set out_of_range" in message


def test_an_axis_overrides_the_maps_policy(tmp_path: Path, hand_events: ak.Array) -> None:
    document = binned(out_of_range="error")
    document["axes"][0]["out_of_range"] = "clamp"
    assert load_map(write_map(tmp_path, document)).efficiency(hand_events)[0, 2] == 0.7


def test_edges_in_mev_convert_from_gev(tmp_path: Path, hand_events: ak.Array) -> None:
    document = binned()
    document["axes"][0] = {"variable": "pt", "unit": "MeV", "edges": [20e3, 50e3, 100e3, 200e3]}
    efficiency = load_map(write_map(tmp_path, document)).efficiency(hand_events)
    assert efficiency.tolist() == [[0.6, 0.65, 0.7], [0.6], []]


def test_flavour_categories_and_unknown_categories(tmp_path: Path, hand_events: ak.Array) -> None:
    document = binned(
        axes=[
            {"variable": "flavour", "categories": [5, 4, 0]},
            {"variable": "pt", "unit": "GeV", "edges": [20.0, 60.0, 300.0]},
        ],
        values=[[0.6, 0.8], [0.1, 0.2], [0.01, 0.02]],
        uncertainties=None,
    )
    del document["uncertainties"]
    path = write_map(tmp_path, document)
    # (b, 30) → 0.6; (c, 80) → 0.2; (light, 250) → 0.02; (b, 45) → 0.6
    assert load_map(path).efficiency(hand_events).tolist() == [[0.6, 0.2, 0.02], [0.6], []]
    tau = make_events([30.0], [0.0], [0.0], [1], flavour=[15])
    with pytest.raises(MapError, match=r"flavour = 15 of jets in event_number 100 is not among"):
        load_map(path).efficiency(tau)  # the map's 'clamp' cannot clamp a category
    document["axes"][0]["out_of_range"] = "zero"
    assert load_map(write_map(tmp_path, document)).efficiency(tau).tolist() == [[0.0]]


def test_context_axis_dr_nearest(tmp_path: Path) -> None:
    document = binned(
        axes=[{"variable": "dr_nearest", "unit": "1", "edges": [0.0, 0.4, 20.0]}],
        values=[0.3, 0.7],
    )
    del document["uncertainties"]
    events = make_events([50.0, 60.0, 70.0, 40.0], [0.0, 0.3, 2.0, 0.0], [0.0] * 4, [3, 1])
    # ΔR = 0.3 between the first two jets, 1.7 to the third; the lone jet has ΔR 10
    efficiency = load_map(write_map(tmp_path, document)).efficiency(events)
    assert efficiency.tolist() == [[0.3, 0.3, 0.7], [0.7]]


def test_objects_outside_the_validity_domain(tmp_path: Path, hand_events: ak.Array) -> None:
    document = binned(validity={"pt": [20.0, 200.0], "abs_eta": [0.0, 2.0]})
    btag = load_map(write_map(tmp_path, document))
    assert btag.outside_validity(hand_events) == {"pt": 1, "abs_eta": 1}
    document["validity"] = {"pt": [200.0, 20.0], "dr": [0.0, 1.0]}
    check_problem(
        write_map(tmp_path, document),
        "validity.pt is [200.0, 20.0]; give [min, max] with min < max",
        "validity.dr is not a variable of the axes",
    )


def test_a_chunk_without_objects(tmp_path: Path) -> None:
    empty = make_events([], [], [], [0, 0])
    assert load_map(write_map(tmp_path, binned())).efficiency(empty).tolist() == [[], []]
    learned = load_map(write_map(tmp_path, network_map(dr_card(tmp_path)), "learned.json"))
    assert learned.efficiency(empty).tolist() == [[], []]


def test_the_map_as_a_hist(tmp_path: Path) -> None:
    histogram = load_map(write_map(tmp_path, binned())).to_hist()
    assert histogram.values()[2, 1] == 0.7
    assert histogram.variances()[2, 1] == pytest.approx(0.04**2)
    assert histogram.axes[0].name == "pt"


def test_binned_lookup_is_columnar_over_a_large_chunk(tmp_path: Path) -> None:
    events = random_events(seed=1, mean_jets=8, n_events=20_000)
    efficiency = load_map(write_map(tmp_path, binned())).efficiency(events)
    pt, abs_eta = ak.flatten(events.jets.pt).to_numpy(), np.abs(ak.flatten(events.jets.eta))
    expected = np.asarray(BINNED["values"])[
        np.clip(np.searchsorted([20, 50, 100, 200], pt, side="right") - 1, 0, 2),
        (abs_eta >= 1.5).to_numpy().astype(int),
    ]
    np.testing.assert_array_equal(ak.flatten(efficiency).to_numpy(), expected)


# -- bad maps: each message names the file, the JSON path and the fix ---------------------------
def check_problem(path: Path, *fragments: str) -> None:
    with pytest.raises(MapCheckError) as error:
        load_map(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message


def test_non_monotonic_edges(tmp_path: Path) -> None:
    document = binned()
    document["axes"][0]["edges"] = [20.0, 50.0, 40.0, 200.0]
    check_problem(
        write_map(tmp_path, document),
        "axes[0].edges is not strictly increasing: axes[0].edges[2] = 40 follows 50",
        "list the edges in increasing order",
    )


def test_nan_in_values(tmp_path: Path) -> None:
    document = binned()
    document["values"][1][0] = float("nan")  # json writes NaN, which Python's json reads
    check_problem(write_map(tmp_path, document), "values[1][0] = nan: NaN", "needs a number")


def test_value_above_one(tmp_path: Path) -> None:
    document = binned()
    document["values"][0][1] = 1.2
    check_problem(
        write_map(tmp_path, document),
        "values[0][1] = 1.2: outside [0, 1]",
        "apply scale factors to the efficiency",
    )


def test_values_shape_disagreeing_with_the_axes(tmp_path: Path) -> None:
    check_problem(
        write_map(tmp_path, binned(values=[[0.6, 0.5], [0.7, 0.65]])),
        "values has shape (2, 2) but the axes need (3, 2)",
        "axes[0] (pt) has 3 bins",
        "give one value per bin, the first axis outermost",
    )


def test_ragged_values(tmp_path: Path) -> None:
    check_problem(
        write_map(tmp_path, binned(values=[[0.6, 0.5], [0.7], [0.75, 0.7]])),
        "values[1] has shape (1,) but values[0] has (2,)",
    )


def test_uncertainties_shape_and_sign(tmp_path: Path) -> None:
    check_problem(
        write_map(tmp_path, binned(uncertainties=[[0.01, 0.02]])),
        "uncertainties has shape (1, 2) but the axes need (3, 2)",
    )
    check_problem(
        write_map(tmp_path, binned(uncertainties=[[0.01, -0.02], [0, 0], [0, 0]])),
        "uncertainties[0][1] = -0.02: negative",
    )


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    document = binned(values=[[0.6, 0.5], [0.7, 1.65], [0.75, 0.7]])
    document["axes"][1]["edges"] = [1.5, 0.0, 2.5]
    with pytest.raises(MapCheckError) as error:
        load_map(write_map(tmp_path, document))
    assert len(error.value.problems) == 2


def test_schema_problems_name_their_path(tmp_path: Path) -> None:
    with pytest.raises(InvalidDocumentError, match=r"at out_of_range: 'wrap' is not one of"):
        load_map(write_map(tmp_path, binned(out_of_range="wrap")))


def test_a_collection_the_events_lack(tmp_path: Path, hand_events: ak.Array) -> None:
    path = write_map(tmp_path, binned(object="jet"))
    with pytest.raises(MissingCollectionError) as error:
        load_map(path).efficiency(hand_events)
    assert str(path) in str(error.value)
    assert "collection 'jet'" in str(error.value) and "Did you mean 'jets'" in str(error.value)


def test_nan_in_an_object_variable(tmp_path: Path) -> None:
    events = make_events([30.0, float("nan")], [0.0, 0.0], [0.0, 1.0], [1, 1])
    with pytest.raises(MapError, match=r"axes\[0\] \(pt\) is NaN for 1 object.*event_number 101"):
        load_map(write_map(tmp_path, binned())).efficiency(events)


# -- learned maps -------------------------------------------------------------------------------
def save_onnx(path: Path, nodes: list, inputs: list, outputs: list, initialisers: list) -> Path:
    graph = helper.make_graph(nodes, path.stem, inputs, outputs, initialisers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def scalar(name: str, value: float) -> onnx.TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, [], [value])


def write_card(
    folder: Path,
    onnx_path: Path,
    inputs: list[dict[str, Any]],
    labels: list[str],
    evaluate_per: str = "jets",
) -> Path:
    card = {
        "schema_version": "1.0.0",
        "name": onnx_path.stem,
        "description": "test network",
        "evaluate_per": evaluate_per,
        "inputs": inputs,
        "outputs": [
            {
                "name": "y",
                "dtype": "float32",
                "shape": [None, len(labels)],
                "columns": [{"index": i, "label": label} for i, label in enumerate(labels)],
            }
        ],
        "files": [
            {
                "path": onnx_path.name,
                "sha256": sha256_file(onnx_path),
                "opset": 13,
                "producer": {"name": "recast-tests", "version": "1"},
            }
        ],
        "runtimes_tested": [],
        "provenance": {},
    }
    path = folder / f"{onnx_path.stem}.card.json"
    path.write_text(json.dumps(card))
    return path


def network_map(card: Path, kind: str = "network", output: str = "efficiency", **extra: Any):
    return {
        "schema_version": "1.0.0",
        "name": "learned",
        "object": "jets",
        "kind": kind,
        "network": {"card": card.name, "sha256": sha256_file(card), "output": output},
        "out_of_range": "clamp",
        "provenance": {},
        **extra,
    }


A, B = 3.0, -1.0  # efficiency = sigmoid(A·ΔR + B): tagging recovers as neighbours move away


def dr_card(folder: Path, sigmoid: bool = True) -> Path:
    """A per-jet network on one context input, dr_nearest."""
    nodes = [
        helper.make_node("Mul", ["x", "a"], ["ax"]),
        helper.make_node("Add", ["ax", "b"], ["z" if sigmoid else "y"]),
    ]
    if sigmoid:
        nodes.append(helper.make_node("Sigmoid", ["z"], ["y"]))
    onnx_path = save_onnx(
        folder / ("proximity.onnx" if sigmoid else "logit.onnx"),
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
        [scalar("a", A), scalar("b", B)],
    )
    inputs = [
        {
            "name": "x",
            "dtype": "float32",
            "shape": [None, 1],
            "layout": "flat",
            "features": [feature(0, "dr_nearest", {"attribute": "dr_nearest"})],
        }
    ]
    return write_card(folder, onnx_path, inputs, ["efficiency"])


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@pytest.fixture
def proximity_events() -> ak.Array:
    # ΔR(0, 1) = 0.3 and ΔR(0, 2) = 1.2; ΔR(1, 2) = 0.9; a φ pair across ±π: Δφ = 0.2; alone
    return make_events(
        pt=[50.0, 60.0, 70.0, 40.0, 45.0, 30.0],
        eta=[0.0, 0.3, 1.2, 0.0, 0.0, 1.0],
        phi=[0.0, 0.0, 0.0, 3.04159265, -3.04159265, 0.5],
        counts=[3, 2, 1],
    )


def test_learned_map_follows_dr_nearest_as_the_network_says(
    tmp_path: Path, proximity_events: ak.Array
) -> None:
    learned = load_map(write_map(tmp_path, network_map(dr_card(tmp_path))))
    assert isinstance(learned, NetworkMap) and learned.context == ["dr_nearest"]
    efficiency = learned.efficiency(proximity_events)
    dr = np.array([0.3, 0.3, 0.9, 0.2, 0.2, 10.0])
    np.testing.assert_allclose(ak.flatten(efficiency).to_numpy(), sigmoid(A * dr + B), rtol=1e-6)
    assert ak.num(efficiency).tolist() == [3, 2, 1]
    flat = ak.flatten(efficiency).to_numpy()
    assert flat[0] < flat[2] < flat[5]  # closer neighbours, lower efficiency


def test_learned_map_with_a_set_input_over_the_neighbours(
    tmp_path: Path, proximity_events: ak.Array
) -> None:
    """A set input (the neighbours' ΔR, nearest first) reduced by min equals dr_nearest."""
    onnx_path = save_onnx(
        tmp_path / "set.onnx",
        [
            helper.make_node("ReduceMin", ["nb"], ["m"], axes=[1], keepdims=0),
            helper.make_node("Mul", ["m", "a"], ["am"]),
            helper.make_node("Add", ["am", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["y"]),
        ],
        [helper.make_tensor_value_info("nb", TensorProto.FLOAT, ["n", 3, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
        [scalar("a", A), scalar("b", B)],
    )
    padding = {"value": 10.0, "stage": "before_preprocessing"}
    inputs = [
        {
            "name": "nb",
            "dtype": "float32",
            "shape": [None, 3, 1],
            "layout": "sequence",
            "collection": "neighbours",
            "ordering": {"by": "dr", "descending": False},
            "max_count": 3,
            "features": [feature(0, "dr", {"attribute": "dr"}, padding=padding)],
        }
    ]
    card = write_card(tmp_path, onnx_path, inputs, ["efficiency"])
    learned = load_map(write_map(tmp_path, network_map(card)))
    assert learned.context == ["neighbours"]
    reference = load_map(write_map(tmp_path, network_map(dr_card(tmp_path)), "ref.json"))
    np.testing.assert_allclose(
        ak.flatten(learned.efficiency(proximity_events)).to_numpy(),
        ak.flatten(reference.efficiency(proximity_events)).to_numpy(),
        rtol=1e-6,
    )


def test_a_network_output_outside_zero_one_is_refused(
    tmp_path: Path, proximity_events: ak.Array
) -> None:
    path = write_map(tmp_path, network_map(dr_card(tmp_path, sigmoid=False)))
    with pytest.raises(MapError, match=r"outside \[0, 1\].*must be a probability \(a sigmoid\)"):
        load_map(path).efficiency(proximity_events)


def test_a_missing_card(tmp_path: Path) -> None:
    document = network_map(dr_card(tmp_path))
    document["network"]["card"] = "cards/absent.card.json"
    path = write_map(tmp_path, document)
    with pytest.raises(ArtefactNotFoundError) as error:
        load_map(path)
    assert f"named by network.card of {path}" in str(error.value)
    assert "fix network.card" in str(error.value)


def test_a_card_with_the_wrong_digest(tmp_path: Path) -> None:
    card = dr_card(tmp_path)
    document = network_map(card)
    card.write_text(card.read_text().replace("test network", "edited network"))
    path = write_map(tmp_path, document)
    with pytest.raises(DigestMismatchError, match=rf"network.sha256 of {path}"):
        load_map(path)


def test_a_card_for_another_collection_and_an_unknown_output(tmp_path: Path) -> None:
    card = dr_card(tmp_path)
    document = network_map(card, output="eficiency", object="electrons")
    check_problem(
        write_map(tmp_path, document),
        "evaluates per 'jets' but the map is for 'electrons'",
        "set the card's evaluate_per to 'electrons'",
        "network.output is 'eficiency'",
        "Did you mean 'efficiency'",
    )


# -- surrogate taggers ----------------------------------------------------------------------------
EDGES = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
W = np.array([[-1.0, -0.5, 0.0, 0.5, 1.0]])  # harder jets score higher
BIAS = np.array([0.2, 0.1, 0.0, -0.1, -0.2])


def surrogate_map(folder: Path, threshold: float = 0.5) -> Path:
    """A softmax over five score bins of x = (pT - 100) / 50."""
    onnx_path = save_onnx(
        folder / "surrogate.onnx",
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["z"]),
            helper.make_node("Softmax", ["z"], ["y"], axis=1),
        ],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 5])],
        [
            helper.make_tensor("W", TensorProto.FLOAT, [1, 5], W.ravel().tolist()),
            helper.make_tensor("B", TensorProto.FLOAT, [5], BIAS.tolist()),
        ],
    )
    scaling = {"formula": "(x - mean) / std", "mean": 100.0, "std": 50.0}
    inputs = [
        {
            "name": "x",
            "dtype": "float32",
            "shape": [None, 1],
            "layout": "flat",
            "features": [feature(0, "pt", {"attribute": "pt"}, "GeV", scaling)],
        }
    ]
    card = write_card(folder, onnx_path, inputs, [f"bin{k}" for k in range(5)])
    document = network_map(
        card, kind="surrogate", output="bin0", score_edges=EDGES, threshold=threshold
    )
    return write_map(folder, document)


def expected_probabilities(pt: np.ndarray) -> np.ndarray:
    z = ((pt - 100.0) / 50.0)[:, None] * W + BIAS
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def many_jets() -> ak.Array:
    rng = np.random.default_rng(11)
    counts = rng.poisson(4, 10_000)
    n = int(counts.sum())
    return make_events(
        list(rng.uniform(20, 300, n)), list(rng.uniform(-2.5, 2.5, n)), [0.0] * n, list(counts)
    )


def test_surrogate_probabilities_and_efficiency_above_threshold(
    tmp_path: Path, many_jets: ak.Array
) -> None:
    tagger = load_map(surrogate_map(tmp_path))
    assert isinstance(tagger, SurrogateTagger)
    pt = ak.flatten(many_jets.jets.pt).to_numpy()
    p = expected_probabilities(pt)
    got = ak.to_numpy(ak.flatten(tagger.probabilities(many_jets)))
    np.testing.assert_allclose(got, p, atol=1e-6)
    # threshold 0.5 is the middle of bin 2: half of it, and bins 3 and 4
    np.testing.assert_allclose(
        ak.flatten(tagger.efficiency(many_jets)).to_numpy(),
        0.5 * p[:, 2] + p[:, 3] + p[:, 4],
        atol=1e-6,
    )
    np.testing.assert_allclose(
        ak.flatten(tagger.efficiency(many_jets, threshold=0.8)).to_numpy(), p[:, 4], atol=1e-6
    )


def test_sampled_scores_follow_the_predicted_bins(tmp_path: Path, many_jets: ak.Array) -> None:
    tagger = load_map(surrogate_map(tmp_path))
    scores = ak.flatten(tagger.sample_scores(many_jets, seed=4)).to_numpy()
    p = expected_probabilities(ak.flatten(many_jets.jets.pt).to_numpy())
    # ten half-bins: the bins' probabilities and the uniform density within each bin
    observed, _ = np.histogram(scores, bins=np.linspace(0.0, 1.0, 11))
    expected = np.repeat(p.sum(axis=0) / 2.0, 2)
    chi2 = float(np.sum((observed - expected) ** 2 / expected))
    assert chi2 < 27.9  # 9 degrees of freedom: p = 1e-3
    assert observed.sum() == len(p)
    # the fraction above the working point is the efficiency, within 3σ
    efficiency = ak.flatten(tagger.efficiency(many_jets)).to_numpy()
    passed = np.count_nonzero(scores > 0.5)
    assert abs(passed - efficiency.sum()) < 3 * np.sqrt(np.sum(efficiency * (1 - efficiency)))


def test_sampled_scores_do_not_depend_on_the_chunking(tmp_path: Path, many_jets: ak.Array) -> None:
    tagger = load_map(surrogate_map(tmp_path))
    events = many_jets[:60]
    whole = ak.flatten(tagger.sample_scores(events, seed=9)).to_numpy()
    for size in (1, 7):
        pieces = [
            ak.flatten(tagger.sample_scores(events[i : i + size], seed=9)).to_numpy()
            for i in range(0, len(events), size)
        ]
        np.testing.assert_array_equal(np.concatenate(pieces), whole)
    other = ak.flatten(tagger.sample_scores(events, seed=9, stream="ctag")).to_numpy()
    assert not np.array_equal(other, whole)


def test_surrogate_needs_a_threshold_for_an_efficiency(tmp_path: Path, many_jets: ak.Array) -> None:
    document = json.loads(surrogate_map(tmp_path).read_text())
    del document["threshold"]
    tagger = load_map(write_map(tmp_path, document, "no_threshold.json"))
    with pytest.raises(MapError, match="has no 'threshold'; add the working point's"):
        tagger.efficiency(many_jets[:3])
    assert len(tagger.sample_scores(many_jets[:3], seed=1)) == 3  # sampling needs none


def test_surrogate_outputs_that_are_not_probabilities(tmp_path: Path) -> None:
    path = surrogate_map(tmp_path)
    model = onnx.load(str(tmp_path / "surrogate.onnx"))
    del model.graph.node[-1]  # drop the softmax: logits come out
    model.graph.node[-1].output[0] = "y"
    onnx.save(model, str(tmp_path / "surrogate.onnx"))
    card = tmp_path / "surrogate.card.json"
    document = json.loads(card.read_text())
    document["files"][0]["sha256"] = sha256_file(tmp_path / "surrogate.onnx")
    card.write_text(json.dumps(document))
    map_document = json.loads(path.read_text())
    map_document["network"]["sha256"] = sha256_file(card)
    tagger = load_map(write_map(tmp_path, map_document))
    with pytest.raises(MapError, match=r"surrogate\.card\.json is negative .* need a softmax"):
        tagger.efficiency(make_events([30.0, 300.0], [0.0, 0.0], [0.0, 1.0], [2]))


def test_surrogate_meaning_checks(tmp_path: Path) -> None:
    path = surrogate_map(tmp_path)
    document = json.loads(path.read_text())
    document["threshold"] = 1.5
    check_problem(
        write_map(tmp_path, document, "bad.json"),
        "threshold 1.5 is outside score_edges [0, 1]",
    )
    document["threshold"] = 0.5
    document["network"]["output"] = "bin2"  # three columns left for five bins
    document["score_edges"] = EDGES
    check_problem(
        write_map(tmp_path, document, "bad.json"),
        "network.output 'bin2': 5 score bins (score_edges) need 5 consecutive labelled columns",
    )


# -- closure: a proximity effect that a pT-η map cannot express -----------------------------------
@pytest.mark.slow
def test_closure_learned_map_captures_the_proximity_effect_a_binned_map_misses(
    tmp_path: Path,
) -> None:
    """ε = ε_f(pT, η) · Π_j f(ΔR_ij): a binned pT-|η| map and a small MLP on (pT, |η|, ΔR to the
    nearest jet), both derived from 5000 tagged events, evaluated on 3000 held-out events (the
    study of recast.train.efficiency.proximity, also drawn in docs/figures/detector_closure.png)."""
    pytest.importorskip("torch")
    from recast.train.efficiency.proximity import run_closure

    result = run_closure(tmp_path)
    assert isinstance(result.binned_map, BinnedMap) and isinstance(result.learned_map, NetworkMap)
    dr = result.dr
    bias_binned = result.binned - result.truth
    bias_learned = result.learned - result.truth
    edges = [0.0, 0.2, 0.4, 0.6, 1.0, 10.0]
    for lo, hi in itertools.pairwise(edges):
        band = (dr >= lo) & (dr < hi)
        # tolerance: 0.04 on the mean over each ΔR band (about 600 to 11 000 jets each)
        assert abs(bias_learned[band].mean()) < 0.04, (lo, hi, bias_learned[band].mean())
        if lo >= 0.6:  # f = 1: the pT-η map is right, up to the proximity loss it averages in
            assert abs(bias_binned[band].mean()) < 0.04
    assert bias_binned[dr < 0.2].mean() > 0.25  # it visibly fails for close jets
    assert bias_binned[(dr >= 0.2) & (dr < 0.4)].mean() > 0.05
