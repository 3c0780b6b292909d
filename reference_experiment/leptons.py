"""The reference experiment's electrons and muons: identification, isolation, momentum scale.

Truth leptons are the prompt, dressed electrons and muons of :mod:`recast.objects`, with
their truth relative isolation ``I`` (Σ pT of visible particles within ΔR < 0.2 over the
lepton pT). All pT in GeV, evaluated at the truth pT and η.

**Electrons** (|η| < 2.47):

* identification ``ε_id = 0.88 (1 - 0.35 exp(-(pT - 7) / 15))``, × 0.60 in the calorimeter
  crack 1.37 ≤ |η| < 1.52, × 0.95 at |η| ≥ 2.0;
* isolation, for identified electrons, ``ε_iso = (0.99 - 0.09 exp(-(pT - 7) / 20)) /
  (1 + (I / 0.10)⁴)``;
* energy resolution ``σ_E / E = 0.10 / √(E / GeV) ⊕ 0.007`` (Gaussian; the direction is kept).

**Muons** (|η| < 2.7):

* identification ``ε_id = 0.96 (1 - 0.20 exp(-(pT - 7) / 10))``, × 0.70 at |η| < 0.1 (the
  gap for the services of the muon spectrometer);
* isolation ``ε_iso = (0.99 - 0.06 exp(-(pT - 7) / 20)) / (1 + (I / 0.12)⁴)``;
* ``σ_pT / pT = 0.012 ⊕ 0.00012 pT / GeV``.

A lepton outside |η|, failing identification, or below 7 GeV after smearing is lost (its truth
momentum goes to the MET soft term). An identified lepton carries ``isolated``, drawn with
probability ε_iso. Random numbers are keyed by (seed, event number, index of the lepton in its
truth collection), streams ``reference/<electrons|muons>/*``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from recast.detector.random import normals, uniforms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeptonModel:
    """Parameters of one lepton flavour (formulas in the module docstring)."""

    name: str
    max_abs_eta: float
    id_plateau: float
    id_turn_on: float
    id_scale: float
    crack_low: float
    crack_high: float
    crack_factor: float
    forward_eta: float
    forward_factor: float
    iso_plateau: float
    iso_turn_on: float
    iso_cut: float
    stochastic: float
    constant: float
    linear: float
    min_pt: float = 7.0
    iso_scale: float = 20.0
    iso_power: float = 4.0

    def id_efficiency(self, pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
        pt, abs_eta = np.asarray(pt, np.float64), np.abs(np.asarray(eta, np.float64))
        turn_on = 1.0 - self.id_turn_on * np.exp(-np.maximum(pt - self.min_pt, 0.0) / self.id_scale)
        eff = self.id_plateau * turn_on
        eff = np.where(
            (abs_eta >= self.crack_low) & (abs_eta < self.crack_high), eff * self.crack_factor, eff
        )
        eff = np.where(abs_eta >= self.forward_eta, eff * self.forward_factor, eff)
        return np.where(abs_eta < self.max_abs_eta, eff, 0.0)

    def iso_efficiency(self, pt: np.ndarray, isolation: np.ndarray) -> np.ndarray:
        pt = np.asarray(pt, np.float64)
        plateau = self.iso_plateau - self.iso_turn_on * np.exp(
            -np.maximum(pt - self.min_pt, 0.0) / self.iso_scale
        )
        ratio = np.maximum(np.asarray(isolation, np.float64), 0.0) / self.iso_cut
        with np.errstate(over="ignore"):
            return plateau / (1.0 + ratio**self.iso_power)

    def resolution(self, pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """σ/pT (= σ_E/E at fixed direction)."""
        pt = np.maximum(np.asarray(pt, np.float64), 1e-9)
        energy = pt * np.cosh(np.asarray(eta, np.float64))
        return np.sqrt(self.stochastic**2 / energy + self.constant**2 + (self.linear * pt) ** 2)


ELECTRONS = LeptonModel(
    name="electrons",
    max_abs_eta=2.47,
    id_plateau=0.88,
    id_turn_on=0.35,
    id_scale=15.0,
    crack_low=1.37,
    crack_high=1.52,
    crack_factor=0.60,
    forward_eta=2.0,
    forward_factor=0.95,
    iso_plateau=0.99,
    iso_turn_on=0.09,
    iso_cut=0.10,
    stochastic=0.10,
    constant=0.007,
    linear=0.0,
)
MUONS = LeptonModel(
    name="muons",
    max_abs_eta=2.7,
    id_plateau=0.96,
    id_turn_on=0.20,
    id_scale=10.0,
    crack_low=0.0,
    crack_high=0.1,
    crack_factor=0.70,
    forward_eta=np.inf,
    forward_factor=1.0,
    iso_plateau=0.99,
    iso_turn_on=0.06,
    iso_cut=0.12,
    stochastic=0.0,
    constant=0.012,
    linear=0.00012,
)


def reconstruct(
    model: LeptonModel,
    seed: int,
    event_number: np.ndarray,
    index: np.ndarray | int,
    pt: np.ndarray,
    eta: np.ndarray,
    isolation: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reconstructed pT, kept mask, isolated flag) of flat truth leptons."""
    stream = f"reference/{model.name}"
    identified = uniforms(seed, f"{stream}/id", event_number, index) < model.id_efficiency(pt, eta)
    isolated = uniforms(seed, f"{stream}/iso", event_number, index) < model.iso_efficiency(
        pt, isolation
    )
    sigma = model.resolution(pt, eta)
    reco_pt = pt * np.maximum(1.0 + sigma * normals(seed, f"{stream}/pt", event_number, index), 0)
    kept = identified & (reco_pt > model.min_pt)
    return reco_pt, kept, isolated & kept


__all__ = ["ELECTRONS", "MUONS", "LeptonModel", "reconstruct"]
