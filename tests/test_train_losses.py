"""Losses of recast.train: negative weights (complementary labels), dCorr, gradient reversal."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from recast.errors import UsageError  # noqa: E402
from recast.train.core._torch import seeded  # noqa: E402
from recast.train.core.losses import (  # noqa: E402
    GradientReversal,
    complementary_labels,
    distance_correlation,
    partial_label_cross_entropy,
    reverse_gradient,
    weighted_binary_cross_entropy,
    weighted_cross_entropy,
)


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # small networks: more threads only contend
    yield
    torch.set_num_threads(before)


# -- the building blocks, element by element ----------------------------------------------------
def test_complementary_labels_rewrite_negative_examples_as_every_other_class() -> None:
    labels = torch.tensor([0, 2, 1])
    weights = torch.tensor([1.5, -2.0, 0.0])
    candidates, positive = complementary_labels(labels, weights, 3)
    assert candidates.tolist() == [[True, False, False], [True, True, False], [False, True, False]]
    assert positive.tolist() == [1.5, 2.0, 0.0]


def test_partial_label_loss_is_cross_entropy_on_one_class_and_minus_log_of_the_rest() -> None:
    logits = torch.tensor([[2.0, -1.0, 0.5], [0.3, 0.1, -2.0]])
    p = torch.softmax(logits, dim=-1)
    one = torch.tensor([[True, False, False], [False, True, False]])
    got = partial_label_cross_entropy(logits, one, reduction="none")
    torch.testing.assert_close(got, -torch.log(torch.stack([p[0, 0], p[1, 1]])))
    rest = ~one
    got = partial_label_cross_entropy(logits, rest, reduction="none")
    torch.testing.assert_close(got, -torch.log(1 - torch.stack([p[0, 0], p[1, 1]])))
    assert (got >= 0).all()  # bounded below, whatever the logits: no divergence possible
    with pytest.raises(UsageError, match="empty candidate set"):
        partial_label_cross_entropy(logits, torch.zeros_like(one))


def test_weighted_cross_entropy_normalises_by_the_sum_of_absolute_weights() -> None:
    logits = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    labels = torch.tensor([0, 0, 1])
    weights = torch.tensor([2.0, -1.0, 1.0])
    p = torch.softmax(logits, dim=-1)
    ce = -torch.log(p[torch.arange(3), labels])
    naive = weighted_cross_entropy(logits, labels, weights, negative="naive")
    torch.testing.assert_close(naive, (weights * ce).sum() / 4.0)
    complementary = weighted_cross_entropy(logits, labels, weights)
    expected = (2.0 * ce[0] + 1.0 * -torch.log(p[1, 1]) + 1.0 * ce[2]) / 4.0
    torch.testing.assert_close(complementary, expected)


def test_binary_complementary_label_flips_the_target_of_negative_weights() -> None:
    logits = torch.tensor([0.3, -1.2, 2.0])
    targets = torch.tensor([1.0, 0.0, 1.0])
    weights = torch.tensor([1.0, -0.5, -2.0])
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    got = weighted_binary_cross_entropy(
        logits, targets, weights, negative="complementary", reduction="none"
    )
    torch.testing.assert_close(
        got, weights.abs() * bce(logits, torch.tensor([1.0, 1.0, 0.0]), reduction="none")
    )
    signed = weighted_binary_cross_entropy(logits, targets, weights, reduction="sum")
    torch.testing.assert_close(signed, (weights * bce(logits, targets, reduction="none")).sum())


# -- negative weights in an MNIST-like multi-class problem ---------------------------------------
N_CLASSES, DIMENSIONS, NEGATIVE = 10, 16, 9


def minibatches(n: int, size: int, epochs: int = 10, seed: int = 2) -> Iterator[Any]:
    """The row indices of each minibatch, epoch after epoch, shuffled anew each epoch."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(n))
        for start in range(0, n, size):
            yield order[start : start + size]


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Ten Gaussian blobs in 16 dimensions (unit width, centres ~N(0, 1.2²) apart)."""
    centres = np.random.default_rng(0).normal(0.0, 1.2, (N_CLASSES, DIMENSIONS))
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, n)
    x = centres[labels] + rng.normal(0.0, 1.0, (n, DIMENSIONS))
    return x.astype(np.float32), labels


def train_classifier(x: np.ndarray, labels: np.ndarray, weights: np.ndarray, negative: str):
    x_t, y_t, w_t = torch.from_numpy(x), torch.from_numpy(labels), torch.from_numpy(weights)
    with seeded(0):
        net = torch.nn.Sequential(
            torch.nn.Linear(DIMENSIONS, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, 64),
            torch.nn.ReLU(),
            torch.nn.Linear(64, N_CLASSES),
        )
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    for rows in minibatches(len(x), 256):
        optimiser.zero_grad()
        loss = weighted_cross_entropy(net(x_t[rows]), y_t[rows], w_t[rows], negative=negative)
        loss.backward()
        optimiser.step()
    return net, loss.item()


def test_a_class_weighted_minus_one_breaks_the_naive_loss_and_complementary_labels_recover() -> (
    None
):
    """Class 9 of ten is an interference-like sample, every example weighted −1. Accuracy on
    held-out examples of the nine positively weighted classes (the classes a classifier can
    claim): reference (all weights +1) 0.980; naive weighted CE 0.545, its loss running away
    (−1.6·10⁴ after ten epochs); complementary labels 0.980, and class 9 is never claimed.

    Measured over the networks' initial seeds 0-7 (1 thread, this machine's AVX512 kernels) and
    seeds 0-2 with ATEN_CPU_CAPABILITY=default and 2 threads: reference 0.9790-0.9805; naive
    0.50-0.64 (so 0.6 was no margin), its loss −1.72·10⁴ to −1.57·10⁴; complementary − reference
    −0.0009 to +0.0003; class 9 claimed by the complementary network: never."""
    x, labels = blobs(20000, seed=0)
    x_test, labels_test = blobs(20000, seed=1)
    positive = labels_test != NEGATIVE
    weights = np.where(labels == NEGATIVE, -1.0, 1.0).astype(np.float32)
    accuracy, losses, claims_negative = {}, {}, {}
    for name, w, negative in (
        ("reference", np.ones_like(weights), "naive"),
        ("naive", weights, "naive"),
        ("complementary", weights, "complementary"),
    ):
        net, losses[name] = train_classifier(x, labels, w, negative)
        with torch.no_grad():
            predicted = net(torch.from_numpy(x_test)).argmax(dim=1).numpy()
        accuracy[name] = float((predicted[positive] == labels_test[positive]).mean())
        claims_negative[name] = float((predicted == NEGATIVE).mean())
    assert accuracy["reference"] == pytest.approx(0.980, abs=0.01)
    assert accuracy["naive"] < 0.8, accuracy  # fails markedly: 0.18 below the reference
    assert losses["naive"] < -1000.0  # the loss runs away to -inf
    assert accuracy["complementary"] > accuracy["reference"] - 0.005, accuracy
    assert losses["complementary"] >= 0.0
    assert claims_negative["complementary"] == 0.0  # a negative-weight class is never claimed


# -- distance correlation -----------------------------------------------------------------------
def dcorr_by_hand(x: np.ndarray, y: np.ndarray) -> float:
    """Székely's V-statistic, written independently of recast.train.core.losses."""
    n = len(x)
    a = np.array([[abs(x[i] - x[j]) for j in range(n)] for i in range(n)])
    b = np.array([[abs(y[i] - y[j]) for j in range(n)] for i in range(n)])
    big_a = a - a.mean(axis=0)[None, :] - a.mean(axis=1)[:, None] + a.mean()
    big_b = b - b.mean(axis=0)[None, :] - b.mean(axis=1)[:, None] + b.mean()
    v_xy, v_xx, v_yy = (big_a * big_b).mean(), (big_a**2).mean(), (big_b**2).mean()
    return float(np.sqrt(v_xy / np.sqrt(v_xx * v_yy)))


