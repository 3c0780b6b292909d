"""Apply an exported event filter from its card alone, right after generation (numpy and
onnxruntime: no torch).

The card says everything needed: the slots (``max_count``), which particles fill them
(``ordering``: as given, or pT-descending), and each node feature's preprocessing. So a
generation job can load the card, compute the pass probability of every event of a chunk, and
keep or drop it with :func:`recast.events.importance.importance_sample`.

>>> selective = EventFilter.load("filters/ttbar_filter_dcorr.card.json")   # doctest: +SKIP
>>> for chunk in generate(settings, 10000, seed=1):                          # doctest: +SKIP
...     sample = importance_sample(selective.probabilities(chunk), 0.05, 7, chunk.event_number)
...     simulate(chunk[sample.keep], weights=sample.weight[sample.keep])
"""

from __future__ import annotations

import logging
from pathlib import Path

import awkward as ak
import numpy as np

from ..errors import CardError
from ..preserve.card import NetworkCard
from ..preserve.session import make_session
from .graphs import ADJACENCY, FEATURES, MASK, NODES, OUTPUT, GraphArrays, graph_arrays, preprocess

log = logging.getLogger(__name__)


class EventFilter:
    """An exported filter (card + ONNX) evaluated on truth records with onnxruntime."""

    def __init__(self, card: NetworkCard, threads: int = 1, batch: int = 256) -> None:
        self.card = card
        self.batch = int(batch)
        names = [node["name"] for node in card.inputs]
        if names != [NODES, ADJACENCY, MASK]:
            raise CardError(
                f"{card.source}: not an event-filter card: its inputs are {names}, not "
                f"{[NODES, ADJACENCY, MASK]} (export it with FilterTrainer.export)"
            )
        nodes = card.inputs[0]
        features = [f["name"] for f in nodes["features"]]
        if features != list(FEATURES):
            raise CardError(
                f"{card.source}: inputs[0].features are {features}; this version of recast "
                f"builds {list(FEATURES)}"
            )
        self.max_particles = int(nodes["max_count"])
        self.ordering = "record" if nodes["ordering"] == "as_given" else "pt"
        self.scaling: dict[str, tuple[float, float]] = {}
        for feature in nodes["features"]:
            rule = feature["preprocessing"]
            if rule["formula"] == "(x - mean) / std":
                self.scaling[feature["name"]] = (float(rule["mean"]), float(rule["std"]))
            elif rule["formula"] != "x":
                raise CardError(
                    f"{card.source}: feature {feature['name']!r} has preprocessing "
                    f"{rule['formula']!r}; event filters use 'x' or '(x - mean) / std'"
                )
        model = card.model_files()[0]
        card.verify_digests()
        self.session = make_session(str(model.path), threads=threads)

    @classmethod
    def load(cls, path: str | Path, threads: int = 1) -> EventFilter:
        """The filter of the card at ``path`` (its ONNX file's digest verified)."""
        return cls(NetworkCard.load(path), threads)

    def graphs(self, events: ak.Array) -> GraphArrays:
        """The padded graphs of ``events`` as the card describes them."""
        return graph_arrays(events, self.max_particles, self.ordering, source=str(self.card.source))

    def probabilities(self, events: ak.Array | GraphArrays) -> np.ndarray:
        """The pass probability of every event (float64)."""
        graphs = events if isinstance(events, GraphArrays) else self.graphs(events)
        out = []
        for first in range(0, len(graphs), self.batch):
            part = graphs.take(np.arange(first, min(first + self.batch, len(graphs))))
            feeds = {
                NODES: preprocess(part, self.scaling),
                ADJACENCY: part.adjacency.astype(np.float32),
                MASK: part.mask,
            }
            out.append(self.session.run([OUTPUT], feeds)[0][:, 0])
        return np.concatenate(out).astype(np.float64) if out else np.zeros(0)


__all__ = ["EventFilter"]
