"""ATLAS_SUSY_2018_30 bundle: objects, overlap removal, derived variables, cut order, bundle
check and the simplified likelihood, each on hand-made events or published numbers."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import awkward as ak
import numpy as np
import pytest

from recast.analysis.bundle import import_file
from recast.analysis.variables import rapidity

BUNDLE = Path(__file__).resolve().parents[1] / "analyses" / "ATLAS_SUSY_2018_30"


def bundle_module(name: str) -> ModuleType:
    """A module of the bundle, under the name the bundle loader gives it."""
    module_name = "recast_bundle_ATLAS_SUSY_2018_30" + ("" if name == "analysis" else f"_{name}")
    return import_file(module_name, BUNDLE / f"{name}.py", reuse=True)


physics = bundle_module("physics")
analysis = bundle_module("analysis")
regions_module = bundle_module("regions")

JET_KEYS = ("pt", "eta", "phi", "mass", "btag")
LEPTON_KEYS = ("pt", "eta", "phi", "mass", "charge", "isolation", "isolated")


def collection(objects: list[list[dict[str, Any]]], keys: tuple[str, ...]) -> ak.Array:
    """A jagged Momentum4D collection from per-event lists of objects; a field beyond ``keys``
    is kept when every object has it."""
    flat = [o for row in objects for o in row]
    counts = [len(row) for row in objects]
    names = list(keys) + sorted({k for o in flat for k in o} - set(keys))
    names = [k for k in names if all(k in o for o in flat)]
    fields = {}
    for k in names:
        dtype = (
            bool
            if k in ("btag", "isolated")
            else np.int32
            if k in ("charge", "n_charged")
            else float
        )
        fields[k] = ak.unflatten(np.array([o[k] for o in flat], dtype=dtype), counts)
    return ak.zip(fields, with_name="Momentum4D")


def jet(pt: float, eta: float, phi: float, mass: float = 10.0, b: bool = False, **extra: Any):
    return {"pt": pt, "eta": eta, "phi": phi, "mass": mass, "btag": b, **extra}


def lepton(pt: float, eta: float, phi: float, charge: int = -1, iso: float = 0.0, mass=0.1):
    return {
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "mass": mass,
        "charge": charge,
        "isolation": iso,
        "isolated": iso < 0.15,
    }


def events(*rows: dict[str, Any]) -> ak.Array:
    """Events from dicts with jets, electrons, muons (lists of dicts) and met (pt, phi)."""
    return ak.zip(
        {
            "event_number": np.arange(len(rows)),
            "weight": np.ones(len(rows)),
            "jets": collection([r.get("jets", []) for r in rows], JET_KEYS),
            "electrons": collection([r.get("electrons", []) for r in rows], LEPTON_KEYS),
            "muons": collection([r.get("muons", []) for r in rows], LEPTON_KEYS),
            "met": ak.zip(
                {"pt": [r["met"][0] for r in rows], "phi": [r["met"][1] for r in rows]},
                with_name="Momentum2D",
            ),
        },
        depth_limit=1,
    )


# -- overlap removal --------------------------------------------------------------------------
def test_overlap_removal_steps_run_in_the_stated_order() -> None:
    """Each step acts on what the previous ones left (selection.md §8.4)."""
    row = {
        "jets": [
            jet(
                100.0, 0.0, 0.0, n_charged=9
            ),  # J0: non-b, 0.1 from e0 → removed in step 1, so e0 survives
            jet(
                120.0, 1.0, 1.0, b=True, n_charged=9
            ),  # J1: b-jet 0.1 from e1 → kept; e1 removed in step 2
            jet(
                90.0, -1.0, 2.0, n_charged=9
            ),  # J2: 0.3 from e2 (beyond 0.2) → kept; e2 removed (0.3 < 0.4)
            jet(80.0, 0.0, -2.0, n_charged=9),  # J3: 0.3 from muon m0 → kept; m0 removed in step 4
            jet(70.0, -1.5, -1.0, n_charged=1),  # J4: ≤ 2 tracks 0.1 from m1 → removed; m1 kept
            jet(60.0, 1.5, 3.0, n_charged=7),  # J5: 7 tracks 0.1 from m2 → kept; m2 removed
        ],
        "electrons": [lepton(50.0, 0.1, 0.0), lepton(40.0, 1.0, 1.1), lepton(30.0, -1.0, 2.3)],
        "muons": [lepton(45.0, 0.0, -2.3), lepton(35.0, -1.5, -1.1), lepton(25.0, 1.5, 3.1)],
        "met": (300.0, 0.0),
    }
    jets, electrons, muons = physics.overlap_removal(
        *(events(row)[k] for k in ("jets", "electrons", "muons"))
    )
    assert jets.pt.tolist() == [[120.0, 90.0, 80.0, 60.0]]
    assert electrons.pt.tolist() == [[50.0]]
    assert muons.pt.tolist() == [[35.0]]


def test_electron_step_runs_before_the_jet_removal_by_electrons() -> None:
    """Swapping steps 1 and 2 would remove the electron and keep the jet: here it is the
    reverse, since the electron's own jet goes first."""
    row = {
        "jets": [jet(60.0, 0.5, 0.5)],
        "electrons": [lepton(55.0, 0.5, 0.55)],
        "met": (250.0, 1.0),
    }
    jets, electrons, _ = physics.overlap_removal(
        *(events(row)[k] for k in ("jets", "electrons", "muons"))
    )
    assert ak.num(jets).tolist() == [0] and electrons.pt.tolist() == [[55.0]]


