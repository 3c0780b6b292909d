"""The input builder, element by element against values computed by hand."""

from __future__ import annotations

import math
from pathlib import Path

import awkward as ak
import numpy as np
import pytest
import vector

from recast.errors import InputBuildError, MissingCollectionError, NaNInputError
from recast.preserve.builder import InputBuilder, linear_form, wrap_angle
from recast.preserve.card import NetworkCard
from recast.toy import multib_template

from .conftest import feature

vector.register_awkward()
PT_DESC = {"by": "pt", "descending": True}


def make_card(inputs: list[dict], evaluate_per: str = "event", **extra: object) -> NetworkCard:
    document = {
        "schema_version": "1.0.0",
        "name": "t",
        "description": "builder test",
        "evaluate_per": evaluate_per,
        "inputs": inputs,
        "outputs": [
            {
                "name": "y",
                "dtype": "float32",
                "shape": [None, 1],
                "columns": [{"index": 0, "label": "score"}],
            }
        ],
        "files": [
            {
                "path": "t.onnx",
                "sha256": "0" * 64,
                "opset": 13,
                "producer": {"name": "test", "version": "0"},
            }
        ],
        "runtimes_tested": [],
        "provenance": {},
        **extra,
    }
    return NetworkCard(document, Path("builder-test.card.json"))


def flat(features: list[dict], name: str = "x", dtype: str = "float64") -> dict:
    return {
        "name": name,
        "dtype": dtype,
        "shape": [None, len(features)],
        "layout": "flat",
        "features": features,
    }


def slot(attribute: str, k: int, max_count: int = 3, collection: str = "jets") -> dict:
    return {
        "collection": collection,
        "attribute": attribute,
        "position": k,
        "ordering": PT_DESC,
        "max_count": max_count,
    }


def jets_events() -> ak.Array:
    jets = ak.zip(
        {
            "pt": [[20.0, 90.0, 45.0, 60.0], [35.0], []],
            "eta": [[0.5, -1.0, 2.0, 0.1], [1.5], []],
            "phi": [[3.0, -math.pi, 0.0, -0.5], [math.pi], []],
            "mass": [[5.0, 9.0, 4.0, 6.0], [3.0], []],
        },
        with_name="Momentum4D",
    )
    met = ak.zip({"pt": [100.0, 200.0, 0.0], "phi": [-1.0, math.pi, 0.0]}, with_name="Momentum2D")
    return ak.zip(
        {"jets": jets, "met": met, "ht": [215.0, 35.0, 0.0], "event_number": [10, 11, 12]},
        depth_limit=1,
    )


def test_ordering_cropping_and_per_feature_padding() -> None:
    pads = [
        ("pt", 0.0, "before_preprocessing"),
        ("eta", -5.0, "after_preprocessing"),
        ("phi", 1e-7, "after_preprocessing"),
    ]
    features = []
    for k in range(3):
        for attribute, value, stage in pads:
            features.append(
                feature(
                    len(features),
                    f"j{k}_{attribute}",
                    slot(attribute, k),
                    "rad" if attribute == "phi" else "GeV" if attribute == "pt" else "1",
                    {"formula": "(x - mean) / std", "mean": 10.0, "std": 2.0},
                    padding={"value": value, "stage": stage},
                    **({"angle_range": "(-pi, pi]"} if attribute == "phi" else {}),
                )
            )
    x = InputBuilder(make_card([flat(features)])).build(jets_events()).at()["x"]
    # event 0: jets by pT are 90, 60, 45 (20 is cropped)
    expected0 = [
        (90 - 10) / 2,
        (-1 - 10) / 2,
        (math.pi - 10) / 2,  # -π becomes π
        (60 - 10) / 2,
        (0.1 - 10) / 2,
        (-0.5 - 10) / 2,
        (45 - 10) / 2,
        (2.0 - 10) / 2,
        (0.0 - 10) / 2,
    ]
    np.testing.assert_allclose(x[0], expected0, rtol=1e-12)
    # event 1: one jet, two padded slots: pT raw 0 then standardised; η -5 and φ 1e-7 as they are
    expected1 = [
        (35 - 10) / 2,
        (1.5 - 10) / 2,
        (math.pi - 10) / 2,
        (0 - 10) / 2,
        -5.0,
        1e-7,
        (0 - 10) / 2,
        -5.0,
        1e-7,
    ]
    np.testing.assert_allclose(x[1], expected1, rtol=1e-12)
    # event 2: no jets at all
    np.testing.assert_allclose(x[2], [-5.0, -5.0, 1e-7] * 3, rtol=1e-12)


