"""Importance sampling with the filter's pass probability, and the speed-up / ESS / bias report
(numpy only: none of this needs torch)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from recast.errors import UsageError
from recast.events.importance import (
    effective_sample_size,
    importance_sample,
    keep_probability,
    uniforms,
)
from recast.train.filter.merit import (
    Timing,
    bias_report,
    bias_table,
    figure_of_merit,
    quantile_edges,
    speed_up,
)


def test_keep_probability_is_p_floored_at_p_min() -> None:
    q = keep_probability(np.array([0.0, 0.01, 0.3, 1.0]), 0.05)
    assert q.tolist() == [0.05, 0.05, 0.3, 1.0]


@pytest.mark.parametrize("p_min", [0.0, -0.1, 1.5, float("nan")])
def test_bad_p_min_is_refused(p_min: float) -> None:
    with pytest.raises(UsageError, match="p_min"):
        keep_probability(np.array([0.5]), p_min)


@pytest.mark.parametrize("bad", [-0.1, 1.2, float("nan"), float("inf")])
def test_probabilities_outside_0_1_are_refused_naming_the_event(bad: float) -> None:
    with pytest.raises(UsageError, match=r"event 2"):
        keep_probability(np.array([0.2, 0.3, bad]), 0.05)


def test_weights_are_one_over_q_for_kept_events_and_zero_otherwise() -> None:
    p = np.linspace(0, 1, 1001)
    sample = importance_sample(p, 0.1, seed=3)
    assert np.all(sample.weight[~sample.keep] == 0)
    assert np.allclose(sample.weight[sample.keep], 1 / np.maximum(p, 0.1)[sample.keep])
    assert sample.keep[p == 1.0].all()  # q = 1 is always kept


def test_same_seed_same_decisions_bit_for_bit_and_independent_of_chunking() -> None:
    rng = np.random.default_rng(0)
    p = rng.random(5000)
    numbers = np.arange(1000, 6000)
    whole = importance_sample(p, 0.05, seed=11, event_number=numbers)
    again = importance_sample(p, 0.05, seed=11, event_number=numbers)
    assert np.array_equal(whole.keep, again.keep)
    assert np.array_equal(whole.weight, again.weight)
    # in chunks, and shuffled: the decision follows the event, not its position
    order = rng.permutation(5000)
    shuffled = importance_sample(p[order], 0.05, seed=11, event_number=numbers[order])
    assert np.array_equal(shuffled.keep, whole.keep[order])
    chunks = [
        importance_sample(p[s : s + 700], 0.05, 11, numbers[s : s + 700])
        for s in range(0, 5000, 700)
    ]
    assert np.array_equal(np.concatenate([c.keep for c in chunks]), whole.keep)
    other = importance_sample(p, 0.05, seed=12, event_number=numbers)
    assert not np.array_equal(other.keep, whole.keep)


def test_uniforms_are_uniform_and_pinned() -> None:
    u = uniforms(7, np.arange(200_000))
    assert u.min() >= 0.0 and u.max() < 1.0
    counts, _ = np.histogram(u, 20, (0, 1))
    expected = len(u) / 20
    assert ((counts - expected) ** 2 / expected).sum() < 45  # χ² with 19 dof, p ≈ 1e-3
    # the hash is part of the contract: the same (seed, event) keeps the same events anywhere
    assert uniforms(7, np.array([0, 1, 123456789])).tolist() == PINNED


#: splitmix64 of (seed 7, events 0, 1, 123456789), top 53 bits / 2^53
PINNED = [0.4558970808054451, 0.7215081806049702, 0.15700411482434873]


def test_uniforms_pinned_values_do_not_depend_on_the_process() -> None:
    code = (
        "from recast.events.importance import uniforms; import numpy as np;"
        "print(repr(uniforms(7, np.array([0, 1, 123456789])).tolist()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == PINNED


@pytest.mark.parametrize(("seed", "numbers"), [(-1, [1]), (1.5, [1]), (1, [0.5])])
def test_bad_seed_or_event_numbers_are_refused(seed: object, numbers: list) -> None:
    with pytest.raises(UsageError):
        uniforms(seed, np.array(numbers))  # type: ignore[arg-type]


def test_event_numbers_must_match_the_probabilities() -> None:
    with pytest.raises(UsageError, match="3 event numbers for 2"):
        importance_sample(np.array([0.1, 0.2]), 0.1, 1, np.arange(3))


def test_weighted_sum_is_unbiased_over_many_seeds() -> None:
    rng = np.random.default_rng(1)
    p = rng.beta(0.3, 2.0, 2000)
    totals = [importance_sample(p, 0.02, seed=s).weight.sum() for s in range(400)]
    mean, error = np.mean(totals), np.std(totals) / np.sqrt(len(totals))
    assert abs(mean - 2000) < 4 * error


def test_effective_sample_size() -> None:
    assert effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)
    assert effective_sample_size(np.array([2.0, 1.0])) == pytest.approx(9 / 5)
    assert effective_sample_size(np.zeros(3)) == 0.0


# -- the report -------------------------------------------------------------------------------
def test_speed_up_and_figure_of_merit_by_hand() -> None:
    timing = Timing(generation=1.0, filter=0.5, downstream=100.0, downstream_source="assumed")
    assert speed_up(timing, 0.1) == pytest.approx(101 / (1 + 0.5 + 10))
    passed = np.array([True, True, False, False])
    p = np.array([1.0, 0.5, 0.0, 0.0])
    sample = importance_sample(p, 0.5, seed=0)
    figures = figure_of_merit(passed, sample, timing)
    kept = int(sample.keep.sum())
    assert figures["cpu_seconds_without"] == pytest.approx(4 * 101)
    assert figures["cpu_seconds_with"] == pytest.approx(4 * 1.5 + kept * 100)
    assert figures["ess_without"] == 2
    w = sample.weight[passed & sample.keep]
    assert figures["ess_with"] == pytest.approx(w.sum() ** 2 / (w**2).sum())
    ratio = (figures["ess_with"] / figures["cpu_seconds_with"]) / (2 / (4 * 101))
    assert figures["effective_speed_up"] == pytest.approx(ratio)


@pytest.mark.parametrize("name", ["generation", "filter", "downstream"])
def test_negative_or_nan_timing_is_refused(name: str) -> None:
    values = {"generation": 1.0, "filter": 1.0, "downstream": 1.0, name: -1.0}
    with pytest.raises(UsageError, match=f"timing.{name}"):
        Timing(**values)


def _sculpting_sample(n: int = 40_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x exponential; events pass at a flat 20%; the filter's p rises steeply with x."""
    rng = np.random.default_rng(5)
    x = rng.exponential(50.0, n)
    passed = rng.random(n) < 0.2
    p = np.clip(x / 150.0, 0.0, 1.0)
    return x, passed, p


