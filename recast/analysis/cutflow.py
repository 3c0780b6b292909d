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

from ..exactsum import exact_sum, to_float

log = logging.getLogger(__name__)

INITIAL = "initial"


@dataclass(eq=False)
class Cutflow:
    """Σw, Σw² and raw counts before any cut (``initial``) and after each cut in order.

    A cutflow that is filled keeps its sums exactly (:mod:`recast.exactsum`), so any chunking
    of a sample and any merge order give bit-identical ``sumw`` and ``sumw2``. A scaled or
    loaded cutflow holds plain floats and cannot be filled.
    """

    cuts: list[str]
    sumw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sumw2: np.ndarray = field(default_factory=lambda: np.zeros(0))
    raw: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    #: exact Σw and Σw² per step, in units of 2⁻¹¹²⁶; None once scaled or loaded
    exact: tuple[list[int], list[int]] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        size = len(self.cuts) + 1
        if len(self.sumw) == 0:
            self.sumw = np.zeros(size)
            self.sumw2 = np.zeros(size)
            self.raw = np.zeros(size, dtype=np.int64)
            self.exact = ([0] * size, [0] * size)
        lengths = {len(self.sumw), len(self.sumw2), len(self.raw)}
        if lengths != {size}:
            raise ValueError(
                f"a cutflow of {size} steps ({self.steps}) needs {size} values of sumw, sumw2 "
                f"and raw, not {len(self.sumw)}, {len(self.sumw2)} and {len(self.raw)}"
            )

    @property
    def steps(self) -> list[str]:
        return [INITIAL, *self.cuts]

    def fill(self, weight: np.ndarray, factors: Sequence[np.ndarray]) -> None:
        """Add a chunk: per-event weights and, per cut, the per-event pass factor (bool or p)."""
        if self.exact is None:
            raise ValueError("a scaled or loaded cutflow cannot be filled; fill a new one")
        if len(factors) != len(self.cuts):
            raise ValueError(f"{len(factors)} pass factors for the {len(self.cuts)} cuts")
        running = np.asarray(weight, dtype=np.float64).copy()
        self._add(0, running)
        for i, factor in enumerate(factors, start=1):
            running = running * np.asarray(factor, dtype=np.float64)
            self._add(i, running)

    def _add(self, step: int, weights: np.ndarray) -> None:
        assert self.exact is not None
        sums, squares = self.exact
        sums[step] += exact_sum(weights)
        squares[step] += exact_sum(np.square(weights))
        self.sumw[step] = to_float(sums[step])
        self.sumw2[step] = to_float(squares[step])
        self.raw[step] += int(np.count_nonzero(weights))

    def merge(self, other: Cutflow) -> Cutflow:
        """The sum of two cutflows of the same cuts (exact when both are)."""
        if other.cuts != self.cuts:
            raise ValueError(
                f"cannot merge cutflows of different cuts: {self.cuts} vs {other.cuts}"
            )
        raw = self.raw + other.raw
        if self.exact is None or other.exact is None:
            return Cutflow(list(self.cuts), self.sumw + other.sumw, self.sumw2 + other.sumw2, raw)
        sums = [a + b for a, b in zip(self.exact[0], other.exact[0], strict=True)]
        squares = [a + b for a, b in zip(self.exact[1], other.exact[1], strict=True)]
        return Cutflow(
            list(self.cuts),
            np.array([to_float(v) for v in sums]),
            np.array([to_float(v) for v in squares]),
            raw,
            (sums, squares),
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


def step_uncertainties(flow: Cutflow) -> np.ndarray:
    """The MC statistical uncertainty of every step's yield at a fixed initial yield.

    A step's yield is Y₀·ε with Y₀ fixed (σ × L, or 1 for efficiencies), so its uncertainty is
    that of the efficiency, a weighted binomial one, not √Σw² (which gives the initial step,
    known exactly, a spread of √N):
    σ² = (1 − ε)² Σw²_pass + ε² Σw²_fail, with Σw²_fail = Σw²_initial − Σw²_pass
    (approximate where a cut passes events with a probability). Unweighted, σ = √(N ε (1 − ε)).
    """
    total = float(flow.sumw[0])
    if total == 0.0:
        return np.full(len(flow.sumw), math.nan)
    efficiency = flow.sumw / total
    failed = np.maximum(flow.sumw2[0] - flow.sumw2, 0.0)
    variance = (1.0 - efficiency) ** 2 * flow.sumw2 + efficiency**2 * failed
    return np.sqrt(np.maximum(variance, 0.0))


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
    tolerance *or* the pull (using the MC statistical uncertainty of
    :func:`step_uncertainties` and, where given, the published one) is within ``max_pull``.
    """
    index = {name: i for i, name in enumerate(recast.steps)}
    unknown = [s["cut"] for s in published_steps if s["cut"] not in index]
    if unknown:
        raise ValueError(f"published steps {unknown} are not cuts of this cutflow {recast.cuts}")
    errors = step_uncertainties(recast)
    rows: list[StepComparison] = []
    previous_recast, previous_published = recast.sumw[0], published_initial
    for step in published_steps:
        i = index[step["cut"]]
        value, error = float(recast.sumw[i]), float(errors[i])
        published = float(step["value"])
        published_error = step.get("uncertainty")
        variance = error**2 + (published_error or 0.0) ** 2
        if variance > 0:
            pull = (value - published) / math.sqrt(variance)
        else:  # both exact (e.g. a cut every event passes): only equality is no tension
            pull = 0.0 if value == published else math.nan
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
