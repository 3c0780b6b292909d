"""A binned efficiency map measured from tagged objects: Σw(tagged) / Σw per bin (numpy only).

The same data that trains a learned map gives the binned pT–|η| table most analyses publish;
the closure report (:mod:`.closure`) compares the two. Objects outside the axes are measured in
the edge bins, as the ``clamp`` policy applies the map to them.

>>> document = binned_map_document(events, "btag", working_point="77%")     # doctest: +SKIP
>>> btag = save_map(document, "maps/btag_binned.json")                       # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ...detector.context import CONTEXT_FIELDS, attribute, with_context
from ...detector.maps import EfficiencyMap, load_map
from ...errors import MissingCollectionError, UsageError
from ...io import write_json
from ...preserve.card import unit_factor
from ...schema import CURRENT_VERSION
from ..core.inputs import event_weights, flat_tags

log = logging.getLogger(__name__)

#: the default axes: the usual pT–|η| table (pT in GeV)
PT_ETA_AXES: tuple[dict[str, Any], ...] = (
    {"variable": "pt", "unit": "GeV", "edges": [20.0, 40.0, 70.0, 120.0, 250.0, 2000.0]},
    {"variable": "abs_eta", "unit": "1", "edges": [0.0, 0.8, 1.6, 2.5]},
)


def object_values(events: ak.Array, collection: str, variable: str) -> np.ndarray:
    """A variable of every object of ``collection`` (stored, vector property or context)."""
    if collection not in ak.fields(events):
        raise MissingCollectionError("binned map", "collection", collection, ak.fields(events))
    if variable in CONTEXT_FIELDS:
        events = with_context(events, collection, [variable])
    values = attribute(events[collection], variable, "binned map")
    return np.asarray(ak.to_numpy(ak.flatten(values, axis=1)), dtype=np.float64)


def binned_map_document(
    events: ak.Array,
    tagged: ak.Array | np.ndarray | str,
    *,
    collection: str = "jets",
    axes: Sequence[Mapping[str, Any]] = PT_ETA_AXES,
    sample_weight: np.ndarray | str | None = None,
    name: str = "efficiency_binned",
    working_point: str | None = None,
    description: str | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The map document (kind ``binned``, policy ``clamp``) with per-bin uncertainties.

    The uncertainty of a weighted ratio: √(Σ_tagged w²(1 − ε)² + Σ_untagged w² ε²) / Σw.
    An empty bin is an error naming it (merge its edges); a bin whose net weight makes ε fall
    outside [0, 1] (negative weights) is clipped, with a warning.
    """
    tags = flat_tags(events, collection, tagged)
    counts = np.asarray(ak.to_numpy(ak.num(events[collection], axis=1)), dtype=np.int64)
    weights = np.repeat(event_weights(events, sample_weight), counts)
    edges = [np.asarray(a["edges"], dtype=np.float64) for a in axes]
    columns = []
    for axis, axis_edges in zip(axes, edges, strict=True):
        x = object_values(events, collection, axis["variable"]) * unit_factor(axis["unit"])
        # clamp: objects beyond the edges count in the edge bins, where the map applies to them
        columns.append(np.clip(x, axis_edges[0], np.nextafter(axis_edges[-1], -np.inf)))
    sample = np.stack(columns, axis=1) if columns else np.zeros((len(tags), 0))
    total, _ = np.histogramdd(sample, bins=edges, weights=weights)
    passed, _ = np.histogramdd(sample, bins=edges, weights=weights * tags)
    objects, _ = np.histogramdd(sample, bins=edges)
    empty = np.argwhere((objects == 0) | (total <= 0))
    if len(empty):
        where = ", ".join(_bin_name(axes, edges, k) for k in empty[:5])
        raise UsageError(
            f"{len(empty)} bin(s) of the binned map hold no objects (or no positive weight): "
            f"{where}; merge those edges (the config's binned_axes) or give more events"
        )
    efficiency = passed / total
    outside = (efficiency < 0) | (efficiency > 1)
    if outside.any():
        log.warning(
            "%d bin(s) have an efficiency outside [0, 1] from negative weights; clipped",
            int(outside.sum()),
        )
        efficiency = np.clip(efficiency, 0.0, 1.0)
    w2_pass, _ = np.histogramdd(sample, bins=edges, weights=weights**2 * tags)
    w2_fail, _ = np.histogramdd(sample, bins=edges, weights=weights**2 * (1 - tags))
    sigma = np.sqrt(w2_pass * (1 - efficiency) ** 2 + w2_fail * efficiency**2) / total
    document: dict[str, Any] = {
        "schema_version": CURRENT_VERSION,
        "name": name,
        "description": description
        or f"efficiency of {collection} measured per bin from {int(objects.sum())} objects",
        "object": collection,
        "kind": "binned",
        "axes": [dict(a) for a in axes],
        "values": efficiency.tolist(),
        "uncertainties": sigma.tolist(),
        "out_of_range": "clamp",
        "provenance": {"notes": "recast.train.binned", **dict(provenance or {})},
    }
    if working_point is not None:
        document["working_point"] = working_point
    return document


def _bin_name(axes: Sequence[Mapping[str, Any]], edges: list[np.ndarray], index: Any) -> str:
    return " × ".join(
        f"{a['variable']} [{e[k]:g}, {e[k + 1]:g})"
        for a, e, k in zip(axes, edges, index, strict=True)
    )


def save_map(document: Mapping[str, Any], path: str | Path) -> EfficiencyMap:
    """Write a map document atomically, then load it back (validated and checked)."""
    write_json(path, dict(document))
    return load_map(path)


__all__ = ["PT_ETA_AXES", "binned_map_document", "object_values", "save_map"]