def test_jets_without_track_counts_are_kept_near_muons() -> None:
    """Truth jets carry no track count: a jet 0.1 from a muon stays and the muon goes."""
    row = {"jets": [jet(70.0, 0.0, 0.0)], "muons": [lepton(35.0, 0.0, 0.1)], "met": (250.0, 1.0)}
    jets, _, muons = physics.overlap_removal(
        *(events(row)[k] for k in ("jets", "electrons", "muons"))
    )
    assert jets.pt.tolist() == [[70.0]] and ak.num(muons).tolist() == [0]


def test_overlap_removal_measures_distance_in_rapidity() -> None:
    """A heavy forward jet |Δη| = 0.15 from an electron: by η step 1 would remove the jet
    and keep the electron; by rapidity (|Δy| ≈ 0.31) the jet stays and step 2 removes the
    electron."""
    pt, eta, mass = 40.0, 2.0, 25.0
    y = math.asinh(pt * math.sinh(eta) / math.hypot(pt, mass))
    assert 0.25 < eta + 0.15 - y < 0.4  # the jet's rapidity is well below its pseudorapidity
    row = {
        "jets": [jet(pt, eta, 0.0, mass)],
        "electrons": [lepton(30.0, eta + 0.15, 0.0)],
        "met": (250.0, 1.0),
    }
    jets, electrons, _ = physics.overlap_removal(
        *(events(row)[k] for k in ("jets", "electrons", "muons"))
    )
    assert jets.pt.tolist() == [[pt]]  # step 1 does not see it
    assert ak.num(electrons).tolist() == [0]  # step 2 does
    assert float(rapidity(jets)[0, 0]) == pytest.approx(y)


# -- leptons ----------------------------------------------------------------------------------
def test_signal_leptons_need_isolation_and_carry_pdg_masses() -> None:
    row = {
        "electrons": [lepton(60.0, 0.1, 0.2, iso=0.10), lepton(50.0, 0.3, 1.2, iso=0.20)],
        "muons": [lepton(70.0, -0.4, -1.0, iso=0.05, mass=0.4), lepton(40.0, 0.8, 2.0, iso=0.10)],
        "met": (250.0, 1.0),
    }
    e = events(row)
    signal = physics.leptons(physics.signal_electrons(e.electrons), physics.signal_muons(e.muons))
    # e at 0.20 fails FCLoose's 0.15; μ at 0.10 fails FixedCutTightTrackOnly's 0.06
    assert signal.pt.tolist() == [[70.0, 60.0]]
    assert signal.mass.tolist() == [[0.10566, 0.000511]]  # PDG, not the dressed 0.4 GeV
    assert signal.flavour.tolist() == [[13, 11]]


