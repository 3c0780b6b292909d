"""Build a network's input tensors from awkward object collections, exactly as its card says.

Everything is columnar: a chunk of events becomes one ``[rows, features]`` (or
``[rows, max_count, features]``) array per input node with a handful of awkward/numpy calls,
whatever the number of events. Each preprocessing formula is rewritten once as
``x' = (x - centre) * factor`` so that all columns are transformed in one vectorised step.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np

from ..errors import InputBuildError, MissingCollectionError, NaNInputError
from .card import NUMPY_DTYPES, NetworkCard, linear_form, unit_factor

log = logging.getLogger(__name__)

TWO_PI = 2.0 * np.pi
#: Largest input array built for one chunk. The card bounds the size of a row (see
#: :data:`recast.preserve.card.MAX_ROW_ELEMENTS`); this bounds rows x row, so that a huge chunk
#: is refused with a message instead of exhausting the machine's memory.
MAX_INPUT_BYTES = 4 * 2**30


def wrap_angle(phi: np.ndarray, angle_range: str) -> np.ndarray:
    """φ mapped into (-π, π] or [0, 2π), whatever range it came in."""
    phi = np.asarray(phi)
    if angle_range == "[0, 2pi)":
        if phi.size and phi.min() >= -np.pi and phi.max() <= np.pi:  # the usual case: shift
            return np.where(phi < 0, phi + TWO_PI, phi)
        return np.mod(phi, TWO_PI)
    if phi.size == 0 or (phi.min() > -np.pi and phi.max() <= np.pi):
        return phi
    return np.pi - np.mod(np.pi - phi, TWO_PI)


@dataclass
class _NodePlan:
    """Everything needed to build one input node, precomputed from the card."""

    node: dict[str, Any]
    features: list[dict[str, Any]]
    centre: np.ndarray
    factor: np.ndarray
    unit: np.ndarray
    pad_raw: np.ndarray  # raw padding (NaN where the padding is applied after preprocessing)
    pad_model: np.ndarray  # padding entering the network (NaN where applied before)
    nan_replacement: np.ndarray  # NaN where the policy is 'error'
    parameter_columns: list[tuple[int, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.node["name"])


def _plan(node: dict[str, Any], overrides: Mapping[str, Any] | None = None) -> _NodePlan:
    features = sorted(node.get("features", []), key=lambda f: f["index"])
    if overrides:
        features = [
            {**f, "preprocessing": overrides[f["name"]]} if f["name"] in overrides else f
            for f in features
        ]
    n = len(features)
    plan = _NodePlan(
        node=node,
        features=features,
        centre=np.zeros(n),
        factor=np.ones(n),
        unit=np.ones(n),
        pad_raw=np.full(n, np.nan),
        pad_model=np.full(n, np.nan),
        nan_replacement=np.full(n, np.nan),
    )
    for i, feature in enumerate(features):
        plan.centre[i], plan.factor[i] = linear_form(feature["preprocessing"])
        plan.unit[i] = unit_factor(feature["unit"])
        padding = feature.get("padding")
        if padding is not None:
            target = plan.pad_raw if padding["stage"] == "before_preprocessing" else plan.pad_model
            target[i] = padding["value"]
        nan = feature.get("nan", {"policy": "error"})
        if nan["policy"] == "replace":
            plan.nan_replacement[i] = nan["value"]
        if "parameter" in feature["source"]:
            plan.parameter_columns.append((i, feature["source"]["parameter"]))
    return plan


@dataclass
class BuiltInputs:
    """Model inputs for one chunk: the kinematic block, plus parameters filled per hypothesis."""

    arrays: dict[str, np.ndarray]
    plans: list[_NodePlan]
    rows: int
    card_source: str

    def take(self, rows: np.ndarray) -> BuiltInputs:
        """The same inputs for a subset of rows (e.g. one fold's)."""
        arrays = {k: v[rows] for k, v in self.arrays.items()}
        return BuiltInputs(arrays, self.plans, len(rows), self.card_source)

    def at(self, point: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        """Feeds (card node name → array) with the parameter columns set to ``point``.

        The kinematic block is shared: only the parameter columns of a copy are written.
        """
        feeds: dict[str, np.ndarray] = {}
        for plan in self.plans:
            array = self.arrays[plan.name]
            if plan.parameter_columns:
                if point is None:
                    names = [p for _, p in plan.parameter_columns]
                    raise InputBuildError(
                        f"{self.card_source}: the network is parameterised by {names}; give a "
                        "parameter point (e.g. one of the card's parameter_points)"
                    )
                array = array.copy()
                for column, name in plan.parameter_columns:
                    if name not in point:
                        raise InputBuildError(
                            f"{self.card_source}: parameter point {dict(point)} lacks {name!r}"
                        )
                    raw = float(point[name]) * plan.unit[column]
                    value = (raw - plan.centre[column]) * plan.factor[column]
                    array[..., column] = value
            feeds[plan.name] = array
        return feeds


@dataclass(frozen=True)
class _Slots:
    """Where the objects of one collection go once ordered and cropped, in *source* order.

    Indexing by source order lets every attribute be scattered straight from its flat
    content, with no gather into sorted order first.
    """

    counts: np.ndarray  # objects per row, before cropping
    row: np.ndarray  # row of each kept object
    rank: np.ndarray  # its position after ordering (0 = first)
    keep: np.ndarray | None  # which objects survive the crop to max_count (None: all)

    def kept(self, content: np.ndarray) -> np.ndarray:
        return content if self.keep is None else content[self.keep]


#: attribute aliases tried before vector's computed properties (stored fields are cheaper)
_ALIASES = {"m": "mass", "mass": "m", "e": "energy", "energy": "e"}


class InputBuilder:
    """Turns chunks of events (awkward records) into the input tensors a card describes.

    Objects are placed by one scatter per (collection, attribute): the ordering is computed
    once per collection, then every attribute's flat content is written straight into its
    columns. Preprocessing runs in the node's dtype, in place.
    """

    def __init__(self, card: NetworkCard, file_index: int | None = None) -> None:
        """``file_index`` selects the preprocessing of one file (fold) where it has its own."""
        self.card = card
        overrides = {}
        if file_index is not None:
            overrides = card.document["files"][file_index].get("preprocessing", {})
        self.plans = [_plan(node, overrides) for node in card.inputs]

    # -- public ----------------------------------------------------------------------------
    def rows(self, events: ak.Array) -> ak.Array:
        """The rows the network sees: the events, or every object of ``evaluate_per``."""
        per = self.card.evaluate_per
        if per == "event":
            return events
        return ak.flatten(self._field(events, per, "collection"), axis=1)

    def build(self, events: ak.Array) -> BuiltInputs:
        rows = self.rows(events)
        arrays: dict[str, np.ndarray] = {}
        cache: dict[tuple[Any, ...], Any] = {}
        for plan in self.plans:
            layout = plan.node["layout"]
            if layout == "flat":
                arrays[plan.name] = self._flat(rows, plan, cache)
            elif layout == "sequence":
                arrays[plan.name] = self._sequence(rows, plan, cache)
            else:
                arrays[plan.name] = self._mask(rows, plan.node, cache)
        return BuiltInputs(arrays, self.plans, len(rows), self.card.source)

    # -- layouts ---------------------------------------------------------------------------
    def _flat(self, rows: ak.Array, plan: _NodePlan, cache: dict) -> np.ndarray:
        n_rows, width = len(rows), len(plan.features)
        dtype = NUMPY_DTYPES[plan.node["dtype"]]
        # slots without an object keep this: the raw padding (in internal units) or 0
        initial = np.where(np.isnan(plan.pad_raw), 0.0, plan.pad_raw / plan.unit)
        x = self._allocate(plan.name, (n_rows, width), dtype)
        x[:] = initial.astype(dtype)
        flat_x = x.reshape(-1)
        groups: dict[tuple[Any, ...], list[tuple[int, int]]] = {}
        after: list[tuple[int, int, str, Any, int]] = []
        for i, feature in enumerate(plan.features):
            source = feature["source"]
            if "parameter" in source:
                continue  # filled per hypothesis by BuiltInputs.at
            if "position" in source:
                key = (
                    source["collection"],
                    repr(source["ordering"]),
                    source["max_count"],
                    source["attribute"],
                    feature.get("angle_range"),
                )
                groups.setdefault(key, []).append((source["position"], i))
                if not np.isnan(plan.pad_model[i]):
                    after.append(
                        (
                            i,
                            source["position"],
                            source["collection"],
                            source["ordering"],
                            source["max_count"],
                        )
                    )
            else:
                values = self._scalar(rows, source)
                if feature.get("angle_range"):
                    values = wrap_angle(values, feature["angle_range"])
                x[:, i] = values
        for (collection, _, max_count, attribute, angle_range), columns in groups.items():
            ordering = next(
                f["source"]["ordering"]
                for f in plan.features
                if f["source"].get("collection") == collection and "position" in f["source"]
            )
            slots = self._slots(rows, collection, ordering, max_count, cache)
            values = slots.kept(self._content(rows, collection, attribute, cache))
            if angle_range:
                values = wrap_angle(values, angle_range)
            self._scatter(flat_x, width, slots, dict(columns), values, cache)
        self._transform(x, plan)
        for i, position, collection, ordering, max_count in after:
            counts = self._slots(rows, collection, ordering, max_count, cache).counts
            x[counts <= position, i] = plan.pad_model[i]
        self._check_nan(x, plan)
        return x

    def _sequence(self, rows: ak.Array, plan: _NodePlan, cache: dict) -> np.ndarray:
        node = plan.node
        max_count, width = node["max_count"], len(plan.features)
        dtype = NUMPY_DTYPES[node["dtype"]]
        initial = np.where(np.isnan(plan.pad_raw), 0.0, plan.pad_raw / plan.unit)
        x = self._allocate(plan.name, (len(rows), max_count, width), dtype)
        x[:] = initial.astype(dtype)
        flat_x = x.reshape(-1)
        slots = self._slots(rows, node["collection"], node["ordering"], max_count, cache)
        base = self._destinations(slots, max_count * width, width, cache)
        for i, feature in enumerate(plan.features):
            attribute = feature["source"]["attribute"]
            values = slots.kept(self._content(rows, node["collection"], attribute, cache))
            if feature.get("angle_range"):
                values = wrap_angle(values, feature["angle_range"])
            flat_x[i:][base] = values
        self._transform(x, plan)
        self._allocate(plan.name, (len(rows), max_count), np.bool_, empty=False)
        padded = np.arange(max_count)[None, :] >= slots.counts[:, None]
        for i in np.flatnonzero(~np.isnan(plan.pad_model)):
            x[..., i][padded] = plan.pad_model[i]
        self._check_nan(x, plan)
        return x

    def _scatter(
        self,
        flat_x: np.ndarray,
        width: int,
        slots: _Slots,
        column_of_position: dict[int, int],
        values: np.ndarray,
        cache: dict,
    ) -> None:
        """Write each kept object's value into its row and the column of its position."""
        positions = sorted(column_of_position)
        first = column_of_position[positions[0]]
        stride = (column_of_position[positions[1]] - first) if len(positions) > 1 else 1
        affine = positions == list(range(len(positions))) and all(
            column_of_position[k] == first + k * stride for k in positions
        )
        if affine and stride > 0:  # the usual layout: slot k of an attribute at first + k*stride
            used = slots.rank < len(positions)
            destinations = self._destinations(slots, width, stride, cache)
            if used.all():
                flat_x[first:][destinations] = values
            else:
                flat_x[first:][destinations[used]] = values[used]
            return
        column_of_rank = np.full(int(slots.rank.max(initial=0)) + 1, -1, dtype=np.int64)
        for position, column in column_of_position.items():
            if position < len(column_of_rank):
                column_of_rank[position] = column
        column = column_of_rank[slots.rank]
        used = column >= 0
        flat_x[slots.row[used] * width + column[used]] = values[used]

    def _mask(self, rows: ak.Array, node: dict[str, Any], cache: dict) -> np.ndarray:
        counts = self._slots(
            rows, node["collection"], node["ordering"], node["max_count"], cache
        ).counts
        self._allocate(node["name"], (len(rows), node["max_count"]), np.float64, empty=False)
        mask = np.arange(node["max_count"])[None, :] < counts[:, None]
        return mask.astype(NUMPY_DTYPES[node["dtype"]])

    def _allocate(
        self, name: str, shape: tuple[int, ...], dtype: Any, empty: bool = True
    ) -> np.ndarray:
        """An uninitialised array for node ``name``, refused before it can exhaust memory.

        The card's sizes are bounded when it is read; the number of rows is the caller's.
        ``empty=False`` only checks the size of an array numpy is about to make.
        """
        size = int(np.prod(shape, dtype=np.float64)) * np.dtype(dtype).itemsize
        if size > MAX_INPUT_BYTES:
            per_row = size // max(shape[0], 1)
            raise InputBuildError(
                f"{self.card.source}: input {name!r} for {shape[0]} rows would take "
                f"{size / 2**30:.1f} GiB ({per_row} bytes per row, shape {list(shape)}), beyond "
                f"{MAX_INPUT_BYTES / 2**30:.0f} GiB; read the events in smaller chunks"
            )
        return np.empty(shape, dtype=dtype) if empty else np.empty(0)

    @staticmethod
    def _transform(x: np.ndarray, plan: _NodePlan) -> None:
        """Units then ``(x - centre) * factor``, in place, in the node's dtype."""
        if np.any(plan.unit != 1.0):
            x *= plan.unit.astype(x.dtype)
        x -= plan.centre.astype(x.dtype)
        x *= plan.factor.astype(x.dtype)

    def _check_nan(self, x: np.ndarray, plan: _NodePlan) -> None:
        if not np.isnan(x.reshape(-1)).any():
            return
        bad = np.isnan(x)
        per_feature = bad.reshape(-1, bad.shape[-1]).any(axis=0)
        fatal = per_feature & np.isnan(plan.nan_replacement)
        if fatal.any():
            i = int(np.flatnonzero(fatal)[0])
            rows_bad = np.flatnonzero(bad.reshape(len(bad), -1, bad.shape[-1])[:, :, i].any(axis=1))
            names = [plan.features[j]["name"] for j in np.flatnonzero(fatal)]
            raise NaNInputError(
                f"{self.card.source}: input {names[0]!r} of node {plan.name!r} is NaN in "
                f"{len(rows_bad)} row(s) (first at row {int(rows_bad[0])}); NaN features: {names}. "
                'Fix the events, or declare "nan": {"policy": "replace", "value": ...} '
                "for the feature in the card"
            )
        np.copyto(x, np.broadcast_to(plan.nan_replacement.astype(x.dtype), x.shape), where=bad)

    # -- reading the events ----------------------------------------------------------------
    def _field(self, array: ak.Array, name: str, what: str) -> ak.Array:
        fields = ak.fields(array)
        if name in fields:
            return array[name]
        if _ALIASES.get(name) in fields:
            return array[_ALIASES[name]]
        try:  # vector behaviours compute pt, eta, phi, m, ... from whatever is stored
            return getattr(array, name)
        except AttributeError:
            raise MissingCollectionError(self.card.source, what, name, fields) from None

    def _scalar(self, rows: ak.Array, source: Mapping[str, Any]) -> np.ndarray:
        target = rows
        if "collection" in source:
            target = self._field(rows, source["collection"], "collection")
        values = self._field(target, source["attribute"], "attribute")
        try:
            return np.asarray(ak.to_numpy(values), dtype=np.float64)
        except (ValueError, TypeError) as exc:
            raise InputBuildError(
                f"{self.card.source}: {source} is not one number per row ({exc}); an object list "
                "needs 'position', 'ordering' and 'max_count'"
            ) from None

    def _content(self, rows: ak.Array, collection: str, attribute: str, cache: dict) -> np.ndarray:
        """An attribute of every object of a collection, flattened over rows, as float64."""
        key = ("content", collection, attribute)
        if key not in cache:
            objects = self._field(rows, collection, "collection")
            values = self._field(objects, attribute, "attribute")
            cache[key] = np.asarray(ak.to_numpy(ak.flatten(values, axis=1)), dtype=np.float64)
        return cache[key]

    def _slots(
        self, rows: ak.Array, collection: str, ordering: Any, max_count: int, cache: dict
    ) -> _Slots:
        key = ("slots", collection, repr(ordering), max_count)
        if key not in cache:
            objects = self._field(rows, collection, "collection")
            counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
            starts = np.cumsum(counts) - counts
            row = np.repeat(np.arange(len(counts)), counts)
            rank = np.arange(len(row)) - starts[row]
            if ordering != "as_given" and not self._already_ordered(
                rows, collection, ordering, row, cache
            ):
                by = self._field(objects, ordering["by"], "attribute")
                order = ak.argsort(by, axis=1, ascending=not ordering["descending"], stable=True)
                source = np.asarray(ak.to_numpy(ak.flatten(order, axis=1))) + starts[row]
                rank_of_source = np.empty_like(rank)
                rank_of_source[source] = rank
                rank = rank_of_source
            keep = rank < max_count
            if keep.all():
                cache[key] = _Slots(counts, row, rank, None)
            else:
                cache[key] = _Slots(counts, row[keep], rank[keep], keep)
        return cache[key]

    def _already_ordered(
        self, rows: ak.Array, collection: str, ordering: Any, row: np.ndarray, cache: dict
    ) -> bool:
        """True when every row's objects already follow the ordering (FastJet's output is
        pT-sorted): the sort is then skipped, with the same result as a stable sort."""
        by = self._content(rows, collection, ordering["by"], cache)
        if len(by) < 2:
            return True
        step = np.diff(by)
        wrong = step > 0 if ordering["descending"] else step < 0
        return not np.any(wrong & (row[1:] == row[:-1]))

    def _destinations(self, slots: _Slots, width: int, stride: int, cache: dict) -> np.ndarray:
        """Flat index of each kept object's first column: row * width + rank * stride."""
        key = ("destinations", id(slots), width, stride)
        if key not in cache:
            cache[key] = slots.row * width + slots.rank * stride
        return cache[key]
