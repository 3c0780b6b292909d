"""Tagged samples for training and closure, and the two synthetic processes of the study.

A :class:`TaggedSample` is a chunk of events with one tag decision per object and, for
synthetic samples, the true efficiency each tag was drawn from. The processes share the true
efficiency of :mod:`recast.train.efficiency.proximity`, ε = ε_f(pT, |η|) · Π_j f(ΔR_ij):

- ``proximity``: 2 + Poisson(5) jets spread over the detector (a W/Z+jets-like sample, the
  training process; :func:`recast.train.efficiency.proximity.proximity_sample`);
- ``boosted_pair``: exactly two jets, the decay products of a boosted light scalar
  (m = 40 GeV, pT = 150 + Exp(150) GeV), so ΔR ≈ 2m/pT is small: the alternative process of
  arXiv:2004.02665, which a map trained on ``proximity`` has to generalise to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np
import vector

from ...detector.tagging import sample_decisions
from .proximity import jet_events, proximity_sample, true_efficiency

log = logging.getLogger(__name__)
vector.register_awkward()

#: mass of the boosted scalar (GeV) and the jets' acceptance
SCALAR_MASS = 40.0
MIN_PT, MAX_ABS_ETA = 20.0, 2.5


@dataclass(frozen=True, eq=False)
class TaggedSample:
    """Events, one tag per object of ``collection`` (jagged), the true ε if known, and the
    field of the events holding their weights (None: every event weighs 1)."""

    name: str
    events: ak.Array
    tagged: ak.Array
    truth: ak.Array | None = None
    collection: str = "jets"
    label: str = ""
    weight: str | None = None

    @property
    def n_objects(self) -> int:
        return int(ak.sum(ak.num(self.events[self.collection], axis=1)))


def tag(
    name: str,
    events: ak.Array,
    efficiency: ak.Array,
    seed: int,
    stream: str = "btag",
    label: str = "",
) -> TaggedSample:
    """Sample one decision per jet from ``efficiency`` (keyed by event number: reproducible)."""
    tagged = sample_decisions(events, efficiency, seed=seed, stream=stream)
    return TaggedSample(name, events, tagged, efficiency, "jets", label or name)


def proximity(n_events: int, seed: int, tag_seed: int) -> TaggedSample:
    """The training process: 2 + Poisson(5) jets per event (see the module docstring)."""
    events, efficiency = proximity_sample(n_events, seed)
    return tag("proximity", events, efficiency, tag_seed, label="2 + Poisson(5) jets")


def _four_momenta(components: dict[str, np.ndarray]) -> Any:
    """A ``vector`` array of four-momenta (its stubs omit the Lorentz methods, e.g. boosts)."""
    return vector.array(components)


def boosted_pair_events(n_events: int, seed: int) -> ak.Array:
    """Events of exactly two jets from S → b b̄ with S boosted; both jets in the acceptance.

    Decays are isotropic in the scalar's rest frame; events with a jet outside the acceptance
    are replaced by generating more, so exactly ``n_events`` are returned.
    """
    rng = np.random.default_rng(seed)
    kept: list[np.ndarray] = []  # per batch: [2, 3 (pt, eta, phi), events]
    have = 0
    while have < n_events:
        n = 2 * (n_events - have) + 16
        parent = vector.array(
            {
                "pt": 150.0 + rng.exponential(150.0, n),
                "eta": rng.uniform(-2.0, 2.0, n),
                "phi": rng.uniform(-np.pi, np.pi, n),
                "mass": np.full(n, SCALAR_MASS),
            }
        )
        cos_theta, azimuth = rng.uniform(-1.0, 1.0, n), rng.uniform(-np.pi, np.pi, n)
        p, sin_theta = SCALAR_MASS / 2, np.sqrt(1 - cos_theta**2)
        momentum = p * np.stack(
            [sin_theta * np.cos(azimuth), sin_theta * np.sin(azimuth), cos_theta]
        )
        daughters = [
            _four_momenta(
                {
                    "px": s * momentum[0],
                    "py": s * momentum[1],
                    "pz": s * momentum[2],
                    "E": np.full(n, p),
                }
            ).boost_p4(parent)
            for s in (1.0, -1.0)
        ]
        ok = np.ones(n, dtype=bool)
        for b in daughters:
            ok &= (b.pt > MIN_PT) & (np.abs(b.eta) < MAX_ABS_ETA)
        ok[np.flatnonzero(ok)[n_events - have :]] = False  # no more than needed
        kept.append(np.array([[b.pt[ok], b.eta[ok], b.phi[ok]] for b in daughters]))
        have += int(ok.sum())
    pair = np.concatenate(kept, axis=2)
    # leading jet first, as a jet algorithm orders them
    swap = pair[1, 0] > pair[0, 0]
    pair[:, :, swap] = pair[::-1, :, swap]
    fields = {name: pair[:, k].T.reshape(-1) for k, name in enumerate(("pt", "eta", "phi"))}
    return jet_events(
        np.full(n_events, 2),
        seed,
        ["dr_nearest", "abs_eta", "neighbours"],
        **fields,
        mass=np.zeros(2 * n_events),
        flavour=np.full(2 * n_events, 5),
    )


def boosted_pair(n_events: int, seed: int, tag_seed: int) -> TaggedSample:
    """The alternative process: two close jets from a boosted scalar."""
    events = boosted_pair_events(n_events, seed)
    label = f"S({SCALAR_MASS:g} GeV) → b b̄, two close jets"
    return tag("boosted_pair", events, true_efficiency(events.jets), tag_seed, label=label)


#: the synthetic processes by name: (n_events, seed, tag_seed) → sample
SYNTHETIC: dict[str, Callable[[int, int, int], TaggedSample]] = {
    "proximity": proximity,
    "boosted_pair": boosted_pair,
}


__all__ = ["SYNTHETIC", "TaggedSample", "boosted_pair", "proximity", "tag"]
