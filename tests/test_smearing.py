"""Smearing: sampled resolutions against their models, response histograms, φ, pT order, MET."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import vector

from recast.detector.smearing import (
    BinnedResolution,
    CalorimeterResolution,
    ConstantResolution,
    FlatObjects,
    ResponseHistogram,
    SmearingDefinitionError,
    SmearingStep,
    model_from_document,
    smear_collection,
    smear_met,
    smear_objects,
)

vector.register_awkward()


def flat(
    pt: np.ndarray, eta: np.ndarray | None = None, phi: np.ndarray | None = None
) -> FlatObjects:
    """One object per event (event numbers 0..n-1), massless unless stated."""
    n = len(pt)
    return FlatObjects(
        pt=np.asarray(pt, dtype=np.float64),
        eta=np.zeros(n) if eta is None else np.asarray(eta, dtype=np.float64),
        phi=np.zeros(n) if phi is None else np.asarray(phi, dtype=np.float64),
        mass=np.zeros(n),
        event_number=np.arange(n, dtype=np.int64),
        index=np.zeros(n, dtype=np.int64),
    )


def assert_spread(ratio: np.ndarray, sigma: float, mean: float = 1.0) -> None:
    """Mean and standard deviation of Gaussian draws agree with (mean, σ) within 4 σ_stat."""
    n = len(ratio)
    assert abs(ratio.mean() - mean) < 4 * sigma / np.sqrt(n), (ratio.mean(), mean)
    assert abs(ratio.std() - sigma) < 4 * sigma / np.sqrt(2 * n), (ratio.std(), sigma)


def test_constant_relative_resolution_has_mean_response_one_and_the_model_spread() -> None:
    truth = flat(np.full(200_000, 80.0))
    reco = smear_objects(truth, [SmearingStep("pt", ConstantResolution(0.1))], 3, "jets")
    assert_spread(reco.pt / truth.pt, 0.1)
    # the whole four-momentum scales: mass and E by the same response
    massive = FlatObjects(
        truth.pt,
        truth.eta + 1.2,
        truth.phi,
        np.full(200_000, 10.0),
        truth.event_number,
        truth.index,
    )
    scaled = smear_objects(massive, [SmearingStep("pt", ConstantResolution(0.1))], 3, "jets")
    np.testing.assert_allclose(scaled.mass / massive.mass, scaled.pt / massive.pt, rtol=1e-12)
    np.testing.assert_allclose(scaled.energy / massive.energy, scaled.pt / massive.pt, rtol=1e-12)


@pytest.mark.parametrize("argument", ["pt", "energy"])
def test_calorimeter_resolution_matches_the_model_in_each_pt_bin(argument: str) -> None:
    model = CalorimeterResolution(stochastic=1.0, constant=0.05, noise=5.0, argument=argument)
    points = np.array([20.0, 50.0, 150.0, 600.0])
    pt = np.repeat(points, 50_000)
    eta = np.full(len(pt), 1.5)  # E = pT cosh η: the two arguments give different σ
    truth = flat(pt, eta)
    reco = smear_objects(truth, [SmearingStep("pt", model)], 11, "jets")
    for value in points:
        here = pt == value
        x = value * np.cosh(1.5) if argument == "energy" else value
        expected = np.sqrt(1.0 / x + 0.05**2 + (5.0 / x) ** 2)  # a/√X ⊕ b ⊕ c/X by hand
        assert_spread(reco.pt[here] / value, expected)


def test_binned_table_in_pt_and_abs_eta() -> None:
    table = np.array([[0.20, 0.30], [0.10, 0.15], [0.05, 0.08]])
    model = BinnedResolution([20, 50, 200, 1000], table, abs_eta_edges=[0, 1.5, 2.5])
    pt = np.repeat([30.0, 100.0, 500.0, 30.0, 100.0, 500.0, 5000.0], 30_000)
    eta = np.repeat([0.5, -0.5, 1.0, -2.0, 2.0, -1.8, 3.0], 30_000)
    reco = smear_objects(flat(pt, eta), [SmearingStep("pt", model)], 5, "electrons")
    # beyond the last edges (5 TeV, |η| = 3) the edge bins apply
    for p, e, sigma in [
        (30, 0.5, 0.2),
        (100, -0.5, 0.1),
        (500, 1.0, 0.05),
        (30, -2.0, 0.3),
        (100, 2.0, 0.15),
        (500, -1.8, 0.08),
        (5000, 3.0, 0.08),
    ]:
        here = (pt == p) & (eta == e)
        assert_spread(reco.pt[here] / p, sigma)


def test_response_histogram_sampling_reproduces_the_histogram() -> None:
    """χ² of sampled responses against the histogram, per pT bin, with each bin split in two
    to test that responses are uniform within a bin too."""
    edges = np.array([0.2, 0.6, 0.8, 0.9, 1.0, 1.1, 1.3])
    counts = np.array([[1.0, 3.0, 10.0, 30.0, 20.0, 2.0], [0.0, 1.0, 5.0, 40.0, 30.0, 0.5]])
    model = ResponseHistogram(edges, counts, pt_edges=[0, 100, 10_000])
    n = 100_000
    pt = np.repeat([50.0, 400.0], n)
    truth = flat(pt)
    reco = smear_objects(truth, [SmearingStep("pt", model)], 21, "jets")
    fine = np.sort(np.concatenate([edges, (edges[1:] + edges[:-1]) / 2]))
    for row, value in enumerate([50.0, 400.0]):
        r = reco.pt[pt == value] / value
        observed, _ = np.histogram(r, bins=fine)
        assert observed.sum() == n  # nothing outside the histogram's range
        expected = np.repeat(counts[row] / counts[row].sum() / 2, 2) * n
        filled = expected > 0
        assert observed[~filled].sum() == 0  # an empty bin is never sampled
        chi2 = np.sum((observed[filled] - expected[filled]) ** 2 / expected[filled])
        dof = filled.sum() - 1
        assert chi2 < dof + 5 * np.sqrt(2 * dof), (chi2, dof)


def test_phi_smearing_stays_in_the_half_open_interval() -> None:
    n = 100_000
    phi = np.where(np.arange(n) % 2 == 0, np.pi, -np.pi + 1e-9)
    truth = flat(np.full(n, 50.0), phi=phi)
    reco = smear_objects(truth, [SmearingStep("phi", ConstantResolution(0.5))], 2, "muons")
    assert reco.phi.max() <= np.pi and reco.phi.min() > -np.pi
    shift = np.mod(reco.phi - truth.phi + np.pi, 2 * np.pi) - np.pi
    assert_spread(shift, 0.5, mean=0.0)
    np.testing.assert_array_equal(reco.pt, truth.pt)


def test_eta_smearing_is_optional_and_keeps_pt() -> None:
    truth = flat(np.full(100_000, 40.0), eta=np.full(100_000, 0.7))
    reco = smear_objects(truth, [SmearingStep("eta", ConstantResolution(0.02))], 8, "photons")
    assert_spread(reco.eta - 0.7, 0.02, mean=0.0)
    np.testing.assert_array_equal(reco.pt, truth.pt)
    untouched = smear_objects(truth, [SmearingStep("pt", ConstantResolution(0.02))], 8, "photons")
    np.testing.assert_array_equal(untouched.eta, truth.eta)


def test_a_far_gaussian_tail_gives_pt_zero_never_negative() -> None:
    truth = flat(np.full(10_000, 30.0))
    reco = smear_objects(truth, [SmearingStep("pt", ConstantResolution(1.5))], 1, "jets")
    assert reco.pt.min() == 0.0 and np.mean(reco.pt == 0.0) > 0.2


def collection(n_events: int, seed: int) -> tuple[ak.Array, np.ndarray]:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(6, n_events)
    total = counts.sum()
    jets = ak.zip(
        {
            "pt": np.sort(rng.exponential(40, total) + 20)[::-1].copy(),
            "eta": rng.uniform(-2.5, 2.5, total),
            "phi": rng.uniform(-np.pi, np.pi, total),
            "mass": rng.uniform(0, 10, total),
            "flavour": rng.choice([0, 4, 5], total),
            "id": np.arange(total),
        },
        with_name="Momentum4D",
    )
    jets = ak.unflatten(jets, counts)
    jets = jets[ak.argsort(jets.pt, axis=1, ascending=False)]
    return jets, np.arange(n_events, dtype=np.int64) + 10_000


def test_collections_are_resorted_by_pt_and_other_fields_follow_their_objects() -> None:
    jets, numbers = collection(500, 1)
    steps = [
        SmearingStep("pt", ConstantResolution(0.3)),
        SmearingStep("phi", ConstantResolution(0.1)),
    ]
    reco = smear_collection(jets, numbers, steps, 4, "jets")
    pt = reco.pt
    assert ak.all(pt[:, :-1] >= pt[:, 1:])
    assert ak.any(ak.argsort(reco.id, axis=1) != ak.local_index(reco.id))  # the order did change
    assert ak.all(ak.sort(reco.id, axis=1) == ak.sort(jets.id, axis=1))
    # each object keeps its flavour and gets exactly the response drawn for its original slot
    by_id = ak.flatten(reco)[np.argsort(ak.to_numpy(ak.flatten(reco.id)))]
    truth = ak.flatten(jets)[np.argsort(ak.to_numpy(ak.flatten(jets.id)))]
    assert ak.all(by_id.flavour == truth.flavour)
    np.testing.assert_allclose(
        ak.to_numpy(by_id.mass / truth.mass), ak.to_numpy(by_id.pt / truth.pt)
    )
    assert reco.type.content.content.parameters["__record__"] == "Momentum4D"


def test_same_seed_same_smearing_whatever_the_chunking() -> None:
    jets, numbers = collection(300, 2)
    steps = [
        model_from_document(
            {
                "variable": "pt",
                "model": "response",
                "response_edges": [0.5, 0.9, 1.0, 1.1, 1.5],
                "counts": [1, 4, 4, 1],
            }
        ),
        SmearingStep("eta", ConstantResolution(0.01)),
    ]
    whole = smear_collection(jets, numbers, steps, 9, "jets")
    for size in (1, 7):
        pieces = [
            smear_collection(jets[i : i + size], numbers[i : i + size], steps, 9, "jets")
            for i in range(0, len(jets), size)
        ]
        assert ak.to_list(ak.concatenate(pieces)) == ak.to_list(whole)
    other = smear_collection(jets, numbers, steps, 10, "jets")
    assert ak.to_list(other) != ak.to_list(whole)


def test_met_components_with_a_sum_pt_resolution() -> None:
    n = 100_000
    pt, phi = np.full(n, 50.0), np.full(n, 3.0)
    sum_pt = np.repeat([100.0, 900.0], n // 2)
    model = CalorimeterResolution(stochastic=0.5, noise=8.0, argument="sum_pt")
    new_pt, new_phi = smear_met(
        pt, phi, np.arange(n), [SmearingStep("components", model)], 1, "met", sum_pt
    )
    dx = new_pt * np.cos(new_phi) - pt * np.cos(phi)
    dy = new_pt * np.sin(new_phi) - pt * np.sin(phi)
    for value in (100.0, 900.0):
        here = sum_pt == value
        sigma = np.hypot(0.5 * np.sqrt(value), 8.0)  # a√ΣpT ⊕ c
        assert_spread(dx[here], sigma, mean=0.0)
        assert_spread(dy[here], sigma, mean=0.0)
    assert abs(np.corrcoef(dx, dy)[0, 1]) < 0.02
    assert new_phi.max() <= np.pi and new_phi.min() > -np.pi


def test_met_magnitude_and_direction() -> None:
    n = 100_000
    pt, phi = np.full(n, 200.0), np.full(n, -3.1)
    steps = [
        SmearingStep("pt", ConstantResolution(0.1)),
        SmearingStep("phi", ConstantResolution(0.2)),
    ]
    new_pt, new_phi = smear_met(pt, phi, np.arange(n), steps, 4, "met")
    assert_spread(new_pt / pt, 0.1)
    assert_spread(np.mod(new_phi - phi + np.pi, 2 * np.pi) - np.pi, 0.2, mean=0.0)
    assert new_phi.max() <= np.pi and new_phi.min() > -np.pi


@pytest.mark.parametrize(
    ("step", "field", "message"),
    [
        (
            {"model": "binned", "pt_edges": [10, 50, 40], "sigma": [0.1, 0.1]},
            "pt_edges",
            "increase",
        ),
        ({"model": "binned", "pt_edges": [10, 50], "sigma": [0.1, 0.2]}, "sigma", "shape"),
        (
            {"model": "binned", "pt_edges": [10, 50], "abs_eta_edges": [-1, 2], "sigma": [[0.1]]},
            "abs_eta_edges",
            "≥ 0",
        ),
        ({"model": "constant", "sigma": -0.1}, "sigma", "≥ 0"),
        ({"model": "calorimeter", "stochastic": 0.5, "noise": -1}, "noise", "≥ 0"),
        ({"model": "response", "response_edges": [0, 1, 2], "counts": [0, 0]}, "counts", "empty"),
        ({"model": "response", "response_edges": [0, 1, 2], "counts": [1, -1]}, "counts", "≥ 0"),
        ({"model": "gauss", "sigma": 0.1}, "model", "unknown smearing model 'gauss'"),
        (
            {"model": "response", "variable": "eta", "response_edges": [0, 1], "counts": [1]},
            "variable",
            "pt only",
        ),
    ],
)
def test_inconsistent_models_are_refused_naming_the_field(
    step: dict, field: str, message: str
) -> None:
    with pytest.raises(SmearingDefinitionError, match=message) as caught:
        model_from_document({"variable": "pt", **step})
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("step", "met", "field"),
    [
        ({"variable": "mass", "model": "constant", "sigma": 0.1}, False, "variable"),
        ({"variable": "components", "model": "constant", "sigma": 0.1}, False, "variable"),
        ({"variable": "pt", "model": "calorimeter", "argument": "sum_pt", "noise": 1}, False,
         "argument"),
        ({"variable": "pt", "model": "calorimeter", "argument": "energy", "noise": 1}, True,
         "argument"),
        ({"variable": "components", "model": "binned", "pt_edges": [0, 1], "sigma": [1]}, True,
         "model"),
        ({"variable": "pt", "model": "binned", "pt_edges": [0, 1], "abs_eta_edges": [0, 1],
          "sigma": [[1]]}, True, "abs_eta_edges"),
    ],
)  # fmt: skip
def test_steps_that_do_not_fit_objects_or_met(step: dict, met: bool, field: str) -> None:
    with pytest.raises(SmearingDefinitionError) as caught:
        model_from_document(step, met=met)
    assert caught.value.field == field
