"""DEMO_MULTIB_GLUINO's network card: checks, the 87 inputs of a hand-made event element by
element, the network inside the analysis, and `recast bundle check`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from recast.analysis.bundle import check_bundle
from recast.preserve.builder import InputBuilder
from recast.preserve.card import NetworkCard
from recast.preserve.check import check_card
from recast.preserve.session import NetworkSession

from .test_demo_multib_analysis import BUNDLE, JETS, MET, demo, lepton, make_events

CARD = BUNDLE / "networks" / "multib_demo.card.json"


@pytest.fixture(scope="module")
def card() -> NetworkCard:
    return NetworkCard.load(CARD)


def test_the_card_passes_every_check_and_the_onnx_is_small(card: NetworkCard) -> None:
    report = check_card(CARD)
    assert not report.skipped
    (model,) = card.model_files()
    assert model.path.stat().st_size < 1_000_000
    labels = [c["label"] for c in card.document["outputs"][0]["columns"]]
    assert labels == list(demo.OUTPUT_LABELS)
    points = [tuple(p.values()) for p in card.parameter_points]
    assert points == [tuple(float(v) for v in p) for p in demo.NN_POINTS.values()]


def expected_raw_inputs(muon: tuple[float, float, float, float]) -> list[float]:
    """The 87 raw values of the hand-made event, written out by hand."""
    signal_jets = [j for j in JETS if j[0] > 30 and abs(j[1]) < 2.8]
    x: list[float] = []
    for k in range(10):
        if k < len(signal_jets):
            pt, eta, phi, mass, tagged = signal_jets[k]
            x += [pt, eta, phi, mass, float(tagged and abs(eta) < 2.5)]
        else:
            x += [0.0] * 5
    # the large-R jets: every signal jet is alone within R = 0.8; the fifth is not > 100 GeV
    for k in range(4):
        pt, eta, phi, mass, _ = signal_jets[k]
        x += [pt, eta, phi, mass]
    x += list(muon) + [0.0] * 12
    x += [MET[0], MET[1]]
    x += [1.0, 2100.0, 1.0]  # isGtt, mGluino, mLSP
    return x


def test_the_87_inputs_of_a_hand_made_event(card: NetworkCard) -> None:
    muon = (50.0, 0.3, -1.0, 0.10566)
    events = make_events([{"muons": [lepton(*muon[:3], isolated=True, mass=muon[3])]}])
    derived = demo.DemoMultibGluino({}).derive(events)
    built = InputBuilder(card).build(derived).at(demo.point_parameters("gtt_2100_1"))
    (x,) = built["input_1"]
    features = card.document["inputs"][0]["features"]
    assert len(features) == len(x) == 87
    raw = expected_raw_inputs(muon)
    for i, feature in enumerate(features):
        p = feature["preprocessing"]
        expected = (raw[i] - p["mean"]) / p["std"]
        assert x[i] == pytest.approx(expected, rel=1e-5, abs=1e-5), feature["name"]
    names = [f["name"] for f in features]
    assert names[:5] == [f"small_R_jets_{a}_0" for a in ("pt", "eta", "phi", "m", "isb")]
    assert names[50] == "large_R_jets_pt_0" and names[66] == "leptons_pt_0"
    assert names[82:] == ["met", "met_phi", "isGtt", "mGluino", "mLSP"]


def test_the_network_runs_inside_the_analysis(card: NetworkCard) -> None:
    session = NetworkSession(card)
    analysis = demo.DemoMultibGluino({}, networks={demo.NETWORK: session})
    events = make_events([{}, {"met": (100.0, 3.0)}])  # the second fails the preselection
    derived = analysis.derive(events)
    for tag in demo.NN_POINTS:
        p = np.asarray(derived[demo.nn_field(tag)])
        assert 0.0 <= p[0] <= 1.0
        assert np.isnan(p[1])
    none = analysis.derive(make_events([{"met": (100.0, 3.0)}]))  # nothing preselected
    assert np.isnan(np.asarray(none[demo.nn_field("gtt_2100_1")])).all()
    # the analysis's score is the card's output for the hypothesis, read through the card
    direct = session.evaluate(derived[:1], parameters=demo.point_parameters("gbb_2100_800"))
    assert derived[demo.nn_field("gbb_2100_800")][0] == pytest.approx(float(direct.Gbb[0]))


def test_recast_bundle_check_passes() -> None:
    checked = check_bundle(BUNDLE)
    assert any("every region's cuts are declared" in line for line in checked)
    assert any("network 'multib_demo': card passes every check" in line for line in checked)
    document = json.loads((BUNDLE / "analysis.json").read_text())
    assert set(document["networks"]) == {demo.NETWORK}
    assert document["detector"]["path"] == "detector_learned.json"  # the default: it closes best
    assert set(document["detectors"]) == {"binned", "learned", "surrogate"}
    assert any(line.startswith("detectors.surrogate") for line in checked)
    assert any(line.startswith("detector ") and "valid" in line for line in checked)
