"""How limits are written into JSON: bands with named members, and never a NaN.

A CLs or limit that does not exist (no signal, a limit not found) is written as ``null`` next to a
``status`` that says why; JSON has no infinity, and a NaN in a results file reads as a number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

#: names of the expected band members, in the order of :data:`.closed_form.BAND`
BAND_KEYS = ("minus2", "minus1", "median", "plus1", "plus2")


def number(value: float, digits: int = 6) -> float | None:
    """A finite float rounded to ``digits`` significant digits, or None."""
    value = float(value)
    if not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def band(values: Sequence[float], digits: int = 6) -> dict[str, float | None]:
    """{"minus2": …, "minus1": …, "median": …, "plus1": …, "plus2": …}."""
    if len(values) != len(BAND_KEYS):
        raise ValueError(f"a band has {len(BAND_KEYS)} members, not {len(values)}")
    return {key: number(v, digits) for key, v in zip(BAND_KEYS, values, strict=True)}


def observed_and_expected(observed: float, expected: Sequence[float]) -> dict[str, Any]:
    return {"observed": number(observed), "expected": band(expected)}
