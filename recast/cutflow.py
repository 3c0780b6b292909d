"""Weighted cutflows: accumulate per chunk, merge across chunks and workers, compare to published.

A cutflow keeps, after each cut, the sum of weights Σw, the sum of squared weights Σw² and the
raw count of events with a non-zero weight. Weights may be negative (NLO generators): nothing
here takes an absolute value. A cut may pass an event with a probability in [0, 1] (truth
tagging); the event then enters with weight w·p.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

INITIAL = "initial"


@dataclass
class Cutflow:
    """Σw, Σw² and raw counts before any cut (``initial``) and after each cut in order."""

    cuts: list[str]
    sumw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sumw2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    raw: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        size = len(self.cuts) + 1
        if len(self.sumw) == 0:
            self.sumw = np.zeros(size)
            self.sumw2 = np.zeros(size)
            self.raw = np.zeros(size, dtype=np.int64)

    @property
    def steps(self) -> list[str]:
        return [INITIAL, *self.cuts]

    def fill(self, weight: np.ndarray, factors: Sequence[np.ndarray]) -> None:
        """Add a chunk: per-event weights and, per cut, the per-event pass factor (bool or p)."""
        w = np.asarray(weight, dtype=np.float64)
        running = w.copy()
        self._add(0, running)
        for i, factor in enumerate(factors, start=1):
            running = running * np.asarray(factor, dtype=np.float64)
            self._add(i, running)

    def _add(self, step: int, weights: np.ndarray) -> None:
        self.sumw[step] += weights.sum()
        self.sumw2[step] += np.square(weights).sum()
        self.raw[step] += int(np.count_nonzero(weights))

    def merge(self, other: Cutflow) -> Cutflow:
        if other.cuts != self.cuts:
            raise ValueError(
                f"cannot merge cutflows of different cuts: {self.cuts} vs {other.cuts}"
            )
        return Cutflow(
            list(self.cuts), self.sumw + other.sumw, self.sumw2 + other.sumw2, self.raw + other.raw
        )

    def scaled(self, factor: float) -> Cutflow:
        """Yields at σ·L: weights scaled by ``factor`` (Σw² by its square)."""
        return Cutflow(list(self.cuts), self.sumw * factor, self.sumw2 * factor**2, self.raw.copy())

    def to_dict(self) -> dict[str, Any]:
        return {
            "cuts": self.steps,
            "sumw": self.sumw.tolist(),
            "sumw2": self.sumw2.tolist(),
            "raw": self.raw.tolist(),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Cutflow:
        steps = list(document["cuts"])
        return cls(
            steps[1:],
            np.asarray(document["sumw"], dtype=np.float64),
            np.asarray(document["sumw2"], dtype=np.float64),
            np.asarray(document["raw"], dtype=np.int64),
        )


@dataclass(frozen=True)
class StepComparison:
    """One step of a recast cutflow next to the published one."""

    cut: str
    recast: float
    recast_uncertainty: float
    published: float
    published_uncertainty: float | None
    recast_efficiency: float  # cumulative, relative to the initial yield
    published_efficiency: float
    recast_relative: float  # relative to the previous step
    published_relative: float
    ratio: float
    pull: float
    passed: bool


def _safe_ratio(a: float, b: float) -> float:
    return a / b if b != 0 else math.nan


def compare(
    recast: Cutflow,
    published_steps: Sequence[Mapping[str, Any]],
    published_initial: float,
    relative_tolerance: float = 0.2,
    max_pull: float = 2.0,
) -> list[StepComparison]:
    """Step-by-step comparison of a (normalised) recast cutflow with a published one.

    ``recast`` must already be scaled to the published unit (events at the analysis luminosity,
    or fractions of the initial yield). A step passes when the ratio is within the relative
    tolerance *or* the pull (using the MC statistical and, where given, the published
    uncertainty) is within ``max_pull``.
    """
    index = {name: i for i, name in enumerate(recast.steps)}
    rows: list[StepComparison] = []
    previous_recast, previous_published = recast.sumw[0], published_initial
    for step in published_steps:
        i = index[step["cut"]]
        value, error = float(recast.sumw[i]), float(math.sqrt(max(recast.sumw2[i], 0.0)))
        published = float(step["value"])
        published_error = step.get("uncertainty")
        variance = error**2 + (published_error or 0.0) ** 2
        pull = (value - published) / math.sqrt(variance) if variance > 0 else math.nan
        ratio = _safe_ratio(value, published)
        within = (
            (not math.isnan(ratio) and abs(ratio - 1.0) <= relative_tolerance)
            or (not math.isnan(pull) and abs(pull) <= max_pull)
            or (value == 0.0 and published == 0.0)
        )
        rows.append(
            StepComparison(
                cut=step["cut"],
                recast=value,
                recast_uncertainty=error,
                published=published,
                published_uncertainty=published_error,
                recast_efficiency=_safe_ratio(value, float(recast.sumw[0])),
                published_efficiency=_safe_ratio(published, published_initial),
                recast_relative=_safe_ratio(value, float(previous_recast)),
                published_relative=_safe_ratio(published, previous_published),
                ratio=ratio,
                pull=pull,
                passed=bool(within),
            )
        )
        previous_recast, previous_published = value, published
    return rows