# -- derived variables ------------------------------------------------------------------------
def gtt_like_event() -> dict[str, Any]:
    """Six jets (four b-tagged), one signal muon, MET 400 GeV at φ = 3.0."""
    return {
        "jets": [
            jet(500.0, 0.0, 0.0, 20.0, b=True),
            jet(400.0, 0.5, 2.0, 15.0),
            jet(300.0, -0.5, -2.0, 12.0, b=True),
            jet(200.0, 1.0, -2.9, 10.0, b=True),  # Δφ to MET across ±π: 2π − 5.9 = 0.383
            jet(100.0, -1.0, 2.9, 8.0, b=True),  # 4th b-jet: smallest m_T, but not among 3 leading
            jet(50.0, 2.6, 3.0, 5.0),  # forward non-b jet, Δφ = 0 but not among the 4 leading
        ],
        "muons": [lepton(80.0, 0.2, 1.0, charge=1)],
        "met": (400.0, 3.0),
    }


def derived(*rows: dict[str, Any], **kwargs: Any) -> ak.Array:
    regions = {"SR": ["n_jets_ge_4"]}
    return analysis.Atlas2018Susy30(regions, **kwargs).derive(events(*rows))


def mt(pt: float, phi: float, met: float, met_phi: float) -> float:
    return math.sqrt(2 * pt * met * (1 - math.cos(phi - met_phi)))


@pytest.mark.parametrize("shuffle", [False, True])
def test_derived_variables_by_hand(shuffle: bool) -> None:
    row = gtt_like_event()
    if shuffle:  # "leading" means by pT, whatever order the objects come in
        row["jets"] = [row["jets"][i] for i in (4, 1, 5, 3, 0, 2)]
    e = derived(row)
    assert int(e.n_jets[0]) == 6 and int(e.n_b[0]) == 4
    assert int(e.n_baseline_leptons[0]) == 1 and int(e.n_signal_leptons[0]) == 1
    assert float(e.meff[0]) == pytest.approx(400 + 1550 + 80)
    assert float(e.mT[0]) == pytest.approx(mt(80.0, 1.0, 400.0, 3.0))
    # the three leading b-jets only: 500 (φ 0), 300 (φ −2), 200 (φ −2.9)
    expected = min(mt(500, 0.0, 400, 3.0), mt(300, -2.0, 400, 3.0), mt(200, -2.9, 400, 3.0))
    assert float(e.mT_bmin[0]) == pytest.approx(expected)
    assert float(e.mT_bmin[0]) > mt(100, 2.9, 400, 3.0)  # the 4th b-jet is not used
    # the four leading jets only; the 4th is 2π − 5.9 away through the ±π boundary
    assert float(e.dphi4j_min[0]) == pytest.approx(2 * math.pi - 5.9)
    assert float(e.leading_jet_pt[0]) == 500.0


def test_mt_bmin_counts_a_forward_tagged_jet_as_non_b() -> None:
    """A tagged jet at |η| = 2.6 is a signal jet but not a b-jet (§9.4)."""
    row = gtt_like_event()
    row["jets"][0]["eta"] = 2.6
    e = derived(row)
    assert int(e.n_jets[0]) == 6 and int(e.n_b[0]) == 3
    assert e.signal_jets.btag.tolist()[0][0] is False


def test_mj_sums_the_four_leading_trimmed_large_r_jets() -> None:
    """Five isolated jets make five large-R jets; M_J^Σ,4 drops the softest (§9.13)."""
    row = {
        "jets": [jet(150.0 + 100 * k, 0.0, -3.0 + 1.2 * k, 10.0 * (k + 1)) for k in range(5)],
        "met": (300.0, 0.0),
    }
    e = derived(row)
    assert e.large_R_jets.pt.tolist()[0] == pytest.approx([550.0, 450.0, 350.0, 250.0, 150.0])
    assert float(e.MJ[0]) == pytest.approx(50 + 40 + 30 + 20)


def four(pt: float, eta: float, phi: float, mass: float) -> np.ndarray:
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    return np.array([px, py, pz, math.sqrt(px**2 + py**2 + pz**2 + mass**2)])


