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
from ..objects.kinematics import collection, event_pairs, kinematics

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
    mine, theirs = _flat_angles(objects, use_rapidity), _flat_angles(others, use_rapidity)
    if mine is None or theirs is None or len(mine[0]) != len(theirs[0]):
        return _near_nested(objects, others, cone, use_rapidity=use_rapidity)
    # the pairs of each event as flat numpy arrays: awkward's nested cartesian product costs
    # a broadcast per operation, and an analysis calls this a few times per chunk
    counts, y1, p1 = mine
    other_counts, y2, p2 = theirs
    n = len(counts)
    event = np.repeat(np.arange(n), counts)
    i, j = event_pairs(event, np.repeat(np.arange(n), other_counts), n)
    dr = np.sqrt((y1[i] - y2[j]) ** 2 + delta_phi(p1[i], p2[j]) ** 2)  # the sign squares away
    hit = np.zeros(len(y1), dtype=bool)
    hit[i[dr < cone]] = True
    return ak.unflatten(hit, counts)


def _near_nested(
    objects: ak.Array, others: ak.Array, cone: float, *, use_rapidity: bool = True
) -> ak.Array:
    """:func:`near` through awkward's nested pairs: any layout (missing events or objects)."""
    rap = rapidity if use_rapidity else (lambda o: o.eta)
    y1, y2 = ak.unzip(ak.cartesian([rap(objects), rap(others)], nested=True))
    p1, p2 = ak.unzip(ak.cartesian([objects.phi, others.phi], nested=True))
    dr = np.sqrt((y1 - y2) ** 2 + delta_phi(p1, p2) ** 2)  # the sign squares away
    return ak.any(dr < cone, axis=2)


def _flat_angles(
    objects: ak.Array, use_rapidity: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(objects per event, y or η, φ) as flat numpy arrays, with y computed as
    :func:`rapidity` does, value for value; None unless ``objects`` is a plain list of
    objects per event (no missing event or value)."""
    if not _plain_lists(objects):
        return None
    fields = ("pt", "eta", "phi", "mass") if use_rapidity else ("eta", "phi")
    values = {}
    for name in fields:
        column = getattr(objects, name)  # as the nested version reads it (vector's properties)
        if not _plain_lists(column):
            return None
        values[name] = ak.to_numpy(ak.flatten(column, axis=1))
    counts = ak.to_numpy(ak.num(objects, axis=1)).astype(np.int64)
    if use_rapidity:
        pt = values["pt"]
        mt = np.sqrt(pt**2 + values["mass"] ** 2)
        rap = np.arcsinh(pt * np.sinh(values["eta"]) / mt)
    else:
        rap = values["eta"]
    return counts, rap, values["phi"]


def _plain_lists(array: ak.Array) -> bool:
    """A list per event of non-missing records or float64 numbers (``n * var * ...``, no
    option; float32 stays nested: delta_phi computes numpy's in float64, awkward's not)."""
    kind = array.type
    if not isinstance(kind, ak.types.ArrayType):
        return False
    outer = kind.content
    if not isinstance(outer, ak.types.ListType | ak.types.RegularType):
        return False
    inner = outer.content
    if isinstance(inner, ak.types.NumpyType):
        return inner.primitive == "float64"
    return isinstance(inner, ak.types.RecordType)


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
