"""Published histograms of a network's inputs and outputs: checked, recorded, compared.

The Les Houches recommendations ask an analysis to publish, next to its cutflows, the
distributions of its networks' inputs and outputs at a benchmark point, so that a recast whose
cutflow disagrees can tell *which input* it builds differently (a unit, a padding value, a φ
range). A bundle lists such documents (schema ``network-histograms``, one per benchmark and
network) under ``network_histograms`` of ``analysis.json``. Each histogram is of one card
feature, at the stage the network receives it (the built input: units converted, preprocessed,
padded), or of one output label (at one parameter point of a parameterised network), over
every row the analysis fed the network.

Recording: a :class:`HistogramRecorder` observes a :class:`~recast.preserve.session.NetworkSession`
(its ``observer``) and fills exact sums (:mod:`recast.exactsum`), so histograms merged across
chunks, units and workers are identical in every bit whatever the order.

Comparison (:func:`compare_histogram`): both sides normalised to unit area (under- and overflow
included when published); per bin a pull with the pooled variance p̃ (1/N₁ + 1/N₂) of two
samples drawn from one shape (N the effective numbers of entries (Σw)²/Σw²); χ² over the bins
(runs of adjacent bins that expect fewer than :data:`MIN_EXPECTED` entries of the smaller
sample merged with each other, never into a well-filled bin, and no variance below one entry
of the smaller sample: so that the χ² distribution holds without hiding a shifted spike),
ndf = bins − 1 (the normalisation); its p-value;
and the largest difference of the cumulative shapes (a binned Kolmogorov–Smirnov distance). A
histogram passes when its p-value is at least the bundle's ``validation.histogram_p_value``
(:data:`DEFAULT_P_VALUE` when it states none).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import RecastError, closest
from ..exactsum import SCALE_BITS, exact_sum, to_float

log = logging.getLogger(__name__)

#: the schema kind of a published network histograms document
KIND = "network-histograms"
#: a histogram passes when the p-value of its χ² is at least this (a bundle may state its own
#: as ``validation.histogram_p_value``): a correct recast fails one of ten histograms by chance
#: in about one run of a hundred
DEFAULT_P_VALUE = 1e-3
#: bins are merged for the χ² until each expects this many entries of the smaller sample
MIN_EXPECTED = 5.0
#: integer weights below this are summed per bin by numpy exactly (partial sums < 2⁵³)
_EXACT_INTEGER = 2.0**20


@dataclass(frozen=True)
class HistogramSpec:
    """What to histogram: an input feature or an output label of one network, with its edges.

    Hashable (it keys recorded histograms and travels to Dask workers in the chain options).
    """

    network: str
    #: "input" (a card feature) or "output" (a card output label)
    kind: str
    #: the feature name or the output label
    name: str
    edges: tuple[float, ...]
    #: an output's parameter point, as sorted (name, value) pairs; empty without parameters
    parameters: tuple[tuple[str, float], ...] = ()

    @property
    def label(self) -> str:
        """The name shown in tables: the feature, or the label with its parameter point."""
        if not self.parameters:
            return self.name
        point = ", ".join(f"{k}={v:g}" for k, v in self.parameters)
        return f"{self.name} at {point}"

    @property
    def bins(self) -> int:
        return len(self.edges) - 1


@dataclass
class HistogramSums:
    """Σw, Σw² (exact, in units of 2⁻¹¹²⁶) and the number of rows per bin: underflow, the
    bins of the edges, overflow."""

    sumw: list[int]
    sumw2: list[int]
    raw: list[int]

    @classmethod
    def empty(cls, bins: int) -> HistogramSums:
        return cls([0] * (bins + 2), [0] * (bins + 2), [0] * (bins + 2))

    def merge(self, other: HistogramSums) -> HistogramSums:
        """The sum of two histograms of the same edges: exact, in any order."""
        return HistogramSums(
            [a + b for a, b in zip(self.sumw, other.sumw, strict=True)],
            [a + b for a, b in zip(self.sumw2, other.sumw2, strict=True)],
            [a + b for a, b in zip(self.raw, other.raw, strict=True)],
        )

    @property
    def counts(self) -> np.ndarray:
        return np.array([to_float(v) for v in self.sumw])

    @property
    def errors(self) -> np.ndarray:
        return np.sqrt(np.array([to_float(v) for v in self.sumw2]))

    def fill(self, edges: np.ndarray, values: np.ndarray, weights: np.ndarray) -> None:
        """Add ``values`` with ``weights``; NaN values are not histogrammed."""
        keep = ~np.isnan(values)
        values, weights = values[keep], weights[keep]
        if not len(values):
            return
        index = bin_index(edges, values)
        size = len(self.sumw)
        raw = np.bincount(index, minlength=size)
        sums = _exact_bin_sums(index, weights, size)
        squares = _exact_bin_sums(index, np.square(weights), size)
        for k in range(size):
            self.sumw[k] += sums[k]
            self.sumw2[k] += squares[k]
            self.raw[k] += int(raw[k])


def bin_index(edges: np.ndarray, values: np.ndarray) -> np.ndarray:
    """0 for the underflow, k for [edges[k-1], edges[k]) (the last bin closed), len(edges)
    for the overflow."""
    index = np.searchsorted(edges, values, side="right")
    return np.where(values == edges[-1], len(edges) - 1, index)


def _exact_bin_sums(index: np.ndarray, weights: np.ndarray, size: int) -> list[int]:
    """Σ weights per bin, exactly (units of 2⁻¹¹²⁶)."""
    whole = np.all(weights == np.round(weights)) and np.all(np.abs(weights) < _EXACT_INTEGER)
    if whole and len(weights) < 2**30:  # integer sums below 2⁵³: numpy's are exact
        sums = np.bincount(index, weights=weights, minlength=size)
        return [int(v) << SCALE_BITS for v in sums.tolist()]
    out = [0] * size
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    starts = np.searchsorted(ordered, np.arange(size + 1))
    for k in range(size):
        if starts[k + 1] > starts[k]:
            out[k] = exact_sum(weights[order[starts[k] : starts[k + 1]]])
    return out


class HistogramRecorder:
    """The observer of one network's session that histograms what it is fed and gives.

    >>> recorder = HistogramRecorder(specs, session.card)           # doctest: +SKIP
    >>> session.observer = recorder                                  # doctest: +SKIP
    >>> ...; sums = recorder.take()                                  # doctest: +SKIP
    """

    def __init__(self, specs: Sequence[HistogramSpec], card: Any) -> None:
        self.specs = list(specs)
        self._where: dict[HistogramSpec, tuple[str, int, str]] = {}
        for spec in self.specs:
            if spec.kind == "input":
                self._where[spec] = _feature_column(card, spec.name)
            else:
                node, column = card.output_column(spec.name)
                self._where[spec] = (str(node["name"]), column, "output")
        self._edges = {spec: np.asarray(spec.edges, dtype=np.float64) for spec in self.specs}
        self.sums = {spec: HistogramSums.empty(spec.bins) for spec in self.specs}

    def __call__(self, evaluation: Any) -> None:
        rows, weights = evaluation.rows, evaluation.weights
        for spec in self.specs:
            node, column, layout = self._where[spec]
            if spec.kind == "input":
                array = evaluation.inputs[node]
                if layout == "sequence":  # every slot of the feature, each with its row's weight
                    values = array[:, :, column].reshape(-1)
                    w = np.repeat(weights, array.shape[1])
                else:
                    values, w = array[:, column], weights
            else:
                k = _point_index(evaluation.points, spec.parameters)
                if k is None:  # this evaluation is at other points: nothing of this output
                    continue
                array = evaluation.outputs[node][k * rows : (k + 1) * rows]
                values, w = (array[:, column] if array.ndim > 1 else array), weights
            self.sums[spec].fill(self._edges[spec], np.asarray(values, dtype=np.float64), w)

    def take(self) -> dict[HistogramSpec, HistogramSums]:
        """What was recorded since the last call; the recorder starts again from zero."""
        taken = self.sums
        self.sums = {spec: HistogramSums.empty(spec.bins) for spec in self.specs}
        return taken


def _feature_column(card: Any, name: str) -> tuple[str, int, str]:
    """(input node, column in its built array, layout) of the feature ``name``."""
    for node in card.inputs:
        features = sorted(node.get("features", []), key=lambda f: f["index"])
        for column, feature in enumerate(features):  # the builder's column order
            if feature["name"] == name:
                return str(node["name"]), column, str(node["layout"])
    raise RecastError(f"{card.source}: no input feature {name!r}")  # checked when loaded


def _point_index(
    points: Sequence[Mapping[str, float] | None], parameters: tuple[tuple[str, float], ...]
) -> int | None:
    for k, point in enumerate(points):
        if point is None:
            if not parameters:
                return k
            continue
        if set(point) == {n for n, _ in parameters} and all(
            float(point[n]) == v for n, v in parameters
        ):
            return k
    return None


def attach_recorders(
    networks: Mapping[str, Any], specs: Iterable[HistogramSpec]
) -> list[HistogramRecorder]:
    """A recorder on the session of every network ``specs`` name (sessions not loaded are
    left out: their regions are skipped, and their histograms are not compared)."""
    by_network: dict[str, list[HistogramSpec]] = {}
    for spec in specs:
        by_network.setdefault(spec.network, []).append(spec)
    recorders = []
    for name, wanted in by_network.items():
        session = networks.get(name)
        if session is None:
            continue
        recorder = HistogramRecorder(wanted, session.card)
        session.observer = recorder
        recorders.append(recorder)
    return recorders


def merge_histograms(
    first: Mapping[HistogramSpec, HistogramSums], second: Mapping[HistogramSpec, HistogramSums]
) -> dict[HistogramSpec, HistogramSums]:
    """Recorded histograms of two parts of a run, added."""
    merged = dict(first)
    for spec, sums in second.items():
        merged[spec] = merged[spec].merge(sums) if spec in merged else sums
    return merged


# -- published documents ---------------------------------------------------------------------
def histogram_specs(documents: Iterable[Mapping[str, Any]]) -> tuple[HistogramSpec, ...]:
    """What to record for published documents (each histogram once)."""
    specs: dict[HistogramSpec, None] = {}
    for document in documents:
        for histogram in document.get("inputs", []):
            specs[_spec(document, "input", histogram)] = None
        for histogram in document.get("outputs", []):
            specs[_spec(document, "output", histogram)] = None
    return tuple(specs)


def _spec(document: Mapping[str, Any], kind: str, histogram: Mapping[str, Any]) -> HistogramSpec:
    name = histogram["feature"] if kind == "input" else histogram["label"]
    parameters = tuple(sorted((k, float(v)) for k, v in histogram.get("parameters", {}).items()))
    edges = tuple(float(e) for e in histogram["edges"])
    return HistogramSpec(str(document["network"]), kind, str(name), edges, parameters)


def histogram_problems(
    bundle_id: str,
    documents: Sequence[tuple[str, Mapping[str, Any]]],
    cards: Mapping[str, Any],
) -> list[str]:
    """Problems of published histogram documents, each ``(where, document)`` (``where``
    names the analysis.json entry and the file): the bundle's id, a network the bundle
    declares (``cards``: name → its card, or the text of why it cannot be read), features
    and labels of its card, increasing edges, one count and error per bin, one document per
    benchmark and network."""
    problems: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for where, document in documents:
        if document["analysis"] != bundle_id:
            problems.append(
                f"{where}: analysis {document['analysis']!r} is not this bundle's id {bundle_id!r}"
            )
        network, benchmark = str(document["network"]), str(document["benchmark"]["name"])
        if (network, benchmark) in seen:
            problems.append(
                f"{where}: a second document of network {network!r} for benchmark "
                f"{benchmark!r} (the first is {seen[network, benchmark]}); publish one per "
                "benchmark and network"
            )
        seen.setdefault((network, benchmark), where)
        card = cards.get(network)
        if card is None:
            problems.append(
                f"{where}: network {network!r} is not under 'networks' of analysis.json "
                f"({', '.join(cards) or 'none'}).{closest(network, cards)}"
            )
        elif isinstance(card, str):
            problems.append(f"{where}: network {network!r}: {card}")
            card = None
        names: set[tuple[str, str, tuple[tuple[str, float], ...]]] = set()
        for kind in ("inputs", "outputs"):
            for i, histogram in enumerate(document.get(kind, [])):
                at = f"{where}: {kind}[{i}]"
                problems += _bin_problems(histogram, at)
                spec = _spec(document, kind[:-1], histogram)
                if (kind, spec.name, spec.parameters) in names:
                    problems.append(f"{at}: {spec.label!r} is histogrammed twice")
                names.add((kind, spec.name, spec.parameters))
                if card is not None:
                    problems += _card_problems(card, kind, histogram, at)
    return problems


def _bin_problems(histogram: Mapping[str, Any], at: str) -> list[str]:
    edges = [float(e) for e in histogram["edges"]]
    problems = []
    if not all(math.isfinite(e) for e in edges):
        problems.append(f"{at}.edges: every edge must be a finite number")
    steps = [k for k in range(1, len(edges)) if not edges[k] > edges[k - 1]]
    if steps:
        k = steps[0]
        problems.append(
            f"{at}.edges are not strictly increasing (edges[{k}] = {edges[k]:g} after "
            f"edges[{k - 1}] = {edges[k - 1]:g}); give increasing bin edges"
        )
    bins = len(edges) - 1
    for name in ("counts", "errors"):
        if len(histogram[name]) != bins:
            problems.append(
                f"{at}.{name} has {len(histogram[name])} value(s) for {len(edges)} edges; give "
                f"one per bin ({bins})"
            )
    return problems


def _card_problems(card: Any, kind: str, histogram: Mapping[str, Any], at: str) -> list[str]:
    parameters = card.parameter_names
    if kind == "inputs":
        name = histogram["feature"]
        features = {f["name"]: f for _, f in card.features()}
        if name not in features:
            return [
                f"{at}.feature {name!r} is not a feature of {card.source}.{closest(name, features)}"
            ]
        if "parameter" in features[name]["source"]:
            return [
                f"{at}.feature {name!r} is a model parameter (set per hypothesis, not built from "
                "the events); histogram the outputs at a parameter point instead"
            ]
        return []
    label = histogram["label"]
    labels = [c["label"] for node in card.outputs for c in node["columns"]]
    if label not in labels:
        return [f"{at}.label {label!r} is not an output of {card.source}.{closest(label, labels)}"]
    given = set(histogram.get("parameters", {}))
    if parameters and given != set(parameters):
        return [
            f"{at}.parameters must give every parameter of the network ({', '.join(parameters)})"
            + (f", not {', '.join(sorted(given))}" if given else "")
        ]
    if not parameters and given:
        return [f"{at}.parameters: the network has no parameters; remove them"]
    return []


# -- comparison ------------------------------------------------------------------------------
@dataclass
class _Side:
    """One side of a comparison: fractions and errors over the compared bins."""

    fractions: np.ndarray
    errors: np.ndarray
    entries: float  # effective entries (Σw)² / Σw²
    total: float


def _side(counts: np.ndarray, errors: np.ndarray, used: np.ndarray) -> _Side:
    total = float(counts[used].sum())
    variance = float(np.square(errors[used]).sum())
    entries = total**2 / variance if variance > 0 else math.inf
    scale = 1.0 / total if total > 0 else 0.0
    return _Side(counts[used] * scale, errors[used] * scale, entries, total)


def _groups(expected: np.ndarray) -> list[list[int]]:
    """The bins the χ² adds: a bin expecting MIN_EXPECTED entries alone; runs of adjacent
    sparser bins merged with each other until they do (a run's remainder stays a group of its
    own). Sparse bins never join a well-filled one: a padding value moved into an empty bin
    beside its published spike would vanish in their sum."""
    groups: list[list[int]] = []
    current: list[int] = []
    total = 0.0
    for k, e in enumerate(expected):
        if e >= MIN_EXPECTED:
            if current:
                groups.append(current)
                current, total = [], 0.0
            groups.append([k])
            continue
        current.append(k)
        total += float(e)
        if total >= MIN_EXPECTED:
            groups.append(current)
            current, total = [], 0.0
    if current:
        groups.append(current)
    return groups


def compare_histogram(
    spec: HistogramSpec,
    published: Mapping[str, Any],
    recast: HistogramSums | None,
    threshold: float = DEFAULT_P_VALUE,
) -> dict[str, Any]:
    """One published histogram against the recorded one: shapes at unit area, per-bin pulls,
    χ² with ndf and p-value, the KS distance and the verdict (p-value ≥ ``threshold``).

    ``recast`` None (nothing recorded) compares against an empty histogram, which fails."""
    from scipy.stats import chi2 as chi2_distribution

    bins = spec.bins
    flows = ("underflow" in published, "overflow" in published)
    used = np.array([flows[0], *([True] * bins), flows[1]])

    def flow(name: str, key: str) -> float:
        return float(published[name][key]) if name in published else 0.0

    counts = np.array([flow("underflow", "count"), *published["counts"], flow("overflow", "count")])
    errors = np.array([flow("underflow", "error"), *published["errors"], flow("overflow", "error")])
    mine = recast or HistogramSums.empty(bins)
    pub, rec = _side(counts, errors, used), _side(mine.counts, mine.errors, used)
    problem = None
    if pub.total <= 0:
        problem = "the published histogram is empty (or its weights add up to ≤ 0)"
    elif rec.total <= 0:
        outside = sum(mine.raw) - sum(r for r, u in zip(mine.raw, used, strict=True) if u)
        problem = (
            f"all {outside} recast row(s) fall outside the published edges"
            if outside
            else "the network evaluated no row (or their weights add up to ≤ 0)"
        )
    if problem is not None:
        chi2, ndf, p_value, ks = math.inf, 0, 0.0, 1.0
        pulls = np.zeros(int(used.sum()))
    else:
        if math.isinf(pub.entries):  # an exact published shape: the recast's errors alone
            pooled = np.clip(pub.fractions, 0.0, None)
        else:
            share = pub.entries / (pub.entries + rec.entries)
            pooled = np.clip(share * pub.fractions + (1.0 - share) * rec.fractions, 0.0, None)
        scale = 1.0 / rec.entries + (0.0 if math.isinf(pub.entries) else 1.0 / pub.entries)
        # no less than one entry of the smaller sample: a single row in a bin the other side
        # leaves empty is no tension (it would count (N₁/N₂) in the χ², not 1)
        floor = 1.0 / min(pub.entries, rec.entries)
        difference = rec.fractions - pub.fractions
        variance = np.where(pooled > 0, np.maximum(pooled, floor), 0.0) * scale
        safe = variance > 0
        pulls = np.where(safe, difference / np.sqrt(np.where(safe, variance, 1.0)), 0.0)
        chi2, ndf = 0.0, -1
        for group in _groups(pooled * min(pub.entries, rec.entries)):
            p = float(pooled[group].sum())
            if p > 0:
                chi2 += float(difference[group].sum()) ** 2 / (max(p, floor) * scale)
                ndf += 1
        ndf = max(ndf, 0)
        p_value = float(chi2_distribution.sf(chi2, ndf)) if ndf > 0 else 1.0
        ks = float(np.max(np.abs(np.cumsum(difference)))) if len(difference) else 0.0
    entry: dict[str, Any] = {
        "network": spec.network,
        "feature": spec.label,
        "kind": spec.kind,
        **({"parameters": dict(spec.parameters)} if spec.parameters else {}),
        "edges": list(spec.edges),
        "published": _shown(pub, flows, bins),
        "recast": {**_shown(rec, flows, bins), "rows": int(sum(mine.raw))},
        "pulls": [float(p) for p in pulls[int(flows[0]) : int(flows[0]) + bins]],
        "chi2": float(chi2),
        "ndf": int(ndf),
        "p_value": float(p_value),
        "ks": float(ks),
        "passed": bool(problem is None and p_value >= threshold),
    }
    if problem is not None:
        entry["problem"] = problem
    else:
        entry["worst"] = _worst(spec, pulls, flows)
    return entry


def _shown(side: _Side, flows: tuple[bool, bool], bins: int) -> dict[str, Any]:
    start = int(flows[0])
    shown: dict[str, Any] = {
        "counts": [float(v) for v in side.fractions[start : start + bins]],
        "errors": [float(v) for v in side.errors[start : start + bins]],
    }
    if flows[0]:
        shown["underflow"] = float(side.fractions[0])
    if flows[1]:
        shown["overflow"] = float(side.fractions[-1])
    shown["entries"] = side.entries
    return shown


def _worst(spec: HistogramSpec, pulls: np.ndarray, flows: tuple[bool, bool]) -> dict[str, Any]:
    """The bin of the largest |pull|, named by its range (or under/overflow)."""
    k = int(np.argmax(np.abs(pulls))) if len(pulls) else 0
    if flows[0] and k == 0:
        where = f"underflow (< {spec.edges[0]:.6g})"
    elif flows[1] and k == len(pulls) - 1:
        where = f"overflow (> {spec.edges[-1]:.6g})"
    else:
        b = k - int(flows[0])
        close = "]" if b == spec.bins - 1 else ")"  # the last bin holds its upper edge
        where = f"[{spec.edges[b]:.6g}, {spec.edges[b + 1]:.6g}{close}"
    return {"bin": where, "pull": float(pulls[k]) if len(pulls) else 0.0}


def compare_documents(
    documents: Iterable[Mapping[str, Any]],
    recorded: Mapping[HistogramSpec, HistogramSums],
    threshold: float = DEFAULT_P_VALUE,
) -> list[dict[str, Any]]:
    """Every histogram of ``documents`` against ``recorded``, worst first: lowest p-value;
    among equal ones (p = 0 for gross differences) inputs before outputs, as an output follows
    from its inputs; then the largest χ² per degree of freedom."""
    entries = []
    for document in documents:
        for kind in ("inputs", "outputs"):
            for histogram in document.get(kind, []):
                spec = _spec(document, kind[:-1], histogram)
                entries.append(compare_histogram(spec, histogram, recorded.get(spec), threshold))

    def badness(entry: dict[str, Any]) -> tuple[float, bool, float]:
        per_dof = entry["chi2"] / entry["ndf"] if entry["ndf"] else entry["chi2"]
        return entry["p_value"], entry["kind"] != "input", -per_dof

    return sorted(entries, key=badness)


def published_document(
    bundle_id: str,
    network: str,
    benchmark: Mapping[str, Any],
    rows: str,
    recorded: Mapping[HistogramSpec, HistogramSums],
    provenance: Mapping[str, Any] | None = None,
    descriptions: Mapping[HistogramSpec, str] | None = None,
) -> dict[str, Any]:
    """A ``network-histograms`` document of ``recorded`` (Σw per bin, under- and overflow
    included), as an experiment publishes it; ``rows`` says which events were histogrammed."""
    document: dict[str, Any] = {
        "schema_version": "1.1.0",
        "analysis": bundle_id,
        "network": network,
        "benchmark": dict(benchmark),
        "rows": {"selection": "evaluated", "description": rows},
        "normalisation": "sum_of_weights",
    }
    for spec, sums in recorded.items():
        if spec.network != network:
            continue
        counts, errors = sums.counts, sums.errors
        histogram: dict[str, Any] = (
            {"feature": spec.name}
            if spec.kind == "input"
            else {
                "label": spec.name,
                **({"parameters": dict(spec.parameters)} if spec.parameters else {}),
            }
        )
        if descriptions and spec in descriptions:
            histogram["description"] = descriptions[spec]
        histogram["edges"] = list(spec.edges)
        histogram["counts"] = [float(v) for v in counts[1:-1]]
        histogram["errors"] = [float(v) for v in errors[1:-1]]
        histogram["underflow"] = {"count": float(counts[0]), "error": float(errors[0])}
        histogram["overflow"] = {"count": float(counts[-1]), "error": float(errors[-1])}
        document.setdefault("inputs" if spec.kind == "input" else "outputs", []).append(histogram)
    if provenance:
        document["provenance"] = dict(provenance)
    return document


__all__ = [
    "DEFAULT_P_VALUE",
    "KIND",
    "MIN_EXPECTED",
    "HistogramRecorder",
    "HistogramSpec",
    "HistogramSums",
    "attach_recorders",
    "bin_index",
    "compare_documents",
    "compare_histogram",
    "histogram_problems",
    "histogram_specs",
    "merge_histograms",
    "published_document",
]