def test_large_r_trimming_cuts_and_phi_range() -> None:
    """Inputs below 10 % of the untrimmed pT are dropped; pT > 100 GeV, |η| < 2.0 after."""
    keep = [jet(300.0, 0.0, 3.0, 20.0), jet(40.0, 0.3, -3.0, 5.0)]  # 40/340 > 10 %, across ±π
    trim = [jet(300.0, 0.0, 0.0, 20.0), jet(31.0, 0.3, 0.3, 5.0)]  # 31/331 < 10 %
    forward = [jet(200.0, 2.3, 1.5, 10.0)]  # |η| > 2.0
    e = derived({"jets": keep, "met": (300.0, 1.0)}, {"jets": trim + forward, "met": (300.0, 1.0)})
    summed = four(300.0, 0.0, 3.0, 20.0) + four(40.0, 0.3, -3.0, 5.0)
    pt = math.hypot(summed[0], summed[1])
    mass = math.sqrt(summed[3] ** 2 - summed[0] ** 2 - summed[1] ** 2 - summed[2] ** 2)
    first = e.large_R_jets[0]
    assert first.pt.tolist() == pytest.approx([pt]) and first.mass.tolist() == pytest.approx([mass])
    assert -math.pi < float(first.phi[0]) <= math.pi
    second = e.large_R_jets[1]
    assert second.pt.tolist() == pytest.approx([300.0]) and second.mass.tolist() == pytest.approx(
        [20.0]
    )


def test_z_control_region_variables() -> None:
    muons = [lepton(120.0, 0.3, 0.5, charge=1), lepton(60.0, -0.2, 2.5, charge=-1)]
    row = {"jets": gtt_like_event()["jets"], "muons": muons, "met": (150.0, -1.0)}
    e = derived(row, row | {"muons": [muons[0], {**muons[1], "charge": 1}]})
    pair = four(120.0, 0.3, 0.5, 0.10566) + four(60.0, -0.2, 2.5, 0.10566)
    assert e.sfos.tolist() == [True, False]
    assert float(e.mll[0]) == pytest.approx(math.sqrt(pair[3] ** 2 - (pair[:3] ** 2).sum()))
    assert float(e.ptll[0]) == pytest.approx(math.hypot(pair[0], pair[1]))
    hat = (150 * math.cos(-1.0) + pair[0], 150 * math.sin(-1.0) + pair[1])
    assert float(e.met_hat_pt[0]) == pytest.approx(math.hypot(*hat))
    assert float(e.met_hat.phi[0]) == pytest.approx(math.atan2(hat[1], hat[0]))
    assert float(e.met_hat_pt[1]) == pytest.approx(150.0)  # same charge: MET unchanged


def test_channels_and_preselection_cuts() -> None:
    """0L vetoes baseline leptons; an unisolated lepton puts the event in neither channel."""
    zero = gtt_like_event() | {"muons": []}
    loose = gtt_like_event() | {"muons": [lepton(80.0, 0.2, 1.0, iso=0.1)]}
    names = ["n_baseline_leptons_eq_0", "n_signal_leptons_ge_1", "nn_gtt_channel", "met_gt_200"]
    ana = analysis.Atlas2018Susy30({"R": names})
    values = ana.cut_values(ana.derive(events(gtt_like_event(), zero, loose)))
    assert values["n_baseline_leptons_eq_0"].tolist() == [0, 1, 0]
    assert values["n_signal_leptons_ge_1"].tolist() == [1, 0, 0]
    # zero: Δφ^4j_min = 0.383 < 0.4 fails the 0L branch of the network channel
    assert values["nn_gtt_channel"].tolist() == [1, 0, 0]


