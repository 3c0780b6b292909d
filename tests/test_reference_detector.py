"""The reference experiment's detector reproduces the parametrisations its docstrings state."""

from __future__ import annotations

import math
from typing import Any

import awkward as ak
import numpy as np
import pytest

from recast.errors import MissingCollectionError, UsageError
from recast.objects import build_objects, toy_truth_chunk
from reference_experiment import (
    ELECTRONS,
    MUONS,
    REFERENCE_OBJECTS,
    WORKING_POINTS,
    JetModel,
    ReferenceDetector,
    btag,
    jets,
    leptons,
    perfect_detector,
)
from reference_experiment.detector import nearest_dr

N = 40_000


def _phi(x: float) -> float:
    """Standard normal CDF, written independently of the package (math.erfc)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _within(fraction: float, expected: float, n: int, sigmas: float = 4.5) -> bool:
    return abs(fraction - expected) <= sigmas * math.sqrt(max(expected * (1 - expected), 1e-6) / n)


# --- jets --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pt", "eta", "has_b"),
    [
        (30.0, 0.3, False),
        (120.0, 1.8, False),
        (60.0, 3.5, True),
        (400.0, 0.0, True),
        (250.0, 0.7, False),
    ],
)
def test_jet_response_follows_the_stated_parametrisation(
    pt: float, eta: float, has_b: bool
) -> None:
    model = JetModel()
    events = np.arange(N)
    r = jets.respond(
        model, 7, events, np.zeros(N, np.int64), np.full(N, pt), np.full(N, eta), np.full(N, has_b)
    )
    # the docstring's formulas, typed again here
    abs_eta = abs(eta)
    mu = 0.98 - 0.10 * math.exp(-pt / 35) + 0.02 * (abs_eta / 4.5) ** 2 - 0.02 * has_b
    n_term = 3.0 * (1 + 0.25 * abs_eta) / pt
    s_term = 0.75 * (1 + 0.10 * abs_eta) / math.sqrt(pt)
    sigma = math.sqrt(n_term**2 + s_term**2 + 0.04**2)
    p, lam = (0.10 if has_b else 0.03), 2.0
    mean, std = model.expected_moments(np.array([pt]), np.array([eta]), np.array([has_b]))
    if mu - sigma * (1 + 2 * lam * 4) > 0:  # the clip at 0 is negligible: the closed forms hold
        assert mean[0] == pytest.approx(mu - p * sigma * (1 + lam), rel=2e-5)
        var = (1 - p) * sigma**2 + p * (sigma * lam) ** 2 + p * (1 - p) * (sigma * (1 + lam)) ** 2
        assert std[0] == pytest.approx(math.sqrt(var), rel=1e-3)
    assert r.mean() == pytest.approx(mean[0], abs=5 * std[0] / math.sqrt(N))
    assert r.std() == pytest.approx(std[0], rel=0.04)
    # the non-Gaussian tail: everything in it lies below μ - σ
    below = float(np.mean(r < mu - sigma))
    assert _within(below, (1 - p) * _phi(-1.0) + p, N)
    core = np.abs(r - mu) < sigma
    assert _within(float(np.mean(core)), (1 - p) * (1 - 2 * _phi(-1.0)), N)


def test_jet_acceptance_and_direction() -> None:
    model = JetModel()
    events = np.arange(N)
    pt, eta, phi = np.full(N, 25.0), np.full(N, 1.0), np.full(N, 3.1)
    reco = jets.reconstruct(
        model, 1, events, np.zeros(N, np.int64), pt, eta, phi, np.full(N, 5.0), np.zeros(N, bool)
    )
    reco_pt, reco_eta, reco_phi, _, accepted = reco
    np.testing.assert_array_equal(accepted, (reco_pt > 20.0) & (np.abs(reco_eta) < 4.5))
    width = math.hypot(0.01, 0.6 / 25.0)
    assert np.std(reco_eta - eta) == pytest.approx(width, rel=0.03)
    assert np.all((reco_phi > -np.pi) & (reco_phi <= np.pi))  # wrapped around ±π


# --- b-tagging ---------------------------------------------------------------------------------


def _stated_efficiency(
    cut: float, flavour: int, n_b: int, pt: float, eta: float, dr: float
) -> float:
    """The module docstring's mixture, written out independently."""
    pt = min(max(pt, 20.0), 1000.0)
    prox = math.exp(-max(dr - 0.4, 0.0) / 0.25)
    if abs(eta) >= 2.5:
        return 0.0
    if flavour == 5:
        w = 0.97 * (1 - 0.45 * prox)
        mu = 4.2 - 0.30 * math.log(pt / 90) ** 2 - 0.35 * abs(eta) - 0.7 * (n_b >= 2)
        return w * _phi((mu - cut) / 1.0) + (1 - w) * _phi((0.5 - cut) / 1.2)
    if flavour in (4, 15):
        mu = 1.6 - 0.15 * math.log(pt / 60) ** 2 - 0.2 * abs(eta) + 0.5 * prox
        return _phi((mu - cut) / 1.1)
    t = 0.010 + 0.008 * math.log(pt / 20) + 0.03 * prox
    return (1 - t) * _phi((-1.0 - cut) / 1.0) + t * _phi((2.0 - cut) / 1.5)