def test_distance_correlation_against_the_definition() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=60)
    y = x**2 + 0.3 * rng.normal(size=60)  # dependent but uncorrelated (Pearson ~ 0)
    got = distance_correlation(torch.from_numpy(x), torch.from_numpy(y))
    assert float(got) == pytest.approx(dcorr_by_hand(x, y), rel=1e-10)
    assert float(distance_correlation(torch.from_numpy(x), torch.from_numpy(3 * x - 1))) == (
        pytest.approx(1.0, rel=1e-10)
    )
    squared = distance_correlation(torch.from_numpy(x), torch.from_numpy(y), squared=True)
    assert float(squared) == pytest.approx(dcorr_by_hand(x, y) ** 2, rel=1e-10)


def test_weighted_distance_correlation_equals_repeating_examples() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=30), rng.normal(size=30)
    counts = rng.integers(1, 4, 30)
    weighted = distance_correlation(
        torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(counts.astype(np.float64))
    )
    repeated = dcorr_by_hand(np.repeat(x, counts), np.repeat(y, counts))
    assert float(weighted) == pytest.approx(repeated, rel=1e-10)
    with pytest.raises(UsageError, match="weights must be ≥ 0"):
        distance_correlation(torch.from_numpy(x), torch.from_numpy(y), -torch.ones(30))


