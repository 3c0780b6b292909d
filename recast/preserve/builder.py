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
from .card import NetworkCard, unit_factor

log = logging.getLogger(__name__)

TWO_PI = 2.0 * np.pi
_DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "float16": np.float16,
    "int64": np.int64,
    "int32": np.int32,
    "bool": np.bool_,
}


def linear_form(preprocessing: Mapping[str, Any]) -> tuple[float, float]:
    """(centre, factor) such that the card's formula equals ``(x - centre) * factor``."""
    formula = preprocessing["formula"]
    if formula == "x":
        return 0.0, 1.0
    if formula == "(x - mean) / std":
        return float(preprocessing["mean"]), 1.0 / float(preprocessing["std"])
    if formula == "(x - offset) / scale":
        return float(preprocessing["offset"]), 1.0 / float(preprocessing["scale"])
    if formula == "(x + offset) * scale":
        return -float(preprocessing["offset"]), float(preprocessing["scale"])
    if formula == "(x - min) / (max - min)":
        lo, hi = float(preprocessing["min"]), float(preprocessing["max"])
        return lo, 1.0 / (hi - lo)
    raise ValueError(f"unknown preprocessing formula {formula!r}")


def wrap_angle(phi: np.ndarray, angle_range: str) -> np.ndarray:
    """φ mapped into (-π, π] or [0, 2π), whatever range it came in."""
    if angle_range == "[0, 2pi)":
        return np.mod(phi, TWO_PI)
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


def _plan(node: dict[str, Any]) -> _NodePlan:
    features = sorted(node.get("features", []), key=lambda f: f["index"])
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


class InputBuilder:
    """Turns chunks of events (awkward records) into the input tensors a card describes."""

    def __init__(self, card: NetworkCard) -> None:
        self.card = card
        self.plans = [_plan(node) for node in card.inputs]

    # -- public ----------------------------------------------------------------------------
    def rows(self, events: ak.Array) -> ak.Array:
        """The rows the network sees: the events, or every object of ``evaluate_per``."""
        per = self.card.evaluate_per
        if per == "event":
            return events
        return ak.flatten(self._field(events, per, "collection"), axis=1)

    def build(self, events: ak.Array) -> BuiltInputs:
        rows = self.rows(events)
        count = len(rows)
        arrays: dict[str, np.ndarray] = {}
        cache: dict[tuple[Any, ...], Any] = {}
        for plan in self.plans:
            layout = plan.node["layout"]
            if layout == "flat":
                array = self._flat(rows, plan, cache)
            elif layout == "sequence":
                array = self._sequence(rows, plan, cache)
            else:
                array = self._mask(rows, plan.node, cache)
            arrays[plan.name] = array
        return BuiltInputs(arrays, self.plans, count, self.card.source)

    # -- layouts ---------------------------------------------------------------------------
    def _flat(self, rows: ak.Array, plan: _NodePlan, cache: dict) -> np.ndarray:
        n_rows, n_features = len(rows), len(plan.features)
        raw = np.zeros((n_rows, n_features))
        padded = np.zeros((n_rows, n_features), dtype=bool)
        for i, feature in enumerate(plan.features):
            source = feature["source"]
            if "parameter" in source:
                continue  # filled per hypothesis by BuiltInputs.at
            if "position" in source:
                values, counts = self._slots(rows, source, cache)
                raw[:, i] = values[:, source["position"]]
                padded[:, i] = counts <= source["position"]
            else:
                raw[:, i] = self._scalar(rows, source)
            if feature.get("angle_range"):
                raw[:, i] = wrap_angle(raw[:, i], feature["angle_range"])
        return self._finish(raw, padded, plan)

    def _sequence(self, rows: ak.Array, plan: _NodePlan, cache: dict) -> np.ndarray:
        node = plan.node
        max_count = node["max_count"]
        raw = np.zeros((len(rows), max_count, len(plan.features)))
        counts = None
        for i, feature in enumerate(plan.features):
            source = {
                "collection": node["collection"],
                "attribute": feature["source"]["attribute"],
                "ordering": node["ordering"],
                "max_count": max_count,
            }
            values, counts = self._slots(rows, source, cache)
            raw[:, :, i] = values
            if feature.get("angle_range"):
                raw[:, :, i] = wrap_angle(raw[:, :, i], feature["angle_range"])
        if counts is None:
            counts = np.zeros(len(rows), dtype=np.int64)
        padded = np.arange(max_count)[None, :] >= counts[:, None]
        padded = np.broadcast_to(padded[:, :, None], raw.shape)
        return self._finish(raw, padded, plan)

    def _mask(self, rows: ak.Array, node: dict[str, Any], cache: dict) -> np.ndarray:
        ordered = self._ordered(rows, node["collection"], node["ordering"], cache)
        counts = np.asarray(ak.num(ordered, axis=1))
        mask = np.arange(node["max_count"])[None, :] < counts[:, None]
        return mask.astype(_DTYPES[node["dtype"]])

    def _finish(self, raw: np.ndarray, padded: np.ndarray, plan: _NodePlan) -> np.ndarray:
        """Units, padding, preprocessing and the NaN policy, all columns at once."""
        x = raw * plan.unit
        before = ~np.isnan(plan.pad_raw)
        if before.any():
            x = np.where(padded & before, plan.pad_raw, x)
        x = (x - plan.centre) * plan.factor
        after = ~np.isnan(plan.pad_model)
        if after.any():
            x = np.where(padded & after, plan.pad_model, x)
        bad = np.isnan(x)
        if bad.any():
            x = self._apply_nan_policy(x, bad, plan)
        return x.astype(_DTYPES[plan.node["dtype"]])

    def _apply_nan_policy(self, x: np.ndarray, bad: np.ndarray, plan: _NodePlan) -> np.ndarray:
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
        return np.where(bad, plan.nan_replacement, x)

    # -- reading the events ----------------------------------------------------------------
    def _field(self, array: ak.Array, name: str, what: str) -> ak.Array:
        fields = ak.fields(array)
        if name in fields:
            return array[name]
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

    def _ordered(self, rows: ak.Array, collection: str, ordering: Any, cache: dict) -> ak.Array:
        key = ("ordered", collection, repr(ordering))
        if key not in cache:
            objects = self._field(rows, collection, "collection")
            if ordering != "as_given":
                by = self._field(objects, ordering["by"], "attribute")
                order = ak.argsort(by, axis=1, ascending=not ordering["descending"], stable=True)
                objects = objects[order]
            cache[key] = objects
        return cache[key]

    def _slots(
        self, rows: ak.Array, source: Mapping[str, Any], cache: dict
    ) -> tuple[np.ndarray, np.ndarray]:
        """(values [rows, max_count] with 0 in empty slots, number of objects per row)."""
        collection, ordering = source["collection"], source["ordering"]
        max_count = source["max_count"]
        key = ("slots", collection, repr(ordering), max_count, source["attribute"])
        if key not in cache:
            objects = self._ordered(rows, collection, ordering, cache)
            values = self._field(objects, source["attribute"], "attribute")
            values = ak.values_astype(values, np.float64)  # flags (b-tag) become 0/1
            clipped = ak.pad_none(values[:, :max_count], max_count, axis=1, clip=True)
            dense = ak.to_numpy(ak.fill_none(clipped, 0.0)).astype(np.float64, copy=False)
            counts = np.asarray(ak.num(values, axis=1))
            cache[key] = (dense, counts)
        return cache[key]
