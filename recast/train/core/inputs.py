"""Training rows of a per-object network (efficiency map or surrogate tagger), built exactly as
the runtime builds them.

The network's inputs are described by a card template (three nodes: the object's own
features, its neighbours as a sequence nearest first, and their mask) and built by
:class:`recast.preserve.builder.InputBuilder` from that template, the same code that feeds the
exported card at run time: training and evaluation cannot disagree on an input. Rows are split
and bootstrapped by *event*. This module needs no torch.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import awkward as ak
import numpy as np

from ...detector.context import CONTEXT_FIELDS, with_context
from ...detector.learned import NetworkMap, SurrogateTagger
from ...errors import MissingCollectionError, UsageError
from ...preserve.builder import InputBuilder
from ...preserve.export import template_card
from ...schema import CURRENT_VERSION

log = logging.getLogger(__name__)

#: node names of the exported network, in the order its ``forward`` takes them
OWN, NEIGHBOURS, MASK = "own", "neighbours", "neighbour_mask"
#: the output column a network map reads, and the ensemble spread beside it
EFFICIENCY, SPREAD = "efficiency", "efficiency_spread"

_UNITS = {"pt": "GeV", "mass": "GeV", "m": "GeV", "energy": "GeV", "e": "GeV", "phi": "rad"}
_UNITS |= {"dphi": "rad"}
_DEFINITIONS = {
    "pt": "transverse momentum",
    "eta": "pseudorapidity",
    "abs_eta": "|pseudorapidity|",
    "phi": "azimuth",
    "mass": "mass",
    "dr_nearest": "ΔR = √(Δη² + Δφ²) to the nearest other object of the collection (10 if alone)",
    "n_objects": "number of objects of the collection in the event",
    "dr": "ΔR between the neighbour and the object",
    "deta": "η of the neighbour minus η of the object",
    "dphi": "φ of the neighbour minus φ of the object, wrapped into [-π, π]",
}


@dataclass(frozen=True)
class ObjectRows:
    """One row per object: the network's inputs, the tag, the weight and the event index."""

    inputs: dict[str, np.ndarray]
    tagged: np.ndarray
    weight: np.ndarray
    event: np.ndarray
    n_events: int

    def __len__(self) -> int:
        return len(self.tagged)

    def take(self, rows: np.ndarray, weight: np.ndarray | None = None) -> ObjectRows:
        """The rows ``rows`` (their weights replaced by ``weight`` if given)."""
        return ObjectRows(
            {k: v[rows] for k, v in self.inputs.items()},
            self.tagged[rows],
            self.weight[rows] if weight is None else weight,
            self.event[rows],
            self.n_events,
        )


