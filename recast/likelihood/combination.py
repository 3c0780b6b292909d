"""Independent regions fitted together, without a minimiser: asymptotic CLs and limits.

Regions that share no events multiply their likelihoods; each keeps its own background
nuisance (:mod:`.closed_form`). For a fixed μ every nuisance is profiled in closed form, region
by region; the free fit is one-dimensional, the root of
dℓ/dμ = Σ_r s_r·(n_r/λ_r − 1) (the nuisances drop out, by the envelope theorem), which lies
in [0, Σn/Σs]. That is the same model pyhf builds from :func:`.simplified.combined_workspace`
(without signal uncertainty), at a thousandth of the cost, vectorised over signal points.
Asymptotic formulae only: with few events per region (:func:`asymptotics_hold`), the
one-region exact results stand.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..errors import UsageError
from .closed_form import background, cls_from_qtilde, log_likelihood, profile
from .counting import ASYMPTOTIC_MIN_COUNT, CountingModel
from .roots import bracket, bracketed_root

Array = NDArray[np.float64]


def _loglik(entries: dict[str, Array], mu: Array, constraint: str) -> Array:
    """Σ_r log L_r with every nuisance profiled at signal strength ``mu`` (shape (P,))."""
    e = entries
    signal = mu[:, None] * e["signal"]
    nu = profile(e["n"], e["a"], signal, e["b0"], e["width"], constraint)
    return log_likelihood(e["n"], e["a"], signal, nu, e["b0"], e["width"], constraint).sum(axis=1)


def _slope(entries: dict[str, Array], mu: Array, constraint: str) -> Array:
    e = entries
    signal = mu[:, None] * e["signal"]
    nu = profile(e["n"], e["a"], signal, e["b0"], e["width"], constraint)
    lam = signal + background(nu, e["b0"], e["width"], constraint)
    return (e["signal"] * (e["n"] / np.maximum(lam, 1e-300) - 1.0)).sum(axis=1)


def _free_fit(entries: dict[str, Array], constraint: str) -> Array:
    """μ̂ ≥ 0 of every point."""
    count = entries["n"].shape[0]
    mu_hat = np.zeros(count)
    rising = _slope(entries, mu_hat, constraint) > 0
    if rising.any():
        part = {k: v[rising] for k, v in entries.items()}
        hi = part["n"].sum(axis=1) / part["signal"].sum(axis=1) + 1e-9

        def slope(mu: Array, active: NDArray[np.bool_]) -> Array:
            return _slope(part, np.where(active, mu, hi), constraint)

        lo = np.zeros_like(hi)
        mu_hat[rising] = bracketed_root(
            slope, lo, hi, slope(lo, lo >= 0), slope(hi, hi > 0), rtol=1e-10
        )
    return mu_hat


def _qtilde(entries: dict[str, Array], mu: Array, constraint: str) -> Array:
    mu_hat = _free_fit(entries, constraint)
    q = 2.0 * (_loglik(entries, mu_hat, constraint) - _loglik(entries, mu, constraint))
    return np.where(mu_hat > mu, 0.0, np.maximum(q, 0.0))


def _entries(models: list[CountingModel], mu: Array) -> dict[str, Array]:
    """Arrays of shape (points, regions) from one model per region (each with P points)."""
    parts = [m.entries(mu) for m in models]
    return {
        "n": np.stack([p.n_obs for p in parts], axis=1),
        "a": np.stack([p.a_obs for p in parts], axis=1),
        "signal": np.stack([m.signal for m in models], axis=1),
        "b0": np.stack([p.b0 for p in parts], axis=1),
        "width": np.stack([p.width for p in parts], axis=1),
    }


def asymptotics_hold(models: list[CountingModel]) -> NDArray[np.bool_]:
    """Per point: every region with signal has counts large enough for asymptotic formulae.

    Where they do not, a combination is still computed and reported, but a verdict should
    rest on the exact one-region result instead: asymptotics exclude too much at low counts
    (an empty region gives S95 ≈ 2.2 instead of 3.0).
    """
    holds = np.ones(len(models[0]), dtype=bool)
    for m in models:
        high = (m.observed >= ASYMPTOTIC_MIN_COUNT) & (m.background >= ASYMPTOTIC_MIN_COUNT)
        holds &= high | (m.signal <= 0)
    return holds


def combined_cls(models: list[CountingModel], mu: float | Array = 1.0) -> tuple[Array, Array]:
    """Observed CLs (P,) and expected band (P, 5) of regions fitted together.

    ``models`` holds one :class:`CountingModel` per region, each with the same P signal points.
    """
    if not models or len({len(m) for m in models}) != 1:
        raise UsageError("combined_cls needs one model per region, all with the same points")
    constraint = models[0].constraint
    mu_values = np.broadcast_to(np.asarray(mu, dtype=np.float64), (len(models[0]),)).copy()
    entries = _entries(models, mu_values)
    q_obs = _qtilde(entries, mu_values, constraint)
    nu0 = profile(entries["n"], entries["a"], 0.0, entries["b0"], entries["width"], constraint)
    asimov = dict(entries, n=background(nu0, entries["b0"], entries["width"], constraint), a=nu0)
    q_asimov = _qtilde(asimov, mu_values, constraint)
    cls, _, _, expected = cls_from_qtilde(q_obs, q_asimov)
    return cls, expected


def combined_upper_limits(
    models: list[CountingModel], *, alpha: float = 0.05, rtol: float = 1e-4
) -> tuple[Array, Array]:
    """Upper limits on μ, observed (P,) and expected band (P, 5), of regions fitted together."""
    size = len(models[0])
    out = np.full((size, 6), np.inf)
    has_signal = np.stack([m.signal for m in models], axis=1).sum(axis=1) > 0
    if not has_signal.any():
        return out[:, 0], out[:, 1:]
    kept = [m.take(has_signal) for m in models]
    count = int(has_signal.sum())
    for curve in range(6):  # observed, then each band member

        def excess(mu: Array, active: NDArray[np.bool_], curve: int = curve) -> Array:
            values = np.zeros(count)
            rows = np.flatnonzero(active)
            if rows.size:
                cls, expected = combined_cls([m.take(rows) for m in kept], mu[rows])
                chosen = cls if curve == 0 else expected[:, curve - 1]
                values[rows] = np.log(np.maximum(chosen, 1e-300)) - np.log(alpha)
            return values

        signal = np.stack([m.signal for m in kept], axis=1).sum(axis=1)
        background_sum = np.stack([m.background for m in kept], axis=1).sum(axis=1)
        guess = (2.0 + 2.0 * np.sqrt(background_sum + 1.0)) / signal
        lo, hi, f_lo, f_hi, found = bracket(excess, guess)
        roots = bracketed_root(excess, lo, hi, f_lo, f_hi, rtol=rtol)
        out[has_signal, curve] = np.where(found, roots, np.inf)
    return out[:, 0], out[:, 1:]
