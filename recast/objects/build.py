"""The entry point: one record of truth objects per event of a chunk."""

from __future__ import annotations

import logging
import time

import awkward as ak
import numpy as np
import vector

from . import jets as jet_tools
from .config import ObjectConfig
from .kinematics import FlatChunk, collection
from .labels import cone_match, jet_labels, label_sources
from .leptons import ELECTRON, MUON, leptons_and_photons
from .met import transverse_sum
from .taus import hadronic_taus
from .truth import Truth

vector.register_awkward()
log = logging.getLogger(__name__)


def _taus(taus: dict[str, np.ndarray], config: ObjectConfig) -> dict[str, np.ndarray]:
    pt, eta, phi, mass = jet_tools.kinematics(taus["px"], taus["py"], taus["pz"], taus["E"])
    keep = taus["prompt"] & (pt >= config.tau_min_pt)
    if config.tau_max_abs_eta is not None:
        keep &= np.abs(eta) < config.tau_max_abs_eta
    fields = {
        "event": taus["event"],
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "mass": mass,
        "charge": taus["charge"].astype(np.int32),
        "n_prongs": taus["n_prongs"].astype(np.int32),
    }
    return {k: v[keep] for k, v in fields.items()}


def _collection(fields: dict[str, np.ndarray], n_events: int) -> ak.Array:
    fields = dict(fields)
    return collection(fields.pop("event"), n_events, fields)


def build_objects(events: ak.Array, config: ObjectConfig | None = None) -> ak.Array:
    """Truth objects of every event of ``events`` (a chunk, see :mod:`recast.events.chunk`).

    Returns one record per event: ``event_number``, ``weight``, ``weights``, ``jets``
    (pt, eta, phi, mass, flavour, n_bhadrons, n_chadrons, n_taus), ``large_R_jets`` when
    ``config.large_R`` is set, ``electrons`` and ``muons`` (pt, eta, phi, mass, charge, pid,
    from_tau, n_dressing_photons, isolation, isolated), ``taus`` (hadronic, visible momentum:
    pt, eta, phi, mass, charge, n_prongs), ``photons`` (pt, eta, phi, mass, from_tau,
    isolation, isolated), ``met`` and ``met_visible`` (``Momentum2D``: pt, phi). Collections
    are pT-descending, φ is in (-π, π]. The result depends on each event alone: any chunking
    of the same events gives the same objects.

    >>> from recast.objects import ObjectConfig, build_objects, toy_truth_chunk
    >>> objects = build_objects(toy_truth_chunk(3, seed=1), ObjectConfig(jet_min_pt=25.0))
    >>> objects.fields[:4]
    ['event_number', 'weight', 'weights', 'jets']
    """
    config = config or ObjectConfig()
    start = time.perf_counter()
    clustering = 0.0
    flat = FlatChunk.from_events(events)
    truth = Truth(flat, config)
    n = flat.n_events
    leptons, photons, dressed = leptons_and_photons(truth, config)
    jet_input = truth.visible.copy()
    if config.jet_exclude_leptons:
        jet_input[dressed] = False
    chosen = np.flatnonzero(jet_input)
    inputs = (flat.px[chosen], flat.py[chosen], flat.pz[chosen], flat.energy[chosen])
    event = flat.event[chosen]

    taus = hadronic_taus(truth)
    sources = label_sources(truth, taus, config)
    tick = time.perf_counter()
    tracks = None
    if config.jet_track_min_pt is not None:  # charged inputs above the track threshold
        pt = np.hypot(inputs[0], inputs[1])
        tracks = (truth.charge[chosen] != 0) & (pt >= config.jet_track_min_pt)
    if config.flavour_matching == "ghost":
        ghosts = (sources.event, sources.ghost_momenta())
        small, matched = jet_tools.small_r_jets(event, inputs, n, config, ghosts, tracks)
    else:
        small, matched = jet_tools.small_r_jets(event, inputs, n, config, flagged=tracks)
    clustering += time.perf_counter() - tick
    pt, eta, phi, mass = small.kinematics()
    if matched is None:
        matched = cone_match(sources, small.event, eta, phi, config.flavour_dr, n)
    fields = {
        "event": small.event,
        "pt": pt,
        "eta": eta,
        "phi": phi,
        "mass": mass,
        **jet_labels(sources, matched, len(small)),
    }
    if small.n_flagged is not None:
        fields["n_charged"] = small.n_flagged
    out = {
        "event_number": events["event_number"],
        "weight": events["weight"],
        "weights": events["weights"],
        "jets": _collection(fields, n),
    }
    if config.large_R is not None:
        tick = time.perf_counter()
        large = jet_tools.large_r_jets(event, inputs, n, small, config)
        clustering += time.perf_counter() - tick
        pt, eta, phi, mass = large.kinematics()
        out["large_R_jets"] = collection(
            large.event, n, {"pt": pt, "eta": eta, "phi": phi, "mass": mass}
        )

    abs_pid = np.abs(leptons["pid"])
    out["electrons"] = _collection({k: v[abs_pid == ELECTRON] for k, v in leptons.items()}, n)
    out["muons"] = _collection({k: v[abs_pid == MUON] for k, v in leptons.items()}, n)
    out["taus"] = _collection(_taus(taus, config), n)
    out["photons"] = _collection(photons, n)
    out["met"] = transverse_sum(flat, truth.invisible)
    out["met_visible"] = transverse_sum(flat, truth.visible, sign=-1.0)
    log.debug(
        "build_objects: %d events in %.3f s, %.3f s of it clustering",
        n,
        time.perf_counter() - start,
        clustering,
    )
    return ak.zip(out, depth_limit=1)
