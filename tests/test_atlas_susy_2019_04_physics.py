"""ATLAS_SUSY_2019_04 physics module: every network input and region variable against a plain
Python loop on seeded random events (0…12 jets, empty events included), and hand-made events
for each overlap-removal step and for the 1L/2LSS split (selection.md §1.4, §2, §3)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import awkward as ak
import numpy as np
import pytest
import vector

from recast.analysis.bundle import import_file
from recast.errors import UsageError

from .test_atlas_susy_2018_30 import collection, jet

vector.register_awkward()

BUNDLE = Path(__file__).resolve().parents[1] / "analyses" / "ATLAS_SUSY_2019_04"
RTOL = 1e-9
#: GeV: a mass that is 0 up to rounding (a single massless jet) comes out of √(E² − p²) as
#: about √ε·E, 1e-5 GeV for E ~ 1 TeV, in either implementation; applies below SMALL only
ATOL_SMALL = 1e-4
SMALL = 1.0


def bundle_module(name: str) -> ModuleType:
    """A module of the bundle, under the name the bundle loader gives it."""
    return import_file(
        f"recast_bundle_ATLAS_SUSY_2019_04_{name}", BUNDLE / f"{name}.py", reuse=True
    )


physics = bundle_module("physics")

JET_KEYS = ("pt", "eta", "phi", "mass", "btag")
LEPTON_KEYS = ("pt", "eta", "phi", "mass", "charge")


def lepton(pt: float, eta: float, phi: float, charge: int = -1, mass: float = 0.1):
    return {"pt": pt, "eta": eta, "phi": phi, "mass": mass, "charge": charge}


def jets_of(*rows: list[dict[str, Any]]) -> ak.Array:
    return collection(list(rows), JET_KEYS)


def leptons_of(*rows: list[dict[str, Any]]) -> ak.Array:
    return collection(list(rows), LEPTON_KEYS)


# -- plain-Python references ------------------------------------------------------------------
def p4(o: dict[str, float]) -> tuple[float, float, float, float]:
    pt, eta, phi, m = o["pt"], o["eta"], o["phi"], o["mass"]
    px, py, pz = pt * math.cos(phi), pt * math.sin(phi), pt * math.sinh(eta)
    return px, py, pz, math.sqrt(px * px + py * py + pz * pz + m * m)


def add(*vectors: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(sum(c) for c in zip(*vectors, strict=True))


def mass(v: tuple[float, ...]) -> float:
    return math.sqrt(max(v[3] ** 2 - v[0] ** 2 - v[1] ** 2 - v[2] ** 2, 0.0))


def dr(a: dict[str, float], b: dict[str, float]) -> float:
    dphi = (a["phi"] - b["phi"] + math.pi) % (2 * math.pi) - math.pi
    return math.hypot(a["eta"] - b["eta"], dphi)


def ref_three_jet(jets: list[dict]) -> float:
    best, value = -1.0, math.nan
    for triplet in itertools.combinations(jets, 3):
        s = add(*(p4(j) for j in triplet))
        if math.hypot(s[0], s[1]) > best:
            best, value = math.hypot(s[0], s[1]), mass(s)
    return value


def ref_three_jet_lep_met(jets: list[dict], leps: list[dict], met: dict, in_mass: bool) -> float:
    if not leps:
        return math.nan
    miss = (met["pt"] * math.cos(met["phi"]), met["pt"] * math.sin(met["phi"]), 0.0, met["pt"])
    best, value = -1.0, math.nan
    for triplet in itertools.combinations(jets, 3):
        visible = add(*(p4(j) for j in triplet), p4(leps[0]))
        s = add(visible, miss)
        if math.hypot(s[0], s[1]) > best:
            best, value = math.hypot(s[0], s[1]), mass(s if in_mass else visible)
    return value


def ref_minmax(jets: list[dict]) -> float:
    if len(jets) > 12:
        return math.nan
    best = math.inf
    for in_a in itertools.product((False, True), repeat=len(jets)):
        group_a = [p4(j) for j, a in zip(jets, in_a, strict=True) if a]
        group_b = [p4(j) for j, a in zip(jets, in_a, strict=True) if not a]
        masses = [mass(add(*g)) if g else 0.0 for g in (group_a, group_b)]
        best = min(best, max(masses))
    return best


def ref_min_dr(jets: list[dict], leps: list[dict]) -> float:
    values = [dr(j, ell) for j in jets for ell in leps]
    return min(values) if values else math.nan


def ref_mlj(jets: list[dict], leps: list[dict]) -> float:
    if len(leps) < 2:
        return math.nan
    values = [
        max(mass(add(p4(leps[0]), p4(ji))), mass(add(p4(leps[1]), p4(jk))))
        for i, ji in enumerate(jets[:4])
        for k, jk in enumerate(jets[:4])
        if i != k
    ]
    return min(values) if values else math.nan


# -- random events -----------------------------------------------------------------------------
N_EVENTS = 300


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    """Seeded events with every jet count 0…12 (pT-descending jets, some massless and some
    b-tagged), 0…3 leptons and MET; as Python lists (for the references) and as collections."""
    rng = np.random.default_rng(20190404)
    n_jets = np.concatenate([np.arange(13), rng.integers(0, 13, N_EVENTS - 13)])
    n_leps = rng.integers(0, 4, N_EVENTS)
    n_leps[:5] = 0  # the empty events (0 jets) are among them

    def objects(n: int, kind: str) -> list[dict[str, Any]]:
        pt = np.sort(20.0 + rng.exponential(80.0, n))[::-1]
        rows = []
        for k in range(n):
            o = {
                "pt": float(pt[k]),
                "eta": float(rng.uniform(-2.5, 2.5)),
                "phi": float(rng.uniform(-np.pi, np.pi)),
            }
            if kind == "jet":
                o["mass"] = 0.0 if rng.random() < 0.15 else float(rng.uniform(0.0, 30.0))
                o["btag"] = bool(rng.random() < 0.4)
            else:
                o["mass"] = 0.1
                o["charge"] = int(rng.choice([-1, 1]))
            rows.append(o)
        return rows

    jets = [objects(int(n), "jet") for n in n_jets]
    leps = [objects(int(n), "lepton") for n in n_leps]
    met = [
        {"pt": float(rng.exponential(100.0)), "phi": float(rng.uniform(-np.pi, np.pi))}
        for _ in range(N_EVENTS)
    ]
    return {
        "jets": jets,
        "leptons": leps,
        "met": met,
        "jet_array": collection(jets, JET_KEYS),
        "lepton_array": collection(leps, LEPTON_KEYS),
        "met_array": ak.zip({k: [m[k] for m in met] for k in ("pt", "phi")}),
    }


def close(actual: np.ndarray, expected: list[float]) -> None:
    """Equal to 1e-9 relative (NaN where NaN); values below 1 GeV to 1e-4 GeV absolute."""
    actual, want = np.asarray(actual, dtype=np.float64), np.array(expected, dtype=np.float64)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(want))
    small = np.abs(want) < SMALL
    np.testing.assert_allclose(actual[~small], want[~small], rtol=RTOL, atol=0.0)
    np.testing.assert_allclose(actual[small], want[small], rtol=0.0, atol=ATOL_SMALL)


def test_three_jet_maxpt_mass_matches_the_triplet_loop(sample: dict[str, Any]) -> None:
    got = physics.three_jet_maxpt_mass(sample["jet_array"])
    close(got, [ref_three_jet(j) for j in sample["jets"]])
    assert np.isnan(got[[len(j) < 3 for j in sample["jets"]]]).all()


@pytest.mark.parametrize("met_in_mass", [True, False])
def test_three_jet_lep_met_mass_matches_the_triplet_loop(
    sample: dict[str, Any], met_in_mass: bool
) -> None:
    lead = physics.leading(sample["lepton_array"])
    got = physics.three_jet_lep_met_mass_max_pt(
        sample["jet_array"], lead, sample["met_array"], met_in_mass=met_in_mass
    )
    expected = [
        ref_three_jet_lep_met(j, ell, m, met_in_mass)
        for j, ell, m in zip(sample["jets"], sample["leptons"], sample["met"], strict=True)
    ]
    close(got, expected)


def test_minmax_mass_matches_every_split(sample: dict[str, Any]) -> None:
    got = physics.minmax_mass(sample["jet_array"])
    close(got, [ref_minmax(j) for j in sample["jets"]])
    assert (got[[len(j) == 0 for j in sample["jets"]]] == 0.0).all()


def test_grouped_computations_do_not_depend_on_the_block_size(
    sample: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of a few events each (the events of one jet count split across blocks)."""
    whole = [f(sample["jet_array"]) for f in (physics.minmax_mass, physics.three_jet_maxpt_mass)]
    monkeypatch.setattr(physics, "BLOCK_ELEMENTS", 300)
    small = [f(sample["jet_array"]) for f in (physics.minmax_mass, physics.three_jet_maxpt_mass)]
    for a, b in zip(whole, small, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_minmax_mass_is_nan_above_twelve_jets() -> None:
    rows = [[jet(200.0 - 10 * k, 0.1 * k, 0.4 * k) for k in range(n)] for n in (12, 13, 15)]
    got = physics.minmax_mass(jets_of(*rows))
    assert np.isfinite(got[0]) and np.isnan(got[1:]).all()


@pytest.mark.parametrize("leading_only", [False, True])
def test_min_delta_r_lj_matches_the_pair_loop(sample: dict[str, Any], leading_only: bool) -> None:
    got = physics.min_delta_r_lj(
        sample["jet_array"], sample["lepton_array"], leading_only=leading_only
    )
    expected = [
        ref_min_dr(j, ell[:1] if leading_only else ell)
        for j, ell in zip(sample["jets"], sample["leptons"], strict=True)
    ]
    close(got, expected)


def test_mlj_minmax_matches_the_pair_loop(sample: dict[str, Any]) -> None:
    got = physics.mlj_minmax(sample["jet_array"], sample["lepton_array"])
    expected = [ref_mlj(j, ell) for j, ell in zip(sample["jets"], sample["leptons"], strict=True)]
    close(got, expected)
    assert np.isfinite(expected).sum() > 100  # the comparison is not only NaN against NaN


def test_sums_counts_and_bins_match_the_loops(sample: dict[str, Any]) -> None:
    jets, arr = sample["jets"], sample["jet_array"]
    close(physics.ht(arr), [sum(j["pt"] for j in js) for js in jets])
    close(physics.ht_b(arr), [sum(j["pt"] for j in js if j["btag"]) for js in jets])
    for threshold in (20.0, 40.0, 60.0, 80.0, 100.0):
        assert physics.count_above(arr, threshold).tolist() == [
            sum(j["pt"] > threshold for j in js) for js in jets
        ]
        assert physics.count_b_above(arr, threshold).tolist() == [
            sum(j["pt"] > threshold and j["btag"] for j in js) for js in jets
        ]
    n_b = physics.n_b(arr)
    assert n_b.tolist() == [sum(j["btag"] for j in js) for js in jets]
    assert physics.n_bcat(n_b).tolist() == [min(max(n - 1, 0), 3) for n in n_b.tolist()]
    assert physics.btag_bin(arr).tolist() == [
        [5.0 if j["btag"] else 1.0 for j in js] for js in jets
    ]
    assert physics.btag_bin(arr, untagged=-0.5).tolist() == [
        [5.0 if j["btag"] else -0.5 for j in js] for js in jets
    ]


def test_n_bcat_categories() -> None:
    assert physics.n_bcat(np.array([0, 1, 2, 3, 4, 9])).tolist() == [0, 0, 1, 2, 3, 3]
    assert physics.n_bcat(ak.Array([4])).tolist() == [3]


def test_b_flag_needs_the_tag_and_the_tracker() -> None:
    jets = jets_of([jet(50.0, 2.4, 0.0, b=True), jet(50.0, 2.6, 0.0, b=True), jet(50.0, 0.0, 0.0)])
    assert physics.b_flag(jets).tolist() == [[True, False, False]]


def test_energy_from_vector_and_with_energy(sample: dict[str, Any]) -> None:
    arr = sample["jet_array"]
    expected = [[p4(j)[3] for j in js] for js in sample["jets"]]
    close(ak.flatten(arr.energy).to_numpy(), [e for es in expected for e in es])
    stored = physics.with_energy(arr)
    assert set(ak.fields(stored)) == {"pt", "eta", "phi", "energy", "btag"}
    close(ak.flatten(stored.energy).to_numpy(), [e for es in expected for e in es])
    # the variables read the stored energy: the same values as from the masses
    close(physics.minmax_mass(stored), physics.minmax_mass(arr).tolist())
    close(physics.three_jet_maxpt_mass(stored), physics.three_jet_maxpt_mass(arr).tolist())


def test_leading_is_one_record_per_event_with_nan_when_empty() -> None:
    leps = leptons_of([lepton(40.0, 0.5, 1.0, charge=1), lepton(30.0, 0.0, 0.0)], [])
    lead = physics.leading(leps)
    assert len(lead) == 2 and lead.pt[0] == 40.0 and lead.charge.tolist() == [1, 0]
    assert math.isnan(lead.pt[1]) and math.isnan(lead.energy[1])
    assert lead.energy[0] == pytest.approx(p4(lepton(40.0, 0.5, 1.0))[3], rel=RTOL)


# -- overlap removal (§1.4) ---------------------------------------------------------------------
def remove(jets: list, electrons: list, muons: list, **kwargs: Any) -> tuple[list, list, list]:
    out = physics.overlap_removal(jets_of(jets), leptons_of(electrons), leptons_of(muons), **kwargs)
    return tuple(o.pt.tolist()[0] for o in out)  # type: ignore[return-value]


def test_step1_electrons_sharing_a_muon_track_are_removed() -> None:
    muons = [lepton(40.0, 1.0, 1.0)]
    assert remove([], [lepton(50.0, 1.0, 1.005)], muons)[1] == []  # ΔR 0.005 < 0.01
    assert remove([], [lepton(50.0, 1.0, 1.02)], muons)[1] == [50.0]  # ΔR 0.02


def test_step2_non_b_jets_near_an_electron_are_removed() -> None:
    electron = [lepton(20.0, 0.0, 0.0)]  # 20 GeV: its step-4 cone is 0.4
    assert remove([jet(60.0, 0.15, 0.0)], electron, [])[0] == []  # inside 0.2
    # outside 0.2: the jet stays, and the electron goes in step 4 (0.25 < 0.4)
    assert remove([jet(60.0, 0.25, 0.0)], electron, []) == ([60.0], [], [])
    # a b-jet inside 0.2 stays, and removes the electron in step 4
    assert remove([jet(60.0, 0.15, 0.0, b=True)], electron, []) == ([60.0], [], [])


def test_step2_measures_delta_r_in_pseudorapidity() -> None:
    """A heavy jet 0.15 away in η but ≈ 0.31 in rapidity: removed (η is the convention)."""
    pt, eta, m = 40.0, 2.0, 25.0
    y = math.asinh(pt * math.sinh(eta) / math.hypot(pt, m))
    assert eta + 0.15 - y > 0.25
    assert remove([jet(pt, eta, 0.0, m)], [lepton(30.0, eta + 0.15, 0.0)], []) == ([], [30.0], [])


def test_step1_runs_before_step2() -> None:
    """The electron on the muon goes first, so it does not remove the jet at 0.1."""
    jets, electrons, muons = remove(
        [jet(60.0, 0.5, 0.1, n_charged=10)], [lepton(50.0, 0.5, 0.0)], [lepton(45.0, 0.5, 0.005)]
    )
    assert jets == [60.0] and electrons == [] and muons == []  # the muon: step 4 (0.095 < 0.4)


def test_step3_jets_with_few_tracks_near_a_muon_are_removed() -> None:
    muon = [lepton(30.0, 0.0, 0.0)]
    few = jet(60.0, 0.3, 0.0, n_charged=2)
    assert remove([few], [], muon) == ([], [], [30.0])  # < 3 tracks inside 0.4
    assert remove([jet(60.0, 0.3, 0.0, n_charged=3)], [], muon) == ([60.0], [], [])  # 3 tracks
    assert remove([jet(60.0, 0.3, 0.0, b=True, n_charged=1)], [], muon) == ([60.0], [], [])  # b
    assert remove([jet(60.0, 0.45, 0.0, n_charged=1)], [], muon) == ([60.0], [], [30.0])  # > 0.4


def test_step3_without_track_counts_keeps_the_jet() -> None:
    """Truth jets without n_charged count as ≥ 3 tracks: the jet stays, the muon goes."""
    assert remove([jet(60.0, 0.1, 0.0)], [], [lepton(30.0, 0.0, 0.0)]) == ([60.0], [], [])


@pytest.mark.parametrize(
    ("lep_pt", "distance", "sliding_kept", "fixed_kept"),
    [
        (15.0, 0.30, False, False),  # low pT: sliding cone = min(0.4, 0.707) = 0.4
        (15.0, 0.45, True, True),  # outside 0.4 either way
        (100.0, 0.20, True, False),  # high pT: sliding cone 0.14, fixed 0.4
        (100.0, 0.10, False, False),  # inside 0.14
        (200.0, 0.12, True, False),  # 0.04 + 10/200 = 0.09
    ],
)
def test_step4_sliding_and_fixed_cones(
    lep_pt: float, distance: float, sliding_kept: bool, fixed_kept: bool
) -> None:
    b_jet = [jet(80.0, 0.0, distance, b=True, n_charged=10)]  # a b-jet: steps 2 and 3 spare it
    for cone, kept in (("sliding", sliding_kept), ("fixed", fixed_kept)):
        for as_electron in (True, False):
            electrons = [lepton(lep_pt, 0.0, 0.0)] if as_electron else []
            muons = [] if as_electron else [lepton(lep_pt, 0.0, 0.0)]
            jets, e, m = remove(b_jet, electrons, muons, lepton_jet_cone=cone)
            assert jets == [80.0]
            assert (e if as_electron else m) == ([lep_pt] if kept else []), (cone, as_electron)


def test_bad_arguments_are_usage_errors(sample: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="lepton_jet_cone"):
        remove([], [], [], lepton_jet_cone="wide")
    with pytest.raises(UsageError, match="leading"):  # the collection instead of its leading
        physics.three_jet_lep_met_mass_max_pt(
            sample["jet_array"], sample["lepton_array"], sample["met_array"]
        )


def test_overlap_removal_keeps_empty_events_and_order() -> None:
    jets = jets_of([], [jet(90.0, 0.0, 0.0), jet(50.0, 1.0, 2.0)])
    leps = leptons_of([], [lepton(30.0, -1.0, -2.0)])
    out_jets, electrons, muons = physics.overlap_removal(jets, leps, leptons_of([], []))
    assert out_jets.pt.tolist() == [[], [90.0, 50.0]]
    assert electrons.pt.tolist() == [[], [30.0]] and muons.pt.tolist() == [[], []]


# -- baseline and signal objects, channels (§1, §2.1) --------------------------------------------
def test_baseline_cuts_and_signal_leptons() -> None:
    electrons = leptons_of(
        [
            lepton(12.0, 0.0, 0.0),
            lepton(30.0, 2.46, 1.0),
            lepton(40.0, 2.48, 0.0),
            lepton(9.0, 0, 0),
        ]
    )
    muons = leptons_of([lepton(20.0, 2.49, 0.0, charge=1), lepton(50.0, 2.51, 0.0)])
    jets = jets_of([jet(19.0, 0.0, 0.0), jet(25.0, 2.4, 0.0), jet(300.0, 2.6, 0.0)])
    e, m = physics.baseline_electrons(electrons), physics.baseline_muons(muons)
    assert e.pt.tolist() == [[30.0, 12.0]] and m.pt.tolist() == [[20.0]]
    assert physics.baseline_jets(jets).pt.tolist() == [[25.0]]
    signal = physics.signal_leptons(e, m)  # 12 GeV fails the signal 15 GeV
    assert signal.pt.tolist() == [[30.0, 20.0]]
    assert signal.flavour.tolist() == [[11, 13]] and signal.charge.tolist() == [[-1, 1]]


def test_two_same_sign_and_one_lepton_channels() -> None:
    rows = [
        [lepton(40.0, 0.0, 0.0, 1), lepton(30.0, 1.0, 1.0, 1)],  # 2LSS
        [lepton(40.0, 0.0, 0.0, -1), lepton(30.0, 1.0, 1.0, -1)],  # 2LSS
        [lepton(40.0, 0.0, 0.0, 1), lepton(30.0, 1.0, 1.0, -1)],  # OS: 1L
        [lepton(40.0, 0.0, 0.0, 1)],  # 1L
        [lepton(40.0, 0.0, 0.0, 1), lepton(30.0, 1.0, 1.0, 1), lepton(20.0, 2, 2, 1)],  # 3: 1L
        [],  # neither
    ]
    leps = leptons_of(*rows)
    assert physics.is_two_same_sign(leps).tolist() == [True, True, False, False, False, False]
    assert physics.is_one_lepton(leps).tolist() == [False, False, True, True, True, False]


def test_ee_z_veto() -> None:
    """Two back-to-back 45.6 GeV leptons at η = 0: m = 91.2 GeV."""
    z_like = [lepton(45.6, 0.0, 0.0, 1, 0.0), lepton(45.6, 0.0, math.pi, 1, 0.0)]
    far = [lepton(25.0, 0.0, 0.0, 1, 0.0), lepton(25.0, 0.0, math.pi, 1, 0.0)]  # m = 50
    for electrons, muons, passes in (
        (z_like, [], False),
        ([], z_like, True),  # μμ: no veto
        (far, [], True),
        (z_like[:1], z_like[1:], True),  # eμ
        ([], [], True),
    ):
        leps = physics.signal_leptons(leptons_of(electrons), leptons_of(muons))
        assert physics.passes_ee_z_veto(leps).tolist() == [passes]
