"""What a scan's worker runs: the verdicts of a chunk of signal points, vectorised.

Each likelihood gives a :class:`_Candidate` for all points of the chunk at once: the best
expected region per point (one-bin calculator), each combination of independent regions
(:mod:`.combination`), the workspace (pyhf, one fit per point). A point's verdict comes from
the most sensitive of them by the expected result, the workspace first among equals, as in
:func:`.limits.compute_limits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .combination import asymptotics_hold, combined_cls, combined_upper_limits
from .counting import CountingModel, cls, upper_limits
from .document import observed_and_expected
from .errors import FitFailedError
from .limits import fitted_entry, patched_workspace_model
from .simplified import SignalYield, clip_signal
from .spec import LikelihoodSpec, needed_regions


@dataclass(frozen=True)
class GridPoint:
    """One signal point: its model parameters and its yields per region at μ = 1."""

    parameters: dict[str, float]
    yields: dict[str, SignalYield]
    #: regions the run behind this point did not run (a network file was not available)
    skipped: tuple[str, ...] = ()


@dataclass
class _Candidate:
    """One likelihood's result for every point of a chunk (limits may be absent)."""

    name: list[str]
    cls: np.ndarray  # (P,)
    expected: np.ndarray  # (P, 5)
    limit: np.ndarray | None = None  # (P,)
    limit_band: np.ndarray | None = None  # (P, 5)
    method: list[str] | None = None
    ok: np.ndarray | None = None  # (P,) bool
    #: the calculator and why, where a count switched it from exact (one-bin regions only)
    calculator: list[str] | None = None
    #: per point, why its fit failed (None: it did not); a failed point gets no verdict at all
    failed: list[str | None] | None = None

    def sensitivity(self) -> np.ndarray:
        """Smaller is more sensitive: the median expected limit, else the median expected CLs."""
        values = self.limit_band[:, 2] if self.limit_band is not None else self.expected[:, 2]
        return np.where(self.ok if self.ok is not None else True, values, np.inf)


def _best_regions(
    spec: LikelihoodSpec,
    signal: np.ndarray,
    mc: np.ndarray,
    s95_expected: np.ndarray,
    method: str,
    with_limits: bool,
) -> _Candidate:
    """Each point's best expected region (largest s / S95_exp), its CLs and limit."""
    best = np.argmax(signal / s95_expected, axis=1)  # no CLs needed to choose
    rows = np.arange(signal.shape[0])
    chosen = CountingModel.build(
        [spec.regions[b].observed for b in best],
        [spec.regions[b].background for b in best],
        [spec.regions[b].background_uncertainty for b in best],
        signal[rows, best],
        np.hypot(mc[rows, best], spec.signal_uncertainty * signal[rows, best]),
        constraint=spec.constraint,
    )
    values = cls(chosen, 1.0, method=method)
    limits = upper_limits(chosen, method=method) if with_limits else None
    return _Candidate(
        [f"region {spec.regions[b].name}" for b in best],
        values.observed,
        values.expected,
        None if limits is None else limits.observed,
        None if limits is None else limits.expected,
        [str(m) for m in values.method],
        signal[rows, best] > 0,
        [str(c) for c in values.calculator],
    )


def _combination(
    spec: LikelihoodSpec, group: list[str], signal: np.ndarray, mc: np.ndarray, with_limits: bool
) -> _Candidate:
    """Regions of ``group`` fitted together, all points at once (asymptotic)."""
    names = [r.name for r in spec.regions]
    models = []
    for region in (r for r in spec.regions if r.name in group):
        k = names.index(region.name)
        models.append(
            CountingModel.build(
                region.observed,
                region.background,
                region.background_uncertainty,
                signal[:, k],
                np.hypot(mc[:, k], spec.signal_uncertainty * signal[:, k]),
                constraint=spec.constraint,
            )
        )
    observed, expected = combined_cls(models)
    limit = combined_upper_limits(models) if with_limits else (None, None)
    count = signal.shape[0]
    return _Candidate(
        ["combination " + "+".join(group)] * count,
        observed,
        expected,
        limit[0],
        limit[1],
        ["asymptotic"] * count,
        # low counts: reported elsewhere, but no verdict from asymptotics (see asymptotics_hold)
        (np.stack([m.signal for m in models], axis=1).sum(axis=1) > 0) & asymptotics_hold(models),
    )


