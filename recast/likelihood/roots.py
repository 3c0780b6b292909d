"""Vectorised bracketed root finding: one monotone function, many independent roots at once.

Upper limits are the μ where CLs(μ) crosses α, for every region, signal point and band member
at the same time; each evaluation of CLs is one array call, so the root finder advances all
roots together and never loops over them in Python.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

Function = Callable[[NDArray[np.float64], NDArray[np.bool_]], NDArray[np.float64]]


def bracket(
    func: Function,
    guess: NDArray[np.float64],
    *,
    factor: float = 1.5,
    max_steps: int = 40,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.bool_],
]:
    """Bracket the root of a decreasing ``func`` (positive at 0+) by stepping out of ``guess``.

    Returns ``lo``, ``hi``, ``func(lo)``, ``func(hi)`` and a mask of the roots bracketed; a
    root not found below ``guess·factor^max_steps`` is reported as not bracketed.
    """
    everything = np.ones(guess.shape, dtype=bool)
    f_guess = func(guess, everything)
    upwards = f_guess >= 0  # the root lies above the guess
    lo = np.where(upwards, guess, guess / factor)
    hi = np.where(upwards, guess * factor, guess)
    f_lo = np.where(upwards, f_guess, func(lo, ~upwards))
    f_hi = np.where(upwards, func(hi, upwards), f_guess)
    for _ in range(max_steps):
        up, down = f_hi >= 0, f_lo < 0
        if not (up.any() or down.any()):
            break
        lo, f_lo = np.where(up, hi, lo), np.where(up, f_hi, f_lo)
        hi, f_hi = np.where(down, lo, hi), np.where(down, f_lo, f_hi)
        hi = np.where(up, hi * factor, hi)
        lo = np.where(down, lo / factor, lo)
        if up.any():
            f_hi = np.where(up, func(hi, up), f_hi)
        if down.any():
            f_lo = np.where(down, func(lo, down), f_lo)
    return lo, hi, f_lo, f_hi, (f_lo >= 0) & (f_hi < 0)


def bracketed_root(
    func: Function,
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    f_lo: NDArray[np.float64],
    f_hi: NDArray[np.float64],
    *,
    rtol: float = 1e-5,
    max_iter: int = 100,
) -> NDArray[np.float64]:
    """Roots of ``func`` inside ``[lo, hi]`` where ``f_lo > 0 > f_hi``, by the Illinois method.

    ``func(x, active)`` must return values for every element; it may skip the work of the
    elements where ``active`` is False (their values are ignored). The Illinois variant of
    regula falsi keeps the bracket, so it converges like the secant method but never loses
    the root; a bisection step is taken whenever the interpolation stalls.
    """
    lo, hi, f_lo, f_hi = lo.copy(), hi.copy(), f_lo.copy(), f_hi.copy()
    side = np.zeros(lo.shape, dtype=np.int8)  # which end moved last: -1 low, +1 high
    active = np.ones(lo.shape, dtype=bool)
    for iteration in range(max_iter):
        width = hi - lo
        active &= width > rtol * np.maximum(np.abs(hi), 1e-12)
        if not active.any():
            break
        with np.errstate(divide="ignore", invalid="ignore"):
            x = hi - f_hi * width / (f_hi - f_lo)
        # fall back to bisection when interpolation leaves the bracket or every 8th step
        bad = ~np.isfinite(x) | (x <= lo) | (x >= hi) | (iteration % 8 == 7)
        x = np.where(bad, 0.5 * (lo + hi), x)
        f_x = func(x, active)
        go_low = active & (f_x < 0)  # root is below x: x becomes the new hi
        go_high = active & (f_x >= 0)
        hi = np.where(go_low, x, hi)
        f_hi_new = np.where(go_low, f_x, f_hi)
        lo = np.where(go_high, x, lo)
        f_lo_new = np.where(go_high, f_x, f_lo)
        # Illinois: halve the function value of the end that stayed twice in a row
        f_lo_new = np.where(go_low & (side == 1), f_lo_new * 0.5, f_lo_new)
        f_hi_new = np.where(go_high & (side == -1), f_hi_new * 0.5, f_hi_new)
        side = np.where(go_low, 1, np.where(go_high, -1, side)).astype(np.int8)
        f_lo, f_hi = f_lo_new, f_hi_new
    else:
        log.debug("root finding stopped after %d iterations", max_iter)
    # the root lies in [lo, hi]; interpolate once more within the final bracket
    with np.errstate(divide="ignore", invalid="ignore"):
        x = hi - f_hi * (hi - lo) / (f_hi - f_lo)
    return np.where(np.isfinite(x) & (x >= lo) & (x <= hi), x, 0.5 * (lo + hi))
