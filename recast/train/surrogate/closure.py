"""Does a surrogate tagger reproduce the detector? Sampled against observed scores, per bin.

:func:`surrogate_closure` loads nothing itself: it takes a
:class:`~recast.detector.learned.SurrogateTagger` (as the detector layer loads it) and held-out
scored samples, draws one score per object with
:meth:`~recast.detector.learned.SurrogateTagger.sample_scores` (the runtime's own sampler), and
compares the sampled with the observed (detector-level) scores of the *same* objects, per bin
of pT, of pT × flavour and of ΔR to the nearest jet × flavour (:data:`TABLES`; a detector
effect of close jets that pulls b- and light-jet scores towards each other cancels in the
pT bins alone):

- a binned two-sample χ² over the map's score bins, adjacent bins merged until each holds at
  least ``min_per_bin`` objects of the two samples together:
  χ² = Σ_k (O_k − S_k)² / (Σ_O w² + Σ_S w²)_k with ndf = bins − 1 (the totals are equal); with
  unit weights, Σ (n_obs − n_sampled)² / (n_obs + n_sampled);
- the two-sample Kolmogorov–Smirnov test (unweighted: it ignores event weights, the χ² does
  not), sensitive to shifts the bins average away.

Both p-values are reported per bin with the observed, sampled and (for synthetic samples) true
mean scores; the summary of each table combines the χ² over its populated bins (Σχ², Σndf),
takes the smallest KS p-value, and *passes* when the combined p-value exceeds :data:`ALPHA`
and the smallest KS p-value exceeds ALPHA / (number of bins) (Bonferroni).
:func:`surrogate_uncertainty` returns, per object, the ensemble's spread columns and
whether the object lies outside the map's ``validity`` (the training support).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import awkward as ak
import numpy as np

from ...detector.context import CONTEXT_FIELDS, DR_NONE, attribute, with_context
from ...detector.learned import SurrogateTagger
from ..core.inputs import event_weights, flat, map_columns
from .inputs import DISAGREEMENT, SPREAD
from .samples import FLAVOUR_NAMES, ScoredSample

log = logging.getLogger(__name__)

KIND = "surrogate-closure-report"
PT_EDGES = (20.0, 40.0, 70.0, 120.0, 250.0, 2000.0)
#: bands of ΔR to the nearest other object; the last holds the lone objects (ΔR = DR_NONE)
DR_BANDS = (0.0, 0.2, 0.4, 0.7, 1.2, DR_NONE + 1e-6)
#: the tables of the report: name → the variables binned together
TABLES = {
    "pt": ("pt",),
    "pt_flavour": ("pt", "flavour"),
    "dr_flavour": ("dr_nearest", "flavour"),
}
#: a check "passes" when no p-value falls below this (the KS one Bonferroni-corrected)
ALPHA = 0.01


def binned_chi2(
    observed: np.ndarray,
    sampled: np.ndarray,
    edges: np.ndarray,
    weight: np.ndarray | None = None,
    min_per_bin: int = 10,
) -> dict[str, float]:
    """Two-sample χ² of two score samples over ``edges`` (module docstring); the p-value from
    the χ² distribution with ndf = merged bins − 1."""
    from scipy.stats import chi2 as chi2_law

    w = np.ones(len(observed)) if weight is None else weight
    o, _ = np.histogram(observed, edges, weights=w)
    s, _ = np.histogram(sampled, edges, weights=w)
    v, _ = np.histogram(observed, edges, weights=w**2)
    u, _ = np.histogram(sampled, edges, weights=w**2)
    n_o, _ = np.histogram(observed, edges)
    n_s, _ = np.histogram(sampled, edges)
    groups: list[list[int]] = []
    current: list[int] = []
    for k in range(len(o)):
        current.append(k)
        if n_o[current].sum() + n_s[current].sum() >= min_per_bin:
            groups.append(current)
            current = []
    if current:
        if groups:
            groups[-1] += current
        else:
            groups.append(current)
    chi2 = 0.0
    for group in groups:
        variance = v[group].sum() + u[group].sum()
        if variance > 0:
            chi2 += float((o[group].sum() - s[group].sum()) ** 2 / variance)
    ndf = max(len(groups) - 1, 1)
    return {"chi2": chi2, "ndf": ndf, "chi2_pvalue": float(chi2_law.sf(chi2, ndf))}


def _compare(
    observed: np.ndarray,
    sampled: np.ndarray,
    weight: np.ndarray,
    edges: np.ndarray,
    truth: np.ndarray | None,
    min_per_bin: int,
) -> dict[str, Any]:
    from scipy.stats import ks_2samp

    ks = ks_2samp(observed, sampled)
    row: dict[str, Any] = {
        "objects": len(observed),
        "mean_observed": float(np.average(observed, weights=weight)),
        "mean_sampled": float(np.average(sampled, weights=weight)),
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        **binned_chi2(observed, sampled, edges, weight, min_per_bin),
    }
    if truth is not None:
        row["mean_truth"] = float(np.average(truth, weights=weight))
    return row


def _variable_bins(
    variable: str, columns: Mapping[str, np.ndarray], edges: Mapping[str, Sequence[float]]
) -> list[tuple[np.ndarray, Any]]:
    """(selection, description) of every bin of one variable: edges, or the flavours seen."""
    if variable == "flavour":
        labels = sorted(set(columns["flavour"].astype(int)))
        return [(columns["flavour"] == f, FLAVOUR_NAMES.get(f, str(f))) for f in labels]
    e = np.asarray(edges[variable], dtype=np.float64)
    index = np.digitize(columns[variable], e) - 1
    return [(index == k, [float(e[k]), float(e[k + 1])]) for k in range(len(e) - 1)]


def sample_closure(
    tagger: SurrogateTagger,
    sample: ScoredSample,
    *,
    seed: int = 1,
    pt_edges: Sequence[float] = PT_EDGES,
    min_objects: int = 100,
    min_per_bin: int = 10,
) -> dict[str, Any]:
    """The closure tables of one held-out sample (bins with fewer than ``min_objects`` objects
    are listed but left out of the summary)."""
    events = with_context(sample.events, sample.collection, ["dr_nearest", "abs_eta"])
    objects = events[sample.collection]
    counts = np.asarray(ak.to_numpy(ak.num(objects, axis=1)), dtype=np.int64)
    observed = flat(sample.score)
    sampled = flat(tagger.sample_scores(events, seed=seed))
    weight = np.repeat(event_weights(events, sample.weight), counts)
    columns = {"pt": flat(objects.pt), "dr_nearest": flat(objects.dr_nearest)}
    if "flavour" in ak.fields(objects):  # without it, the tables by flavour are left out
        columns["flavour"] = flat(objects.flavour)
    truth = None if sample.detector is None else sample.detector.mean_score(objects)
    edges = {"pt": pt_edges, "dr_nearest": DR_BANDS}
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, variables in TABLES.items():
        if not set(variables) <= set(columns):
            continue
        tables[table] = []
        per_variable = [_variable_bins(v, columns, edges) for v in variables]
        for combination in itertools.product(*per_variable):
            chosen = np.logical_and.reduce([selection for selection, _ in combination])
            if chosen.sum() < 2:
                continue
            row: dict[str, Any] = {v: d for v, (_, d) in zip(variables, combination, strict=True)}
            row |= _compare(
                observed[chosen],
                sampled[chosen],
                weight[chosen],
                tagger.edges,
                None if truth is None else truth[chosen],
                min_per_bin,
            )
            row["populated"] = row["objects"] >= min_objects
            tables[table].append(row)
    pt_bins = _variable_bins("pt", columns, edges)
    return {
        "name": sample.name,
        "label": sample.label,
        "events": len(events),
        "objects": len(observed),
        "score_edges": [float(e) for e in tagger.edges],
        "pt_edges": [float(e) for e in pt_edges],
        "histograms": [
            _histograms(observed[c], sampled[c], weight[c], tagger.edges) for c, _ in pt_bins
        ],
        "tables": tables,
        "summary": {table: _summary(rows) for table, rows in tables.items()},
    }


def _histograms(
    observed: np.ndarray, sampled: np.ndarray, weight: np.ndarray, edges: np.ndarray
) -> dict[str, list[float]]:
    """Weighted score histograms (observed with its Σw², sampled), for the plot."""
    o, _ = np.histogram(observed, edges, weights=weight)
    o2, _ = np.histogram(observed, edges, weights=weight**2)
    s, _ = np.histogram(sampled, edges, weights=weight)
    return {"observed": o.tolist(), "observed_w2": o2.tolist(), "sampled": s.tolist()}


def _summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    from scipy.stats import chi2 as chi2_law

    populated = [r for r in rows if r["populated"]]
    chi2 = float(sum(r["chi2"] for r in populated))
    ndf = int(sum(r["ndf"] for r in populated))
    ks = min((r["ks_pvalue"] for r in populated), default=1.0)
    combined = float(chi2_law.sf(chi2, ndf)) if ndf else 1.0
    return {
        "bins": len(populated),
        "chi2": chi2,
        "ndf": ndf,
        "chi2_pvalue": combined,
        "min_ks_pvalue": ks,
        "passed": bool(combined > ALPHA and ks > ALPHA / max(len(populated), 1)),
    }


def surrogate_closure(
    tagger: SurrogateTagger,
    samples: Sequence[ScoredSample],
    *,
    seed: int = 1,
    pt_edges: Sequence[float] = PT_EDGES,
    min_objects: int = 100,
    min_per_bin: int = 10,
) -> dict[str, Any]:
    """The report (a JSON-ready dict) of ``tagger`` on held-out ``samples``."""
    from ...version import __version__

    report: dict[str, Any] = {
        "kind": KIND,
        "recast_version": __version__,
        "map": {"name": tagger.name, "source": str(tagger.source)},
        "seed": seed,
        "alpha": ALPHA,
        "min_objects": min_objects,
        "samples": [
            sample_closure(
                tagger,
                s,
                seed=seed,
                pt_edges=pt_edges,
                min_objects=min_objects,
                min_per_bin=min_per_bin,
            )
            for s in samples
        ],
    }
    for sample in report["samples"]:
        log.info("surrogate closure on %s: %s", sample["name"], sample["summary"]["pt"])
    return report


def surrogate_uncertainty(tagger: SurrogateTagger, events: ak.Array) -> dict[str, np.ndarray]:
    """Per object (flat): the ensemble's ``score_spread`` and ``disagreement`` (if the card has
    them), and ``outside``: True where any own feature lies outside the map's ``validity``."""
    out = map_columns(tagger, events, [SPREAD, DISAGREEMENT])
    domain = tagger.document.get("validity", {})
    needed = [v for v in domain if v in CONTEXT_FIELDS]
    objects = with_context(events, tagger.object, needed)[tagger.object]
    outside = np.zeros(int(ak.sum(ak.num(objects, axis=1))), dtype=bool)
    for name, (lo, hi) in domain.items():
        x = flat(attribute(objects, name, str(tagger.source)))
        outside |= (x < lo) | (x > hi)
    out["outside"] = outside
    return out


__all__ = [
    "DR_BANDS",
    "KIND",
    "PT_EDGES",
    "TABLES",
    "binned_chi2",
    "sample_closure",
    "surrogate_closure",
    "surrogate_uncertainty",
]
