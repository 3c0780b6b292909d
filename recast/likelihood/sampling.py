"""The sampling distribution of q̃_μ for one-bin models: exact (numerical) or from toys.

Asymptotic formulae fail for a handful of events (an empty region gives S95 ≈ 2.2 instead of
3.0), and generic toys refit every pseudo-experiment. Here the fits are closed-form, so the
distribution that toys sample is computed directly instead:

    P_h(q̃_μ ≥ x) = Σ_n Poisson(n; h·μ·s + b*_h) · P(a ≥ a*_n(x)),   a ~ Normal(ν*_h, w²)

with ν*_h the nuisance fitted to the observed data under hypothesis h (μ or 0), as toys would
generate them. For a fixed n, q̃_μ never decreases as a grows (dq̃/da = 2(ν̂ − ν̂̂_μ)/w² ≥ 0,
by the envelope theorem), so {q̃_μ ≥ x} is a half-line a ≥ a*_n and its probability is one
normal tail. a*_n is bracketed on a tabulated grid and refined by safeguarded Newton steps on
the exact q̃_μ. Atoms of the distribution (q̃_μ = 0 when μ̂ > μ; q̃_μ = 2μs for every a when
n = 0) are kept by comparing with a small relative tolerance: ties count as "as extreme".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln, log_ndtr, logsumexp, ndtr, xlogy

from .closed_form import BAND, background, profile, qtilde, qtilde_and_slope

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: the auxiliary datum is integrated over ±_Z standard deviations (tails < 1e-15)
_Z = 8.0
_NODES = 65
_GRID = np.linspace(-_Z, _Z, _NODES)
_STEP = float(_GRID[1] - _GRID[0])
#: ties: q̃ values this close count as equal ("at least as extreme" includes them)
_RTOL, _ATOL = 1e-9, 1e-12
#: elements per tabulated block (entries × counts × nodes), to bound memory
_BLOCK = 600_000
#: probability levels of the band members under the background-only hypothesis
_BAND_P = ndtr(np.asarray(BAND, dtype=np.float64))


@dataclass(frozen=True)
class Entries:
    """Per-entry inputs, shape (E,): count, auxiliary datum, tested μ·s, b₀, width."""

    n_obs: Array
    a_obs: Array
    signal: Array
    b0: Array
    width: Array
    constraint: str

    def take(self, index: NDArray[np.intp] | slice) -> Entries:
        return Entries(
            self.n_obs[index],
            self.a_obs[index],
            self.signal[index],
            self.b0[index],
            self.width[index],
            self.constraint,
        )

    @property
    def aux_width(self) -> Array:
        return self.width if self.constraint == "normal" else np.ones_like(self.width)


def _log_poisson(n: Array, mean: Array) -> Array:
    return xlogy(n, mean) - mean - gammaln(n + 1.0)


def _count_window(means: Array) -> tuple[int, int]:
    """Counts n_lo..n_hi−1 hold all but ~1e-10 of every Poisson with these means."""
    top, bottom = float(np.max(means)), float(np.min(means))
    low = max(0, int(np.floor(bottom - 6.5 * np.sqrt(bottom) - 4.0)))
    return low, int(np.ceil(top + 6.5 * np.sqrt(top) + 10.0))


class _Table:
    """q̃_μ(n, a) tabulated for a block of entries, shared by both hypotheses.

    q̃_μ depends on the data and the tested μ·s only, not on the hypothesis that generates the
    data, so one grid of a (from ν*_μ − 8w to ν*_0 + 8w, ν*_μ ≤ ν*_0) serves both; so do the
    thresholds a*_n(x). Only the weights differ: Poisson in n and normal in a, per hypothesis.
    """

    def __init__(self, entries: Entries) -> None:
        e = self.e = entries
        args = (e.b0, e.width, e.constraint)
        self.nu = [profile(e.n_obs, e.a_obs, h * e.signal, *args) for h in (1.0, 0.0)]
        means = [
            h * e.signal + background(nu, *args) for h, nu in zip((1, 0), self.nu, strict=True)
        ]
        low, high = _count_window(np.concatenate(means))
        # a count far below (or above) every mean still needs its own, tiny, probability: the
        # p-values of a deficit of 10σ are 1e-25 under both hypotheses, and their ratio is CLs
        low = min(low, int(np.min(e.n_obs)))
        high = max(high, int(np.max(e.n_obs)) + 1)
        self.counts = np.arange(low, high, dtype=np.float64)
        self.log_weights = [_log_poisson(self.counts, m[:, None]) for m in means]  # (E, N)
        self.weights = [np.exp(w) for w in self.log_weights]
        self.w = e.aux_width
        self.step = self.w * _STEP
        self.start = self.nu[0] - _Z * self.w
        shift = (self.nu[1] - self.nu[0]) / self.w
        self.nodes = _NODES + int(np.ceil(np.max(shift) / _STEP))
        a = self.start[:, None, None] + self.step[:, None, None] * np.arange(self.nodes)
        col = (e.signal[:, None, None], e.b0[:, None, None], e.width[:, None, None])
        table = qtilde(self.counts[None, :, None], a, *col, e.constraint)  # (E, N, J)
        # rows are non-decreasing in a (see the module docstring); enforce it against rounding
        self.table = np.maximum.accumulate(table, axis=-1)
        self._rows = np.arange(table.shape[0])[:, None, None]
        self._cols = np.arange(self.counts.shape[0])[None, None, :]

    def _bracket(self, x: Array) -> tuple[NDArray[np.intp], Array]:
        """Per (entry, threshold, count): how many grid nodes lie below ``x``; binary search."""
        target = (x * (1.0 - _RTOL) - _ATOL)[:, :, None]
        shape = (x.shape[0], x.shape[1], self.counts.shape[0])
        lo = np.zeros(shape, dtype=np.intp)
        hi = np.full(shape, self.nodes, dtype=np.intp)
        for _ in range(int(np.ceil(np.log2(self.nodes + 1)))):
            mid = (lo + hi) // 2
            below = self.table[self._rows, self._cols, np.minimum(mid, self.nodes - 1)] < target
            below &= mid < self.nodes
            lo = np.where(below, mid + 1, lo)
            hi = np.where(below, hi, mid)
        return lo, target

    def _survival(self, index: NDArray[np.intp], a_star: Array, h: int) -> Array:
        """Σ_n weight_n · P(a ≥ a*_n) under hypothesis ``h`` (0: s+b, 1: b only)."""
        z = (a_star - self.nu[h][:, None, None]) / self.w[:, None, None]
        tail = np.where(index == 0, 1.0, np.where(index >= self.nodes, 0.0, ndtr(-z)))
        return np.einsum("ekn,en->ek", tail, self.weights[h])

    def _log_survival(self, index: NDArray[np.intp], a_star: Array, h: int) -> Array:
        """The logarithm of :meth:`_survival`: the p-value of a deficit far below every mean
        underflows (e⁻¹⁰⁰⁰ at n = 0, b = 1000) under both hypotheses, while their ratio, CLs,
        is ordinary."""
        z = (a_star - self.nu[h][:, None, None]) / self.w[:, None, None]
        log_tail = np.where(index == 0, 0.0, np.where(index >= self.nodes, -np.inf, log_ndtr(-z)))
        return logsumexp(log_tail + self.log_weights[h][:, None, :], axis=-1)

    def _node(self, index: NDArray[np.intp]) -> Array:
        return self.start[:, None, None] + self.step[:, None, None] * index

    def survival_coarse(self, x: Array, h: int) -> Array:
        """P_h(q̃_μ ≥ x) by linear interpolation between grid nodes; ``x`` has shape (E, K)."""
        index, target = self._bracket(x)
        lo, hi = np.clip(index - 1, 0, self.nodes - 1), np.clip(index, 0, self.nodes - 1)
        q_lo = self.table[self._rows, self._cols, lo]
        q_hi = self.table[self._rows, self._cols, hi]
        span = np.where(q_hi > q_lo, q_hi - q_lo, 1.0)
        frac = np.clip((target - q_lo) / span, 0.0, 1.0)
        return self._survival(index, self._node(lo) + frac * self.step[:, None, None], h)

    def log_survival(self, x: Array, iterations: int = 10) -> tuple[Array, Array]:
        """log P(q̃_μ ≥ x) under s+b and under b only, crossings refined by bracketed Newton
        steps."""
        index, target = self._bracket(x)
        lo, hi = np.clip(index - 1, 0, self.nodes - 1), np.clip(index, 0, self.nodes - 1)
        a_lo, a_hi = self._node(lo), self._node(hi)
        q_lo = self.table[self._rows, self._cols, lo]
        q_hi = self.table[self._rows, self._cols, hi]
        span = np.where(q_hi > q_lo, q_hi - q_lo, 1.0)
        a = a_lo + np.clip((target - q_lo) / span, 0.0, 1.0) * (a_hi - a_lo)
        e = self.e
        n = self.counts[None, None, :]
        col = (e.signal[:, None, None], e.b0[:, None, None], e.width[:, None, None])
        for _ in range(iterations):
            q, slope = qtilde_and_slope(n, a, *col, e.constraint)
            above = q >= target
            a_hi = np.where(above, a, a_hi)
            a_lo = np.where(above, a_lo, a)
            newton = a - (q - target) / np.where(slope > 0, slope, np.inf)
            inside = (newton > a_lo) & (newton < a_hi)
            a = np.where(inside, newton, 0.5 * (a_lo + a_hi))
        return self._log_survival(index, a_hi, 0), self._log_survival(index, a_hi, 1)

    def quantile(self, p: Array, iterations: int = 48) -> Array:
        """The largest x with P_b(q̃_μ ≥ x) ≥ p, for ``p`` of shape (E, K)."""
        lo = np.zeros_like(p)
        top = self.table[:, :, -1].max(axis=1)[:, None]
        hi = np.broadcast_to(top * 1.001 + 1.0, p.shape).copy()
        for _ in range(iterations):
            mid = 0.5 * (lo + hi)
            enough = self.survival_coarse(mid, 1) >= p
            lo = np.where(enough, mid, lo)
            hi = np.where(enough, hi, mid)
        return lo


def exact_cls(entries: Entries, targets: NDArray[np.intp]) -> tuple[Array, Array, Array]:
    """CLs, CLs+b and CLb from the exact sampling distribution of q̃_μ.

    ``targets`` (shape (E, K)) says what each output is: −1 the observed CLs, 0–4 the expected
    CLs of band member ``BAND[i]``. Entries are grouped by their expected counts, so that a
    block tabulates only the counts its own entries can produce.
    """
    out = [np.ones(targets.shape) for _ in range(3)]
    scale = entries.signal + entries.b0 + entries.n_obs
    order = np.argsort(scale, kind="stable")
    start = 0
    while start < order.size:
        size = order.size - start
        for _ in range(3):  # the window of the block's largest entry sets its size
            low, high = _count_window(scale[order[[start, start + size - 1]]])
            size = min(size, max(1, _BLOCK // ((high - low) * _NODES * targets.shape[1])))
        rows = order[start : start + size]
        for i, values in enumerate(_exact_block(entries.take(rows), targets[rows])):
            out[i][rows] = values
        start += size
    return out[0], out[1], out[2]


def _exact_block(e: Entries, targets: NDArray[np.intp]) -> tuple[Array, Array, Array]:
    table = _Table(e)
    q_obs = qtilde(e.n_obs, e.a_obs, e.signal, e.b0, e.width, e.constraint)
    x = np.broadcast_to(q_obs[:, None], targets.shape).copy()
    band = targets >= 0
    if band.any():
        p = np.where(band, _BAND_P[np.clip(targets, 0, len(BAND) - 1)], 0.5)
        x = np.where(band, table.quantile(p), x)
    log_clsb, log_clb = table.log_survival(x)
    clsb, clb = np.exp(log_clsb), np.exp(log_clb)
    ratio = np.exp(log_clsb - np.where(np.isfinite(log_clb), log_clb, 0.0))
    cls = np.clip(np.where(np.isfinite(log_clb), ratio, 0.0), 0.0, 1.0)
    no_signal = (e.signal <= 0)[:, None]
    return (
        np.where(no_signal, 1.0, cls),
        np.where(no_signal, 1.0, clsb),
        np.where(no_signal, 1.0, clb),
    )


def toy_cls(
    entries: Entries, targets: NDArray[np.intp], *, n_toys: int = 20_000, seed: int = 1
) -> tuple[Array, Array, Array]:
    """CLs, CLs+b and CLb from pseudo-experiments (same inputs as :func:`exact_cls`).

    Each entry draws ``n_toys`` pseudo-data sets per hypothesis from the model with the
    nuisance fitted to the observed data; the expected band takes quantiles of the
    background-only q̃_μ. The random stream of an entry depends on ``seed`` and on its observed
    count and background only, so results do not depend on how entries are batched.
    """
    if n_toys < 1:  # an empty sample has no quantiles: refuse rather than index into nothing
        raise ValueError(f"toys need at least one pseudo-experiment, not n_toys={n_toys}")
    out = [np.ones(targets.shape) for _ in range(3)]
    for i in range(entries.n_obs.shape[0]):
        values = _toys_one(entries.take(slice(i, i + 1)), targets[i : i + 1], n_toys, seed)
        for k in range(3):
            out[k][i] = values[k]
    return out[0], out[1], out[2]


def _toys_one(
    e: Entries, targets: NDArray[np.intp], n_toys: int, seed: int
) -> tuple[Array, Array, Array]:
    if e.signal[0] <= 0:
        return np.ones(targets.shape), np.ones(targets.shape), np.ones(targets.shape)
    identity = np.array([e.n_obs[0], e.b0[0]]).view(np.uint64)
    rng = np.random.default_rng([seed, *identity.tolist()])
    samples = []
    for h in (1.0, 0.0):
        nu = profile(e.n_obs, e.a_obs, h * e.signal, e.b0, e.width, e.constraint)
        mean = h * e.signal + background(nu, e.b0, e.width, e.constraint)
        n = rng.poisson(mean[0], n_toys).astype(np.float64)
        a = nu[0] + e.aux_width[0] * rng.standard_normal(n_toys)
        samples.append(qtilde(n, a, e.signal[0], e.b0[0], e.width[0], e.constraint))
    q_sb, q_b = samples
    q_obs = qtilde(e.n_obs, e.a_obs, e.signal, e.b0, e.width, e.constraint)
    x = np.broadcast_to(q_obs[:, None], targets.shape).copy()
    descending = -np.sort(-q_b)
    for k, p in enumerate(_BAND_P):
        rank = min(max(int(np.ceil(p * n_toys)) - 1, 0), n_toys - 1)
        x = np.where(targets == k, descending[rank], x)
    goal = (x * (1.0 - _RTOL) - _ATOL)[..., None]
    clsb = (q_sb >= goal).mean(axis=-1)
    clb = (q_b >= goal).mean(axis=-1)
    return np.clip(clsb / np.maximum(clb, 1.0 / n_toys), 0.0, 1.0), clsb, clb