@pytest.mark.parametrize(
    ("unit", "factor"), [("GeV", 1.0), ("MeV", 1000.0), ("TeV", 1e-3), ("100 GeV", 0.01)]
)
def test_energy_units(unit: str, factor: float) -> None:
    card = make_card(
        [
            flat(
                [
                    feature(
                        0,
                        "lead_pt",
                        slot("pt", 0),
                        unit,
                        padding={"value": 0.0, "stage": "before_preprocessing"},
                    ),
                    feature(1, "met", {"collection": "met", "attribute": "pt"}, unit),
                    feature(2, "ht", {"attribute": "ht"}, unit),
                ]
            )
        ]
    )
    x = InputBuilder(card).build(jets_events()).at()["x"]
    np.testing.assert_allclose(x, np.array([[90, 100, 215], [35, 200, 35], [0, 0, 0]]) * factor)


def test_phi_conventions_per_feature() -> None:
    card = make_card(
        [
            flat(
                [
                    feature(
                        0,
                        "met_phi_2pi",
                        {"collection": "met", "attribute": "phi"},
                        "rad",
                        angle_range="[0, 2pi)",
                    ),
                    feature(
                        1,
                        "met_phi_pi",
                        {"collection": "met", "attribute": "phi"},
                        "rad",
                        angle_range="(-pi, pi]",
                    ),
                ]
            )
        ]
    )
    x = InputBuilder(card).build(jets_events()).at()["x"]
    np.testing.assert_allclose(x[:, 0], [2 * math.pi - 1.0, math.pi, 0.0])
    np.testing.assert_allclose(x[:, 1], [-1.0, math.pi, 0.0])
    # the edges: -π belongs to π in (-π, π]; 2π wraps to 0 in [0, 2π)
    np.testing.assert_allclose(
        wrap_angle(np.array([-math.pi, 2 * math.pi, 4.0]), "(-pi, pi]"),
        [math.pi, 0.0, 4.0 - 2 * math.pi],
    )
    np.testing.assert_allclose(
        wrap_angle(np.array([-math.pi, 2 * math.pi, -0.5]), "[0, 2pi)"),
        [math.pi, 0.0, 2 * math.pi - 0.5],
    )


@pytest.mark.parametrize(
    ("preprocessing", "x", "expected"),
    [
        ({"formula": "x"}, 5.0, 5.0),
        ({"formula": "(x - mean) / std", "mean": 1.0, "std": 2.0}, 5.0, 2.0),
        ({"formula": "(x - offset) / scale", "offset": 1.0, "scale": 4.0}, 5.0, 1.0),
        ({"formula": "(x + offset) * scale", "offset": 1.0, "scale": 4.0}, 5.0, 24.0),
        ({"formula": "(x - min) / (max - min)", "min": 0.0, "max": 10.0}, 5.0, 0.5),
    ],
)
def test_each_preprocessing_formula_literally(
    preprocessing: dict, x: float, expected: float
) -> None:
    centre, factor = linear_form(preprocessing)
    assert (x - centre) * factor == pytest.approx(expected, rel=1e-12)


def test_parameters_fill_a_copy_of_the_kinematic_block() -> None:
    card = make_card(
        [
            flat(
                [
                    feature(0, "met", {"collection": "met", "attribute": "pt"}, "GeV"),
                    feature(
                        1,
                        "mass",
                        {"parameter": "mass"},
                        "TeV",
                        {"formula": "(x - mean) / std", "mean": 1.0, "std": 0.5},
                    ),
                ]
            )
        ]
    )
    built = InputBuilder(card).build(jets_events())
    a, b = built.at({"mass": 1500.0})["x"], built.at({"mass": 2000.0})["x"]
    np.testing.assert_allclose(a[:, 1], (1.5 - 1.0) / 0.5)
    np.testing.assert_allclose(b[:, 1], (2.0 - 1.0) / 0.5)
    np.testing.assert_array_equal(a[:, 0], b[:, 0])
    with pytest.raises(InputBuildError, match=r"parameterised by \['mass'\]; give a parameter"):
        built.at()
    with pytest.raises(InputBuildError, match="lacks 'mass'"):
        built.at({"m": 1.0})


