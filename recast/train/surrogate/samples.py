"""Scored samples for surrogate taggers, and a synthetic detector whose score law is known.

A :class:`ScoredSample` is a chunk of events with one detector-level tagger score per object.
The synthetic detector, :class:`BetaDetector`, gives every jet a score drawn from a Beta law
whose mean μ and concentration κ depend on the jet's truth flavour, pT, |η| and ΔR to the
nearest other jet::

    logit μ = base_f · s,   s = (1 + a·tanh((pT − 60)/60)) · (1 − b·|η|/2.5) · (1 − c·exp(−(ΔR/r)²))
    κ = κ₀ · (1 + d·tanh((pT − 60)/60))
    score ~ Beta(μκ, (1 − μ)κ)

``s`` is the tagger's discriminating power: it grows with pT, falls with |η|, and collapses
when another jet is close (a b-jet then scores like a c-jet, a light jet scores higher). The
exact bin probabilities (:meth:`BetaDetector.bin_probabilities`, regularised incomplete beta
functions) and mean score are known, so a test can check a trained surrogate recovers them.

Processes (all jets within pT > 20 GeV):

- ``flavoured``: 2 + Poisson(5) jets, pT = 20 + Exp(60) GeV, |η| < 2.5, flavour b / c / light
  with probabilities 0.25 / 0.15 / 0.60 (the training process);
- ``outside``: two jets per event with pT 1.5–3 TeV and 3 < |η| < 4.5, far outside the support
  of ``flavoured``: a surrogate must flag them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import awkward as ak
import numpy as np
import vector

from ...errors import UsageError
from ..core.inputs import flat
from ..efficiency.proximity import jet_events

log = logging.getLogger(__name__)
vector.register_awkward()

#: truth flavours (PDG-like labels of the jets' ``flavour`` field) and their shares
FLAVOURS = (5, 4, 0)
FLAVOUR_SHARES = (0.25, 0.15, 0.60)
FLAVOUR_NAMES = {5: "b", 4: "c", 0: "light"}


@dataclass(frozen=True)
class BetaDetector:
    """A tagger whose score is Beta(μκ, (1 − μ)κ) distributed (see the module docstring)."""

    base: Mapping[int, float] = field(default_factory=lambda: {5: 1.8, 4: 0.2, 0: -1.6})
    pt_gain: float = 0.35
    eta_loss: float = 0.3
    close_loss: float = 0.7
    close_range: float = 0.3
    concentration: float = 6.0
    concentration_gain: float = 0.4

    def parameters(self, jets: ak.Array) -> tuple[np.ndarray, np.ndarray]:
        """Flat (α, β) of every jet; ``jets`` need ``flavour``, ``abs_eta``, ``dr_nearest``."""
        flavour = flat(jets.flavour)
        unknown = sorted(set(np.unique(flavour).astype(int)) - set(self.base))
        if unknown:
            raise UsageError(
                f"the synthetic detector knows flavours {sorted(self.base)}, not {unknown}"
            )
        base = np.zeros_like(flavour)
        for label, value in self.base.items():
            base[flavour == label] = value
        pt, abs_eta, dr = flat(jets.pt), flat(jets.abs_eta), flat(jets.dr_nearest)
        turn_on = np.tanh((pt - 60.0) / 60.0)
        power = (
            (1.0 + self.pt_gain * turn_on)
            * (1.0 - self.eta_loss * np.minimum(abs_eta, 5.0) / 2.5)
            * (1.0 - self.close_loss * np.exp(-((dr / self.close_range) ** 2)))
        )
        mean = 1.0 / (1.0 + np.exp(-base * power))
        kappa = self.concentration * (1.0 + self.concentration_gain * turn_on)
        return mean * kappa, (1.0 - mean) * kappa

    def mean_score(self, jets: ak.Array) -> np.ndarray:
        """The expected score of every jet (flat)."""
        a, b = self.parameters(jets)
        return a / (a + b)

    def bin_probabilities(self, jets: ak.Array, edges: np.ndarray) -> np.ndarray:
        """Exact probability of each score bin, ``[jets, bins]`` (edges within [0, 1])."""
        from scipy.special import betainc

        a, b = self.parameters(jets)
        cdf = betainc(a[:, None], b[:, None], np.clip(np.asarray(edges), 0.0, 1.0)[None, :])
        return np.diff(cdf, axis=1)

    def sample(self, jets: ak.Array, seed: int) -> ak.Array:
        """One score per jet (jagged like ``jets``), seeded."""
        a, b = self.parameters(jets)
        scores = np.random.default_rng(seed).beta(a, b)
        return ak.unflatten(scores, ak.num(jets, axis=1))


@dataclass(frozen=True, eq=False)
class ScoredSample:
    """Events, one detector-level score per object of ``collection`` (jagged), the field of
    the events holding their weights (None: 1), and the detector if it is known."""

    name: str
    events: ak.Array
    score: ak.Array
    collection: str = "jets"
    label: str = ""
    weight: str | None = None
    detector: BetaDetector | None = None

    @property
    def n_objects(self) -> int:
        return int(ak.sum(ak.num(self.events[self.collection], axis=1)))


def jet_sample(
    counts: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    flavour: np.ndarray,
    rng: np.random.Generator,
    seed: int,
) -> ak.Array:
    """Events of jets with the given kinematics and flavours (φ drawn from ``rng``), with
    their context added."""
    n = int(counts.sum())
    return jet_events(
        counts,
        seed,
        ["dr_nearest", "n_objects", "abs_eta", "neighbours"],
        pt=pt,
        eta=eta,
        phi=rng.uniform(-np.pi, np.pi, n),
        mass=np.zeros(n),
        flavour=flavour.astype(np.int64),
    )


def flavoured_events(n_events: int, seed: int) -> ak.Array:
    """The training process: 2 + Poisson(5) jets of mixed flavour (module docstring)."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(5, n_events) + 2
    n = int(counts.sum())
    pt = 20.0 + rng.exponential(60.0, n)
    eta = rng.uniform(-2.5, 2.5, n)
    flavour = rng.choice(np.array(FLAVOURS), size=n, p=np.array(FLAVOUR_SHARES))
    return jet_sample(counts, pt, eta, flavour, rng, seed)


