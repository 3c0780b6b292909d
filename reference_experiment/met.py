"""The reference experiment's missing transverse momentum, rebuilt from reconstructed objects.

Per event, with vectors in the transverse plane (GeV):

* the **hard term** is the vector sum of the reconstructed jets and leptons that were kept;
* the **truth soft term** is everything visible that those objects do not account for:
  ``S_true = V - Σ (truth momenta of the kept jets and leptons)``, V the vector sum of all
  visible truth particles (``-met_visible`` of :mod:`recast.objects`). Lost jets and leptons
  and unclustered particles end up here;
* the **reconstructed soft term** ``S = 0.7 S_true + (n_x, n_y)``: a track-based soft term
  sees 70 % of it, and each component gets an independent Gaussian of width 6 GeV;
* ``MET = -(Σ reconstructed jets + Σ reconstructed leptons + S)``.

So MET closes exactly on the objects it is built from (the record keeps ``met_soft``), and with
a perfect detector (responses 1, nothing lost, soft response 1, no noise) MET equals the truth
``met_visible``. Random numbers: stream ``reference/met/soft``, keyed by event number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from recast.detector.random import normals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SoftTermModel:
    """Response of the soft term and the width (GeV) of the noise on each component."""

    response: float = 0.7
    noise: float = 6.0


def per_event_sum(owner: np.ndarray, values: np.ndarray, n_events: int) -> np.ndarray:
    return np.bincount(owner, weights=values, minlength=n_events)


def soft_term(
    model: SoftTermModel,
    seed: int,
    event_number: np.ndarray,
    true_x: np.ndarray,
    true_y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The reconstructed soft term's (x, y) from the truth soft term's."""
    zero = np.zeros(len(event_number), dtype=np.int64)
    nx = normals(seed, "reference/met/soft", event_number, zero)
    ny = normals(seed, "reference/met/soft", event_number, zero + 1)
    return model.response * true_x + model.noise * nx, model.response * true_y + model.noise * ny


__all__ = ["SoftTermModel", "per_event_sum", "soft_term"]
