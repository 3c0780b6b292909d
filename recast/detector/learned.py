"""Learned efficiency maps and surrogate taggers: network cards evaluated per object.

A classifier trained with binary cross-entropy on tagged/untagged objects converges to the
efficiency as a function of everything it sees (arXiv:2004.02665), including the object's
context (``dr_nearest``, ``n_objects``, the ``neighbours`` as a set input; see
:mod:`.context`). A surrogate tagger (arXiv:2402.15558) outputs the distribution of the
detector-level tagger score over score bins: a score is sampled from it, or the probability
above a working-point threshold is integrated into an efficiency.

The map names its card by a path relative to the map and the card file's sha256; both the card
and its ONNX files are verified on load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ..errors import ArtefactNotFoundError, DigestMismatchError, MissingCollectionError, closest
from ..io import sha256_file
from ..paths import inside
from ..preserve.card import NetworkCard
from ..preserve.session import NetworkSession
from .context import CONTEXT_FIELDS
from .map_base import EfficiencyMap, MapCheckError, MapError, edge_problems
from .random import uniforms

log = logging.getLogger(__name__)

#: how far a network output may stray outside [0, 1] (float32 rounding) before it is an error
OUTPUT_TOLERANCE = 1e-5
#: how far the score-bin probabilities of one object may sum away from 1
SUM_TOLERANCE = 1e-3
_BINNED_ONLY = ("axes", "values", "uncertainties")


def context_fields(card: NetworkCard) -> list[str]:
    """The context fields (:data:`.context.CONTEXT_FIELDS`) a per-object card reads."""
    needed = set()
    for node in card.inputs:
        if node.get("collection") == "neighbours":
            needed.add("neighbours")
        if node["layout"] != "flat":
            continue  # a sequence node's features are attributes of each neighbour
        for feature in node["features"]:
            source = feature["source"]
            if source.get("collection") == "neighbours":
                needed.add("neighbours")
            elif "collection" not in source and source.get("attribute") in CONTEXT_FIELDS:
                needed.add(source["attribute"])
    return [f for f in CONTEXT_FIELDS if f in needed]


class _CardMap(EfficiencyMap):
    """A map backed by a network card evaluated once per object of the map's collection."""

    def __init__(self, document: Mapping[str, Any], source: Path) -> None:
        super().__init__(document, source)
        self.card = self._load_card()
        problems = list(self._card_problems())
        if problems:
            raise MapCheckError(str(source), problems)
        self.session = NetworkSession(self.card)  # verifies the ONNX files' digests
        self.context = context_fields(self.card)

    def _problems(self) -> Iterator[str]:
        yield from super()._problems()
        for field in _BINNED_ONLY:
            if field in self.document:
                yield f"{field} is for binned maps; remove it from a {self.kind} map"

    def _load_card(self) -> NetworkCard:
        reference = self.document["network"]
        path = inside(self.source.resolve().parent, reference["card"], self.source, "network.card")
        if not path.is_file():
            raise ArtefactNotFoundError(
                f"{path}: no such file, named by network.card of {self.source}; put the card "
                "beside the map or fix network.card (a path relative to the map)"
            )
        actual = sha256_file(path)
        if actual != reference["sha256"]:
            raise DigestMismatchError(
                str(path), reference["sha256"], actual, f"network.sha256 of {self.source}"
            )
        return NetworkCard.load(path)

    def _card_problems(self) -> Iterator[str]:
        if self.card.evaluate_per != self.object:
            yield (
                f"network.card {self.card.source} evaluates per {self.card.evaluate_per!r} but "
                f"the map is for {self.object!r}; set the card's evaluate_per to "
                f"{self.object!r} (one row per object)"
            )

    def _outputs(self, events: ak.Array, labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The card's output columns ``labels`` per object, [objects, labels], and the counts."""
        events = self._with_context(events, self.context)
        counts = np.asarray(ak.to_numpy(ak.num(self.objects(events), axis=1)), dtype=np.int64)
        if counts.sum() == 0:
            return np.zeros((0, len(labels))), counts
        scores = self.session.evaluate(events)
        flat = ak.flatten(scores, axis=1)
        columns = [np.asarray(ak.to_numpy(flat[label]), dtype=np.float64) for label in labels]
        return np.stack(columns, axis=1), counts

    def _bad_output(
        self, what: str, flags: np.ndarray, events: ak.Array, counts: np.ndarray, fix: str
    ) -> MapError:
        """An error naming how many objects are flagged and the event of the first."""
        row = int(np.flatnonzero(flags)[0])
        event = self._event_numbers(events, counts)[row]
        return MapError(
            f"{self.source}: the output of {self.card.source} is {what} for "
            f"{int(flags.sum())} object(s) of {self.object} (first in event_number {event}); " + fix
        )


class NetworkMap(_CardMap):
    """A learned efficiency: the card's output ``network.output`` per object, in [0, 1]."""

    kind = "network"

    @property
    def output(self) -> str:
        return str(self.document["network"]["output"])

    def _card_problems(self) -> Iterator[str]:
        yield from super()._card_problems()
        labels = [c["label"] for node in self.card.outputs for c in node["columns"]]
        if self.output not in labels:
            yield (
                f"network.output is {self.output!r}, which is not an output label of "
                f"{self.card.source} ({labels}).{closest(self.output, labels)}"
            )
        for field in ("score_edges", "threshold"):
            if field in self.document:
                yield f"{field} is for surrogate taggers; remove it from a network map"

    def efficiency(self, events: ak.Array) -> ak.Array:
        values, counts = self._outputs(events, [self.output])
        values = values[:, 0]
        if np.isnan(values).any():
            raise self._bad_output("NaN", np.isnan(values), events, counts, "fix the network")
        outside = (values < -OUTPUT_TOLERANCE) | (values > 1.0 + OUTPUT_TOLERANCE)
        if outside.any():
            raise self._bad_output(
                f"outside [0, 1] (e.g. {values[outside][0]:g})",
                outside,
                events,
                counts,
                f"output {self.output!r} must be a probability (a sigmoid), not a logit",
            )
        return ak.unflatten(np.clip(values, 0.0, 1.0), counts)


class SurrogateTagger(_CardMap):
    """A tagger score's distribution over ``score_edges`` bins, from truth inputs.

    >>> tagger = load_map("maps/dl1r_surrogate.json")                   # doctest: +SKIP
    >>> scores = tagger.sample_scores(events, seed=1)                    # doctest: +SKIP
    >>> efficiency = tagger.efficiency(events)       # P(score > threshold) per jet
    """

    kind = "surrogate"

    def __init__(self, document: Mapping[str, Any], source: Path) -> None:
        self.edges = np.asarray(document["score_edges"], dtype=np.float64)
        self.labels: list[str] = []
        super().__init__(document, source)

    @property
    def threshold(self) -> float | None:
        value = self.document.get("threshold")
        return None if value is None else float(value)

    def _problems(self) -> Iterator[str]:
        yield from super()._problems()
        yield from edge_problems(self.document["score_edges"], "score_edges")
        threshold = self.threshold
        if threshold is not None and not self.edges[0] <= threshold <= self.edges[-1]:
            yield (
                f"threshold {threshold:g} is outside score_edges [{self.edges[0]:g}, "
                f"{self.edges[-1]:g}]; the working point must lie within the score range"
            )

    def _card_problems(self) -> Iterator[str]:
        yield from super()._card_problems()
        wanted = str(self.document["network"]["output"])
        n_bins = len(self.edges) - 1
        for node in self.card.outputs:
            columns = sorted(node["columns"], key=lambda c: c["index"])
            indices = [c["index"] for c in columns]
            labels = [c["label"] for c in columns]
            if node["name"] == wanted:
                start = 0
            elif wanted in labels:
                start = labels.index(wanted)
            else:
                continue
            chosen = columns[start : start + n_bins]
            first = indices[start]
            if [c["index"] for c in chosen] != list(range(first, first + n_bins)):
                yield (
                    f"network.output {wanted!r}: {n_bins} score bins (score_edges) need "
                    f"{n_bins} consecutive labelled columns of output node {node['name']!r} "
                    f"from index {first}, found {indices[start:]}; label one column per bin"
                )
            self.labels = [c["label"] for c in chosen]
            return
        names = [n["name"] for n in self.card.outputs]
        names += [c["label"] for n in self.card.outputs for c in n["columns"]]
        yield (
            f"network.output is {wanted!r}, neither an output node nor a label of "
            f"{self.card.source} ({names}).{closest(wanted, names)}"
        )

    # -- the score distribution ------------------------------------------------------------
    def _probabilities(self, events: ak.Array) -> tuple[np.ndarray, np.ndarray]:
        """Checked bin probabilities [objects, bins] (each row sums to 1) and the counts."""
        p, counts = self._outputs(events, self.labels)
        for bad, what, fix in (
            (np.isnan(p).any(axis=1), "NaN", "fix the network"),
            ((p < -OUTPUT_TOLERANCE).any(axis=1), "negative", "the bins need a softmax"),
            (
                np.abs(p.sum(axis=1) - 1.0) > SUM_TOLERANCE,
                "not normalised (the bin probabilities do not sum to 1)",
                "the output node must be a softmax over the score bins",
            ),
        ):
            if bad.any():
                raise self._bad_output(what, np.asarray(bad), events, counts, fix)
        p = np.clip(p, 0.0, None)
        return p / p.sum(axis=1, keepdims=True), counts

    def probabilities(self, events: ak.Array) -> ak.Array:
        """Per object, the probability of each score bin (``events × objects × bins``)."""
        p, counts = self._probabilities(events)
        return ak.unflatten(ak.from_regular(ak.Array(p), axis=1), counts)

    def sample_scores(self, events: ak.Array, seed: int, stream: str = "surrogate") -> ak.Array:
        """One score per object: the inverse of the piecewise-uniform CDF at a counter-based
        uniform keyed by (seed, stream, event_number, object index), so any chunking of the
        same events gives the same scores. Give each tagger its own ``stream``."""
        p, counts = self._probabilities(events)
        if "event_number" not in ak.fields(events):
            raise MissingCollectionError(
                str(self.source),
                "field (to key the random numbers)",
                "event_number",
                ak.fields(events),
            )
        starts = np.cumsum(counts) - counts
        index = np.arange(len(p)) - np.repeat(starts, counts)
        u = uniforms(seed, stream, self._event_numbers(events, counts), index)
        cdf = np.cumsum(p, axis=1)
        cdf[:, -1] = 1.0
        k = np.minimum((cdf <= u[:, None]).sum(axis=1), len(self.edges) - 2)
        rows = np.arange(len(p))
        below = np.where(k > 0, cdf[rows, np.maximum(k - 1, 0)], 0.0)
        width = cdf[rows, k] - below
        # the same uniform places the score within its bin: uniform there, as the density is
        fraction = np.clip(np.divide(u - below, width, out=np.zeros_like(u), where=width > 0), 0, 1)
        scores = self.edges[k] + fraction * (self.edges[k + 1] - self.edges[k])
        return ak.unflatten(scores, counts)

    def efficiency(self, events: ak.Array, threshold: float | None = None) -> ak.Array:
        """P(score > threshold) per object: whole bins above, a linear share of the bin that
        holds the threshold. ``threshold`` defaults to the map's working point."""
        threshold = self.threshold if threshold is None else float(threshold)
        if threshold is None or np.isnan(threshold):
            raise MapError(
                f"{self.source}: the surrogate tagger has no 'threshold'; add the working "
                "point's score threshold to the map, or pass threshold="
            )
        lo, hi = self.edges[:-1], self.edges[1:]
        above = np.clip((hi - threshold) / (hi - lo), 0.0, 1.0)
        p, counts = self._probabilities(events)
        return ak.unflatten(np.clip(p @ above, 0.0, 1.0), counts)


__all__ = ["NetworkMap", "SurrogateTagger", "context_fields"]
