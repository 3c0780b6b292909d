"""Derived variables that analyses share: angles, transverse masses, leading objects,
proximity and re-clustered large-R jets.

Columnar functions on awkward collections (one list of objects per event, with ``pt``,
``eta``, ``phi`` and, where needed, ``mass``), for the ``derive`` step of a bundle's analysis::

    from recast.analysis.variables import min_delta_phi, min_transverse_mass, recluster

    events = ak.with_field(events, min_delta_phi(events.jets, events.met, leading=4), "dphi")

Every function states what it returns for an event without the objects it needs.
"""

from __future__ import annotations

from typing import TypeAlias

import awkward as ak
import numpy as np

from ..angles import delta_phi
from ..objects import jets as jet_tools
from ..objects.kinematics import collection, kinematics

Array: TypeAlias = ak.Array | np.ndarray


def by_pt(objects: ak.Array) -> ak.Array:
    """The objects of each event in decreasing pT (the "leading" objects come first)."""
    return objects[ak.argsort(objects.pt, axis=1, ascending=False, stable=True)]


def rapidity(objects: ak.Array) -> ak.Array:
    """y = asinh(pT sinh η / √(pT² + m²)); y = η for massless objects."""
    mt = np.sqrt(objects.pt**2 + objects.mass**2)
    return np.arcsinh(objects.pt * np.sinh(objects.eta) / mt)


def near(
    objects: ak.Array, others: ak.Array, cone: float, *, use_rapidity: bool = True
) -> ak.Array:
    """Per object: is any of ``others`` within ΔR < ``cone``? ΔR in (y, φ), or (η, φ)."""
    rap = rapidity if use_rapidity else (lambda o: o.eta)
    y1, y2 = ak.unzip(ak.cartesian([rap(objects), rap(others)], nested=True))
    p1, p2 = ak.unzip(ak.cartesian([objects.phi, others.phi], nested=True))
    dr = np.sqrt((y1 - y2) ** 2 + delta_phi(p1, p2) ** 2)  # the sign squares away
    return ak.any(dr < cone, axis=2)


def transverse_mass(pt: Array, phi: Array, met_pt: Array, met_phi: Array) -> Array:
    """√(2 pT E_T^miss (1 − cos Δφ))."""
    return np.sqrt(2.0 * pt * met_pt * (1.0 - np.cos(phi - met_phi)))


def min_transverse_mass(objects: ak.Array, met: ak.Array, leading: int | None = None) -> ak.Array:
    """The smallest m_T(object, MET) over the ``leading`` objects (all if None); 0 without any."""
    chosen = objects if leading is None else objects[:, :leading]
    value = ak.min(transverse_mass(chosen.pt, chosen.phi, met.pt, met.phi), axis=1)
    return ak.fill_none(value, 0.0)


def leading_transverse_mass(objects: ak.Array, met: ak.Array) -> ak.Array:
    """m_T of the first object and MET; 0 without an object."""
    lead = ak.firsts(objects)
    return ak.fill_none(transverse_mass(lead.pt, lead.phi, met.pt, met.phi), 0.0)


def min_delta_phi(objects: ak.Array, met: ak.Array, leading: int | None = None) -> ak.Array:
    """min |Δφ(object, MET)| over the ``leading`` objects (all if None); π without any."""
    chosen = objects.phi if leading is None else objects.phi[:, :leading]
    return ak.fill_none(ak.min(abs(delta_phi(chosen, met.phi)), axis=1), np.pi)


def leading_pt(objects: ak.Array) -> ak.Array:
    """pT of the first object; 0 without an object."""
    return ak.fill_none(ak.firsts(objects.pt), 0.0)


def sum_of_masses(objects: ak.Array, leading: int | None = None) -> ak.Array:
    """Σ mass over the ``leading`` objects (all if None); 0 without any."""
    chosen = objects.mass if leading is None else objects.mass[:, :leading]
    return ak.sum(chosen, axis=1)


def recluster(
    jets: ak.Array,
    radius: float,
    *,
    trim_fcut: float | None = None,
    min_pt: float = 0.0,
    max_abs_eta: float | None = None,
) -> ak.Array:
    """Anti-kT jets of ``radius`` built from ``jets`` (their four-momenta as inputs).

    With ``trim_fcut``, inputs below that fraction of the untrimmed jet pT are dropped; then
    ``min_pt`` and ``max_abs_eta`` apply to the trimmed jets. Returns pt, eta, phi (in
    (−π, π]), mass per jet, pT-descending (after trimming).
    """
    n = len(jets)
    counts = np.asarray(ak.num(jets, axis=1), dtype=np.int64)
    event = np.repeat(np.arange(n), counts)
    pt, eta, phi, mass = (
        np.asarray(ak.flatten(jets[k]), dtype=np.float64) for k in ("pt", "eta", "phi", "mass")
    )
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    momenta = (px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + mass**2))
    large = jet_tools.cluster(event, momenta, n, radius, 0.0, constituents=trim_fcut is not None)
    if trim_fcut is not None and len(large):
        assert large.constituents is not None and large.constituent_start is not None
        owner = np.repeat(np.arange(len(large)), np.diff(large.constituent_start))
        subjets = jet_tools.FlatJets(owner, *(m[large.constituents] for m in momenta))
        large = jet_tools.trim(large, subjets, owner, trim_fcut)
    l_pt, l_eta, l_phi, l_mass = kinematics(large.px, large.py, large.pz, large.energy)
    keep = l_pt > min_pt
    if max_abs_eta is not None:
        keep &= np.abs(l_eta) < max_abs_eta
    fields = {"pt": l_pt[keep], "eta": l_eta[keep], "phi": l_phi[keep], "mass": l_mass[keep]}
    return collection(large.event[keep], n, fields)
