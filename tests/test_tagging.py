"""Applying efficiencies: sampled decisions, truth-tagging weights, and the tagged jets' choice."""

from __future__ import annotations

import itertools
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from recast.detector.maps import map_from_document
from recast.detector.tagging import choose_tagged, sample_decisions, truth_tag_weight
from recast.errors import MissingCollectionError, UsageError

from .test_maps import BINNED, random_events
from .test_truth_tagging import brute_force


def toy(n_events: int, seed: int = 3, mean_jets: float = 8.0) -> tuple[ak.Array, ak.Array]:
    """Events (event numbers from 5000) and per-jet efficiencies in [0, 1]."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(mean_jets, n_events)
    events = ak.zip(
        {"event_number": np.arange(n_events, dtype=np.int64) + 5000, "weight": np.ones(n_events)}
    )
    efficiency = ak.unflatten(rng.uniform(0.0, 1.0, int(counts.sum())), counts)
    return events, efficiency


def chunked(function, events: ak.Array, efficiency: ak.Array, size: int, **kwargs) -> np.ndarray:
    pieces = [
        ak.flatten(function(events[i : i + size], efficiency[i : i + size], **kwargs)).to_numpy()
        for i in range(0, len(events), size)
    ]
    return np.concatenate(pieces)


@pytest.mark.parametrize("function", [sample_decisions, choose_tagged])
def test_identical_for_chunk_sizes_1_7_and_whole(function) -> None:
    events, efficiency = toy(200)
    kwargs = {"seed": 17, "stream": "btag"}
    if function is choose_tagged:
        kwargs["n"] = 2
    whole = ak.flatten(function(events, efficiency, **kwargs)).to_numpy()
    for size in (1, 7):
        np.testing.assert_array_equal(chunked(function, events, efficiency, size, **kwargs), whole)
    kwargs["seed"] = 18
    assert not np.array_equal(ak.flatten(function(events, efficiency, **kwargs)), whole)


def test_mean_of_sampled_tags_agrees_with_the_efficiency() -> None:
    events, efficiency = toy(20_000)
    tagged = ak.flatten(sample_decisions(events, efficiency, seed=1, stream="btag")).to_numpy()
    e = ak.flatten(efficiency).to_numpy()
    sigma = np.sqrt(np.sum(e * (1 - e)))
    assert abs(tagged.sum() - e.sum()) < 3 * sigma
    # and per efficiency band: no dependence on anything but the efficiency itself
    for lo in (0.0, 0.5, 0.9):
        band = (e >= lo) & (e < lo + 0.1)
        s = np.sqrt(np.sum(e[band] * (1 - e[band])))
        assert abs(tagged[band].sum() - e[band].sum()) < 3 * s


def test_sampled_tags_from_a_binned_map(tmp_path: Path) -> None:
    events = random_events(seed=2, mean_jets=6, n_events=5000)
    efficiency = map_from_document(BINNED, tmp_path / "map.json").efficiency(events)
    tagged = sample_decisions(events, efficiency, seed=5, stream="btag")
    e = ak.flatten(efficiency).to_numpy()
    assert abs(ak.sum(tagged) - e.sum()) < 3 * np.sqrt(np.sum(e * (1 - e)))


def test_truth_tag_weights_match_brute_force_and_sampling() -> None:
    events, efficiency = toy(40_000, mean_jets=4.0)
    for n, mode in ((2, "at_least"), (1, "exactly"), (3, "at_least")):
        weight = truth_tag_weight(efficiency, n, mode)
        for i in range(20):
            exactly, at_least = brute_force(efficiency[i].tolist(), n)
            expected = at_least if mode == "at_least" else exactly
            assert weight[i] == pytest.approx(expected, abs=1e-12)
        tags = ak.sum(sample_decisions(events, efficiency, seed=n, stream="btag"), axis=1)
        passed = (tags >= n) if mode == "at_least" else (tags == n)
        sigma = np.sqrt(np.sum(weight * (1 - weight)))
        assert abs(np.count_nonzero(passed) - weight.sum()) < 3 * sigma


@pytest.mark.parametrize(("n", "mode"), [(2, "at_least"), (2, "exactly"), (0, "exactly")])
def test_chosen_tags_follow_the_exact_conditional_distribution(n: int, mode: str) -> None:
    e = [0.9, 0.2, 0.6, 0.05]
    n_events = 40_000
    events = ak.zip({"event_number": np.arange(n_events, dtype=np.int64)})
    efficiency = ak.Array([e] * n_events)
    chosen = ak.to_numpy(choose_tagged(events, efficiency, n, seed=3, stream="tt", mode=mode))
    allowed = (lambda k: k >= n) if mode == "at_least" else (lambda k: k == n)
    assert all(allowed(k) for k in chosen.sum(axis=1))
    configurations = [c for c in itertools.product((0, 1), repeat=4) if allowed(sum(c))]
    probability = np.array(
        [np.prod([x if t else 1 - x for t, x in zip(c, e, strict=True)]) for c in configurations]
    )
    expected = n_events * probability / probability.sum()
    code = chosen.astype(int) @ (1 << np.arange(4))
    observed = np.array(
        [np.count_nonzero(code == np.dot(c, 1 << np.arange(4))) for c in configurations]
    )
    assert observed.sum() == n_events
    if len(configurations) > 1:
        chi2 = float(np.sum((observed - expected) ** 2 / expected))
        assert chi2 < {6: 20.52, 11: 29.59}[len(configurations)]  # p = 1e-3


def test_an_impossible_requirement_tags_nothing() -> None:
    events = ak.zip({"event_number": np.arange(3, dtype=np.int64)})
    efficiency = ak.Array([[0.5], [1.0, 1.0, 1.0], []])
    chosen = choose_tagged(events, efficiency, 2, seed=1, stream="tt")
    assert chosen.tolist() == [[False], [True, True, True], []]
    assert truth_tag_weight(efficiency, 2).tolist() == [0.0, 1.0, 0.0]
    exactly = choose_tagged(events, efficiency, 2, seed=1, stream="tt", mode="exactly")
    assert exactly.tolist() == [[False], [False, False, False], []]  # P(exactly 2 of 3 certain) = 0


def test_bad_arguments() -> None:
    events, efficiency = toy(3)
    with pytest.raises(UsageError, match="outside \\[0, 1\\]"):
        sample_decisions(events, ak.Array([[1.2], [], []]), seed=1, stream="b")
    with pytest.raises(UsageError, match="NaN"):
        sample_decisions(events, ak.Array([[float("nan")], [], []]), seed=1, stream="b")
    with pytest.raises(UsageError, match="cover 2 events but the chunk has 3"):
        sample_decisions(events, efficiency[:2], seed=1, stream="b")
    with pytest.raises(MissingCollectionError, match="event_number"):
        sample_decisions(ak.zip({"weight": np.ones(3)}), efficiency, seed=1, stream="b")
    with pytest.raises(UsageError, match="mode 'atleast' is unknown"):
        truth_tag_weight(efficiency, 2, "atleast")  # type: ignore[arg-type]
