"""DEMO_MULTIB_GLUINO's analysis: derived variables and cut order on hand-made events."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import pytest
import vector

from recast.analysis.bundle import import_file
from recast.errors import UsageError

vector.register_awkward()
BUNDLE = Path(__file__).resolve().parents[1] / "analyses" / "DEMO_MULTIB_GLUINO"


def _module() -> Any:
    return import_file("recast_test_demo_multib_analysis", BUNDLE / "analysis.py", reuse=True)


demo = _module()

#: jets of the hand-made events: (pt, eta, phi, mass, btag_77)
JETS = [
    (400.0, 0.1, 0.0, 20.0, True),
    (300.0, -0.5, 2.0, 15.0, True),
    (200.0, 1.0, -2.0, 10.0, True),
    (150.0, 1.9, 1.0, 8.0, True),
    (100.0, 2.6, -1.0, 5.0, True),  # tagged but |η| > 2.5: a signal jet, not a b-jet
    (25.0, 0.0, 0.5, 3.0, True),  # below 30 GeV: not a signal jet
    (80.0, 3.0, 0.3, 4.0, False),  # |η| > 2.8: not a signal jet
]
MET = (500.0, 3.0)


def lepton(pt: float, eta: float, phi: float, isolated: bool, mass: float = 0.1) -> dict:
    return {"pt": pt, "eta": eta, "phi": phi, "mass": mass, "isolated": isolated}


def make_events(cases: list[dict[str, Any]], btag_field: str = "btag_77") -> ak.Array:
    """Detector-level events as the reference detector writes them (the fields the analysis
    reads): each case gives its jets, electrons, muons and MET."""
    records = []
    for i, case in enumerate(cases):
        records.append(
            {
                "event_number": i,
                "weight": 1.0,
                "jets": [
                    {"pt": p, "eta": e, "phi": f, "mass": m, btag_field: b}
                    for p, e, f, m, b in case.get("jets", JETS)
                ],
                "electrons": case.get("electrons", []),
                "muons": case.get("muons", []),
                "met": dict(zip(("pt", "phi"), case.get("met", MET), strict=True)),
            }
        )
    array = ak.from_iter(records)
    lepton_type = {"pt": 0.0, "eta": 0.0, "phi": 0.0, "mass": 0.0, "isolated": False}
    fields = {}
    for name in ("electrons", "muons"):
        typed = ak.concatenate([ak.Array([[lepton_type]])[:, :0], array[name]], axis=0)[1:]
        fields[name] = ak.with_name(typed, "Momentum4D")
    return ak.zip(
        {
            "event_number": array.event_number,
            "weight": array.weight,
            "jets": ak.with_name(array.jets, "Momentum4D"),
            **fields,
            "met": ak.with_name(array.met, "Momentum2D"),
        },
        depth_limit=1,
    )


def analysis(regions: dict | None = None, **options: Any) -> Any:
    return demo.DemoMultibGluino(regions or {}, options=options)


def mt(pt: float, phi: float) -> float:
    return math.sqrt(2 * pt * MET[0] * (1 - math.cos(phi - MET[1])))


def test_derived_variables_of_a_hand_made_event() -> None:
    events = analysis().derive(make_events([{}]))
    assert events.n_jets.tolist() == [5]
    assert events.n_b.tolist() == [4]
    assert events.small_R_jets.btag.tolist() == [[True, True, True, True, False]]
    assert events.met_pt.tolist() == [500.0]
    assert events.meff[0] == pytest.approx(500 + 400 + 300 + 200 + 150 + 100)
    # Δφ to MET (φ = 3.0) of the four leading jets: 3.0, 1.0, 2π − 5, 2.0
    assert events.dphi4j_min[0] == pytest.approx(1.0)
    expected_mt_bmin = min(mt(400, 0.0), mt(300, 2.0), mt(200, -2.0))
    assert events.mT_bmin[0] == pytest.approx(expected_mt_bmin)
    assert events.mT.tolist() == [0.0]  # no signal lepton
    assert events.leading_jet_pt.tolist() == [400.0]
    # jets further apart than R = 0.8: each is its own large-R jet; j5 (100 GeV) is not above
    # 100 GeV, so four large-R jets remain
    assert events.large_R_jets.pt[0].tolist() == pytest.approx([400, 300, 200, 150], rel=1e-9)
    assert events.MJ[0] == pytest.approx(20 + 15 + 10 + 8, rel=1e-6)


def test_close_jets_are_reclustered_into_one_large_r_jet() -> None:
    jets = [(300.0, 0.0, 0.0, 10.0, True), (200.0, 0.0, 0.4, 10.0, True)]
    events = analysis().derive(make_events([{"jets": jets}]))
    (large,) = events.large_R_jets.tolist()
    assert len(large) == 1
    assert large[0]["pt"] == pytest.approx(abs(300 + 200 * np.exp(0.4j)), rel=1e-6)
    assert large[0]["mass"] > 50.0  # the pair's invariant mass


def test_leptons_baseline_and_signal() -> None:
    cases = [
        {"electrons": [lepton(30.0, 0.5, 1.0, isolated=False)]},
        {"muons": [lepton(50.0, 0.0, 0.0, isolated=True)]},
        {"electrons": [lepton(30.0, 2.48, 1.0, isolated=True)]},  # outside |η| < 2.47
        {"muons": [lepton(15.0, 0.0, 0.0, isolated=True)]},  # below 20 GeV
    ]
    events = analysis().derive(make_events(cases))
    assert events.n_baseline_leptons.tolist() == [1, 1, 0, 0]
    assert events.n_signal_leptons.tolist() == [0, 1, 0, 0]
    assert events.mT[1] == pytest.approx(mt(50.0, 0.0))
    assert events.meff[1] == pytest.approx(1650.0 + 50.0)
    assert events.meff[0] == pytest.approx(1650.0)  # a non-isolated lepton is not summed


def test_cuts_run_in_the_region_order() -> None:
    cuts = ["n_jets_ge_4", "n_b_ge_3", "met_gt_200", "n_baseline_leptons_eq_0", "n_b_ge_4"]
    cases = [
        {},  # passes everything
        {"electrons": [lepton(30.0, 0.5, 1.0, isolated=False)]},  # fails the lepton veto
        {"jets": JETS[:3]},  # 3 jets: fails the first cut
        {"met": (150.0, 3.0)},  # fails MET
        {"jets": [(*j[:4], j[4] and k < 3) for k, j in enumerate(JETS)]},  # 3 b-jets
    ]
    flows = analysis({"R": cuts}).process(make_events(cases))
    assert flows["R"].raw.tolist() == [5, 4, 4, 3, 2, 1]


def test_zero_lepton_channel_and_dphi_cut() -> None:
    regions = {"R": ["n_jets_ge_4", "nn_gtt_channel"]}
    cases = [
        {},
        {"met": (500.0, 1.0)},  # aligned with the 4th jet: Δφ = 0 → fails 0L
        {"met": (500.0, 1.0), "muons": [lepton(50.0, 0.0, 0.0, isolated=True)]},  # 1L
    ]
    flows = analysis(regions).process(make_events(cases))
    assert flows["R"].raw.tolist() == [3, 3, 2]


def test_the_btag_field_option_reads_another_name() -> None:
    events = make_events([{}], btag_field="btag")
    assert analysis(btag_field="btag").derive(events).n_b.tolist() == [4]
    with pytest.raises(UsageError, match=r"no field 'btag_77'.*option btag_field"):
        analysis().derive(events)


def test_a_bad_btag_field_option_is_refused() -> None:
    with pytest.raises(UsageError, match="option btag_field"):
        analysis(btag_field=3)


def test_a_network_cut_without_the_network_says_how_to_give_it() -> None:
    name = next(c for c in demo.DemoMultibGluino.cuts if c.startswith("nn_gtt_2100_1_p_gt"))
    a = analysis({"R": ["n_jets_ge_4", name]})
    with pytest.raises(demo.NetworkNotLoadedError, match="--network multib_demo=PATH"):
        a.process(make_events([{}]))


def test_regions_of_analysis_json() -> None:
    document = json.loads((BUNDLE / "analysis.json").read_text())
    regions = {name: r["cuts"] for name, r in document["regions"].items()}
    demo.DemoMultibGluino(regions)  # every cut declared
    preselection = ["n_jets_ge_4", "n_b_ge_3", "met_gt_200"]
    for name, cuts in regions.items():
        assert cuts[:3] == preselection, name
    signal = {n for n, r in document["regions"].items() if r["kind"] == "signal"}
    assert any("n_b_ge_4" in regions[n] for n in signal)
    assert any("n_signal_leptons_ge_1" in regions[n] for n in signal)
    assert any(r["kind"] == "control" for r in document["regions"].values())
    network_regions = [n for n, r in document["regions"].items() if "networks" in r]
    assert 2 <= len(network_regions) <= 4
    # the defaults are analysis.json's, read by the class itself
    assert demo.DemoMultibGluino(regions).btag_field == document["options"]["btag_field"]["default"]
    assert document["status"]["state"] == "UNVALIDATED"


def test_isolation_reads_the_emulated_decision_when_there_is_one() -> None:
    muon = lepton(50.0, 0.0, 0.0, isolated=True)
    events = make_events([{"muons": [muon]}])
    # detector.json samples the reconstructed decision into isolated_reco; it wins on auto
    muons = ak.with_field(events.muons, ak.zeros_like(events.muons.pt, dtype=bool), "isolated_reco")
    emulated = ak.with_field(events, muons, "muons")
    assert analysis().derive(emulated).n_signal_leptons.tolist() == [0]
    assert analysis(isolation_field="isolated").derive(emulated).n_signal_leptons.tolist() == [1]
    assert analysis().derive(events).n_signal_leptons.tolist() == [1]  # reference objects


def test_missing_or_bad_isolation_field_is_refused() -> None:
    events = make_events([{}])
    with pytest.raises(UsageError, match=r"none of isolated_tight.*option isolation_field"):
        analysis(isolation_field="isolated_tight").derive(events)
    with pytest.raises(UsageError, match="option isolation_field"):
        analysis(isolation_field="")


def test_events_without_signal_jets() -> None:
    events = make_events([{"jets": []}, {"jets": [(20.0, 0.0, 0.0, 1.0, True)]}])
    derived = analysis().derive(events)
    assert derived.n_jets.tolist() == [0, 0]
    assert derived.large_R_jets.tolist() == [[], []]
    assert derived.MJ.tolist() == [0.0, 0.0]
    assert derived.mT_bmin.tolist() == [0.0, 0.0]
    assert derived.dphi4j_min.tolist() == pytest.approx([math.pi, math.pi])
