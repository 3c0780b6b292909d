"""What every kind of efficiency map shares: the base class, its errors, the edge checks.

The kinds themselves live in :mod:`.maps` (binned) and :mod:`.learned` (network, surrogate);
:func:`recast.detector.maps.load_map` reads a document into the right one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np

from ..errors import MissingCollectionError, ProblemsError, RecastError
from .context import CONTEXT_FIELDS, attribute, with_context

log = logging.getLogger(__name__)


class MapError(RecastError, ValueError):
    """An efficiency map is wrong in meaning, or cannot be applied to the events given."""

    exit_code = 1


class MapCheckError(ProblemsError, MapError):
    """A map document failed its meaning checks; carries every problem."""


class EfficiencyMap:
    """What every kind of map shares: its document, its collection, and the events' checks."""

    kind = "abstract"

    def __init__(self, document: Mapping[str, Any], source: Path) -> None:
        self.document = dict(document)
        self.source = source
        problems = list(self._problems())
        if problems:
            raise MapCheckError(str(source), problems)

    @property
    def name(self) -> str:
        return str(self.document["name"])

    @property
    def object(self) -> str:
        """The collection the map applies to (e.g. ``jets``)."""
        return str(self.document["object"])

    @property
    def working_point(self) -> str | None:
        return self.document.get("working_point")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} for {self.object} from {self.source}>"

    def efficiency(self, events: ak.Array) -> ak.Array:
        """One efficiency in [0, 1] per object of :attr:`object`, jagged like the collection."""
        raise NotImplementedError

    def outside_validity(self, events: ak.Array) -> dict[str, int]:
        """Per variable of ``validity``, how many objects lie outside the validated domain
        (given in internal units: GeV, rad)."""
        domain = self.document.get("validity", {})
        if not domain:
            return {}
        events = self._with_context(events, [v for v in domain if v in CONTEXT_FIELDS])
        objects = self.objects(events)
        counts = {}
        for name, (lo, hi) in domain.items():
            x = self._flat(objects, name)
            counts[name] = int(np.count_nonzero((x < lo) | (x > hi)))
        return counts

    # -- shared helpers --------------------------------------------------------------------
    def _problems(self) -> Iterator[str]:
        for name, (lo, hi) in self.document.get("validity", {}).items():
            if not lo < hi:
                yield f"validity.{name} is [{lo}, {hi}]; give [min, max] with min < max"

    def objects(self, events: ak.Array) -> ak.Array:
        """The map's collection in ``events``, or an error naming the map and close names."""
        fields = ak.fields(events)
        if self.object not in fields:
            raise MissingCollectionError(str(self.source), "collection", self.object, fields)
        return events[self.object]

    def _with_context(self, events: ak.Array, needed: Sequence[str]) -> ak.Array:
        if not needed:
            return events
        self.objects(events)  # the map's own message first if the collection is missing
        return with_context(events, self.object, needed)

    def _flat(self, objects: ak.Array, name: str) -> np.ndarray:
        values = ak.flatten(attribute(objects, name, str(self.source)), axis=1)
        return np.asarray(ak.to_numpy(values), dtype=np.float64)

    def _event_numbers(self, events: ak.Array, counts: np.ndarray) -> np.ndarray:
        """The event number of every object (the event's position if the chunk has none)."""
        if "event_number" in ak.fields(events):
            numbers = np.asarray(ak.to_numpy(events["event_number"]), dtype=np.int64)
        else:
            numbers = np.arange(len(counts), dtype=np.int64)
        return np.repeat(numbers, counts)


def edge_problems(edges: Sequence[float], where: str) -> Iterator[str]:
    array = np.asarray(edges, dtype=np.float64)
    if not np.isfinite(array).all():
        yield (
            f"{where} holds {array[~np.isfinite(array)][0]}; edges must be finite "
            "(out_of_range 'clamp' extends the edge bins)"
        )
        return
    bad = np.flatnonzero(np.diff(array) <= 0)
    if len(bad):
        k = int(bad[0]) + 1
        yield (
            f"{where} is not strictly increasing: {where}[{k}] = {array[k]:g} follows "
            f"{array[k - 1]:g}; list the edges in increasing order, each once"
        )


__all__ = ["EfficiencyMap", "MapCheckError", "MapError", "edge_problems"]