def _workspace(
    spec: LikelihoodSpec,
    clipped: list[tuple[dict[str, SignalYield], list[str]]],
    method: str,
    with_limits: bool,
) -> _Candidate:
    """The full likelihood, one pyhf fit per point."""
    count = len(clipped)
    ok = np.zeros(count, dtype=bool)
    limit, limit_band = np.full(count, np.inf), np.full((count, 5), np.inf)
    cand = _Candidate(
        ["workspace"] * count,
        np.ones(count),
        np.ones((count, 5)),
        limit if with_limits else None,
        limit_band if with_limits else None,
        ["asymptotic"] * count,
        ok,
    )
    cand.failed = [None] * count
    for i, (signal, _) in enumerate(clipped):
        try:
            entry = fitted_entry(patched_workspace_model(spec, signal), method, 0.05, with_limits)
        except FitFailedError as exc:
            cand.failed[i] = str(exc)
            continue
        ok[i] = True
        cand.cls[i] = entry["cls"]["observed"]
        cand.expected[i] = [
            v if v is not None else np.inf for v in entry["cls"]["expected"].values()
        ]
        if with_limits:
            upper = entry["mu_upper"]
            limit[i] = upper["observed"] if upper["observed"] is not None else np.inf
            limit_band[i] = [v if v is not None else np.inf for v in upper["expected"].values()]
    return cand


def scan_chunk(
    spec: LikelihoodSpec,
    points: Sequence[GridPoint],
    s95_expected: np.ndarray | None,
    method: str,
    negative: str,
    with_limits: bool,
) -> list[dict[str, Any]]:
    """One chunk of points: what a worker runs. The verdict of a point comes from the most
    sensitive of its best region, its best combination and the workspace, judged by the
    expected result (the median expected limit on μ, else the median expected CLs), the
    workspace first among equals: the rule of :func:`.limits.compute_limits`, so that a scan
    and `recast run` give one verdict for the same yields."""
    clipped = [clip_signal(p.yields, needed_regions(spec), "grid", negative) for p in points]
    names = [r.name for r in spec.regions]
    signal = np.array([[c[0][n].value for n in names] for c in clipped]).reshape(len(points), -1)
    mc = np.array([[c[0][n].mc_uncertainty for n in names] for c in clipped]).reshape(signal.shape)
    candidates: list[_Candidate] = []
    if spec.regions and s95_expected is not None:
        candidates.append(_best_regions(spec, signal, mc, s95_expected, method, with_limits))
    combos = [_combination(spec, g, signal, mc, with_limits) for g in spec.combine]
    if combos:
        order = np.argmin(np.stack([c.sensitivity() for c in combos]), axis=0)
        candidates.append(_pick(combos, order))
    if spec.workspace is not None:
        candidates.append(_workspace(spec, clipped, method, with_limits))
    # the full likelihood first: min() keeps the first of equally sensitive candidates
    ranked = candidates[::-1]
    sensitivity = [c.sensitivity() for c in ranked]
    rows = []
    for i, point in enumerate(points):
        usable = [k for k, c in enumerate(ranked) if c.ok is None or c.ok[i]]
        chosen = ranked[min(usable, key=lambda k: sensitivity[k][i])] if usable else None
        row: dict[str, Any] = {"parameters": point.parameters, "warnings": clipped[i][1]}
        if candidates and candidates[0].name[i].startswith("region "):
            row["best_expected_region"] = candidates[0].name[i].removeprefix("region ")
        failure = next((c.failed[i] for c in candidates if c.failed and c.failed[i]), None)
        if failure is not None:  # never a verdict from a lesser likelihood in its place
            row.update(source=None, excluded=False, status="failed", reason=failure)
            rows.append(row)
            continue
        if chosen is None:
            row.update(source=None, excluded=False, status="no signal")
            rows.append(row)
            continue
        row.update(
            source=chosen.name[i],
            cls=observed_and_expected(chosen.cls[i], chosen.expected[i]),
            excluded=bool(chosen.cls[i] < 0.05),
            method=chosen.method[i] if chosen.method else "asymptotic",
            status="ok",
        )
        if chosen.calculator is not None:
            row["calculator"] = chosen.calculator[i]
        if chosen.limit is not None and chosen.limit_band is not None:
            row["mu_upper"] = observed_and_expected(chosen.limit[i], chosen.limit_band[i])
        rows.append(row)
    return rows


def _pick(candidates: list[_Candidate], index: np.ndarray) -> _Candidate:
    """Per point, the candidate ``index[point]``."""
    rows = np.arange(index.size)

    def take(field: str) -> Any:
        values = [getattr(c, field) for c in candidates]
        if values[0] is None:
            return None
        if isinstance(values[0], list):
            return [values[k][i] for i, k in enumerate(index)]
        return np.stack(values)[index, rows]

    fields = ("name", "cls", "expected", "limit", "limit_band", "method", "ok")
    return _Candidate(*(take(f) for f in fields))