@pytest.mark.parametrize("flavour", [5, 4, 15, 0])
def test_btag_efficiency_is_the_stated_function(flavour: int) -> None:
    for n_b in (1, 2):
        for pt, eta, dr in [(25.0, 0.1, 0.41), (90.0, 1.2, 0.7), (700.0, 2.4, 2.5), (60, 2.6, 1)]:
            for cut in WORKING_POINTS.values():
                got = btag.efficiency(
                    cut,
                    np.array([flavour]),
                    np.array([n_b]),
                    np.array([pt]),
                    np.array([eta]),
                    np.array([dr]),
                )[0]
                want = _stated_efficiency(cut, flavour, n_b if flavour == 5 else 0, pt, eta, dr)
                assert got == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("n_b", [1, 2])
def test_sampled_btag_follows_the_efficiency_vs_dr(n_b: int) -> None:
    """Sampled scores pass a working point as often as the stated efficiency, ΔR by ΔR."""
    previous = 0.0
    for k, dr in enumerate([0.4, 0.5, 0.7, 1.0, 2.0]):
        events = np.arange(N) + k * N
        args = (np.full(N, 5), np.full(N, n_b), np.full(N, 80.0), np.full(N, 0.8), np.full(N, dr))
        scores = btag.sample_scores(11, events, np.zeros(N, np.int64), *args)
        cut = WORKING_POINTS[77]
        expected = _stated_efficiency(cut, 5, n_b, 80.0, 0.8, dr)
        assert _within(float(np.mean(scores > cut)), expected, N)
        assert expected > previous  # the proximity effect: closer jets are tagged less
        previous = expected
    # two b-hadrons lower the score: a lower efficiency than one, at the same ΔR
    one = _stated_efficiency(WORKING_POINTS[77], 5, 1, 80.0, 0.8, 1.0)
    assert _stated_efficiency(WORKING_POINTS[77], 5, 2, 80.0, 0.8, 1.0) < one - 0.1


@pytest.mark.parametrize(("flavour", "pt"), [(4, 40.0), (0, 40.0), (0, 300.0), (5, 250.0)])
def test_sampled_mistags_follow_the_efficiency_vs_pt(flavour: int, pt: float) -> None:
    events = np.arange(N)
    args = (np.full(N, flavour), np.zeros(N), np.full(N, pt), np.full(N, -1.1), np.full(N, 0.6))
    scores = btag.sample_scores(3, events, np.zeros(N, np.int64), *args)
    for cut in WORKING_POINTS.values():
        expected = _stated_efficiency(cut, flavour, 0, pt, -1.1, 0.6)
        assert _within(float(np.mean(scores > cut)), expected, N)


def test_untaggable_jets_fail_every_working_point() -> None:
    scores = btag.sample_scores(
        1,
        np.arange(5),
        0,
        np.full(5, 5),
        np.ones(5),
        np.full(5, 100.0),
        np.array([2.5, -2.6, 3.0, 4.0, -4.4]),
        np.ones(5),
    )
    assert np.all(scores == btag.UNTAGGABLE)


