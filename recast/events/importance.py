"""Importance sampling with a filter's pass probability (numpy only: no torch, no scikit-learn).

Selective simulation: after generation, keep event i with probability q_i = max(p_i, p_min)
(p_i the filter's pass probability) and give it the weight 1/q_i; the events dropped are never
simulated. Every weighted sum over the kept events is then an unbiased estimate of the same sum
over all generated events, whatever the filter (E[k_i/q_i] = 1), at the price of a larger
variance where q is small; ``p_min`` bounds the weights (≤ 1/p_min) and so that variance.

The keep decision of an event depends only on ``seed``, the event's number and q: a counter-based
hash (splitmix64) turns (seed, event number) into a uniform number, so the same events are kept
bit for bit whatever the chunking, the order or the machine.

>>> sample = importance_sample(p, 0.05, seed=7, event_number=numbers)  # doctest: +SKIP
>>> kept, weight = events[sample.keep], sample.weight[sample.keep]     # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..errors import UsageError

log = logging.getLogger(__name__)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class ImportanceSample:
    """Per event: ``keep`` (bool), ``q`` the keep probability and ``weight`` (1/q if kept,
    else 0)."""

    keep: np.ndarray
    q: np.ndarray
    weight: np.ndarray

    @property
    def kept_fraction(self) -> float:
        return float(self.keep.mean()) if len(self.keep) else 0.0


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


def uniforms(seed: int, event_number: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) per event, a pure function of (seed, event number)."""
    if not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**63:
        raise UsageError(f"seed must be an integer in [0, 2^63), not {seed!r}")
    numbers = np.asarray(event_number)
    if numbers.dtype.kind not in "iu":
        raise UsageError(f"event numbers must be integers, not {numbers.dtype}")
    key = _splitmix64(np.full(numbers.shape, int(seed), dtype=np.uint64) + _GOLDEN)
    state = numbers.astype(np.int64).view(np.uint64) * _GOLDEN + key
    bits = _splitmix64(state) >> np.uint64(11)  # the top 53 bits
    return bits.astype(np.float64) * (1.0 / 2.0**53)


def keep_probability(p: np.ndarray, p_min: float) -> np.ndarray:
    """q = max(p, p_min), after checking p lies in [0, 1] and 0 < p_min ≤ 1."""
    p = np.asarray(p, dtype=np.float64)
    if not 0.0 < float(p_min) <= 1.0:
        raise UsageError(f"p_min must lie in (0, 1], not {p_min!r}: a zero p_min biases the sample")
    bad = ~np.isfinite(p) | (p < 0.0) | (p > 1.0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise UsageError(
            f"pass probabilities must lie in [0, 1]; {int(bad.sum())} do not (the first: "
            f"event {first}, p = {p[first]!r})"
        )
    return np.maximum(p, float(p_min))


def importance_sample(
    p: np.ndarray,
    p_min: float,
    seed: int,
    event_number: np.ndarray | None = None,
) -> ImportanceSample:
    """Keep each event with probability max(p, p_min), weight it 1/that (see the module
    docstring); ``event_number`` defaults to 0, 1, 2, ... (give the real ones so that the
    decision does not depend on the chunking)."""
    q = keep_probability(p, p_min)
    numbers = np.arange(len(q)) if event_number is None else np.asarray(event_number)
    if numbers.shape != q.shape:
        raise UsageError(f"{len(numbers)} event numbers for {len(q)} probabilities")
    keep = uniforms(seed, numbers) < q
    weight = np.where(keep, 1.0 / q, 0.0)
    log.debug("kept %d of %d events (p_min %g)", int(keep.sum()), len(q), p_min)
    return ImportanceSample(keep, q, weight)


def effective_sample_size(weight: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² (0 for no or zero weights)."""
    w = np.asarray(weight, dtype=np.float64)
    total2 = float((w * w).sum())
    return float(w.sum() ** 2 / total2) if total2 > 0 else 0.0


__all__ = [
    "ImportanceSample",
    "effective_sample_size",
    "importance_sample",
    "keep_probability",
    "uniforms",
]
