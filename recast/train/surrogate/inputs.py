"""Inputs and outputs of a surrogate tagger's network: the card template and the score bins.

The inputs are those of the learned efficiency maps
(:func:`recast.train.core.inputs.efficiency_template`: the
object's own features, its neighbours nearest first, their mask); the output is one node,
``score``, with one probability per score bin followed by the ensemble's two spread columns.
This module needs no torch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import awkward as ak
import numpy as np

from ...errors import UsageError
from ..core.inputs import per_object

log = logging.getLogger(__name__)

#: the output node of the exported network and its two uncertainty columns
OUTPUT, SPREAD, DISAGREEMENT = "score", "score_spread", "disagreement"
#: 20 equal bins of a score in [0, 1]
DEFAULT_EDGES = tuple(round(0.05 * k, 2) for k in range(21))


def bin_labels(n_bins: int) -> list[str]:
    return [f"bin_{k:02d}" for k in range(n_bins)]


def with_score_outputs(
    template: dict[str, Any], edges: Sequence[float] | np.ndarray
) -> dict[str, Any]:
    """The card template of a surrogate: an efficiency network's ``template`` (its three input
    nodes, :func:`recast.train.core.inputs.efficiency_template`) with one output node of
    ``len(edges) - 1`` bin probabilities followed by the two spread columns."""
    collection = template["evaluate_per"]
    template["description"] = (
        f"Surrogate tagger for {collection}: the distribution of the detector-level score over "
        f"{len(edges) - 1} bins (a softmax) given the object's truth inputs and the other "
        f"{collection} of the event; an ensemble's mixture, with the members' spread"
    )
    columns = [
        {
            "index": k,
            "label": label,
            "activation": "softmax",
            "use": f"probability that the score lies in [{edges[k]:g}, {edges[k + 1]:g})",
        }
        for k, label in enumerate(bin_labels(len(edges) - 1))
    ]
    columns += [
        {
            "index": len(edges) - 1,
            "label": SPREAD,
            "activation": "linear",
            "use": "uncertainty: the members' standard deviation of the mean score",
        },
        {
            "index": len(edges),
            "label": DISAGREEMENT,
            "activation": "linear",
            "use": "uncertainty: the members' mean total-variation distance to the mixture",
        },
    ]
    template["outputs"] = [{"name": OUTPUT, "columns": columns}]
    template["provenance"] = {"notes": "trained with recast.train.surrogate"}
    return template


def score_bins(
    events: ak.Array, collection: str, score: ak.Array | np.ndarray | str, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The flat scores of every object and their bin index; scores outside the edges or NaN
    are an error naming how many and the fix."""
    values = per_object(events, collection, score, "scores")
    if np.isnan(values).any():
        raise UsageError(f"{int(np.isnan(values).sum())} score(s) are NaN; fix the sample")
    outside = (values < edges[0]) | (values > edges[-1])
    if outside.any():
        raise UsageError(
            f"{int(outside.sum())} score(s) lie outside score_edges [{edges[0]:g}, "
            f"{edges[-1]:g}] (e.g. {values[outside][0]:g}); widen score_edges to the "
            "tagger's range"
        )
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return values, index


__all__ = [
    "DEFAULT_EDGES",
    "DISAGREEMENT",
    "OUTPUT",
    "SPREAD",
    "bin_labels",
    "score_bins",
    "with_score_outputs",
]