def efficiency_template(
    collection: str,
    own_features: Sequence[str],
    neighbour_features: Sequence[str],
    max_neighbours: int,
    scaling: Mapping[str, Mapping[str, tuple[float, float]]] | None = None,
    name: str = "efficiency_network",
    logarithm: Sequence[str] = (),
) -> dict[str, Any]:
    """The card template; ``scaling[node][feature] = (mean, std)`` standardises each input
    (``(x - mean) / std``), identity where absent. Own features in ``logarithm`` are passed
    raw and their definition says that the network takes their logarithm."""
    scaling = scaling or {}

    def feature(index: int, node: str, attribute: str, padded: bool) -> dict[str, Any]:
        mean_std = scaling.get(node, {}).get(attribute)
        preprocessing: dict[str, Any] = {"formula": "x"}
        if mean_std is not None:
            mean, std = mean_std
            preprocessing = {"formula": "(x - mean) / std", "mean": mean, "std": std}
        definition = _DEFINITIONS.get(attribute, attribute)
        if node == OWN and attribute in logarithm:
            definition += "; the network takes its logarithm"
        entry = {
            "index": index,
            "name": attribute if node == OWN else f"neighbour_{attribute}",
            "definition": definition,
            "role": "feature",
            "source": {"attribute": attribute},
            "unit": _UNITS.get(attribute, "1"),
            "preprocessing": preprocessing,
        }
        if padded:  # masked out by the network: the value only has to be finite
            entry["padding"] = {"value": 0.0, "stage": "after_preprocessing"}
        return entry

    nearest_first = {"by": "dr", "descending": False}
    return {
        "schema_version": CURRENT_VERSION,
        "name": name,
        "description": (
            f"Per-object efficiency of {collection} given the other {collection} of the event "
            "(a set network: own features and a sum over the neighbours, nearest first)"
        ),
        "evaluate_per": collection,
        "inputs": [
            {
                "name": OWN,
                "layout": "flat",
                "features": [feature(i, OWN, a, False) for i, a in enumerate(own_features)],
            },
            {
                "name": NEIGHBOURS,
                "layout": "sequence",
                "collection": "neighbours",
                "ordering": nearest_first,
                "max_count": int(max_neighbours),
                "features": [
                    feature(i, NEIGHBOURS, a, True) for i, a in enumerate(neighbour_features)
                ],
            },
            {
                "name": MASK,
                "layout": "mask",
                "collection": "neighbours",
                "ordering": nearest_first,
                "max_count": int(max_neighbours),
            },
        ],
        "outputs": [
            {
                "name": "efficiency",
                "columns": [
                    {
                        "index": 0,
                        "label": EFFICIENCY,
                        "activation": "probability",
                        "use": "the efficiency: the mean of the ensemble's members",
                    },
                    {
                        "index": 1,
                        "label": SPREAD,
                        "activation": "linear",
                        "use": "statistical uncertainty: the members' standard deviation",
                    },
                ],
            }
        ],
        "provenance": {"notes": "trained with recast.train.efficiency"},
    }


def check_features(own: Sequence[str], neighbour: Sequence[str]) -> None:
    """Refuse what the builder could not provide, naming the fix."""
    if not own:
        raise UsageError("own_features is empty; give at least one, e.g. ('pt', 'abs_eta')")
    if not neighbour:
        raise UsageError("neighbour_features is empty; give at least one, e.g. ('dr',)")
    if "neighbours" in own:
        raise UsageError("own_features: 'neighbours' is a set; its fields go in neighbour_features")
    for name, listed in (("own_features", own), ("neighbour_features", neighbour)):
        doubles = sorted({f for f in listed if list(listed).count(f) > 1})
        if doubles:
            raise UsageError(f"{name} lists {doubles} more than once")


def check_log_features(own: Sequence[str], logarithm: Sequence[str]) -> None:
    """``log_features`` must name own features, each once."""
    if isinstance(logarithm, str):
        raise UsageError(f"log_features={logarithm!r}: give a list of own features, e.g. ['pt']")
    unknown = [f for f in logarithm if f not in own]
    if unknown:
        raise UsageError(
            f"log_features names {unknown}, not among own_features {list(own)}; the network "
            "takes the logarithm of the object's own inputs only"
        )
    doubles = sorted({f for f in logarithm if list(logarithm).count(f) > 1})
    if doubles:
        raise UsageError(f"log_features lists {doubles} more than once")


def network_scaling(
    rows: ObjectRows, template: Mapping[str, Any], logarithm: Sequence[str]
) -> tuple[dict[str, Any], list[tuple[int, float, float]]]:
    """The card's standardisation of the raw rows (:func:`standardisation`) without the own
    features in ``logarithm``, which the card passes raw; and for each of those (its column,
    the mean and std of its logarithm), the network's first step. A value ≤ 0 (or NaN) in
    training is refused, naming the feature."""
    scaling = standardisation(rows, template)
    own = [f["source"]["attribute"] for f in template["inputs"][0]["features"]]
    columns = []
    for name in logarithm:
        column = own.index(name)
        values = rows.inputs[OWN][:, column].astype(np.float64)
        bad = ~(values > 0)
        if bad.any():
            seen = values[bad]
            lowest = f"{seen[~np.isnan(seen)].min():g}" if (~np.isnan(seen)).any() else "NaN"
            raise UsageError(
                f"log_features: {name!r} is ≤ 0 or NaN (lowest {lowest}) for {int(bad.sum())} "
                f"training object(s); its logarithm needs positive values: drop {name!r} from "
                "log_features or fix the sample"
            )
        logs = np.log(values)
        std = float(logs.std())
        columns.append((column, float(logs.mean()), std if std > 0 else 1.0))
        del scaling[OWN][name]
    return scaling, columns