# -- regions and cut order --------------------------------------------------------------------
#: Rivet's booked cutflow steps (selection.md §6.3), pinned here so the check does not depend on
#: the document being present; the implicit first bin is the common preselection
RIVET_STEPS = {
    "SR-Gtt-0L-B": "Nlepbase=0 · dPhi4jmin>0.4 · NJet>=5 · ETMiss>=600 · Meff>=2900 · mbjets_Tmin>120 · TotJetMass>=300",  # noqa: E501
    "SR-Gtt-0L-M1": "Nlepbase=0 · dPhi4jmin>0.4 · NJet>=9&&Nbs>=3 · ETMiss>=600 · Meff>=1700 · mbjets_Tmin>120 · TotJetMass>=300",  # noqa: E501
    "SR-Gtt-0L-M2": "Nlepbase=0 · dPhi4jmin>0.4 · NJet>=10&&Nbs>=3 · ETMiss>=500 · Meff>=1100 · mbjets_Tmin>120 · TotJetMass>=200",  # noqa: E501
    "SR-Gtt-0L-C": "Nlepbase=0 · dPhi4jmin>0.4 · NJets>=10 · NBjets>=4 · ETMiss>=400 · Meff>=800 · mbjets_Tmin>180 · TotJetMass>=100",  # noqa: E501
    "SR-Gbb-B": "Nlepbase=0 · dPhi4jmin>0.4 · mbjets_Tmin>=130 · ETMiss>=550 · pTjet>=65 · Meff>=2600",  # noqa: E501
    "SR-Gbb-M": "Nlepbase=0 · dPhi4jmin>0.4 · mbjets_Tmin>=130 · ETMiss>=550 · Meff>=2000",
    "SR-Gbb-C": 'Nlepbase=0 · "dPhi4,jmin>0.4" · mbjets_Tmin>=130 · ETMiss>=550 · Meff>=1600',
    "SR-Gtb-B": "ETmissTrigger · Nlepbase=0 · dPhi4jmin>0.4 · mbjets_Tmin>=130 · Meff>=2500 · ETMiss>=550 · totJetMass>=200",  # noqa: E501
    "SR-Gtb-M": "ETmissTrigger · Nlepbase=0 · dPhi4jmin>0.4 · mbjets_Tmin>=130 · nJets>=6 · nbs>=4 · Meff>=2000 · ETMiss>=550 · totJetMass>=200",  # noqa: E501
    "SR-Gtb-C": "ETmissTrigger · Nlepbase=0 · dPhi4jmin>0.4 · mbjets_Tmin>=130 · nJets>=7 · nbs>=4 · Meff>=1300 · ETMiss>=500 · totJetMass>=50",  # noqa: E501
    "SR-Gtt-1L-B": "Nsiglep=1 · NJet>=4&&nbs>=3 · ETMiss>=600 · Meff>=2300 · m_trans>=150 · mbjets_Tmin>120 · TotJetMass>=200",  # noqa: E501
    "SR-Gtt-1L-M1": "Nsiglep=1 · NJet>=5&&nbs>=3 · ETMiss>=600 · Meff>=2000 · m_trans>=200 · mbjets_Tmin>120 · TotJetMass>=200",  # noqa: E501
    "SR-Gtt-1L-M2": "Nsiglep=1 · NJet>=8&&nbs>=3 · ETMiss>=500 · Meff>=1100 · m_trans>=200 · mbjets_Tmin>120 · TotJetMass>=100",  # noqa: E501
    "SR-Gtt-1L-C": "Nsiglep=1 · NJet>=9&&nbs>=3 · ETMiss>=300 · Meff>=800 · m_trans>=150 · mbjets_Tmin>120",  # noqa: E501
    "SR-Gbb-2800-1400": "NBaseLep=0 · dPhi4jmin · P(Gbb)",
    "SR-Gbb-2300-1000": "NBaseLep=0 · dPhi4jmin · P(Gbb)",
    "SR-Gbb-2100-1600": "NBaseLep=0 · dPhi4jmin · P(Gbb)",
    "SR-Gbb-2000-1800": "NBaseLep=0 · dPhi4jmin · P(Gbb)",
    "SR-Gtt-2100-1": "Common · P(Gtt)",
    "SR-Gtt-1800-1": "Common · P(Gtt)",
    "SR-Gtt-2300-1200": "Common · P(Gtt)",
    "SR-Gtt-1900-1400": "Common · P(Gtt)",
}  # fmt: skip
#: (Rivet label prefix, our cut name prefix), matched in this order
KINDS = [
    ("ETmissTrigger", "met_gt_200"),
    ("Nlepbase=0", "n_baseline_leptons_eq_0"),
    ("NBaseLep=0", "n_baseline_leptons_eq_0"),
    ("Nsiglep=1", "n_signal_leptons_ge_1"),
    ('"dPhi4,jmin', "dphi4j_min_ge_"),
    ("dPhi4jmin", "dphi4j_min_ge_"),
    ("mbjets_Tmin", "mT_bmin_ge_"),
    ("NJet", "n_jets_ge_"),
    ("nJets", "n_jets_ge_"),
    ("NBjets", "n_b_ge_"),
    ("nbs", "n_b_ge_"),
    ("ETMiss", "met_ge_"),
    ("Meff", "meff_ge_"),
    ("m_trans", "mT_ge_"),
    ("TotJetMass", "MJ_ge_"),
    ("totJetMass", "MJ_ge_"),
    ("pTjet", "leading_jet_pt_ge_"),
    ("Common", "nn_gtt_channel"),
    ("P(Gtt)", "p_gtt_"),
    ("P(Gbb)", "p_gbb_"),
]
LABEL_NUMBER = re.compile(r"(?:>=|>|=|<)\s*(-?\d+(?:\.\d+)?)")
CUT_NUMBER = re.compile(r"_(?:ge|gt|eq|lt|le)_(-?\d+(?:\.\d+)?)")


