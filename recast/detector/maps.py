"""Efficiency maps: the probability that a truth object is reconstructed, identified or tagged.

A map document (schema ``efficiency-map``) is one of three kinds:

- ``binned``: a table over axes of the object's variables (or its context, e.g. ``dr_nearest``),
  evaluated here on boost-histogram axes over all objects of a chunk at once;
- ``network``: a learned map, a network card evaluated per object (see :mod:`.learned`);
- ``surrogate``: a network giving the distribution of a tagger score (see :mod:`.learned`).

Documents are checked twice: against the schema, then in meaning (edges, shapes, values in
[0, 1], digests), every problem collected with its JSON path and the fix.

>>> btag = load_map("maps/btag_77.json")                     # doctest: +SKIP
>>> efficiency = btag.efficiency(events)                       # jagged, one value per jet
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import awkward as ak
import boost_histogram as bh
import numpy as np

from .. import schema
from ..preserve.card import unit_factor
from .context import CONTEXT_FIELDS
from .map_base import EfficiencyMap, MapCheckError, MapError, edge_problems

log = logging.getLogger(__name__)

KIND = "efficiency-map"
#: at most this many offending entries are named per problem
_SHOWN = 5


def load_map(path: str | Path) -> EfficiencyMap:
    """Read, validate and check a map document; network cards are verified by their sha256."""
    path = Path(path)
    return map_from_document(schema.load_json(path), path)


def map_from_document(document: Mapping[str, Any], source: str | Path) -> EfficiencyMap:
    """The map a document describes; ``source`` is its path (cards are found relative to it)."""
    schema.validate(document, KIND, str(source))
    kind = document["kind"]
    if kind == "binned":
        return BinnedMap(document, Path(source))
    # imported here so that binned maps never load onnxruntime
    from .learned import NetworkMap, SurrogateTagger

    return (NetworkMap if kind == "network" else SurrogateTagger)(document, Path(source))


class BinnedMap(EfficiencyMap):
    """A table of efficiencies over Variable / IntCategory axes, looked up columnar."""

    kind = "binned"

    def __init__(self, document: Mapping[str, Any], source: Path) -> None:
        super().__init__(document, source)  # checks first: the arrays below assume them
        specs = self.document["axes"]
        self.variables = [a["variable"] for a in specs]
        self.axes: list[bh.axis.Axis] = [
            bh.axis.Variable(a["edges"], metadata=a["variable"])
            if "edges" in a
            else bh.axis.IntCategory(a["categories"], metadata=a["variable"])
            for a in specs
        ]
        default = self.document["out_of_range"]
        self.policies = [a.get("out_of_range", default) for a in specs]
        self.values = np.asarray(self.document["values"], dtype=np.float64)
        self.uncertainties = (
            np.asarray(self.document["uncertainties"], dtype=np.float64)
            if "uncertainties" in self.document
            else None
        )
        self._context = [v for v in self.variables if v in CONTEXT_FIELDS]

    def _problems(self) -> Iterator[str]:
        yield from super()._problems()
        doc = self.document
        sizes = []
        for i, axis in enumerate(doc["axes"]):
            if "edges" in axis:
                yield from edge_problems(axis["edges"], f"axes[{i}].edges")
                sizes.append(len(axis["edges"]) - 1)
            else:
                categories = axis["categories"]
                for value in sorted({c for c in categories if categories.count(c) > 1}):
                    yield f"axes[{i}].categories lists {value} twice; list each category once"
                sizes.append(len(categories))
        for field in ("values", "uncertainties"):
            if field in doc:
                yield from _table_problems(doc[field], field, tuple(sizes), doc["axes"])
        for name in doc.get("validity", {}):
            if name not in [a["variable"] for a in doc["axes"]]:
                yield (
                    f"validity.{name} is not a variable of the axes "
                    f"({[a['variable'] for a in doc['axes']]}); name an axis variable"
                )
        for field in ("network", "score_edges", "threshold"):
            if field in doc:
                yield f"{field} is for network maps and surrogate taggers; remove it here"

    def efficiency(self, events: ak.Array) -> ak.Array:
        return self._lookup(events, self.values)

    def uncertainty(self, events: ak.Array) -> ak.Array:
        """The map's uncertainty for each object (0 where the policy gives efficiency 0)."""
        if self.uncertainties is None:
            raise MapError(f"{self.source}: the map has no 'uncertainties'; add them per bin")
        return self._lookup(events, self.uncertainties)

    def _lookup(self, events: ak.Array, table: np.ndarray) -> ak.Array:
        events = self._with_context(events, self._context)
        objects = self.objects(events)
        counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
        flat_index = np.zeros(int(counts.sum()), dtype=np.int64)
        inside = np.ones(len(flat_index), dtype=bool)
        for i, axis in enumerate(self.axes):
            x = self._flat(objects, self.variables[i])
            index, outside = self._bin_index(i, axis, x, events, counts)
            inside &= ~outside
            flat_index = flat_index * len(axis) + index
        values = table.reshape(-1)[flat_index]
        values[~inside] = 0.0
        return ak.unflatten(values, counts)

    def _bin_index(
        self, i: int, axis: bh.axis.Axis, x: np.ndarray, events: ak.Array, counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bin of each value on axis ``i`` (always a valid bin) and where it is out of range."""
        spec, policy = self.document["axes"][i], self.policies[i]
        if np.isnan(x).any():
            bad = np.flatnonzero(np.isnan(x))
            event = self._event_numbers(events, counts)[bad[0]]
            raise MapError(
                f"{self.source}: axes[{i}] ({spec['variable']}) is NaN for {len(bad)} "
                f"object(s) of {self.object} (first in event_number {event}); fix the events"
            )
        if "edges" in spec:
            x = x * unit_factor(spec["unit"])
            index = np.asarray(axis.index(x), dtype=np.int64)  # type: ignore[arg-type]  # arrays too
            outside = (index < 0) | (index >= len(axis))
        else:
            categories = np.asarray(spec["categories"])
            order = np.argsort(categories, kind="stable")
            position = np.clip(np.searchsorted(categories[order], x), 0, len(order) - 1)
            outside = categories[order][position] != x
            index = order[position]
            policy = "error" if policy == "clamp" else policy  # no edge bin to clamp to
        if outside.any():
            if policy == "error":
                raise MapError(self._range_message(i, x, outside, events, counts))
            index = np.clip(index, 0, len(axis) - 1)
            if policy == "clamp":
                outside = np.zeros_like(outside)
        return index, outside

    def _range_message(
        self, i: int, x: np.ndarray, outside: np.ndarray, events: ak.Array, counts: np.ndarray
    ) -> str:
        spec = self.document["axes"][i]
        first = int(np.flatnonzero(outside)[0])
        event = self._event_numbers(events, counts)[first]
        where = f"{self.object} in event_number {event}"
        if "edges" in spec:
            unit = "" if spec["unit"] == "1" else f" {spec['unit']}"
            return (
                f"{self.source}: axes[{i}] ({spec['variable']}): {spec['variable']} = "
                f"{x[first]:g}{unit} of {where} is outside the axis range "
                f"[{spec['edges'][0]:g}, {spec['edges'][-1]:g}){unit} "
                f"({int(outside.sum())} object(s) outside). out_of_range is 'error': widen "
                f"axes[{i}].edges, or set out_of_range (of the map or of axes[{i}]) to 'clamp' "
                "or 'zero'"
            )
        return (
            f"{self.source}: axes[{i}] ({spec['variable']}): {spec['variable']} = {x[first]:g} "
            f"of {where} is not among the categories {spec['categories']} "
            f"({int(outside.sum())} object(s)). Add the category to axes[{i}].categories, or "
            f"set axes[{i}].out_of_range to 'zero'"
        )

    def to_hist(self) -> Any:
        """The map as a :class:`hist.Hist` (variances from the uncertainties), e.g. to plot."""
        import hist

        axes = [
            hist.axis.Variable(
                a["edges"], name=a["variable"], label=f"{a['variable']} [{a['unit']}]"
            )
            if "edges" in a
            else hist.axis.IntCategory(a["categories"], name=a["variable"])
            for a in self.document["axes"]
        ]
        histogram: Any
        if self.uncertainties is None:
            histogram = hist.Hist(*axes)
            histogram.view(flow=False)[...] = self.values
            return histogram
        histogram = hist.Hist(*axes, storage=hist.storage.Weight())
        view: Any = histogram.view(flow=False)  # a record view: .value, .variance
        view.value, view.variance = self.values, self.uncertainties**2
        return histogram


# -- meaning checks of the numbers -----------------------------------------------------------
def _shape(nested: Any, where: str) -> tuple[int, ...]:
    """The shape of nested lists; a ValueError naming the first ragged entry."""
    if not isinstance(nested, list):
        return ()
    shapes = [_shape(item, f"{where}[{k}]") for k, item in enumerate(nested)]
    for k, shape in enumerate(shapes[1:], start=1):
        if shape != shapes[0]:
            raise ValueError(
                f"{where}[{k}] has shape {shape} but {where}[0] has {shapes[0]}; every entry at "
                "one depth needs the same number of values"
            )
    return (len(nested), *(shapes[0] if shapes else ()))


def _table_problems(
    nested: Any, field: str, sizes: tuple[int, ...], axes: Sequence[Mapping[str, Any]]
) -> Iterator[str]:
    try:
        shape = _shape(nested, field)
    except ValueError as exc:
        yield str(exc)
        return
    if shape != sizes:
        bins = ", ".join(
            f"axes[{i}] ({a['variable']}) has {n} " + ("bins" if "edges" in a else "categories")
            for i, (a, n) in enumerate(zip(axes, sizes, strict=True))
        )
        yield (
            f"{field} has shape {shape} but the axes need {sizes}: {bins}; give one value per "
            "bin, the first axis outermost"
        )
        return
    values = np.asarray(nested, dtype=np.float64)

    def named(mask: np.ndarray) -> str:
        where = np.argwhere(mask)
        shown = [
            field + "".join(f"[{k}]" for k in p) + f" = {values[tuple(p)]:g}"
            for p in where[:_SHOWN]
        ]
        more = f" and {len(where) - _SHOWN} more" if len(where) > _SHOWN else ""
        return ", ".join(shown) + more

    nan = np.isnan(values)
    if nan.any():
        yield f"{named(nan)}: NaN; every bin needs a number (an empty bin needs a value too)"
    low = ~nan & (values < 0)
    high = ~nan & (values > 1) if field == "values" else np.zeros_like(nan)
    if field == "values" and (low | high).any():
        yield (
            f"{named(low | high)}: outside [0, 1]; an efficiency is a probability (apply scale "
            "factors to the efficiency before writing the map)"
        )
    elif field == "uncertainties" and low.any():
        yield f"{named(low)}: negative; an uncertainty is ≥ 0"


__all__ = ["BinnedMap", "EfficiencyMap", "MapCheckError", "MapError", "load_map"]
