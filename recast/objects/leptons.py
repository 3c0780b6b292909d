"""Prompt electrons, muons and photons: dressing and isolation.

Prompt means no hadron among the ancestors (:attr:`Truth.from_hadron`): leptons from W, Z,
τ and BSM decays are prompt, those from B/D decays, J/ψ, π⁰ Dalitz decays are not. Leptons
from τ decays are prompt and carry ``from_tau = True``
(``ObjectConfig.leptons_from_tau = False`` drops them).
"""

from __future__ import annotations

import logging

import numpy as np

from .config import ObjectConfig
from .kinematics import closest_per_group, delta_r, event_pairs, kinematics
from .truth import Truth

log = logging.getLogger(__name__)

ELECTRON, MUON, PHOTON = 11, 13, 22


def _window(
    pt: np.ndarray, eta: np.ndarray, min_pt: float, max_abs_eta: float | None
) -> np.ndarray:
    keep = pt >= min_pt
    if max_abs_eta is not None:
        keep &= np.abs(eta) < max_abs_eta
    return keep


def isolation(
    truth: Truth,
    event: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    owner: np.ndarray,
    dr: float | np.ndarray,
    counted: np.ndarray | None = None,
) -> np.ndarray:
    """Σ pT of visible final-state particles within ``dr`` of each object, over its pT.

    ``owner[i]`` is the object (position) particle ``i`` belongs to, or -1: an object's own
    particles (the lepton and its dressing photons) are not counted in its cone. ``dr`` may
    differ per object; ``counted`` (per particle) restricts the sum, e.g. to tracks.
    """
    flat = truth.flat
    use = truth.visible if counted is None else truth.visible & counted
    visible = np.flatnonzero(use)
    p_pt, p_eta, p_phi, _ = flat.pt_eta_phi_mass
    i_obj, i_vis = event_pairs(event, flat.event[visible], flat.n_events)
    particle = visible[i_vis]
    cone = np.broadcast_to(np.asarray(dr, dtype=np.float64), event.shape)[i_obj]
    near = delta_r(eta[i_obj], phi[i_obj], p_eta[particle], p_phi[particle]) < cone
    near &= owner[particle] != i_obj
    cone = np.bincount(i_obj[near], weights=p_pt[particle[near]], minlength=len(event))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pt > 0, cone / pt, np.inf)


def _track_isolation(
    truth: Truth,
    config: ObjectConfig,
    event: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    pid: np.ndarray,
    owner: np.ndarray,
) -> np.ndarray:
    """ptvarcone: charged particles above ``track_min_pt`` in ΔR < min(R, k / pT)."""
    assert config.track_isolation_k is not None
    radius = np.where(
        np.abs(pid) == ELECTRON,
        config.track_isolation_radius_electron,
        config.track_isolation_radius_muon,
    )
    with np.errstate(divide="ignore"):
        cone = np.minimum(radius, config.track_isolation_k / pt)
    p_pt = truth.flat.pt_eta_phi_mass[0]
    tracks = (truth.charge != 0) & (p_pt >= config.track_min_pt)
    return isolation(truth, event, pt, eta, phi, owner, cone, tracks)


