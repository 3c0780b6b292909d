"""Calibration and closure of efficiency maps on held-out samples (numpy only).

The closure report evaluates every map (binned and learned alike, loaded from their documents
as the detector layer loads them) on held-out tagged samples and tabulates, per bin of
pT × |η|, of ΔR to the nearest object and of the multiplicity (variables a pT–η map does not
see), and per bin of pT × |η| × ΔR: the observed tagged fraction with its uncertainty, the
mean true ε where it is known, and per map its mean efficiency, its bias (map − truth), its
residual (observed − map) and pull. Bins with at least ``min_objects`` objects form the
*populated region* over which the summaries (largest |bias|, χ² of the residuals) are taken.
A sample of another process (e.g. two close jets from a boosted scalar) shows whether a map
generalises beyond the process it was derived on.

>>> report = closure_report({"binned": b, "learned": l}, [held_out, other])   # doctest: +SKIP
>>> report["samples"][1]["summary"]["learned"]["max_abs_bias"]                 # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import awkward as ak
import numpy as np

from ...detector.context import DR_NONE, with_context
from ...detector.learned import NetworkMap
from ..core.inputs import SPREAD, event_weights, flat, map_columns

if TYPE_CHECKING:
    from ...detector.maps import EfficiencyMap
    from .samples import TaggedSample

log = logging.getLogger(__name__)

KIND = "efficiency-closure-report"
#: bins of the predicted efficiency for the calibration check
CALIBRATION_EDGES = tuple(round(0.1 * k, 1) for k in range(11))
PT_EDGES = (20.0, 40.0, 70.0, 120.0, 250.0, 2000.0)
ABS_ETA_EDGES = (0.0, 0.8, 1.6, 2.5)
#: ΔR bands of the 3-D closure; the last holds the lone objects (ΔR = DR_NONE)
DR_BANDS = (0.0, 0.2, 0.4, 0.6, 1.0, DR_NONE + 1e-6)
DR_EDGES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, DR_NONE + 1e-6)
MULTIPLICITY_EDGES = (*tuple(float(k) + 0.5 for k in range(0, 13)), 1000.5)
#: the tables of the report: name → {variable: edges}
BINNING: dict[str, dict[str, tuple[float, ...]]] = {
    "pt": {"pt": PT_EDGES},
    "pt_abs_eta": {"pt": PT_EDGES, "abs_eta": ABS_ETA_EDGES},
    "dr_nearest": {"dr_nearest": DR_EDGES},
    "n_objects": {"n_objects": MULTIPLICITY_EDGES},
    "pt_abs_eta_dr": {"pt": PT_EDGES, "abs_eta": ABS_ETA_EDGES, "dr_nearest": DR_BANDS},
}


def calibration(
    predicted: np.ndarray,
    tagged: np.ndarray,
    weight: np.ndarray | None = None,
    edges: Sequence[float] = CALIBRATION_EDGES,
) -> dict[str, Any]:
    """Reliability of predicted efficiencies: per bin of the prediction, the observed tagged
    fraction against the mean prediction, with the binomial uncertainty the prediction implies
    (√(Σw² p(1 − p)) / Σw). A calibrated map has pulls of order 1: χ² ≈ ndf."""
    predicted = np.asarray(predicted, dtype=np.float64)
    tagged = np.asarray(tagged, dtype=np.float64)
    weight = np.ones_like(predicted) if weight is None else np.asarray(weight, dtype=np.float64)
    index = np.clip(np.digitize(predicted, edges) - 1, 0, len(edges) - 2)
    rows = []
    for k in range(len(edges) - 1):
        chosen = index == k
        w = weight[chosen]
        total = w.sum()
        if len(w) == 0 or total <= 0:
            continue
        p = float((w * predicted[chosen]).sum() / total)
        observed = float((w * tagged[chosen]).sum() / total)
        sigma = float(np.sqrt((w**2).sum() * max(p * (1 - p), 1e-6)) / total)
        rows.append(
            {
                "lo": float(edges[k]),
                "hi": float(edges[k + 1]),
                "objects": len(w),
                "predicted": p,
                "observed": observed,
                "uncertainty": sigma,
                "pull": (observed - p) / sigma,
            }
        )
    pulls = np.array([r["pull"] for r in rows])
    return {
        "bins": rows,
        "chi2": float((pulls**2).sum()),
        "ndf": len(rows),
        "max_deviation": max((abs(r["observed"] - r["predicted"]) for r in rows), default=0.0),
        "max_abs_pull": float(np.abs(pulls).max()) if len(pulls) else 0.0,
    }


# -- evaluating maps on a sample --------------------------------------------------------------
def map_outputs(efficiency_map: EfficiencyMap, events: ak.Array) -> dict[str, np.ndarray]:
    """A map's efficiency per object (flat) and, for learned maps whose card has it, the
    ensemble spread."""
    out = {"mean": flat(efficiency_map.efficiency(events))}
    if isinstance(efficiency_map, NetworkMap):
        columns = map_columns(efficiency_map, events, [SPREAD])
        if SPREAD in columns:
            out["spread"] = columns[SPREAD]
    return out


def _columns(sample: TaggedSample) -> dict[str, np.ndarray]:
    events = with_context(sample.events, sample.collection)
    objects = events[sample.collection]
    counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
    weight = event_weights(events, sample.weight)
    columns = {name: flat(objects[name]) for name in ("dr_nearest", "n_objects", "abs_eta")}
    columns["pt"] = flat(objects.pt)
    columns["tagged"] = flat(sample.tagged)
    columns["weight"] = np.repeat(weight, counts)
    if sample.truth is not None:
        columns["truth"] = flat(sample.truth)
    return columns


def _wmean(values: np.ndarray, weight: np.ndarray) -> float:
    return float((values * weight).sum() / weight.sum())


def _table(
    edges: Mapping[str, Sequence[float]],
    columns: Mapping[str, np.ndarray],
    outputs: Mapping[str, Mapping[str, np.ndarray]],
) -> list[dict[str, Any]]:
    """One row per non-empty bin of the variables ``edges`` names."""
    index = []
    inside = np.ones(len(columns["tagged"]), dtype=bool)
    for variable, e in edges.items():
        k = np.digitize(columns[variable], e) - 1
        inside &= (k >= 0) & (k < len(e) - 1)
        index.append(k)
    rows = []
    w_all, tagged = columns["weight"], columns["tagged"]
    for position in itertools.product(*(range(len(e) - 1) for e in edges.values())):
        chosen = inside.copy()
        for k, p in zip(index, position, strict=True):
            chosen &= k == p
        w = w_all[chosen]
        if not chosen.any() or w.sum() <= 0:
            continue
        observed = _wmean(tagged[chosen], w)
        w2 = float((w**2).sum())
        row: dict[str, Any] = {
            "bin": list(position),
            "mean": [_wmean(columns[v][chosen], w) for v in edges],
            "lo": [float(e[p]) for e, p in zip(edges.values(), position, strict=True)],
            "hi": [float(e[p + 1]) for e, p in zip(edges.values(), position, strict=True)],
            "objects": int(chosen.sum()),
            "observed": observed,
            "observed_uncertainty": float(
                np.sqrt(w2 * max(observed * (1 - observed), 1e-4)) / w.sum()
            ),
        }
        truth = columns.get("truth")
        if truth is not None:
            row["truth"] = _wmean(truth[chosen], w)
        row["maps"] = {}
        for name, output in outputs.items():
            mean = _wmean(output["mean"][chosen], w)
            sigma = np.sqrt(w2 * max(mean * (1 - mean), 1e-4)) / w.sum()
            entry = {"mean": mean, "residual": observed - mean, "pull": (observed - mean) / sigma}
            if truth is not None:
                entry["bias"] = mean - row["truth"]
            if "spread" in output:
                entry["spread"] = _wmean(output["spread"][chosen], w)
            row["maps"][name] = entry
        rows.append(row)
    return rows


def _summary(
    tables: Mapping[str, Mapping[str, Any]], names: Sequence[str], min_objects: int
) -> dict[str, Any]:
    """Per map and table, over the populated bins: largest |bias| and χ² of the residuals."""
    summary: dict[str, Any] = {}
    for name in names:
        per_map: dict[str, Any] = {"max_abs_bias": {}, "chi2": {}, "ndf": {}}
        for table, content in tables.items():
            populated = [r for r in content["bins"] if r["objects"] >= min_objects]
            pulls = np.array([r["maps"][name]["pull"] for r in populated])
            per_map["chi2"][table] = float((pulls**2).sum())
            per_map["ndf"][table] = len(pulls)
            biases = [abs(r["maps"][name]["bias"]) for r in populated if "bias" in r["maps"][name]]
            if biases:
                per_map["max_abs_bias"][table] = max(biases)
        summary[name] = per_map
    return summary


def sample_closure(
    maps: Mapping[str, EfficiencyMap],
    sample: TaggedSample,
    binning: Mapping[str, Mapping[str, Sequence[float]]] = BINNING,
    min_objects: int = 200,
) -> dict[str, Any]:
    """The closure tables of every map on one sample."""
    columns = _columns(sample)
    outputs = {name: map_outputs(m, sample.events) for name, m in maps.items()}
    tables = {
        table: {"variables": list(edges), "edges": [list(e) for e in edges.values()]}
        | {"bins": _table(edges, columns, outputs)}
        for table, edges in binning.items()
    }
    result: dict[str, Any] = {
        "name": sample.name,
        "label": sample.label,
        "events": len(sample.events),
        "objects": len(columns["tagged"]),
        "truth_known": "truth" in columns,
        "observed": _wmean(columns["tagged"], columns["weight"]),
        "tables": tables,
        "summary": _summary(tables, list(maps), min_objects),
    }
    if "truth" in columns:
        result["per_object"] = {
            name: {
                "max_abs_error": float(np.abs(out["mean"] - columns["truth"]).max()),
                "rms_error": float(np.sqrt(((out["mean"] - columns["truth"]) ** 2).mean())),
            }
            for name, out in outputs.items()
        }
    return result


def closure_report(
    maps: Mapping[str, EfficiencyMap],
    samples: Sequence[TaggedSample],
    *,
    binning: Mapping[str, Mapping[str, Sequence[float]]] = BINNING,
    min_objects: int = 200,
    calibrations: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report (a JSON-ready dict) of ``maps`` on held-out ``samples``."""
    from ...version import __version__

    report: dict[str, Any] = {
        "kind": KIND,
        "recast_version": __version__,
        "min_objects": min_objects,
        "maps": {
            name: {"name": m.name, "kind": m.kind, "source": str(m.source)}
            for name, m in maps.items()
        },
        "samples": [sample_closure(maps, s, binning, min_objects) for s in samples],
    }
    if calibrations:
        report["calibration"] = dict(calibrations)
    for sample in report["samples"]:
        for name, summary in sample["summary"].items():
            log.info(
                "closure of %s on %s: max |bias| %s", name, sample["name"], summary["max_abs_bias"]
            )
    return report


__all__ = ["BINNING", "KIND", "calibration", "closure_report", "map_outputs", "sample_closure"]