def matches(label: str, cut: str) -> bool:
    """A published step and our cut: the same kind and the same thresholds."""
    found = [(prefix, ours) for prefix, ours in KINDS if label.startswith(prefix)]
    assert found, f"unknown published step {label!r}"
    prefix, ours = found[0]
    if not cut.startswith(ours):
        return False
    if prefix in ("ETmissTrigger", "P(Gtt)", "P(Gbb)") or label == "dPhi4jmin":
        return True  # the label names no threshold
    published = [float(x) for x in LABEL_NUMBER.findall(label)]
    return published == [float(x) for x in CUT_NUMBER.findall(cut)]


def steps_after_preselection(name: str, cuts: list[str]) -> list[str]:
    preselection = list(regions_module.PRESELECTION)
    assert cuts[:3] == preselection, f"{name} starts with the common preselection"
    steps = cuts[3:]
    if "Gtb" in name:  # Rivet's ETmissTrigger is our preselection's last cut, E_T^miss > 200
        steps = ["met_gt_200", *steps]
    return steps


@pytest.mark.parametrize("name", sorted(RIVET_STEPS))
def test_signal_region_cuts_follow_the_published_steps(name: str) -> None:
    labels = [s.strip() for s in RIVET_STEPS[name].split(" · ")]
    cuts = steps_after_preselection(name, regions_module.regions()[name]["cuts"])
    assert len(cuts) == len(labels), f"{name}: {cuts} vs {labels}"
    for label, cut_name in zip(labels, cuts, strict=True):
        assert matches(label, cut_name), f"{name}: step {label!r} is not cut {cut_name!r}"


def test_gbb_network_regions_use_the_stricter_dphi_where_published() -> None:
    cuts = regions_module.regions()
    assert "dphi4j_min_ge_0.6" in cuts["SR-Gbb-2800-1400"]["cuts"]
    assert "dphi4j_min_ge_0.6" in cuts["SR-Gbb-2300-1000"]["cuts"]
    assert "dphi4j_min_ge_0.4" in cuts["SR-Gbb-2000-1800"]["cuts"]


@pytest.mark.shared_data
def test_pinned_steps_are_those_of_selection_md(shared_data: Path) -> None:
    text = (shared_data / "atlas_susy_2018_30" / "selection.md").read_text()
    section = text[text.index("### 6.3 Rivet") : text.index("**Errors in the RV")]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("CF_"):
            for cutflow in cells[0].split(", "):
                rows[cutflow] = cells[1]
    for region, steps in RIVET_STEPS.items():
        family, *rest = region[3:].split("-")
        if rest[0] in ("0L", "1L"):
            key = f"CF_{family}_{rest[0].lower()}_{rest[1]}"
        elif rest[0].isdigit():
            key = f"CF_{family}_{rest[0]}_{rest[1]}"
        else:
            key = f"CF_{family}_0l_{rest[0]}"
        assert key in rows, f"{region}: no Rivet cutflow {key} in selection.md"
        published = rows[key]
        published = re.sub(r" \([^)]*\)", "", published)  # remarks such as "(typo in the label)"
        assert published == steps, f"{region}: {published!r} != {steps!r}"