def outside_events(n_events: int, seed: int) -> ak.Array:
    """Two jets per event far outside the training support: pT 1.5–3 TeV, 3 < |η| < 4.5."""
    rng = np.random.default_rng(seed)
    counts = np.full(n_events, 2)
    n = 2 * n_events
    pt = rng.uniform(1500.0, 3000.0, n)
    eta = rng.choice([-1.0, 1.0], n) * rng.uniform(3.0, 4.5, n)
    flavour = rng.choice(np.array(FLAVOURS), size=n, p=np.array(FLAVOUR_SHARES))
    return jet_sample(counts, pt, eta, flavour, rng, seed)


def scored(
    name: str,
    events: ak.Array,
    score_seed: int,
    detector: BetaDetector | None = None,
    label: str = "",
) -> ScoredSample:
    """Score every jet of ``events`` with ``detector`` (default: :class:`BetaDetector`)."""
    detector = detector or BetaDetector()
    score = detector.sample(events.jets, score_seed)
    return ScoredSample(name, events, score, "jets", label or name, None, detector)


def flavoured(
    n_events: int, seed: int, score_seed: int, detector: BetaDetector | None = None
) -> ScoredSample:
    """The training process, scored by the synthetic detector."""
    events = flavoured_events(n_events, seed)
    return scored("flavoured", events, score_seed, detector, "2 + Poisson(5) jets, b/c/light")


def outside(
    n_events: int, seed: int, score_seed: int, detector: BetaDetector | None = None
) -> ScoredSample:
    """Jets outside the training support, scored by the synthetic detector."""
    events = outside_events(n_events, seed)
    label = "pT 1.5–3 TeV, 3 < |η| < 4.5 (outside the training support)"
    return scored("outside", events, score_seed, detector, label)


#: the synthetic processes by name: (n_events, seed, score_seed) → sample
SYNTHETIC: dict[str, Callable[[int, int, int], ScoredSample]] = {
    "flavoured": flavoured,
    "outside": outside,
}


__all__ = [
    "FLAVOURS",
    "SYNTHETIC",
    "BetaDetector",
    "ScoredSample",
    "flavoured",
    "flavoured_events",
    "outside",
    "outside_events",
    "scored",
]
