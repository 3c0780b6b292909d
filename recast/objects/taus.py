"""Hadronically decaying τ leptons: the last τ before its decay, with its visible momentum."""

from __future__ import annotations

import numpy as np

from .truth import Truth


def hadronic_taus(truth: Truth) -> dict[str, np.ndarray]:
    """Every τ that decayed hadronically, as flat arrays (``index`` is the τ's global index).

    A τ decayed leptonically when an electron or muon that does not come from a hadron has it
    as nearest τ ancestor (this catches τ → W* → ℓν records and radiative decays); the
    visible momentum sums its visible final-state descendants, the prongs count the charged
    ones. ``prompt`` is False for τ from hadron decays (B → τν, D_s → τν).
    """
    flat, history = truth.flat, truth.history
    is_tau = flat.abs_pid == 15
    last = is_tau & (flat.end >= 0) & ~history.has_child(is_tau)
    owner = truth.tau_ancestor
    lepton = truth.final & np.isin(flat.abs_pid, (11, 13)) & ~truth.from_hadron & (owner >= 0)
    last[owner[lepton]] = False
    index = np.flatnonzero(last)
    # visible final-state descendants of the chosen τ, summed per τ
    product = truth.visible & (owner >= 0)
    product[product] = last[owner[product]]
    slot = np.full(flat.n_particles, -1, np.int64)
    slot[index] = np.arange(len(index))
    to = slot[owner[product]]
    n = len(index)
    sums = {
        k: np.bincount(to, weights=v[product], minlength=n)
        for k, v in (("px", flat.px), ("py", flat.py), ("pz", flat.pz), ("E", flat.energy))
    }
    charged = truth.charge[product] != 0
    return {
        "index": index,
        "event": flat.event[index],
        **sums,
        "charge": np.sign(flat.pid[index]) * -1,
        "n_prongs": np.bincount(to[charged], minlength=n),
        "prompt": ~truth.from_hadron[index],
    }
