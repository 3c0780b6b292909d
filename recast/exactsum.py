"""Exact sums of float64 arrays, so that Σw does not depend on chunking or on workers.

Floating-point addition is not associative: summing a sample in chunks of 7 or over two
workers gives a Σw that differs from the serial one in the last bits. Here a sum is an exact
integer multiple of 2⁻¹¹²⁶ (every finite double is one), accumulated as a Python int, and
rounded to a double once, when it is read. Summing a chunk is columnar: each value is split
into its 53-bit integer mantissa and its exponent, and mantissas sharing an exponent are added
in float64, which is exact while partial sums stay below 2⁵³.

>>> total = exact_sum(np.array([1e16, 1.0, -1e16]))
>>> to_float(total)
1.0
"""

from __future__ import annotations

import numpy as np

#: 2**-SCALE_BITS divides every finite double: subnormals are multiples of 2**-1074, and the
#: 53-bit mantissa of the smallest exponent reaches down to 2**-1126
SCALE_BITS = 1126
_HALF = 26  # mantissas are added in two halves of at most 27 bits (exact up to 2**26 values)
_MASK = (1 << _HALF) - 1


def exact_sum(values: np.ndarray) -> int:
    """Σ values exactly, as an integer in units of 2⁻¹¹²⁶; NaN or infinities raise."""
    x = np.asarray(values, dtype=np.float64).ravel()
    x = x[x != 0.0]
    if not len(x):
        return 0
    if not np.isfinite(x).all():
        raise ValueError("cannot sum NaN or infinite values exactly")
    mantissa, exponent = np.frexp(x)
    integer = np.ldexp(mantissa, 53).astype(np.int64)  # exact: |integer| < 2**53
    shift = exponent.astype(np.int64) + (SCALE_BITS - 53)  # x = integer * 2**(shift - SCALE)
    shifts, group = np.unique(shift, return_inverse=True)
    high = np.bincount(group, weights=(integer >> _HALF).astype(np.float64))
    low = np.bincount(group, weights=(integer & _MASK).astype(np.float64))
    total = 0
    for s, h, lo in zip(shifts.tolist(), high.tolist(), low.tolist(), strict=True):
        total += (int(h) << (s + _HALF)) + (int(lo) << s)
    return total


def to_float(total: int) -> float:
    """The double nearest to an exact sum (Python's int division rounds correctly)."""
    return total / (1 << SCALE_BITS)


__all__ = ["SCALE_BITS", "exact_sum", "to_float"]