def test_nan_is_an_error_naming_the_feature_or_replaced_as_declared() -> None:
    events = jets_events()
    events = ak.with_field(events, [1.0, float("nan"), 2.0], "ht")
    error_card = make_card([flat([feature(0, "ht", {"attribute": "ht"}, "GeV")])])
    with pytest.raises(
        NaNInputError,
        match=r"input 'ht' of node 'x' is NaN in 1 row\(s\) "
        r"\(first at row 1\)",
    ):
        InputBuilder(error_card).build(events)
    replace_card = make_card(
        [
            flat(
                [
                    feature(
                        0,
                        "ht",
                        {"attribute": "ht"},
                        "GeV",
                        nan={"policy": "replace", "value": -999.0},
                    )
                ]
            )
        ]
    )
    x = InputBuilder(replace_card).build(events).at()["x"]
    np.testing.assert_array_equal(x[:, 0], [1.0, -999.0, 2.0])


def test_a_collection_the_events_lack_is_named_with_suggestions() -> None:
    card = make_card(
        [
            flat(
                [
                    feature(
                        0,
                        "j",
                        slot("pt", 0, collection="jet"),
                        "GeV",
                        padding={"value": 0, "stage": "before_preprocessing"},
                    )
                ]
            )
        ]
    )
    with pytest.raises(
        MissingCollectionError,
        match=r"needs collection 'jet', which the events lack; they have "
        r"event_number, ht, jets, met\. Did you mean 'jets'",
    ):
        InputBuilder(card).build(jets_events())
    card = make_card(
        [
            flat(
                [
                    feature(
                        0,
                        "j",
                        slot("btag", 0),
                        "1",
                        padding={"value": 0, "stage": "before_preprocessing"},
                    )
                ]
            )
        ]
    )
    with pytest.raises(MissingCollectionError, match="needs attribute 'btag'"):
        InputBuilder(card).build(jets_events())


