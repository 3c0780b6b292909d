"""What a selective-simulation filter buys and costs: speed-up, effective sample size per CPU
second, and the bias of chosen variables (numpy and scipy only).

Costs per generated event: ``generation`` (always paid), ``filter`` (evaluating the network)
and ``downstream`` (detector simulation, reconstruction and skim: paid only for kept events).

* **speed-up**: CPU time per event of the full chain over that with the filter,
  (t_gen + t_down) / (t_gen + t_filter + f_kept · t_down);
* **figure of merit**: the statistical uncertainty of the weighted sample per unit computing
  time. For the yield of the events that pass the skim, 1 / (σ_rel² · T) equals the effective
  sample size ESS = (Σw)² / Σw² per CPU second T; without the filter ESS is the number of
  passing events and every event pays t_gen + t_down. The *effective* speed-up is the ratio of
  the two figures of merit: it includes the variance the weights 1/q add;
* **bias**: per bin of a variable, the weighted filtered sample Σ_kept 1/q against the unfiltered
  truth N (all passing events), with the uncertainty of their difference
  σ² = Σ_passing (1 − q)/q (the kept events are a subset of the truth: only the keep decision is
  random, k/q − 1 has variance (1 − q)/q), pulls and χ²; and the same for the kept events
  *without* weights, scaled to the truth total (σ² = N (1 − f)/f, f the kept fraction), which
  a filter correlated with the variable sculpts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from ...errors import UsageError
from ...events.importance import ImportanceSample, effective_sample_size

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timing:
    """CPU seconds per generated event; ``downstream_source`` says whether the downstream cost
    was measured or assumed (e.g. a full detector simulation the study does not run)."""

    generation: float
    filter: float
    downstream: float
    downstream_source: str = "measured"

    def __post_init__(self) -> None:
        for name in ("generation", "filter", "downstream"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value >= 0):
                raise UsageError(f"timing.{name} must be a CPU time ≥ 0 in seconds, not {value!r}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def speed_up(timing: Timing, kept_fraction: float) -> float:
    """(t_gen + t_down) / (t_gen + t_filter + f_kept · t_down)."""
    with_filter = timing.generation + timing.filter + kept_fraction * timing.downstream
    return float((timing.generation + timing.downstream) / with_filter)


def figure_of_merit(
    passed: np.ndarray, sample: ImportanceSample, timing: Timing
) -> dict[str, float]:
    """ESS of the passing events per CPU second with and without the filter (see the module
    docstring), the naive and the effective speed-up."""
    passed = np.asarray(passed, dtype=bool)
    n = len(passed)
    if n == 0 or sample.keep.shape != passed.shape:
        raise UsageError(f"{len(sample.keep)} keep decisions for {n} pass labels")
    cpu_without = n * (timing.generation + timing.downstream)
    cpu_with = n * (timing.generation + timing.filter) + int(sample.keep.sum()) * timing.downstream
    ess_without = float(passed.sum())
    ess_with = effective_sample_size(sample.weight[passed & sample.keep])
    fom_without = ess_without / cpu_without if cpu_without > 0 else float("inf")
    fom_with = ess_with / cpu_with if cpu_with > 0 else float("inf")
    return {
        "events": n,
        "kept_fraction": sample.kept_fraction,
        "passing_events": int(passed.sum()),
        "passing_kept": int((passed & sample.keep).sum()),
        "ess_without": ess_without,
        "ess_with": ess_with,
        "cpu_seconds_without": cpu_without,
        "cpu_seconds_with": cpu_with,
        "ess_per_cpu_second_without": fom_without,
        "ess_per_cpu_second_with": fom_with,
        "speed_up": speed_up(timing, sample.kept_fraction),
        "effective_speed_up": fom_with / fom_without if fom_without > 0 else float("nan"),
    }


def _chi2(pull: np.ndarray) -> dict[str, float]:
    finite = np.isfinite(pull)
    chi2 = float((pull[finite] ** 2).sum())
    ndf = int(finite.sum())
    return {
        "chi2": chi2,
        "ndf": ndf,
        "p_value": float(stats.chi2.sf(chi2, ndf)) if ndf else float("nan"),
        "max_abs_pull": float(np.abs(pull[finite]).max()) if ndf else 0.0,
    }


def bias_table(
    x: np.ndarray, passed: np.ndarray, sample: ImportanceSample, edges: np.ndarray
) -> dict[str, Any]:
    """The bias of variable ``x`` among the passing events, weighted and unweighted (see the
    module docstring); bins from ``edges`` (values outside are left out)."""
    x = np.asarray(x, dtype=np.float64)
    passed = np.asarray(passed, dtype=bool)
    edges = np.asarray(edges, dtype=np.float64)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise UsageError("bin edges must be at least two increasing numbers")
    if x.shape != passed.shape or x.shape != sample.keep.shape:
        raise UsageError(f"x, passed and the sample disagree in length: {x.shape}, {passed.shape}")
    kept = passed & sample.keep
    q = sample.q
    truth, _ = np.histogram(x[passed], edges)
    weighted, _ = np.histogram(x[kept], edges, weights=1.0 / q[kept])
    # the exact variance of Σ_kept 1/q − N given q, from all passing events (the truth is
    # known here); its estimate from the kept events alone, Σ_kept (1 − q)/q², is small exactly
    # when a rare heavy event is missing, which makes the pulls of small samples lopsided
    variance, _ = np.histogram(x[passed], edges, weights=(1.0 - q[passed]) / q[passed])
    raw, _ = np.histogram(x[kept], edges)
    truth = truth.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt(variance)
        pull_weighted = np.where(sigma > 0, (weighted - truth) / sigma, np.nan)
        # a bin with σ = 0 holds only events kept with q = 1: exact unless something is wrong
        exact = (sigma == 0) & ~np.isclose(weighted, truth)
        pull_weighted = np.where(exact, np.inf, pull_weighted)
        fraction = raw.sum() / truth.sum() if truth.sum() > 0 else np.nan
        scaled = raw / fraction
        sigma_raw = np.sqrt(truth * (1.0 - fraction) / fraction)
        pull_raw = np.where(sigma_raw > 0, (scaled - truth) / sigma_raw, np.nan)
        ratio_weighted = weighted / truth
        ratio_raw = scaled / truth
    populated = truth > 0
    return {
        "edges": edges.tolist(),
        "truth": truth.tolist(),
        "weighted": weighted.tolist(),
        "weighted_error": sigma.tolist(),
        "unweighted_scaled": scaled.tolist(),
        "unweighted_error": sigma_raw.tolist(),
        "weighted_vs_truth": _chi2(pull_weighted),
        "unweighted_vs_truth": _chi2(pull_raw),
        "max_relative_deviation_weighted": float(np.nanmax(np.abs(ratio_weighted[populated] - 1)))
        if populated.any()
        else 0.0,
        "max_relative_deviation_unweighted": float(np.nanmax(np.abs(ratio_raw[populated] - 1)))
        if populated.any()
        else 0.0,
    }


def quantile_edges(x: np.ndarray, n_bins: int) -> np.ndarray:
    """``n_bins`` bins holding about equal numbers of ``x`` (duplicates merged)."""
    if int(n_bins) < 1 or len(x) == 0:
        raise UsageError("quantile_edges: need at least one bin and one value")
    edges = np.unique(np.quantile(np.asarray(x, float), np.linspace(0, 1, int(n_bins) + 1)))
    edges[-1] = np.nextafter(edges[-1], np.inf)  # the largest value inside the last bin
    return edges


def bias_report(
    variables: Mapping[str, np.ndarray],
    passed: np.ndarray,
    sample: ImportanceSample,
    n_bins: int = 10,
    edges: Mapping[str, np.ndarray] | None = None,
) -> dict[str, dict[str, Any]]:
    """:func:`bias_table` per variable (bins: ``edges[name]``, or quantiles of the passing
    events)."""
    out = {}
    passed = np.asarray(passed, dtype=bool)
    for name, values in variables.items():
        values = np.asarray(values, dtype=np.float64)
        chosen = (edges or {}).get(name)
        if chosen is None:
            chosen = quantile_edges(values[passed], n_bins)
        out[name] = bias_table(values, passed, sample, chosen)
    return out


__all__ = [
    "Timing",
    "bias_report",
    "bias_table",
    "figure_of_merit",
    "quantile_edges",
    "speed_up",
]
