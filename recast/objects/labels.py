"""Truth flavour labels of jets, with HadronConeExclTruthLabelID semantics.

A jet is labelled 5 if at least one weakly-decaying b-hadron is matched to it, else 4 for a
c-hadron, else 15 for a hadronically decaying τ, else 0. "Weakly decaying" means the last
hadron of its flavour in a chain: a b-hadron with no b-hadron child (B* → B γ and B⁰ → B̄⁰
mixing records count once). Each labelling particle is matched to one jet at most: the closest
within ``flavour_dr`` of the jet axis ("cone"), or the jet that absorbs it as a ghost ("ghost").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from . import pdg
from .config import ObjectConfig
from .kinematics import closest_per_group, delta_r, event_pairs, kinematics
from .truth import Truth

log = logging.getLogger(__name__)

B, C, TAU, LIGHT = 5, 4, 15, 0
#: ghosts carry the direction of their particle and a negligible momentum
GHOST_SCALE = 1e-20


@dataclass
class Sources:
    """The particles that can label jets, flat and sorted by event."""

    event: np.ndarray
    kind: np.ndarray  # 5, 4 or 15
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    energy: np.ndarray

    def ghost_momenta(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return tuple(m * GHOST_SCALE for m in (self.px, self.py, self.pz, self.energy))  # type: ignore[return-value]


def label_sources(truth: Truth, taus: dict[str, np.ndarray], config: ObjectConfig) -> Sources:
    """Weakly-decaying b- and c-hadrons and hadronic τ (visible momentum) above threshold."""
    flat, history = truth.flat, truth.history
    pt = flat.pt_eta_phi_mass[0]
    parts = []
    for kind, rule in ((B, pdg.is_b_hadron), (C, pdg.is_c_hadron)):
        flavoured = truth.by_pid(rule)
        weak = flavoured & ~history.has_child(flavoured) & (pt > config.flavour_hadron_min_pt)
        i = np.flatnonzero(weak)
        parts.append((kind, flat.event[i], flat.px[i], flat.py[i], flat.pz[i], flat.energy[i]))
    tau_pt = np.hypot(taus["px"], taus["py"])
    t = tau_pt > config.flavour_tau_min_pt
    parts.append((TAU, taus["event"][t], taus["px"][t], taus["py"][t], taus["pz"][t], taus["E"][t]))
    event = np.concatenate([p[1] for p in parts])
    order = np.argsort(event, kind="stable")
    kinds = np.concatenate([np.full(len(p[1]), p[0], np.int64) for p in parts])
    columns = [np.concatenate([p[k] for p in parts])[order] for k in range(2, 6)]
    return Sources(event[order], kinds[order], *columns)


def cone_match(
    sources: Sources,
    jet_event: np.ndarray,
    jet_eta: np.ndarray,
    jet_phi: np.ndarray,
    dr: float,
    n_events: int,
) -> np.ndarray:
    """For each source, the closest jet (position) within ``dr`` of its axis, or -1."""
    _, eta, phi, _ = kinematics(sources.px, sources.py, sources.pz, sources.energy)
    i_source, i_jet = event_pairs(sources.event, jet_event, n_events)
    distance = delta_r(eta[i_source], phi[i_source], jet_eta[i_jet], jet_phi[i_jet])
    near = distance < dr
    i_source, i_jet, distance = i_source[near], i_jet[near], distance[near]
    best = closest_per_group(i_source, distance)
    matched = np.full(len(sources.event), -1, np.int64)
    matched[i_source[best]] = i_jet[best]
    return matched


def jet_labels(sources: Sources, matched_jet: np.ndarray, n_jets: int) -> dict[str, np.ndarray]:
    """Per jet: ``flavour`` (5, 4, 15, 0), ``n_bhadrons``, ``n_chadrons``, ``n_taus``."""
    counts = {}
    for name, kind in (("n_bhadrons", B), ("n_chadrons", C), ("n_taus", TAU)):
        use = (sources.kind == kind) & (matched_jet >= 0)
        counts[name] = np.bincount(matched_jet[use], minlength=n_jets).astype(np.int32)
    flavour = np.select(
        [counts["n_bhadrons"] > 0, counts["n_chadrons"] > 0, counts["n_taus"] > 0],
        [B, C, TAU],
        LIGHT,
    ).astype(np.int32)
    return {"flavour": flavour, **counts}