def test_working_points_are_calibrated_on_the_reference_population() -> None:
    population: dict[str, Any] = btag.reference_population()
    for target, cut in WORKING_POINTS.items():
        assert btag.efficiency(cut, **population).mean() == pytest.approx(target / 100, abs=2e-4)
    calibrated = btag.calibrate_working_points()
    assert calibrated == pytest.approx(WORKING_POINTS, abs=1e-4)


# --- leptons -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "pt", "eta", "iso"),
    [
        (ELECTRONS, 10.0, 0.5, 0.02),
        (ELECTRONS, 60.0, 1.45, 0.12),
        (ELECTRONS, 35.0, 2.2, 0.0),
        (MUONS, 8.0, 0.05, 0.2),
        (MUONS, 50.0, 2.0, 0.05),
    ],
)
def test_lepton_efficiencies(model: leptons.LeptonModel, pt: float, eta: float, iso: float) -> None:
    if model is ELECTRONS:
        eff_id = 0.88 * (1 - 0.35 * math.exp(-(pt - 7) / 15))
        eff_id *= 0.60 if 1.37 <= abs(eta) < 1.52 else 1.0
        eff_id *= 0.95 if abs(eta) >= 2.0 else 1.0
        eff_iso = (0.99 - 0.09 * math.exp(-(pt - 7) / 20)) / (1 + (iso / 0.10) ** 4)
        sigma = math.hypot(0.10 / math.sqrt(pt * math.cosh(eta)), 0.007)
    else:
        eff_id = 0.96 * (1 - 0.20 * math.exp(-(pt - 7) / 10)) * (0.70 if abs(eta) < 0.1 else 1)
        eff_iso = (0.99 - 0.06 * math.exp(-(pt - 7) / 20)) / (1 + (iso / 0.12) ** 4)
        sigma = math.hypot(0.012, 0.00012 * pt)
    assert model.id_efficiency(np.array([pt]), np.array([eta]))[0] == pytest.approx(eff_id)
    assert model.iso_efficiency(np.array([pt]), np.array([iso]))[0] == pytest.approx(eff_iso)
    reco_pt, kept, isolated = leptons.reconstruct(
        model,
        5,
        np.arange(N),
        np.zeros(N, np.int64),
        np.full(N, pt),
        np.full(N, eta),
        np.full(N, iso),
    )
    # kept = identified and above 7 GeV after smearing (at 8 GeV the smearing matters)
    above = 1 - _phi((7.0 / pt - 1) / sigma)
    assert _within(float(np.mean(kept)), eff_id * above, N)
    assert _within(float(isolated[kept].mean()), eff_iso, int(kept.sum()))
    assert np.std(reco_pt / pt) == pytest.approx(sigma, rel=0.03)


def test_leptons_outside_the_detector_are_lost() -> None:
    for model, eta in ((ELECTRONS, 2.5), (MUONS, 2.75)):
        _, kept, _ = leptons.reconstruct(
            model, 1, np.arange(100), 0, np.full(100, 50.0), np.full(100, eta), np.zeros(100)
        )
        assert not kept.any()


# --- events: MET, proximity, reproducibility ---------------------------------------------------


@pytest.fixture(scope="module")
def objects() -> ak.Array:
    return build_objects(toy_truth_chunk(300, seed=21), REFERENCE_OBJECTS)


def _sum_xy(collection: ak.Array) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.asarray(ak.sum(collection.pt * np.cos(collection.phi), axis=1)),
        np.asarray(ak.sum(collection.pt * np.sin(collection.phi), axis=1)),
    )


def test_met_closes_on_the_reconstructed_objects(objects: ak.Array) -> None:
    reco = ReferenceDetector().apply(objects, seed=4)
    total_x, total_y = np.zeros(len(reco)), np.zeros(len(reco))
    for name in ("jets", "electrons", "muons", "met_soft"):
        if name == "met_soft":
            x, y = (
                np.asarray(reco.met_soft.pt * np.cos(reco.met_soft.phi)),
                np.asarray(reco.met_soft.pt * np.sin(reco.met_soft.phi)),
            )
        else:
            x, y = _sum_xy(reco[name])
        total_x, total_y = total_x + x, total_y + y
    met = reco.met
    np.testing.assert_allclose(np.asarray(met.pt * np.cos(met.phi)), -total_x, atol=1e-9)
    np.testing.assert_allclose(np.asarray(met.pt * np.sin(met.phi)), -total_y, atol=1e-9)
    assert ak.all(reco.met_soft.pt > 0)