def leptons_and_photons(
    truth: Truth, config: ObjectConfig
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray]:
    """Dressed prompt electrons and muons (one dict, ``pid`` tells them apart) and the prompt
    photons not used for dressing, as flat arrays with an ``event`` column; and the global
    indices of every prompt lepton and dressing photon, before the pT and η cuts."""
    flat = truth.flat
    prompt = truth.final & ~truth.from_hadron
    from_tau = truth.tau_ancestor >= 0
    lepton = prompt & np.isin(flat.abs_pid, (ELECTRON, MUON))
    if not config.leptons_from_tau:
        lepton &= ~from_tau
    leptons = np.flatnonzero(lepton)
    photons = np.flatnonzero(prompt & (flat.pid == PHOTON))
    _, eta, phi, _ = flat.pt_eta_phi_mass

    # each photon within dressing_dr goes to its closest lepton
    dressed_by = np.full(len(photons), -1, np.int64)
    if config.dressing_dr is not None:
        i_ph, i_lep = event_pairs(flat.event[photons], flat.event[leptons], flat.n_events)
        d = delta_r(
            eta[photons[i_ph]], phi[photons[i_ph]], eta[leptons[i_lep]], phi[leptons[i_lep]]
        )
        near = d < config.dressing_dr
        i_ph, i_lep, d = i_ph[near], i_lep[near], d[near]
        best = closest_per_group(i_ph, d)
        dressed_by[i_ph[best]] = i_lep[best]
    used = dressed_by >= 0
    four = [
        m[leptons] + np.bincount(dressed_by[used], weights=m[photons[used]], minlength=len(leptons))
        for m in (flat.px, flat.py, flat.pz, flat.energy)
    ]
    l_pt, l_eta, l_phi, l_mass = kinematics(*four)
    dressed = np.concatenate([leptons, photons[used]])
    n_dressing = np.bincount(dressed_by[used], minlength=len(leptons)).astype(np.int32)
    keep = _window(l_pt, l_eta, config.lepton_min_pt, config.lepton_max_abs_eta)
    leptons = leptons[keep]
    l_pt, l_eta, l_phi, l_mass, n_dressing = (
        a[keep] for a in (l_pt, l_eta, l_phi, l_mass, n_dressing)
    )
    # isolation cones skip the lepton itself and its dressing photons
    position = np.cumsum(keep) - 1
    owner = np.full(flat.n_particles, -1, np.int64)
    owner[leptons] = np.arange(len(leptons))
    mine = used.copy()
    mine[used] = keep[dressed_by[used]]
    owner[photons[mine]] = position[dressed_by[mine]]
    l_event = flat.event[leptons]
    lepton_fields = _isolated(
        truth,
        config,
        l_event,
        (l_pt, l_eta, l_phi, l_mass),
        owner,
        charge=-np.sign(flat.pid[leptons]).astype(np.int32),
        pid=flat.pid[leptons].astype(np.int32),
        from_tau=from_tau[leptons],
        n_dressing_photons=n_dressing,
    )
    if config.track_isolation_k is not None:
        lepton_fields["isolation_track"] = _track_isolation(
            truth, config, l_event, l_pt, l_eta, l_phi, flat.pid[leptons], owner
        )

    # photons used for dressing belong to their lepton, even when the lepton fails its cuts
    photons = photons[~used]
    g_pt, g_eta, g_phi, g_mass = (k[photons] for k in flat.pt_eta_phi_mass)
    keep = _window(g_pt, g_eta, config.photon_min_pt, config.photon_max_abs_eta)
    photons = photons[keep]
    g_pt, g_eta, g_phi, g_mass = (a[keep] for a in (g_pt, g_eta, g_phi, g_mass))
    owner = np.full(flat.n_particles, -1, np.int64)
    owner[photons] = np.arange(len(photons))
    momenta = (g_pt, g_eta, g_phi, g_mass)
    event = flat.event[photons]
    photon_fields = _isolated(truth, config, event, momenta, owner, from_tau=from_tau[photons])
    return lepton_fields, photon_fields, dressed


def _isolated(
    truth: Truth,
    config: ObjectConfig,
    event: np.ndarray,
    momenta: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    owner: np.ndarray,
    **extra: np.ndarray,
) -> dict[str, np.ndarray]:
    """The fields of leptons or photons: kinematics, ``extra``, then the isolation in the
    ΔR cone (``owner`` marks the particles each one's cone skips) and its verdict."""
    pt, eta, phi, mass = momenta
    iso = isolation(truth, event, pt, eta, phi, owner, config.isolation_dr)
    kinematics = {"event": event, "pt": pt, "eta": eta, "phi": phi, "mass": mass}
    return {**kinematics, **extra, "isolation": iso, "isolated": iso < config.isolation_max}
