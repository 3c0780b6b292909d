"""The reference experiment's parameterised network (reference_experiment.network): torch needed."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from recast.errors import UsageError
from reference_experiment import network


def test_auc_counts_pairs_and_ties() -> None:
    assert network.auc([1.0, 2.0], [0.0, 0.5]) == 1.0
    assert network.auc([0.0], [1.0]) == 0.0
    assert network.auc([0.5], [0.5]) == 0.5
    # signal 0.6 beats 1 of 3 background rows (weights 1, 1, 2) and ties none: 1/4
    assert network.auc([0.6], [0.5, 0.7, 0.8], [1.0, 1.0, 2.0]) == pytest.approx(0.25)
    # against a brute-force count on random scores
    rng = np.random.default_rng(3)
    s, b = rng.integers(0, 5, 40).astype(float), rng.integers(0, 5, 30).astype(float)
    pairs = (s[:, None] > b[None, :]) + 0.5 * (s[:, None] == b[None, :])
    assert network.auc(s, b) == pytest.approx(pairs.mean())


def test_auc_needs_both_classes() -> None:
    with pytest.raises(UsageError, match="signal and background"):
        network.auc([], [1.0])


def test_class_weights_balance_the_classes() -> None:
    labels = np.array([0, 0, 0, 1, 2, 2])
    weights = network.class_weights(labels, np.array([1.0, 2.0, 3.0, 1.0, 1.0, 1.0]))
    totals = [weights[labels == c].sum() for c in range(3)]
    assert totals == pytest.approx([2.0, 2.0, 2.0])
    assert weights[:3] == pytest.approx(np.array([1.0, 2.0, 3.0]) / 3.0)
    with pytest.raises(UsageError, match="no positive weight"):
        network.class_weights(np.array([0, 1]), np.array([0.0, 1.0]))


def test_parameters_are_set_and_drawn_from_the_points() -> None:
    x = np.zeros((5, network.N_INPUTS))
    y = network.set_parameters(x, [1.0, 2100.0, 800.0])
    assert y[:, 84:].tolist() == [[1.0, 2100.0, 800.0]] * 5
    assert not x.any()  # a copy
    points = [(1.0, 1800.0, 1.0), (0.0, 2400.0, 1200.0)]
    drawn = network.draw_parameters(1000, points, seed=1)
    assert {tuple(row) for row in drawn} == set(points)
    assert np.array_equal(drawn, network.draw_parameters(1000, points, seed=1))
    with pytest.raises(UsageError, match=r"shape \(n, 87\)"):
        network.set_parameters(np.zeros((2, 5)), [1.0, 2.0, 3.0])
    with pytest.raises(UsageError, match="non-empty list"):
        network.draw_parameters(3, [], seed=1)


def test_standardisation_leaves_constant_columns_alone() -> None:
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    mean, std = network.standardisation(x)
    assert mean.tolist() == [2.0, 5.0]
    assert std.tolist() == [1.0, 1.0]


def _toy(n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 3, n)
    x = rng.normal(size=(n, network.N_INPUTS))
    x[:, 0] += 2.0 * labels  # separable along one input
    return x, labels


def test_training_is_seeded_and_learns_a_separable_toy() -> None:
    x, labels = _toy()
    settings = network.TrainingSettings(epochs=5, batch_size=64, hidden=16, seed=3)
    weights = network.class_weights(labels, np.ones(len(x)))
    first = network.train(x, labels, weights, settings)
    second = network.train(x, labels, weights, settings)
    p1, p2 = network.predict(first, x), network.predict(second, x)
    assert np.array_equal(p1, p2)
    assert p1.sum(axis=1) == pytest.approx(np.ones(len(x)), abs=1e-5)
    assert network.auc(p1[labels == 2, 2], p1[labels == 0, 2]) > 0.9
    other = network.train(x, labels, weights, network.TrainingSettings(epochs=5, seed=4))
    assert not np.array_equal(network.predict(other, x), p1)


def test_training_refuses_mismatched_rows() -> None:
    x, labels = _toy(10)
    with pytest.raises(UsageError, match="10 input rows, 9 labels"):
        network.train(x, labels[:9], np.ones(10))
    with pytest.raises(UsageError, match="no training rows"):
        network.train(x[:0], labels[:0], np.ones(0))
