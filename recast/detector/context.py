"""Context of each object within its event, as extra fields of its collection.

An efficiency depends on more than the object's own kinematics: a b-tag is lost when another
jet is close. These pure columnar functions add what a binned or learned map may read:

===============  ==============================================================================
``dr_nearest``   ΔR = √(Δη² + Δφ²) to the nearest *other* object of the same collection
                 (:data:`DR_NONE` when the object is alone)
``n_objects``    the collection's multiplicity in the event, repeated on each of its objects
``abs_eta``      \\|η\\|
``neighbours``   the other objects of the event, each with ``dr``, ``deta``, ``dphi`` relative
                 to this one (η and φ of the neighbour minus this object's), for set inputs
                 (a card's ``layout: "sequence"`` node with ``collection: "neighbours"``)
===============  ==============================================================================

Everything is computed over the flattened objects of a whole chunk: pairs are enumerated with
index arithmetic, never with per-event Python loops. The context sees the collection exactly as
it is given, so select objects (e.g. jets above 20 GeV) before adding it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import awkward as ak
import numpy as np

from ..angles import delta_phi
from ..errors import MissingCollectionError

log = logging.getLogger(__name__)

#: ``dr_nearest`` of an object with no other object in its collection: beyond any ΔR cut
DR_NONE = 10.0
#: every context field, in the order they are added
CONTEXT_FIELDS = ("dr_nearest", "n_objects", "abs_eta", "neighbours")
#: fields of each neighbour relative to the object it is a neighbour of
RELATIVE_FIELDS = ("dr", "deta", "dphi")


def collection_of(events: ak.Array, collection: str, source: str = "with_context") -> ak.Array:
    """``events[collection]``, or a :class:`MissingCollectionError` suggesting close names."""
    fields = ak.fields(events)
    if collection not in fields:
        raise MissingCollectionError(source, "collection", collection, fields)
    return events[collection]


def attribute(objects: ak.Array, name: str, source: str = "context") -> ak.Array:
    """A stored field of ``objects``, else a property computed by vector (pt, eta, ...)."""
    if name in ak.fields(objects):
        return objects[name]
    try:
        return getattr(objects, name)
    except AttributeError:
        raise MissingCollectionError(source, "attribute", name, ak.fields(objects)) from None


@dataclass(frozen=True)
class _Pairs:
    """Every ordered pair (object, other object) of the same event, over a flat chunk.

    Pairs are grouped by their first object, in object order, so each object's neighbours are
    one contiguous run of ``per_object`` entries.
    """

    second: np.ndarray  # flat index of the neighbour (the object is implied by the runs)
    per_object: np.ndarray  # neighbours of each object: its event's multiplicity - 1


def _pairs(counts: np.ndarray) -> _Pairs:
    counts = counts.astype(np.int64)
    starts = np.cumsum(counts) - counts
    per_object = np.repeat(np.maximum(counts - 1, 0), counts)
    pair_start = np.cumsum(per_object) - per_object
    second = np.empty(int(per_object.sum()), dtype=np.int64)
    # one vectorised step per distinct multiplicity (a handful), never one per event
    for c in np.unique(counts[counts > 1]):
        event_starts = starts[counts == c]
        j = np.arange(c - 1)
        others = j[None, :] + (j[None, :] >= np.arange(c)[:, None])  # [c, c-1]: j != i
        objects = event_starts[:, None] + np.arange(c)
        destinations = pair_start[objects][..., None] + j
        second[destinations] = event_starts[:, None, None] + others[None]
    return _Pairs(second, per_object)


def _flat(objects: ak.Array, name: str, source: str) -> np.ndarray:
    values = ak.flatten(attribute(objects, name, source), axis=1)
    return np.asarray(ak.to_numpy(values), dtype=np.float64)


def with_context(
    events: ak.Array,
    collection: str,
    fields: Iterable[str] = CONTEXT_FIELDS,
    dr_none: float = DR_NONE,
) -> ak.Array:
    """``events`` with context ``fields`` added to each object of ``collection``.

    Fields the collection already has are kept as they are (not recomputed), so that calling
    this twice, or on events whose context was added upstream, costs nothing.

    >>> events = with_context(events, "jets")                     # doctest: +SKIP
    >>> events.jets.dr_nearest, events.jets.neighbours.pt          # doctest: +SKIP
    """
    wanted = list(dict.fromkeys(fields))
    unknown = [f for f in wanted if f not in CONTEXT_FIELDS]
    if unknown:
        raise ValueError(f"unknown context field(s) {unknown}; known: {list(CONTEXT_FIELDS)}")
    objects = collection_of(events, collection)
    present = set(ak.fields(objects))
    todo = [f for f in wanted if f not in present]
    if not todo:
        return events
    counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
    flat_objects = ak.flatten(objects, axis=1)
    # neighbours are copies of the objects as given, without context (no nesting)
    plain = flat_objects[[f for f in ak.fields(flat_objects) if f not in CONTEXT_FIELDS]]
    added: dict[str, np.ndarray | ak.Array] = {}
    if "abs_eta" in todo:
        added["abs_eta"] = np.abs(_flat(objects, "eta", collection))
    if "n_objects" in todo:
        added["n_objects"] = np.repeat(counts, counts)
    if "dr_nearest" in todo or "neighbours" in todo:
        pairs = _pairs(counts)
        eta, phi = _flat(objects, "eta", collection), _flat(objects, "phi", collection)
        # the first object of each pair repeats in runs: np.repeat is cheaper than a gather
        deta = eta[pairs.second] - np.repeat(eta, pairs.per_object)
        dphi = delta_phi(phi[pairs.second], np.repeat(phi, pairs.per_object))
        dr2 = deta * deta + dphi * dphi
        if "dr_nearest" in todo:
            added["dr_nearest"] = np.sqrt(_nearest(dr2, pairs.per_object, dr_none**2))
        if "neighbours" in todo:
            others = plain[pairs.second]
            for name, values in zip(RELATIVE_FIELDS, (np.sqrt(dr2), deta, dphi), strict=True):
                others = ak.with_field(others, values, name)
            if ak.parameters(flat_objects).get("__record__"):  # keep vector's behaviour
                others = ak.with_name(others, ak.parameters(flat_objects)["__record__"])
            added["neighbours"] = ak.unflatten(others, pairs.per_object)
    result = flat_objects
    for name in wanted:  # the documented order, whatever was present before
        if name in added:
            result = ak.with_field(result, added[name], name)
    log.debug("added %s to %s of %d events", list(added), collection, len(counts))
    return ak.with_field(events, ak.unflatten(result, counts), collection)


def _nearest(dr: np.ndarray, per_object: np.ndarray, none: float) -> np.ndarray:
    """The smallest value of each object's contiguous run of pairs; ``none`` for empty runs."""
    nearest = np.full(len(per_object), none, dtype=np.float64)
    has = per_object > 0
    if has.any():
        starts = (np.cumsum(per_object) - per_object)[has]
        nearest[has] = np.minimum.reduceat(dr, starts)
    return nearest


__all__ = ["CONTEXT_FIELDS", "DR_NONE", "RELATIVE_FIELDS", "attribute", "with_context"]