def per_object(
    events: ak.Array, collection: str, values: ak.Array | np.ndarray | str, what: str
) -> np.ndarray:
    """One value per object of ``collection``, flat (float64): ``values`` is a jagged array
    like the collection, a flat array, or the name of a field of the objects; ``what`` names
    them in an error (``tags``, ``scores``)."""
    objects = events[collection]
    n = int(ak.sum(ak.num(objects, axis=1)))
    if isinstance(values, str):
        if values not in ak.fields(objects):
            raise MissingCollectionError(what, "field", values, ak.fields(objects))
        values = objects[values]
    if isinstance(values, ak.Array) and values.ndim > 1:
        if ak.any(ak.num(values, axis=1) != ak.num(objects, axis=1)):
            raise UsageError(f"the {what} are not one per object of {collection} in every event")
        values = ak.flatten(values, axis=1)
    array = np.asarray(ak.to_numpy(values) if isinstance(values, ak.Array) else values)
    if array.shape != (n,):
        raise UsageError(f"{array.shape} {what} for {n} objects of {collection}; give one each")
    return array.astype(np.float64)


def flat_tags(events: ak.Array, collection: str, tagged: ak.Array | np.ndarray | str) -> np.ndarray:
    """Tags (0/1) of every object, flat: a jagged array like the collection, a flat array, or
    the name of a field of the objects."""
    values = per_object(events, collection, tagged, "tags")
    if not np.isin(values, (0.0, 1.0)).all():
        raise UsageError("the tags must be booleans (or 0/1): tagged or not")
    return values


def event_weights(events: ak.Array, sample_weight: np.ndarray | str | None) -> np.ndarray:
    """Per-event weights: None gives 1, a string names a field of the events."""
    if sample_weight is None:
        return np.ones(len(events))
    if isinstance(sample_weight, str):
        if sample_weight not in ak.fields(events):
            raise MissingCollectionError("sample_weight", "field", sample_weight, ak.fields(events))
        sample_weight = ak.to_numpy(events[sample_weight])
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape != (len(events),):
        raise UsageError(f"{weights.shape} sample weights for {len(events)} events; one each")
    if not np.isfinite(weights).all():
        raise UsageError("sample weights: NaN or infinite values; fix the events")
    return weights


def object_rows(
    events: ak.Array,
    template: Mapping[str, Any],
    tagged: ak.Array | np.ndarray | str,
    sample_weight: np.ndarray | str | None = None,
) -> ObjectRows:
    """Build the inputs of every object of ``events`` as ``template`` describes them."""
    collection = str(template["evaluate_per"])
    arrays, counts = network_inputs(events, template)
    tags = flat_tags(events, collection, tagged)
    weights = event_weights(events, sample_weight)
    event = np.repeat(np.arange(len(events)), counts)
    return ObjectRows(arrays, tags, weights[event], event, len(events))


def split_by_event(rows: ObjectRows, fraction: float, seed: int) -> tuple[ObjectRows, ObjectRows]:
    """Training and validation objects, split by *event* (objects of one event are
    correlated through their context); at least one event on each side."""
    order = np.random.default_rng(seed).permutation(rows.n_events)
    n_val = min(max(round(fraction * rows.n_events), 1), rows.n_events - 1)
    is_val = np.zeros(rows.n_events, dtype=bool)
    is_val[order[:n_val]] = True
    in_val = is_val[rows.event]
    return rows.take(np.flatnonzero(~in_val)), rows.take(np.flatnonzero(in_val))


