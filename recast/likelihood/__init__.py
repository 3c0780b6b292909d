"""Likelihoods and limits: one-bin counting models, simplified and full pyhf likelihoods, scans.

The modules, from the smallest to the largest model:

* :mod:`.counting` — CLs and upper limits of one-bin models, vectorised; asymptotic, exact
  (the sampling distribution of q̃_μ computed, not sampled) or toys, chosen per region;
* :mod:`.simplified` — region tables (observed, background ± uncertainty), S95, signal yields;
* :mod:`.workspace` and :mod:`.fits` — pyhf workspaces, signal patches, fits that retry;
* :mod:`.limits` — the ``limits`` of a results document, and the three ``recast limits`` forms;
* :mod:`.scan` — many signal points in parallel with Dask, a table and an exclusion plot.
"""

from __future__ import annotations

from .counting import CountingModel, cls, s95, upper_limits
from .limits import compute_limits, limits_for_regions, limits_for_results, limits_for_workspace

__all__ = [
    "CountingModel",
    "cls",
    "compute_limits",
    "limits_for_regions",
    "limits_for_results",
    "limits_for_workspace",
    "s95",
    "upper_limits",
]
