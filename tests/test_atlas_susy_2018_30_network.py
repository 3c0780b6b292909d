"""ATLAS_SUSY_2018_30 network regions: the 87 inputs element by element on a hand-made event,
one evaluation per chunk for the eight hypotheses, the MET-φ option, the Z-CR inputs and the
bundle without its (undistributed) network file. A seeded stand-in network with the published
signature replaces the real one."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import onnx
import pytest

from recast.errors import UsageError
from recast.io import sha256_file, write_json
from recast.preserve.builder import InputBuilder
from recast.preserve.card import NetworkCard
from recast.preserve.session import NetworkSession
from recast.preserve.standin import make_standin_mlp

from .test_atlas_susy_2018_30 import BUNDLE, analysis, bundle_module, events, jet, lepton

CARDS = {"multib": "[0, 2pi)", "multib_signed_met_phi": "(-pi, pi]"}
POINT_2100_1 = {"isGtt": 1, "mGluino": 2100, "mLSP": 1}


def standin_card(tmp_path: Path, name: str) -> NetworkCard:
    """The committed card with its undistributed file replaced by a stand-in network."""
    document = json.loads((BUNDLE / "networks" / f"{name}.card.json").read_text())
    onnx_path = tmp_path / "standin.onnx"
    if not onnx_path.exists():
        make_standin_mlp(onnx_path, n_outputs=len(document["outputs"][0]["columns"]))
    document["files"] = [
        {
            "path": onnx_path.name,
            "sha256": sha256_file(onnx_path),
            "opset": int(onnx.load(onnx_path).opset_import[0].version),
            "producer": {"name": "recast-nn standin", "version": "1"},
        }
    ]
    path = tmp_path / f"{name}.card.json"
    write_json(path, document)
    return NetworkCard.load(path)


class Counting:
    """A session that counts its evaluations (and the points each was given)."""

    def __init__(self, session: NetworkSession) -> None:
        self.session, self.card, self.calls = session, session.card, []

    def evaluate(self, events: ak.Array, parameters: Any = None) -> Any:
        self.calls.append((len(events), len(parameters)))
        return self.session.evaluate(events, parameters=parameters)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, NetworkSession]:
    folder = tmp_path_factory.mktemp("standin")
    return {name: NetworkSession(standin_card(folder, name)) for name in CARDS}


def hand_made() -> dict[str, Any]:
    """Four jets out of order (one b-jet, one tagged forward jet), a muon with a dressed mass,
    an electron, MET at φ = −1.5."""
    return {
        "jets": [
            jet(120.0, 2.0, 2.5, 11.0),
            jet(300.0, -0.5, 1.0, 20.0, b=True),
            jet(40.0, 2.6, 0.0, 5.0, b=True),  # tagged but |η| > 2.5: isb = 0
            jet(50.0, 1.0, -3.0, 8.0),
        ],
        "muons": [lepton(40.0, 0.3, -2.0, mass=0.3)],
        "electrons": [lepton(30.0, -1.2, 0.2)],
        "met": (400.0, -1.5),
    }


def hand_made_raw(met_phi: float) -> np.ndarray:
    raw = np.zeros(87)
    raw[0:20] = [
        300,
        -0.5,
        1.0,
        20,
        1,
        120,
        2.0,
        2.5,
        11,
        0,
        50,
        1.0,
        -3.0,
        8,
        0,
        40,
        2.6,
        0.0,
        5,
        0,
    ]
    # jets 5-10 padded with raw zeros; one large-R jet: the 300 GeV jet alone (the 120 GeV one
    # is at |η| = 2.0, the others are below 100 GeV)
    raw[50:54] = [300, -0.5, 1.0, 20]
    raw[66:74] = [40, 0.3, -2.0, 0.10566, 30, -1.2, 0.2, 0.000511]  # PDG masses
    raw[82:87] = [400, met_phi, 1, 2100, 1]
    return raw


def normalised(card: NetworkCard, raw: np.ndarray) -> np.ndarray:
    pre = [f["preprocessing"] for _, f in card.features()]
    mean = np.array([p["mean"] for p in pre])
    std = np.array([p["std"] for p in pre])
    return ((raw - mean) / std).astype(np.float32)


def inputs(card: NetworkCard, row: dict[str, Any], crz: bool = False, **kw: Any) -> np.ndarray:
    ana = analysis.Atlas2018Susy30({"R": ["n_jets_ge_4"]}, **kw)
    e = ana._network_events(ana.derive(events(row)), crz)
    return InputBuilder(card).build(e).at(POINT_2100_1)["input_1"][0]


@pytest.mark.parametrize(
    ("name", "met_phi"), [("multib", 2 * math.pi - 1.5), ("multib_signed_met_phi", -1.5)]
)
def test_the_87_inputs_element_by_element(tmp_path: Path, name: str, met_phi: float) -> None:
    card = standin_card(tmp_path, name)
    x = inputs(card, hand_made())
    np.testing.assert_allclose(x, normalised(card, hand_made_raw(met_phi)), rtol=3e-6, atol=1e-6)
    names = [f["name"] for _, f in card.features()]
    assert names[4] == "small_R_jets_isb_0" and names[19] == "small_R_jets_isb_3"
    assert names[50] == "large_R_jets_pt_0" and names[66] == "leptons_pt_0"
    assert names[82:] == ["met", "met_phi", "isGtt", "mGluino", "mLSP"]


def test_z_control_region_inputs_have_no_lepton_and_met_hat(tmp_path: Path) -> None:
    card = standin_card(tmp_path, "multib")
    muons = [lepton(120.0, 0.3, 0.5, charge=1), lepton(60.0, -0.2, 2.5, charge=-1)]
    row = hand_made() | {"muons": muons, "electrons": []}
    x = inputs(card, row, crz=True)
    px = 400 * math.cos(-1.5) + 120 * math.cos(0.5) + 60 * math.cos(2.5)
    py = 400 * math.sin(-1.5) + 120 * math.sin(0.5) + 60 * math.sin(2.5)
    raw = hand_made_raw(math.atan2(py, px) % (2 * math.pi))
    raw[66:74] = 0.0  # lepton slots zeroed in raw units, then normalised
    raw[82] = math.hypot(px, py)
    np.testing.assert_allclose(x, normalised(card, raw), rtol=3e-6, atol=1e-6)


def gtt_event(met_phi: float = 3.0) -> dict[str, Any]:
    return {
        "jets": [
            jet(500.0, 0.0, 0.0, 20.0, b=True),
            jet(400.0, 0.5, 2.0, 15.0),
            jet(300.0, -0.5, -2.0, 12.0, b=True),
            jet(200.0, 1.0, -2.5, 10.0, b=True),
        ],
        "met": (450.0, met_phi),
    }


def z_event() -> dict[str, Any]:
    muons = [lepton(120.0, 0.3, 0.9, charge=1), lepton(60.0, -0.2, 2.5, charge=-1)]
    return gtt_event(-1.0) | {"muons": muons}


PRESELECTION = ["n_jets_ge_4", "n_b_ge_3", "met_gt_200"]
NN_REGIONS = {
    "SR-Gtt-2100-1": [*PRESELECTION, "nn_gtt_channel", "p_gtt_2100_1_gt_0.9997"],
    "CRZ-Gbb-2000-1800": ["crz_two_signal_leptons_sfos", "crz_p_gbb_2000_1800_gt_0.9"],
    "SR-Gbb-B": [*PRESELECTION, "meff_ge_2600"],
}


def test_network_runs_once_per_selection_for_all_eight_points(sessions: dict) -> None:
    counting = Counting(sessions["multib"])
    ana = analysis.Atlas2018Susy30(NN_REGIONS, networks={"multib": counting})
    few_jets = gtt_event() | {"jets": gtt_event()["jets"][:3]}
    e = ana.derive(events(gtt_event(), few_jets, z_event()))
    # preselected events (1st, 3rd) in one call, then the Z-CR candidates (3rd) in one call
    assert counting.calls == [(2, 8), (1, 8)]
    direct = sessions["multib"].evaluate(
        ana._network_events(e[[0]], crz=False), parameters=POINT_2100_1
    )
    assert float(e.nn_gtt_2100_1_p[0]) == pytest.approx(float(direct.Gtt[0]), rel=1e-6)
    assert float(e.nn_gtt_2100_1_log10_ttbar[0]) == pytest.approx(
        math.log10(float(direct.ttbar[0])), rel=1e-5
    )
    assert math.isnan(float(e.nn_gtt_2100_1_p[1]))  # not preselected: not evaluated, fails
    below = ana.cut_value("crz_log10_p_ttbar_gbb_2000_1800_lt_-2.2", e)
    assert not bool(below[0])  # an upper bound fails too without a score
    point = {"isGtt": 0, "mGluino": 2000, "mLSP": 1800}
    z = sessions["multib"].evaluate(ana._network_events(e[[2]], crz=True), parameters=point)
    assert float(e.crz_gbb_2000_1800_p[2]) == pytest.approx(float(z.Gbb[0]), rel=1e-6)
    assert float(e.crz_gbb_2000_1800_log10_z[2]) == pytest.approx(
        math.log10(float(z.Zjets[0])), rel=1e-5
    )
    cutflows = ana.process(events(gtt_event(), few_jets, z_event()))
    assert set(cutflows) == set(NN_REGIONS)


def test_met_phi_option_chooses_the_card(sessions: dict) -> None:
    counting = {name: Counting(session) for name, session in sessions.items()}
    ana = analysis.Atlas2018Susy30(
        NN_REGIONS, networks=counting, options={"met_phi_convention": "(-pi, pi]"}
    )
    signed = ana.derive(events(gtt_event(met_phi=-1.0)))
    assert counting["multib"].calls == [] and counting["multib_signed_met_phi"].calls
    default = analysis.Atlas2018Susy30(NN_REGIONS, networks=counting).derive(
        events(gtt_event(met_phi=-1.0))
    )
    assert counting["multib"].calls
    # the stand-in reads φ(MET): the two conventions give different scores
    assert float(signed.nn_gtt_2100_1_p[0]) != float(default.nn_gtt_2100_1_p[0])


def test_the_chosen_card_must_be_loaded_when_another_is(sessions: dict) -> None:
    with pytest.raises(UsageError, match="--network multib_signed_met_phi=PATH"):
        analysis.Atlas2018Susy30(
            NN_REGIONS,
            networks={"multib": sessions["multib"]},
            options={"met_phi_convention": "(-pi, pi]"},
        )


def test_an_unknown_met_phi_convention_is_refused() -> None:
    with pytest.raises(UsageError, match="met_phi_convention"):
        analysis.Atlas2018Susy30(NN_REGIONS, options={"met_phi_convention": "[0, 360)"})


def test_without_the_network_only_cut_and_count_regions_run() -> None:
    ana = analysis.Atlas2018Susy30({"SR-Gbb-B": NN_REGIONS["SR-Gbb-B"]})
    e = ana.derive(events(gtt_event()))
    assert not any(f.startswith(("nn_", "crz_g")) for f in ak.fields(e))
    assert ana.process(events(gtt_event()))["SR-Gbb-B"].to_dict()["raw"][:4] == [1, 1, 1, 1]
    with pytest.raises(analysis.NetworkNotLoadedError, match="--network multib=PATH"):
        analysis.Atlas2018Susy30(NN_REGIONS).process(events(gtt_event()))


def test_a_card_without_the_published_points_is_refused(tmp_path: Path) -> None:
    card = standin_card(tmp_path, "multib")
    document = copy.deepcopy(card.document)
    document["parameter_points"] = document["parameter_points"][:7]
    path = tmp_path / "seven.card.json"
    write_json(path, document)
    session = NetworkSession(NetworkCard.load(path))
    ana = analysis.Atlas2018Susy30(NN_REGIONS, networks={"multib": session})
    with pytest.raises(analysis.RecastError, match="parameter_points lack"):
        ana.derive(events(gtt_event()))


def test_committed_cards_differ_only_in_the_met_phi_range() -> None:
    cards = {n: json.loads((BUNDLE / "networks" / f"{n}.card.json").read_text()) for n in CARDS}
    stripped = []
    for name, document in cards.items():
        features = document["inputs"][0]["features"]
        assert features[83]["name"] == "met_phi" and features[83]["angle_range"] == CARDS[name]
        assert all(f.get("angle_range", "(-pi, pi]") == "(-pi, pi]" for f in features[:83])
        document = copy.deepcopy(document)
        for key in ("name", "description"):
            document.pop(key)
        document["inputs"][0]["features"][83].pop("angle_range")
        stripped.append(document)
    assert stripped[0] == stripped[1]
    entry = cards["multib"]["files"][0]
    assert entry["git_blob"] == "111abd3d" and entry["distributed"] is False
    assert [c["label"] for c in cards["multib"]["outputs"][0]["columns"]][:3] == [
        "Gtt",
        "Gbb",
        "ttbar",
    ]
    assert cards["multib"]["outputs"][0]["columns"][6]["label"] == "Zjets"


@pytest.mark.shared_data
def test_cards_are_generated_from_the_published_config(shared_data: Path, tmp_path: Path) -> None:
    make = bundle_module("make_artefacts")
    config_path = shared_data / "atlas_susy_2018_30" / "ANA-SUSY-2018-30_config.json"
    config = json.loads(config_path.read_text())
    for name, met_phi in CARDS.items():
        document = make.card(config_path, met_phi, tmp_path, name)
        committed = json.loads((BUNDLE / "networks" / f"{name}.card.json").read_text())
        regenerated = json.loads(json.dumps(document))
        # the onnxruntime that checked the card is this machine's, not part of the published facts
        for card in (committed, regenerated):
            card.pop("runtimes_tested")
        assert regenerated == committed
        # every input stated from selection.md, nothing left as the importer guessed it
        assert committed["schema_version"] == "1.1.0"
        assert not any("guessed" in f for f in committed["inputs"][0]["features"])
    features = document["inputs"][0]["features"]
    assert [f["name"] for f in features] == config["branches"]
    assert [f["preprocessing"]["mean"] for f in features] == pytest.approx(
        config["normalization"]["mean"]
    )
    assert [f["preprocessing"]["std"] for f in features] == pytest.approx(
        config["normalization"]["stddev"]
    )
    assert document["parameter_points"] == config["parameters"]
