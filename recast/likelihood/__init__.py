"""Likelihoods and limits: one-bin counting models, simplified and full pyhf likelihoods, scans.

This layer knows no event code and no bundle: likelihoods and yields in, limits out (the
bundle-aware forms are in :mod:`recast.pipeline.limits`). The modules, from the smallest to
the largest model:

* :mod:`.counting` — CLs and upper limits of one-bin models, vectorised; asymptotic, exact
  (the sampling distribution of q̃_μ computed, not sampled) or toys, chosen per region;
* :mod:`.simplified` — region tables (observed, background ± uncertainty), S95, signal yields;
* :mod:`.workspace` and :mod:`.fits` — pyhf workspaces, signal patches, fits that retry;
* :mod:`.limits` — the ``limits`` of yields under a likelihood, and two ``recast limits`` forms;
* :mod:`.scan` — many signal points in chunks on an executor: the table of a scan.
"""

from __future__ import annotations

from .counting import CountingModel, cls, s95, upper_limits
from .limits import compute_limits, limits_for_regions, limits_for_workspace
from .spec import LikelihoodSpec, load_likelihood

__all__ = [
    "CountingModel",
    "LikelihoodSpec",
    "cls",
    "compute_limits",
    "limits_for_regions",
    "limits_for_workspace",
    "load_likelihood",
    "s95",
    "upper_limits",
]