def test_weighted_filtered_sample_is_unbiased_within_errors() -> None:
    x, passed, p = _sculpting_sample()
    sample = importance_sample(p, 0.05, seed=9)
    table = bias_table(x, passed, sample, quantile_edges(x[passed], 10))
    assert table["weighted_vs_truth"]["ndf"] == 10
    assert table["weighted_vs_truth"]["p_value"] > 0.01
    assert np.sum(table["truth"]) == passed.sum()


def test_filter_without_the_weights_is_biased() -> None:
    """The same sample, ignoring 1/q: the test that the weighted sample passes must fail."""
    x, passed, p = _sculpting_sample()
    sample = importance_sample(p, 0.05, seed=9)
    table = bias_table(x, passed, sample, quantile_edges(x[passed], 10))
    assert table["unweighted_vs_truth"]["p_value"] < 1e-6
    assert table["max_relative_deviation_unweighted"] > 0.5


def test_a_filter_unrelated_to_x_does_not_sculpt_it() -> None:
    x, passed, _ = _sculpting_sample()
    flat = np.full(len(x), 0.3)
    table = bias_table(x, passed, importance_sample(flat, 0.05, seed=9), quantile_edges(x, 8))
    assert table["unweighted_vs_truth"]["p_value"] > 0.01


def test_bias_table_refuses_bad_edges_and_lengths() -> None:
    x, passed, p = _sculpting_sample(100)
    sample = importance_sample(p, 0.05, seed=1)
    with pytest.raises(UsageError, match="increasing"):
        bias_table(x, passed, sample, np.array([1.0, 1.0]))
    with pytest.raises(UsageError, match="disagree"):
        bias_table(x[:50], passed, sample, np.array([0.0, 1.0]))


def test_bias_report_uses_quantile_bins_of_the_passing_events() -> None:
    x, passed, p = _sculpting_sample(5000)
    report = bias_report({"x": x}, passed, importance_sample(p, 0.1, seed=2), n_bins=5)
    truth = np.asarray(report["x"]["truth"])
    assert len(truth) == 5 and truth.sum() == passed.sum()
    assert truth.max() - truth.min() <= 2


def test_the_runtime_side_of_the_filter_imports_no_torch() -> None:
    """Importance sampling, the report, the graphs and applying an exported filter from its
    card need neither torch nor scikit-learn."""
    code = (
        "import sys; import recast.events.importance, recast.train.filter.merit,"
        "recast.events.graphs, recast.events.selective, recast.train.filter.toy;"
        "print('torch' in sys.modules, 'sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