def test_sequences_per_object_with_mask() -> None:
    """A ParticleNet-style tagger: one row per jet, its constituents pT-ordered and cropped."""
    constituents = ak.zip(
        {
            "pt": [[[1.0, 5.0, 3.0], [2.0]], [[7.0, 8.0, 9.0, 6.0]]],
            "eta": [[[0.1, 0.5, 0.3], [0.2]], [[0.7, 0.8, 0.9, 0.6]]],
            "phi": [[[0.0, 0.0, 0.0], [0.0]], [[0.0, 0.0, 0.0, 0.0]]],
            "mass": [[[0.0, 0.0, 0.0], [0.0]], [[0.0, 0.0, 0.0, 0.0]]],
        },
        with_name="Momentum4D",
    )
    jets = ak.zip({"pt": [[9.0, 2.0], [30.0]], "constituents": constituents}, depth_limit=2)
    events = ak.zip({"jets": jets}, depth_limit=1)
    sequence = {
        "name": "parts",
        "dtype": "float32",
        "shape": [None, 3, 2],
        "layout": "sequence",
        "collection": "constituents",
        "ordering": PT_DESC,
        "max_count": 3,
        "features": [
            feature(
                0,
                "pt",
                {"attribute": "pt"},
                "GeV",
                padding={"value": 0.0, "stage": "after_preprocessing"},
            ),
            feature(
                1,
                "eta",
                {"attribute": "eta"},
                "1",
                padding={"value": -9.0, "stage": "after_preprocessing"},
            ),
        ],
    }
    mask = {
        "name": "mask",
        "dtype": "float32",
        "shape": [None, 3],
        "layout": "mask",
        "collection": "constituents",
        "ordering": PT_DESC,
        "max_count": 3,
    }
    jet_pt = flat([feature(0, "jet_pt", {"attribute": "pt"}, "GeV")], name="jet", dtype="float32")
    card = make_card([sequence, mask, jet_pt], evaluate_per="jets")
    feeds = InputBuilder(card).build(events).at()
    expected = np.array(
        [
            [[5.0, 0.5], [3.0, 0.3], [1.0, 0.1]],
            [[2.0, 0.2], [0.0, -9.0], [0.0, -9.0]],
            [[9.0, 0.9], [8.0, 0.8], [7.0, 0.7]],
        ],
        dtype=np.float32,
    )
    assert feeds["parts"].dtype == np.float32
    np.testing.assert_array_equal(feeds["parts"], expected)
    np.testing.assert_array_equal(feeds["mask"], [[1, 1, 1], [1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(feeds["jet"][:, 0], [9.0, 2.0, 30.0])


def hand_made_event() -> ak.Array:
    """One event: 3 jets given out of pT order (one b-tagged), no large-R jet, one muon."""
    jets = ak.zip(
        {
            "pt": [[50.0, 300.0, 120.0]],
            "eta": [[1.0, -0.5, 2.0]],
            "phi": [[-3.0, 1.0, 2.5]],
            "mass": [[8.0, 20.0, 11.0]],
            "btag": [[False, True, False]],
        },
        with_name="Momentum4D",
    )
    empty = ak.zip({"pt": [[]], "eta": [[]], "phi": [[]], "mass": [[]]}, with_name="Momentum4D")
    muon = ak.zip(
        {"pt": [[40.0]], "eta": [[0.3]], "phi": [[-2.0]], "mass": [[0.10566]]},
        with_name="Momentum4D",
    )
    met = ak.zip({"pt": [400.0], "phi": [-1.5]}, with_name="Momentum2D")
    return ak.zip(
        {"small_R_jets": jets, "large_R_jets": empty, "leptons": muon, "met": met}, depth_limit=1
    )


def hand_made_raw() -> np.ndarray:
    """The 87 raw inputs of :func:`hand_made_event` at (isGtt, m(g̃), m(χ̃)) = (1, 2100, 1)."""
    raw = np.zeros(87)
    raw[0:15] = [300, -0.5, 1.0, 20, 1, 120, 2.0, 2.5, 11, 0, 50, 1.0, -3.0, 8, 0]
    # jets 4-10 and the four large-R jets are zero-padded in raw units
    raw[66:70] = [40, 0.3, -2.0, 0.10566]  # leading lepton, with its mass
    raw[82:87] = [400, 2 * math.pi - 1.5, 1, 2100, 1]  # MET φ in [0, 2π); then parameters
    return raw


def test_the_87_input_layout_element_by_element() -> None:
    means, stds = np.linspace(0.0, 8.6, 87), np.linspace(1.0, 2.72, 87)
    template = multib_template(means, stds)
    card = make_card(template["inputs"])
    x = (
        InputBuilder(card)
        .build(hand_made_event())
        .at({"isGtt": 1, "mGluino": 2100, "mLSP": 1})["input_1"][0]
    )
    raw = hand_made_raw()
    np.testing.assert_allclose(x, ((raw - means) / stds).astype(np.float32), rtol=2e-6)
    names = [f["name"] for f in template["inputs"][0]["features"]]
    assert names[:5] == [
        "small_R_jets_pt_0",
        "small_R_jets_eta_0",
        "small_R_jets_phi_0",
        "small_R_jets_m_0",
        "small_R_jets_isb_0",
    ]
    assert names[50] == "large_R_jets_pt_0" and names[66] == "leptons_pt_0"
    assert names[82:] == ["met", "met_phi", "isGtt", "mGluino", "mLSP"]


def test_input_order_of_objects_does_not_matter() -> None:
    """Already pT-ordered collections (the sort is skipped) and shuffled ones give one tensor."""
    from recast.toy import toy_events

    card = make_card(multib_template()["inputs"])
    point = {"isGtt": 0, "mGluino": 2000, "mLSP": 1800}
    shuffled_events = toy_events(300, seed=4)
    pt = shuffled_events.small_R_jets.pt
    assert ak.any(pt[:, 1:] > pt[:, :-1])  # the default toy really is out of order
    ordered = InputBuilder(card).build(toy_events(300, seed=4, ordered=True)).at(point)
    shuffled = InputBuilder(card).build(shuffled_events).at(point)
    np.testing.assert_array_equal(ordered["input_1"], shuffled["input_1"])


@pytest.mark.shared_data
def test_the_published_87_input_config_element_by_element(
    shared_data: Path, tmp_path: Path
) -> None:
    """ATLAS-SUSY-2018-30's own config imported, then one hand-made event checked by hand."""
    import json

    from recast.preserve.importers import import_network
    from recast.preserve.standin import make_standin_mlp

    config_path = shared_data / "atlas_susy_2018_30" / "ANA-SUSY-2018-30_config.json"
    config = json.loads(config_path.read_text())
    make_standin_mlp(tmp_path / "standin.onnx")
    document = import_network(
        tmp_path / "standin.onnx", config_path, card_path=tmp_path / "nn.card.json"
    )
    card = NetworkCard(document, tmp_path / "nn.card.json")
    x = (
        InputBuilder(card)
        .build(hand_made_event())
        .at({"isGtt": 1, "mGluino": 2100, "mLSP": 1})["input_1"][0]
    )
    raw = hand_made_raw()  # the published met_phi is in [0, 2π)
    mean = np.array(config["normalization"]["mean"])
    std = np.array(config["normalization"]["stddev"])
    np.testing.assert_allclose(x, ((raw - mean) / std).astype(np.float32), rtol=3e-6, atol=1e-6)
    # a padded slot enters the network as -mean/std, as all three reimplementations do
    assert x[20] == pytest.approx(-mean[20] / std[20], rel=1e-6)
    assert [f["name"] for _, f in card.features()] == config["branches"]
