"""Cross-sections written with a unit: ``12.3fb``, ``0.046pb``, ``1.2e-3 nb`` (a base module)."""

from __future__ import annotations

import math

from ..arguments import given
from ..errors import UsageError

#: pb per unit
CROSS_SECTION_UNITS = {"ab": 1e-6, "fb": 1e-3, "pb": 1.0, "nb": 1e3, "ub": 1e6, "mb": 1e9}


def parse_cross_section(text: str) -> float:
    """``12.3fb``, ``0.046pb``, ``1.2e-3 nb`` → pb.

    >>> parse_cross_section("12.3 fb")
    0.0123
    """
    stripped = str(text).strip().lower().replace(" ", "")
    for unit, factor in CROSS_SECTION_UNITS.items():
        if stripped.endswith(unit):
            try:
                value = float(stripped[: -len(unit)])
            except ValueError:
                break
            if not math.isfinite(value) or value <= 0:
                break
            return value * factor
    raise UsageError(
        f"{given('xsec', text, quoted=True)}: expected a positive number with a unit, e.g. 12.3fb "
        f"(units: {', '.join(CROSS_SECTION_UNITS)})"
    )


__all__ = ["CROSS_SECTION_UNITS", "parse_cross_section"]