def test_a_perfect_detector_gives_back_the_truth(objects: ak.Array) -> None:
    reco = perfect_detector().apply(objects, seed=4)
    np.testing.assert_allclose(
        np.asarray(reco.met.pt), np.asarray(objects.met_visible.pt), atol=1e-9
    )
    assert ak.all(ak.num(reco.jets) == ak.num(objects.jets))
    np.testing.assert_allclose(ak.flatten(reco.jets.pt), ak.flatten(objects.jets.pt))
    assert ak.all(ak.num(reco.muons) == ak.num(objects.muons))


def test_nearest_dr_matches_a_brute_force_loop(objects: ak.Array) -> None:
    j = objects.jets
    counts = np.asarray(ak.num(j))
    flat = {k: np.asarray(ak.flatten(j[k])) for k in ("eta", "phi", "pt")}
    got = nearest_dr(counts, flat["eta"], flat["phi"], flat["pt"], 15.0)
    expected = []
    for event in ak.to_list(j):
        for a_i, a in enumerate(event):
            best = btag.DR_ALONE
            for b_i, b in enumerate(event):
                if a_i != b_i and b["pt"] >= 15.0:
                    dphi = (a["phi"] - b["phi"] + math.pi) % (2 * math.pi) - math.pi
                    best = min(best, math.hypot(a["eta"] - b["eta"], dphi))
            expected.append(best)
    np.testing.assert_allclose(got, expected, atol=1e-12)
    batched = nearest_dr(counts, flat["eta"], flat["phi"], flat["pt"], 15.0, batch=7)
    np.testing.assert_array_equal(batched, got)


def test_same_seed_same_events_bit_identical_across_chunkings(objects: ak.Array) -> None:
    detector = ReferenceDetector()
    whole = detector.apply(objects, seed=9)
    pieces = list(detector.apply_chunks([objects[:37], objects[37:200], objects[200:]], seed=9))
    assert ak.to_list(ak.concatenate(pieces)) == ak.to_list(whole)
    assert ak.to_list(detector.apply(objects, seed=9)) == ak.to_list(whole)
    other = detector.apply(objects, seed=10)
    assert not np.array_equal(ak.flatten(other.jets.btag_score), ak.flatten(whole.jets.btag_score))


def test_jets_are_sorted_and_carry_their_truth(objects: ak.Array) -> None:
    reco = ReferenceDetector().apply(objects, seed=2)
    pt = reco.jets.pt
    assert ak.all(pt[:, 1:] <= pt[:, :-1])
    assert ak.all(reco.jets.pt > 20.0)
    truth = objects.jets[reco.jets.truth_index]
    assert ak.all(truth.flavour == reco.jets.flavour)
    np.testing.assert_array_equal(ak.flatten(truth.pt), ak.flatten(reco.jets.truth_pt))
    for wp, cut in WORKING_POINTS.items():
        assert ak.all(reco.jets[f"btag_{wp}"] == (reco.jets.btag_score > cut))


def test_bad_inputs_give_clear_errors(objects: ak.Array) -> None:
    detector = ReferenceDetector()
    with pytest.raises(MissingCollectionError, match="met_visible"):
        detector.apply(objects[[f for f in objects.fields if f != "met_visible"]], seed=1)
    no_labels = ak.with_field(objects, objects.jets[["pt", "eta", "phi", "mass"]], "jets")
    with pytest.raises(MissingCollectionError, match="flavour"):
        detector.apply(no_labels, seed=1)
    for seed in (-1, 1.5, "1", True):
        with pytest.raises(UsageError, match="seed"):
            detector.apply(objects, seed=seed)  # type: ignore[arg-type]