def test_distance_correlation_has_finite_gradients() -> None:
    x = torch.tensor([0.1, 0.1, 0.5, 0.9], requires_grad=True)  # a tie: |x_i - x_j| = 0
    distance_correlation(x, torch.tensor([1.0, 2.0, 0.0, 3.0]), squared=True).backward()
    assert torch.isfinite(x.grad).all()
    two_d = torch.randn(8, 2, requires_grad=True)
    distance_correlation(two_d, torch.randn(8), squared=True).backward()
    assert torch.isfinite(two_d.grad).all()


# -- decorrelating a classifier from a mass ------------------------------------------------------
def mass_sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signal peaked at m = 0.7, background flat in m; feature 0 is m smeared, features 1 and 2
    separate signal without knowing m."""
    rng = np.random.default_rng(seed)
    signal = rng.random(n) < 0.5
    mass = np.where(signal, rng.normal(0.7, 0.05, n), rng.random(n))
    x = np.stack(
        [
            mass + 0.05 * rng.normal(size=n),
            rng.normal(np.where(signal, 1.0, 0.0), 1.0),
            rng.normal(np.where(signal, 0.8, 0.0), 1.0),
        ],
        axis=1,
    )
    return x.astype(np.float32), signal.astype(np.float32), mass.astype(np.float32)


def train_decorrelated(penalty: str, strength: float) -> np.ndarray:
    """Train on 20 000 events (10 epochs); the scores of 40 000 held-out ones."""
    x, y, mass = (torch.from_numpy(a) for a in mass_sample(20000, seed=0))
    with seeded(0):
        net = torch.nn.Sequential(
            torch.nn.Linear(3, 32),
            torch.nn.SiLU(),
            torch.nn.Linear(32, 32),
            torch.nn.SiLU(),
            torch.nn.Linear(32, 1),
        )
        adversary = torch.nn.Sequential(
            GradientReversal(strength),
            torch.nn.Linear(1, 32),
            torch.nn.SiLU(),
            torch.nn.Linear(32, 32),
            torch.nn.SiLU(),
            torch.nn.Linear(32, 1),
        )
    parameters = list(net.parameters()) + list(adversary.parameters())
    optimiser = torch.optim.Adam(parameters, lr=3e-3)
    for rows in minibatches(len(x), 1024):
        optimiser.zero_grad()
        logits = net(x[rows])[:, 0]
        loss = weighted_binary_cross_entropy(logits, y[rows], torch.ones(len(rows)))
        background = y[rows] == 0
        score = torch.sigmoid(logits[background])
        if penalty == "dcorr":
            loss = loss + strength * distance_correlation(
                score, mass[rows][background], squared=True
            )
        elif penalty == "adversary":  # the adversary regresses m from the score
            guess = adversary(score[:, None])[:, 0]
            loss = loss + ((guess - mass[rows][background]) ** 2).mean()
        loss.backward()
        optimiser.step()
    x_test, _, _ = mass_sample(40000, seed=1)
    with torch.no_grad():
        return torch.sigmoid(net(torch.from_numpy(x_test))[:, 0]).numpy()


def test_decorrelation_at_fixed_signal_efficiency() -> None:
    """At 50% signal efficiency, on 40 000 held-out events: without a penalty dCorr(score, m)
    on background is 0.73 and the background that passes has <m> = 0.84 (sculpted towards the
    signal at 0.7), background efficiency 8.0%. With λ·dCorr² (λ = 5): dCorr 0.04, <m> = 0.51,
    background efficiency 9.3%. With a gradient-reversed adversary regressing m (λ = 50):
    dCorr 0.10, <m> = 0.47, 10.4%.

    Measured over the networks' initial seeds 0-7 (1 thread, AVX512 kernels) and seeds 0-3
    with ATEN_CPU_CAPABILITY=default and 2 threads: none: dCorr 0.725-0.750, <m>
    0.826-0.843, efficiency 0.067-0.080; dCorr: dCorr 0.037-0.050, <m> 0.505-0.522,
    efficiency 0.092-0.110; adversary: dCorr 0.027-0.114, <m> 0.473-0.549. λ = 20 (before
    issue 14) collapsed the network in 4 of 8 seeds (background efficiency 0.22 to 0.72)."""
    _, signal, mass = mass_sample(40000, seed=1)
    background = signal == 0
    sub = np.flatnonzero(background)[:1500]  # dCorr by hand is O(n²)
    results = {}
    for penalty, strength in (("none", 0.0), ("dcorr", 5.0), ("adversary", 50.0)):
        score = train_decorrelated(penalty, strength)
        cut = np.quantile(score[signal == 1], 0.5)
        passed = score[background] > cut
        results[penalty] = {
            "dcorr": dcorr_by_hand(score[sub].astype(np.float64), mass[sub].astype(np.float64)),
            "background_efficiency": float(passed.mean()),
            "mean_mass": float(mass[background][passed].mean()),
        }
    none, dcorr, adversary = results["none"], results["dcorr"], results["adversary"]
    assert none["dcorr"] > 0.6 and none["mean_mass"] > 0.75, results
    assert dcorr["dcorr"] < none["dcorr"] / 5, results
    assert abs(dcorr["mean_mass"] - 0.5) < 0.04, results  # flat background stays flat
    assert dcorr["background_efficiency"] < 2 * none["background_efficiency"], results
    assert adversary["dcorr"] < none["dcorr"] / 3, results
    assert abs(adversary["mean_mass"] - 0.5) < 0.08, results


def test_gradient_reversal() -> None:
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    (3.0 * reverse_gradient(x, 0.5)).sum().backward()
    assert x.grad.tolist() == [-1.5, -1.5]
    layer = GradientReversal(2.0)
    assert repr(layer) == "GradientReversal(scale=2.0)"
    y = torch.tensor([0.5], requires_grad=True)
    out = layer(y)
    assert out.tolist() == [0.5]
    out.sum().backward()
    assert y.grad.tolist() == [-2.0]


# -- the optional dependency -------------------------------------------------------------------
def test_without_torch_the_error_names_the_extra() -> None:
    probe = (
        "import sys; sys.modules['torch'] = None\n"
        "import recast.train\n"
        "from recast.train import binned_map_document, closure_report  # numpy only\n"
        "try:\n"
        "    from recast.train import EfficiencyMapTrainer\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("MissingDependencyError")
    assert "pip install 'recast-nn[train]'" in result.stdout
