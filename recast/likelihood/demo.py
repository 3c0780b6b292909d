"""An illustrative signal grid for the docs, benchmarks and tests: NOT a physics result.

Gluino pairs at 13 TeV with a cross-section falling like the NNLO+NNLL one (about 2.9 fb at
1.8 TeV, a factor e every 190 GeV above), and per-region efficiencies that are smooth bumps
around the masses each region targets (read from names like ``SR-Gtt-2100-1``, or a letter:
B boosted, M medium, C compressed). Real yields come from ``recast run``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..schema import CURRENT_VERSION
from .simplified import Region

_LETTER_TARGETS = {"B": (2200.0, 200.0), "M": (2000.0, 900.0), "C": (1800.0, 1300.0)}


def _target(name: str) -> tuple[float, float]:
    digits = re.search(r"-(\d{4})-(\d+)$", name)
    if digits:
        return float(digits[1]), float(digits[2])
    letter = re.search(r"-([BMC])\d?$", name)
    return _LETTER_TARGETS[letter[1]] if letter else (2000.0, 800.0)


def gluino_cross_section_fb(mass: ArrayLike) -> np.ndarray:
    return 2.93 * np.exp(-(np.asarray(mass, dtype=float) - 1800.0) / 190.0)


def gluino_grid(
    regions: Sequence[Region],
    gluino: Sequence[float],
    lsp: Sequence[float],
    *,
    luminosity_fb: float = 139.0,
    generated: int = 20_000,
    efficiency: float = 0.06,
) -> dict[str, Any]:
    """A grid document (see :mod:`.scan`) over the gluino–LSP plane, m_LSP < m_gluino − 400."""
    points = []
    for m_g in gluino:
        for m_x in lsp:
            if m_x > m_g - 400:
                continue
            total = float(gluino_cross_section_fb(m_g)) * luminosity_fb
            yields = {}
            for region in regions:
                t_g, t_x = _target(region.name)
                eff = efficiency * np.exp(
                    -0.5 * ((m_g - t_g) / 350.0) ** 2 - 0.5 * ((m_x - t_x) / 450.0) ** 2
                )
                value = total * eff
                raw = max(eff * generated, 1.0)
                yields[region.name] = {
                    "value": float(f"{value:.6g}"),
                    "mc_uncertainty": float(f"{value / np.sqrt(raw):.6g}"),
                }
            points.append({"m_gluino": float(m_g), "m_lsp": float(m_x), "yields": yields})
    return {
        "schema_version": CURRENT_VERSION,
        "description": "illustrative toy signal (recast.likelihood.demo), not a physics result",
        "parameters": ["m_gluino", "m_lsp"],
        "points": points,
    }
