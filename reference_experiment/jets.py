"""The reference experiment's jet energy response and resolution (the truth of the closure).

A truth jet (pT, η, flavour) becomes a reconstructed jet whose four-momentum is the truth one
scaled by a response r at fixed direction, then moved in η and φ. All in GeV.

* **Mean response** ``μ(pT, η) = 0.98 - 0.10 exp(-pT / 35 GeV) + 0.02 (|η| / 4.5)²``, and
  0.02 lower for jets with a b-hadron (semileptonic decays lose a neutrino).
* **Core resolution** ``σ / pT = N(η)/pT ⊕ S(η)/√pT ⊕ C`` (⊕: in quadrature) with
  ``N = 3.0 GeV (1 + 0.25 |η|)``, ``S = 0.75 √GeV (1 + 0.10 |η|)``, ``C = 0.04``.
* **Response** ``r``: with probability ``1 - p`` the Gaussian core ``μ + σ z``; with
  probability ``p`` a low-side tail ``μ - σ (1 + E)``, E exponential of mean λ = 2 (energy
  lost in dead material, punch-through, neutrinos). ``p = 0.03``, or ``0.10`` for jets with a
  b-hadron. r is clipped at 0. Hence, where the clip does not bite, the mean response is
  ``μ - p σ (1 + λ)`` and its variance ``(1 - p) σ² + p σ² λ² + p (1 - p) σ² (1 + λ)²``;
  :meth:`JetModel.expected_moments` gives the exact moments, clip included.
* **Direction**: η and φ each move by a Gaussian of width ``0.01 ⊕ 0.6 GeV / pT``.
* **Acceptance**: reconstructed pT > 20 GeV and |η| < 4.5; other jets are lost (their truth
  momentum goes into the MET soft term, see :mod:`reference_experiment.met`).

Random numbers are counter-based, keyed by (seed, event number, index of the jet in its
truth collection), streams ``reference/jets/*``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from recast.angles import wrap_phi
from recast.detector.random import normals, uniforms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JetModel:
    """Parameters of the jet response (formulas in the module docstring)."""

    plateau: float = 0.98
    low_pt_loss: float = 0.10
    low_pt_scale: float = 35.0
    eta_rise: float = 0.02
    b_shift: float = 0.02
    noise: float = 3.0
    noise_eta: float = 0.25
    stochastic: float = 0.75
    stochastic_eta: float = 0.10
    constant: float = 0.04
    tail_probability: float = 0.03
    tail_probability_b: float = 0.10
    tail_mean: float = 2.0
    angle_constant: float = 0.01
    angle_noise: float = 0.6
    min_pt: float = 20.0
    max_abs_eta: float = 4.5

    def mean_response(self, pt: np.ndarray, eta: np.ndarray, has_b: np.ndarray) -> np.ndarray:
        """μ(pT, η), lowered for jets with a b-hadron."""
        abs_eta = np.abs(eta)
        mu = self.plateau - self.low_pt_loss * np.exp(-np.asarray(pt) / self.low_pt_scale)
        return mu + self.eta_rise * (abs_eta / 4.5) ** 2 - self.b_shift * np.asarray(has_b)

    def resolution(self, pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """σ/pT of the Gaussian core."""
        pt = np.maximum(np.asarray(pt, dtype=np.float64), 1e-9)
        abs_eta = np.abs(eta)
        n = self.noise * (1 + self.noise_eta * abs_eta) / pt
        s = self.stochastic * (1 + self.stochastic_eta * abs_eta) / np.sqrt(pt)
        return np.sqrt(n * n + s * s + self.constant**2)

    def tail_fraction(self, has_b: np.ndarray) -> np.ndarray:
        return np.where(has_b, self.tail_probability_b, self.tail_probability)

    def expected_moments(
        self, pt: np.ndarray, eta: np.ndarray, has_b: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The exact mean and standard deviation of r, clip at 0 included."""
        mu, sigma = self.mean_response(pt, eta, has_b), self.resolution(pt, eta)
        p, lam = self.tail_fraction(has_b), self.tail_mean
        # core: max(X, 0) with X ~ N(μ, σ)
        t = mu / sigma
        cdf, pdf = ndtr(t), np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi)
        core_1 = mu * cdf + sigma * pdf
        core_2 = (mu * mu + sigma * sigma) * cdf + mu * sigma * pdf
        # tail: σ·max(a - E, 0) with a = (μ - σ)/σ and E exponential of mean λ
        a = np.maximum(mu - sigma, 0.0) / sigma
        left = np.exp(-a / lam)
        tail_1 = sigma * (a - lam * (1.0 - left))
        tail_2 = sigma**2 * (a * a - 2.0 * lam * a + 2.0 * lam * lam * (1.0 - left))
        mean = (1 - p) * core_1 + p * tail_1
        second = (1 - p) * core_2 + p * tail_2
        return mean, np.sqrt(np.maximum(second - mean * mean, 0.0))

    def angle_resolution(self, pt: np.ndarray) -> np.ndarray:
        return np.hypot(self.angle_constant, self.angle_noise / np.maximum(pt, 1e-9))


def respond(
    model: JetModel,
    seed: int,
    event_number: np.ndarray,
    index: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    has_b: np.ndarray,
) -> np.ndarray:
    """One response r per jet (truth pT, η), keyed by (seed, event number, jet index)."""
    mu, sigma = model.mean_response(pt, eta, has_b), model.resolution(pt, eta)
    z = normals(seed, "reference/jets/core", event_number, index)
    in_tail = uniforms(seed, "reference/jets/tail", event_number, index) < model.tail_fraction(
        has_b
    )
    size = -model.tail_mean * np.log1p(
        -uniforms(seed, "reference/jets/tail_size", event_number, index)
    )
    r = np.where(in_tail, mu - sigma * (1.0 + size), mu + sigma * z)
    return np.maximum(r, 0.0)


def reconstruct(
    model: JetModel,
    seed: int,
    event_number: np.ndarray,
    index: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    mass: np.ndarray,
    has_b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reconstructed (pt, eta, phi, mass) and the acceptance mask of flat truth jets."""
    r = respond(model, seed, event_number, index, pt, eta, has_b)
    angle = model.angle_resolution(pt)
    reco_eta = eta + angle * normals(seed, "reference/jets/eta", event_number, index)
    reco_phi = wrap_phi(phi + angle * normals(seed, "reference/jets/phi", event_number, index))
    reco_pt = pt * r
    accepted = (reco_pt > model.min_pt) & (np.abs(reco_eta) < model.max_abs_eta)
    return reco_pt, reco_eta, reco_phi, mass * r, accepted


__all__ = ["JetModel", "reconstruct", "respond"]