def bootstrap_events(rows: ObjectRows, rng: np.random.Generator) -> ObjectRows:
    """A bootstrap resample of the *events*, as multiplicities times the objects' weights."""
    events = np.unique(rows.event)
    drawn = np.bincount(rng.integers(0, len(events), len(events)), minlength=len(events))
    multiplicity = np.zeros(rows.n_events, dtype=np.float64)
    multiplicity[events] = drawn
    factor = multiplicity[rows.event]
    kept = np.flatnonzero(factor > 0)
    return rows.take(kept, rows.weight[kept] * factor[kept])


def network_inputs(
    events: ak.Array, template: Mapping[str, Any]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The input arrays of every object (one row each) and the objects per event."""
    collection = str(template["evaluate_per"])
    if collection not in ak.fields(events):
        raise MissingCollectionError("training", "collection", collection, ak.fields(events))
    events = with_context(events, collection, CONTEXT_FIELDS)
    counts = np.asarray(ak.to_numpy(ak.num(events[collection], axis=1)), dtype=np.int64)
    return dict(InputBuilder(template_card(template)).build(events).at()), counts


def standardisation(rows: ObjectRows, template: Mapping[str, Any]) -> dict[str, Any]:
    """Per node and feature, (mean, std) of the raw inputs (neighbours: real ones only)."""
    scaling: dict[str, dict[str, tuple[float, float]]] = {}
    mask = rows.inputs[MASK].astype(bool)
    for node in template["inputs"]:
        if node["layout"] == "mask":
            continue
        values = rows.inputs[node["name"]]
        values = values[mask] if node["layout"] == "sequence" else values
        scaling[node["name"]] = {}
        for feature in node["features"]:
            column = values[:, feature["index"]].astype(np.float64)
            std = float(column.std()) if len(column) else 1.0
            scaling[node["name"]][feature["source"]["attribute"]] = (
                float(column.mean()) if len(column) else 0.0,
                std if std > 0 else 1.0,
            )
    return scaling


def training_range(rows: ObjectRows, own: Sequence[str]) -> dict[str, list[float]]:
    """[min, max] of the own features seen in training (raw, internal units): a map's
    ``validity``."""
    values = rows.inputs[OWN]
    domain = {}
    for i, name in enumerate(own):
        lo, hi = float(values[:, i].min()), float(values[:, i].max())
        if lo < hi:
            domain[name] = [lo, hi]
    return domain


def flat(array: ak.Array) -> np.ndarray:
    """A jagged per-object array as one flat float64 array."""
    return np.asarray(ak.to_numpy(ak.flatten(array, axis=1)), dtype=np.float64)


def map_columns(
    network_map: NetworkMap | SurrogateTagger, events: ak.Array, wanted: Sequence[str]
) -> dict[str, np.ndarray]:
    """The output columns ``wanted`` that a loaded map's card has, flat per object of its
    collection (the network evaluated once; none of them: ``{}``)."""
    labels = [c["label"] for node in network_map.card.outputs for c in node["columns"]]
    present = [label for label in wanted if label in labels]
    if not present:
        return {}
    prepared = with_context(events, network_map.object, network_map.context)
    outputs = cast(ak.Array, network_map.session.evaluate(prepared))  # no parameters: one array
    return {label: flat(outputs[label]) for label in present}


def with_name(template: Mapping[str, Any], name: str) -> dict[str, Any]:
    out = copy.deepcopy(dict(template))
    out["name"] = name
    return out


__all__ = [
    "EFFICIENCY",
    "MASK",
    "NEIGHBOURS",
    "OWN",
    "SPREAD",
    "ObjectRows",
    "bootstrap_events",
    "check_features",
    "check_log_features",
    "efficiency_template",
    "event_weights",
    "flat",
    "flat_tags",
    "map_columns",
    "network_inputs",
    "network_scaling",
    "object_rows",
    "per_object",
    "split_by_event",
    "standardisation",
    "training_range",
    "with_name",
]
