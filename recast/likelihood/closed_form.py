"""Fits and q̃_μ of the one-bin model, without a minimiser, and its asymptotic CLs.

The background is a function of one nuisance ν with an auxiliary datum a ~ Normal(ν, w²):

* ``normal``:    b = ν ≥ 0 and w = σ_b (a Gaussian truncated at zero; a_obs = b₀);
* ``lognormal``: b = b₀·κ^ν with κ = 1 + σ_b/b₀ and w = 1 (a_obs = 0); pyhf's ``normsys``
  with ``interpcode: code1``.

For a fixed signal count S = μ·s the profiled ν solves a quadratic (normal) or a smooth
one-dimensional equation solved by Newton's method from the normal solution (lognormal). The
free fit is ν̂ = a (so μ̂·s = n − b(a)), with μ̂ ≥ 0 as pyhf's bounds impose. The test statistic
is q̃_μ of Cowan, Cranmer, Gross, Vitells (arXiv:1007.1727). Everything broadcasts.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import log_ndtr, ndtr, wrightomega, xlogy

Array = NDArray[np.float64]

#: band members of expected results, in standard deviations of the limit (CLs increases)
BAND = (-2, -1, 0, 1, 2)
CONSTRAINTS = ("lognormal", "normal")
_NEWTON_STEPS = 6
#: ln κ is floored here: a background known exactly still has a well-defined profile
_MIN_LOG_KAPPA = 1e-9


def background(nu: Array, b0: Array, width: Array, constraint: str) -> Array:
    """The expected background count for nuisance value ``nu``."""
    if constraint == "normal":
        return np.maximum(nu, 0.0)
    return b0 * np.exp(nu * width)


def _normal_profile(n: Array, a: Array, signal: Array, sigma: Array) -> Array:
    """Stationarity n/(S + b) = 1 + (b − a)/σ² is a quadratic in λ = S + b.

    Its positive root is taken in the form that does not cancel, and b is clipped at zero (the
    likelihood is concave in b, so the bounded maximum then sits at the bound).
    """
    var = sigma * sigma
    half = 0.5 * (var - signal - a)
    root = np.sqrt(half * half + var * n)
    safe = np.where(half > 0, root + half, 1.0)
    lam = np.where(half > 0, var * n / safe, root - half)
    return np.maximum(lam - signal, 0.0)


def profile(
    n: ArrayLike, a: ArrayLike, signal: ArrayLike, b0: ArrayLike, width: ArrayLike, constraint: str
) -> Array:
    """ν̂̂: the nuisance value that maximises the likelihood for a fixed signal count."""
    n, a, signal, b0, width = (np.asarray(x, dtype=np.float64) for x in (n, a, signal, b0, width))
    if constraint == "normal":
        return _normal_profile(n, a, signal, width)
    return _lognormal_profile(n, a, signal, b0, width)


def _lognormal_profile(n: Array, a: Array, signal: Array, b0: Array, width: Array) -> Array:
    """Solve g(ν) = (n/λ − 1)·b·ln κ − (ν − a) = 0, with λ = S + b, b = b₀·e^{ν·ln κ}.

    Without signal the root is closed-form, ν₀ = a + n·ln κ − ω(t)/ln κ with Wright's ω
    (ω + ln ω = t, t = n·ln²κ + ln(b₀·ln²κ) + a·ln κ). More signal needs less background, so
    for S > 0 the root lies in [a − b(a)·ln κ, ν₀]: Newton steps from ν₀, falling back to
    bisection whenever a step leaves the bracket or shrinks it too slowly.
    """
    log_kappa = np.maximum(width, _MIN_LOG_KAPPA)
    log_scale = np.log(b0 * log_kappa * log_kappa) + a * log_kappa
    nu_zero = a + n * log_kappa - wrightomega(n * log_kappa**2 + log_scale) / log_kappa
    if not np.any(signal):
        return np.broadcast_to(nu_zero, np.broadcast(n, a, signal, b0, width).shape)
    # S → ∞ gives the lower end: b(ν)·ln κ = a − ν, again closed-form
    lo = a - wrightomega(log_scale) / log_kappa
    hi = nu_zero
    # start where the background takes the share of n it would take without a constraint
    b_lo, b_hi = b0 * np.exp(lo * log_kappa), b0 * np.exp(hi * log_kappa)
    share = np.clip(n - signal, b_lo, b_hi)
    nu = np.clip(np.log(np.maximum(share, 1e-300) / b0) / log_kappa, lo, hi)
    for _ in range(_NEWTON_STEPS):
        b = b0 * np.exp(nu * log_kappa)
        lam = np.maximum(signal + b, 1e-300)
        ratio = n / lam
        slope = (ratio - 1.0) * b * log_kappa - (nu - a)
        curve = log_kappa * log_kappa * b * (ratio * signal / lam - 1.0) - 1.0
        lo = np.where(slope > 0, nu, lo)
        hi = np.where(slope < 0, nu, hi)
        newton = nu - slope / np.where(curve < 0, curve, -np.inf)
        fast = (newton > lo) & (newton < hi)
        # converged elements stay: a bisection step would throw them back into the bracket
        done = np.abs(slope) <= 1e-13 * (1.0 + b * log_kappa * (ratio + 1.0) + np.abs(nu - a))
        nu = np.where(done, nu, np.where(fast, newton, 0.5 * (lo + hi)))
    return np.where(signal > 0, nu, nu_zero)


def log_likelihood(
    n: Array, a: Array, signal: Array, nu: Array, b0: Array, width: Array, constraint: str
) -> Array:
    """log L up to terms that do not depend on the parameters (they cancel in q̃_μ)."""
    lam = signal + background(nu, b0, width, constraint)
    pull = (nu - a) / width if constraint == "normal" else nu - a
    return xlogy(n, lam) - lam - 0.5 * pull * pull


def qtilde_and_slope(
    n: ArrayLike, a: ArrayLike, signal: ArrayLike, b0: ArrayLike, width: ArrayLike, constraint: str
) -> tuple[Array, Array]:
    """q̃_μ and dq̃_μ/da for observed count ``n``, auxiliary datum ``a`` and signal count μ·s.

    The free fit keeps μ̂ ≥ 0 (pyhf's bounds), so data below the background compare to the
    μ = 0 fit; q̃_μ = 0 when μ̂ > μ. The slope follows from the envelope theorem:
    dq̃/da = 2(ν̂ − ν̂̂_μ)/w², never negative, which :mod:`.sampling` relies on.
    """
    given = (n, a, signal, b0, width)
    arrays = (np.asarray(x, dtype=np.float64) for x in given)
    n, a, signal, b0, width = (np.atleast_1d(x) for x in np.broadcast_arrays(*arrays))
    nu_free = np.maximum(a, 0.0) if constraint == "normal" else a
    signal_free = n - background(nu_free, b0, width, constraint)
    # fit only where needed: q̃ = 0 when μ̂ > μ, and the μ = 0 fit is the free one when μ̂ ≥ 0
    need_mu = signal_free <= signal
    need_zero = need_mu & (signal_free < 0)
    nu_best, nu_mu = nu_free.copy(), nu_free.copy()
    for need, target, tested in ((need_zero, nu_best, 0.0), (need_mu, nu_mu, signal)):
        if need.any():
            part = (n[need], a[need], tested[need] if isinstance(tested, np.ndarray) else tested)
            target[need] = profile(*part, b0[need], width[need], constraint)
    best = log_likelihood(n, a, np.maximum(signal_free, 0.0), nu_best, b0, width, constraint)
    q = 2.0 * (best - log_likelihood(n, a, signal, nu_mu, b0, width, constraint))
    zero = signal_free > signal
    scale = width * width if constraint == "normal" else 1.0
    slope = np.where(zero, 0.0, 2.0 * (nu_best - nu_mu) / scale)
    shape = np.broadcast_shapes(*(np.shape(x) for x in given))
    return np.where(zero, 0.0, np.maximum(q, 0.0)).reshape(shape), slope.reshape(shape)


def qtilde(
    n: ArrayLike, a: ArrayLike, signal: ArrayLike, b0: ArrayLike, width: ArrayLike, constraint: str
) -> Array:
    """q̃_μ alone (see :func:`qtilde_and_slope`)."""
    return qtilde_and_slope(n, a, signal, b0, width, constraint)[0]


def asymptotic_cls(
    n: Array, a: Array, signal: Array, b0: Array, width: Array, constraint: str
) -> tuple[Array, Array, Array, Array]:
    """Observed CLs, CLs+b, CLb and expected CLs (shape ``(..., 5)``) in the asymptotic limit.

    The Asimov data set is built from the μ = 0 fit to the observed data, and q̃_μ is mapped to
    the normal test statistic as pyhf does, so the numbers agree with ``pyhf.infer.hypotest``.
    """
    q_obs = qtilde(n, a, signal, b0, width, constraint)
    nu_asimov = profile(n, a, 0.0, b0, width, constraint)
    n_asimov = background(nu_asimov, b0, width, constraint)
    q_asimov = qtilde(n_asimov, nu_asimov, signal, b0, width, constraint)
    return cls_from_qtilde(q_obs, q_asimov)


def cls_from_qtilde(q_obs: Array, q_asimov: Array) -> tuple[Array, Array, Array, Array]:
    """Asymptotic CLs, CLs+b, CLb and the expected band from q̃_μ on the data and on Asimov data.

    q̃_μ is mapped to the normal test statistic as pyhf does (Cowan et al., eq. 66).
    """
    sq_obs, sq_asimov = np.sqrt(q_obs), np.sqrt(q_asimov)
    safe = np.where(sq_asimov > 0, sq_asimov, 1.0)
    t = np.where(sq_obs <= sq_asimov, sq_obs - sq_asimov, (q_obs - q_asimov) / (2.0 * safe))
    # in logarithms: for a deficit of many σ both tails underflow while their ratio does not
    log_clsb, log_clb = log_ndtr(-(t + sq_asimov)), log_ndtr(-t)
    clsb, clb = np.exp(log_clsb), np.exp(log_clb)
    t_band = -np.asarray(BAND, dtype=np.float64)  # the b-only quantiles, in pyhf's order
    expected = ndtr(-(t_band + sq_asimov[..., None])) / ndtr(-t_band)
    no_signal = sq_asimov <= 0  # nothing to test: nothing is excluded
    cls = np.where(no_signal, 1.0, np.exp(log_clsb - log_clb))
    expected = np.where(no_signal[..., None], 1.0, expected)
    return cls, np.where(no_signal, 1.0, clsb), np.where(no_signal, 1.0, clb), expected