def test_every_region_cut_is_declared_and_gtb_is_marked() -> None:
    document = json.loads((BUNDLE / "analysis.json").read_text())
    cuts = {name: r["cuts"] for name, r in document["regions"].items()}
    analysis.Atlas2018Susy30(cuts)  # raises on an undeclared cut
    assert document["regions"] == regions_module.regions()
    for name, region in document["regions"].items():
        if "Gtb" in name:
            assert "UNVALIDATED" in region["description"]
        network = any(c.startswith(("p_", "log10_", "crz_p", "crz_log10")) for c in region["cuts"])
        assert ("networks" in region) == network, name
    assert len([n for n in document["regions"] if n.startswith("SR-")]) == 22
    topics = {c["topic"] for c in document["choices"]}
    assert {
        "overlap removal",
        "b-tagging",
        "M_J^Σ,4",
        "φ(MET) given to the network",
        "Gtb",
    } <= topics


def test_bundle_check_passes() -> None:
    from recast.analysis.bundle import check_bundle

    checked = check_bundle(BUNDLE)
    assert any("every region's cuts are declared" in line for line in checked)
    # the network file is not shipped: the check says which regions a run will skip
    assert any("network 'multib': card valid; its file is not distributed" in c for c in checked)


# -- detector: b-tagging and acceptance -------------------------------------------------------
def test_btag_map_has_the_published_efficiencies() -> None:
    from recast.detector.maps import load_map

    btag = load_map(BUNDLE / "maps" / "btag_mv2c10_77.json")
    jets = ak.zip(
        {
            "pt": [[45.0, 120.0, 600.0, 45.0, 45.0, 45.0, 45.0]],
            "eta": [[0.5, -1.0, 2.0, 2.6, 0.1, 0.1, 0.1]],
            "phi": [[0.0] * 7],
            "mass": [[5.0] * 7],
            "flavour": [[5, 5, 5, 5, 4, 15, 0]],
        },
        with_name="Momentum4D",
    )
    values = btag.efficiency(ak.zip({"jets": jets}, depth_limit=1)).tolist()[0]
    assert values == pytest.approx([0.74, 0.80, 0.68, 0.0, 1 / 5, 1 / 16, 1 / 110])


def test_detector_drops_the_electron_crack() -> None:
    from recast.detector.description import load_detector

    detector = load_detector(BUNDLE / "detector.json")
    row = gtt_like_event() | {
        "electrons": [lepton(50.0, 1.4, 0.0), lepton(50.0, -2.0, 1.0), lepton(15.0, 0.0, 2.0)]
    }
    e = events(row)
    truth_jets = ak.zip(
        {k: e.jets[k] for k in ("pt", "eta", "phi", "mass")}, with_name="Momentum4D"
    )
    truth_jets = ak.with_field(
        truth_jets, ak.values_astype(ak.zeros_like(e.jets.pt), np.int32) + 5, "flavour"
    )
    e = ak.with_field(e, truth_jets, "jets")
    reco = detector.apply(e, seed=3)
    assert reco.electrons.eta.tolist() == [[-2.0]]
    assert reco.jets.pt.tolist() == [[500.0, 400.0, 300.0, 200.0, 100.0, 50.0]]
    assert not bool(reco.jets.btag[0, 5])  # |η| = 2.6: efficiency 0


def test_docs_page_lists_every_choice_and_region() -> None:
    page = (BUNDLE.parents[1] / "docs" / "atlas-susy-2018-30.md").read_text()
    document = json.loads((BUNDLE / "analysis.json").read_text())
    for choice in document["choices"]:
        row = f"| {choice['topic']} | {choice['choice']} | {choice['reason']} |"
        assert row.replace("|", "\\|")[2:-2].replace(" \\| ", " | ") in page, choice["topic"]
    for name in document["regions"]:
        assert f"| {name} |" in page, name


def test_events_without_objects_get_neutral_values() -> None:
    """No jet, no lepton: the variables are defined and every cut simply fails."""
    e = derived({"met": (250.0, 0.5)}, {"jets": [jet(40.0, 0.0, 0.0)], "met": (10.0, 0.0)})
    assert e.n_jets.tolist() == [0, 1] and ak.num(e.large_R_jets).tolist() == [0, 0]
    assert e.MJ.tolist() == [0.0, 0.0] and e.mT_bmin.tolist() == [0.0, 0.0]
    assert float(e.dphi4j_min[0]) == pytest.approx(math.pi) and e.mT.tolist() == [0.0, 0.0]
    assert e.meff.tolist() == pytest.approx([250.0, 50.0])
