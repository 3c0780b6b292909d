"""Missing transverse momentum, as ``Momentum2D`` records (pt, phi; px and py by ``vector``)."""

from __future__ import annotations

import awkward as ak
import numpy as np
import vector

from ..angles import wrap_phi
from .kinematics import FlatChunk

vector.register_awkward()


def transverse_sum(flat: FlatChunk, mask: np.ndarray, sign: float = 1.0) -> ak.Array:
    """``sign`` × the vector sum of the transverse momenta of the ``mask`` particles, per event."""
    event = flat.event[mask]
    px = sign * np.bincount(event, weights=flat.px[mask], minlength=flat.n_events)
    py = sign * np.bincount(event, weights=flat.py[mask], minlength=flat.n_events)
    return ak.zip(
        {"pt": np.hypot(px, py), "phi": wrap_phi(np.arctan2(py, px))}, with_name="Momentum2D"
    )
