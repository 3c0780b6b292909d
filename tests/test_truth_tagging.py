"""Truth tagging against brute-force enumeration, and against sampled tagging."""

from __future__ import annotations

import itertools

import awkward as ak
import numpy as np
import pytest

from recast.detector.random import uniforms
from recast.detector.truth_tagging import (
    probability_at_least,
    probability_exactly,
    tag_count_distribution,
)


def brute_force(efficiencies: list[float], n: int) -> tuple[float, float]:
    """(P(exactly n), P(≥ n)) by summing over all 2^jets tag configurations."""
    exactly = at_least = 0.0
    for tags in itertools.product((0, 1), repeat=len(efficiencies)):
        p = 1.0
        for tagged, e in zip(tags, efficiencies, strict=True):
            p *= e if tagged else 1.0 - e
        exactly += p if sum(tags) == n else 0.0
        at_least += p if sum(tags) >= n else 0.0
    return exactly, at_least


@pytest.fixture(scope="module")
def jets() -> ak.Array:
    rng = np.random.default_rng(7)
    counts = np.array([0, 1, 2, 3, 5, 8, 8, 8, 4, 6])
    values = rng.uniform(0.0, 1.0, counts.sum())
    values[:3] = [0.0, 1.0, 0.999999]  # edges
    return ak.unflatten(values, counts)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 8, 9])
def test_against_brute_force_up_to_8_jets(jets: ak.Array, n: int) -> None:
    at_least = probability_at_least(jets, n)
    exactly = probability_exactly(jets, n)
    for i, event in enumerate(ak.to_list(jets)):
        expected_exactly, expected_at_least = brute_force(event, n)
        assert abs(exactly[i] - expected_exactly) < 1e-12
        assert abs(at_least[i] - expected_at_least) < 1e-12


def test_the_distribution_sums_to_one_and_the_tail_stays_exact_for_many_jets() -> None:
    efficiencies = ak.Array([[0.01] * 14, [0.77] * 12])
    distribution = tag_count_distribution(efficiencies, 6)
    np.testing.assert_allclose(distribution.sum(axis=1), 1.0, rtol=1e-14)
    # P(≥ 6 of 14 at 1%) is tiny: 1 - P(< 6) would lose it to cancellation
    from math import comb

    tail = sum(comb(14, k) * 0.01**k * 0.99 ** (14 - k) for k in range(6, 15))
    assert distribution[0, 6] == pytest.approx(tail, rel=1e-12)
    assert tail < 1e-8


def test_the_mean_of_sampled_tagging_agrees_within_3_sigma(jets: ak.Array) -> None:
    """Sample tags many times with counter-based randomness; compare with truth tagging."""
    n_trials = 4000
    counts = np.asarray(ak.num(jets))
    flat = ak.to_numpy(ak.flatten(jets))
    event_of_jet = np.repeat(np.arange(len(counts)), counts)
    jet_index = np.arange(len(flat))
    passed = np.zeros(len(counts))
    for trial in range(n_trials):
        tagged = uniforms(11, "btag", event_of_jet + 1000 * trial, jet_index) < flat
        passed += np.bincount(event_of_jet, weights=tagged, minlength=len(counts)) >= 2
    expected = probability_at_least(jets, 2)
    sigma = np.sqrt(np.maximum(expected * (1 - expected), 1e-12) / n_trials)
    pulls = (passed / n_trials - expected) / sigma
    assert np.all(np.abs(pulls[expected > 0]) < 3.0), pulls


def test_efficiencies_outside_the_unit_interval_are_refused() -> None:
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        probability_at_least(ak.Array([[0.5, 1.2]]), 1)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        probability_at_least(ak.Array([[float("nan")]]), 1)
