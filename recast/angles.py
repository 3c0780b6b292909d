"""Azimuthal angles: the one φ convention of the package.

φ lives in (−π, π]: −π itself is written π, and an angle already inside the range is returned
bit for bit. Δφ is signed, the wrapped difference ``a − b`` (the turn from ``b`` to ``a``); where
only its size matters, take ``abs(delta_phi(a, b))``, in [0, π].

The two functions round differently, by at most one unit in the last place, where a turn is
removed: :func:`wrap_phi` as ``π − ((π − φ) mod 2π)``, good for angles of any size (a smeared φ,
an atan2 result), and :func:`delta_phi` as ``d − 2π·round(d / 2π)``, which is exact for the
difference of two wrapped angles (|d| < 2π). Each is the formula its callers used before the
angles had one home, so smeared objects and context variables stay bit-identical.

Both take numpy arrays, scalars or awkward arrays of any nesting and return the same kind; NaN
stays NaN. Cards that expect [0, 2π) are converted by the input builder, not here.

>>> wrap_phi(np.array([-np.pi, 4.0]))                                  # doctest: +SKIP
array([ 3.14159265, -2.28318531])
>>> delta_phi(np.array([3.0]), np.array([-3.0]))                       # doctest: +SKIP
array([-0.28318531])
"""

from __future__ import annotations

import logging
from typing import TypeVar

import awkward as ak
import numpy as np

log = logging.getLogger(__name__)

#: what both functions accept: a numpy array or an awkward array (jagged or flat)
Angles = TypeVar("Angles", np.ndarray, ak.Array)

_TWO_PI = 2.0 * np.pi
_PER_TURN = 0.5 / np.pi


def wrap_phi(phi: Angles) -> Angles:
    """``phi`` wrapped to (−π, π]; values already inside are returned bit for bit."""
    if not isinstance(phi, ak.Array):
        phi = np.asarray(phi, dtype=np.float64)
    outside = (phi > np.pi) | (phi <= -np.pi)
    return _fold(np.where(outside, np.pi - np.mod(np.pi - phi, _TWO_PI), phi))


def delta_phi(a: Angles, b: Angles) -> Angles:
    """The signed difference ``a − b`` wrapped to (−π, π]; ``abs()`` of it is in [0, π]."""
    d = a - b
    if not isinstance(d, ak.Array):
        d = np.asarray(d, dtype=np.float64)
    return _fold(d - _TWO_PI * np.round(d * _PER_TURN))


def _fold(phi: Angles) -> Angles:
    """Onto (−π, π] what one rounding left on the far side of ±π (round-half-even, mod's sum)."""
    phi = np.where(phi > np.pi, phi - _TWO_PI, phi)
    return np.where(phi <= -np.pi, phi + _TWO_PI, phi)


__all__ = ["Angles", "delta_phi", "wrap_phi"]
