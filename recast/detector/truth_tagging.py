"""Truth tagging: weight each event by the exact probability of its tag configuration.

Sampling tags throws away events when a selection asks for many b-tags; truth tagging keeps
every event and weights it by, e.g., P(≥ 3 b-tags) computed from the per-jet efficiencies.
The number of tagged jets follows a Poisson-binomial distribution, computed by adding one jet at
a time to the distribution of the count (a dynamic programme over all events of a chunk at
once). Every step only adds products of probabilities — no subtraction — so the result stays
exact to rounding for any number of jets, including the tail P(≥ N) when it is tiny.
"""

from __future__ import annotations

import awkward as ak
import numpy as np


def tag_count_distribution(efficiencies: ak.Array, max_count: int) -> np.ndarray:
    """P(exactly k tags) for k < ``max_count`` and P(≥ max_count) in the last column.

    ``efficiencies`` is jagged (events × jets) with values in [0, 1]. Returns an array of shape
    [events, max_count + 1].
    """
    if max_count < 0:
        raise ValueError(f"max_count must be ≥ 0, got {max_count}")
    counts = np.asarray(ak.num(efficiencies, axis=1))
    n_events = len(counts)
    most = int(counts.max(initial=0))
    # jets padded with efficiency 0 do not change the count distribution
    padded = ak.to_numpy(ak.fill_none(ak.pad_none(efficiencies, most, axis=1, clip=True), 0.0))
    padded = np.asarray(padded, dtype=np.float64).reshape(n_events, most)
    if np.any((padded < 0) | (padded > 1)) or np.isnan(padded).any():
        raise ValueError("efficiencies must lie in [0, 1] (found values outside, or NaN)")
    distribution = np.zeros((n_events, max_count + 1))
    distribution[:, 0] = 1.0
    for j in range(most):
        e = padded[:, j]
        shifted = np.zeros_like(distribution)
        shifted[:, 1:] = distribution[:, :-1] * e[:, None]
        shifted[:, -1] += distribution[:, -1] * e  # "≥ max_count" absorbs further tags
        distribution = distribution * (1.0 - e)[:, None] + shifted
    return distribution


def probability_at_least(efficiencies: ak.Array, n: int) -> np.ndarray:
    """P(≥ n tagged objects) per event."""
    return tag_count_distribution(efficiencies, n)[:, n]


def probability_exactly(efficiencies: ak.Array, n: int) -> np.ndarray:
    """P(exactly n tagged objects) per event."""
    return tag_count_distribution(efficiencies, n + 1)[:, n]
