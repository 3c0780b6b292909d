"""Samples for the filter study: truth graphs, pass labels, variables and the CPU time of each
stage, from the toy decay trees or from Pythia8 with a real selection on recast objects.

``{"synthetic": "decay_tree", "events": 6000, "seed": 1}`` — :mod:`.toy`; variables
``m_vis`` (GeV) and ``n_particles``. There is no downstream chain to time.

``{"pythia": [settings...], "events": 2000, "seed": 1, "chunk_size": 500, "selection": {...}}``
— events generated in process (:mod:`recast.events.pythia`), truth objects built
(:func:`recast.objects.build_objects`), and the label of a real selection: at least
``min_jets`` jets with pT > ``jet_pt`` and |η| < 2.5 and at least ``min_leptons`` isolated
electrons or muons with pT > ``lepton_pt`` and |η| < 2.5. Variables: ``ht`` (Σ pT of those
jets), ``m_jets`` (their invariant mass), ``n_jets``, ``lepton_pt`` (the leading lepton, 0 if
none), ``n_particles``. The downstream time measured is that of objects + selection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import awkward as ak
import numpy as np

from ...errors import UsageError
from ...events.graphs import GraphArrays, concatenate, graph_arrays
from .toy import decay_tree_events

log = logging.getLogger(__name__)

SYNTHETIC = ("decay_tree",)
SELECTION_DEFAULTS = {"min_jets": 4, "jet_pt": 30.0, "min_leptons": 1, "lepton_pt": 25.0}
MAX_ABS_ETA = 2.5


@dataclass
class FilterSample:
    """Graphs, labels and per-event variables, with CPU seconds per event of each stage."""

    graphs: GraphArrays
    passed: np.ndarray
    variables: dict[str, np.ndarray]
    event_number: np.ndarray
    generation_seconds: float
    graph_seconds: float
    downstream_seconds: float | None
    description: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.passed)

    def take(self, rows: np.ndarray) -> FilterSample:
        return FilterSample(
            self.graphs.take(rows),
            self.passed[rows],
            {k: v[rows] for k, v in self.variables.items()},
            self.event_number[rows],
            self.generation_seconds,
            self.graph_seconds,
            self.downstream_seconds,
            self.description,
            self.extra,
        )


def _events(spec: Mapping[str, Any], where: str) -> int:
    n = spec.get("events")
    if not isinstance(n, int) or n < 10:
        raise UsageError(f"{where}.events must be an integer ≥ 10, not {n!r}")
    return n


def synthetic_sample(n_events: int, seed: int, max_particles: int, ordering: str) -> FilterSample:
    """Toy decay trees (see :mod:`.toy`) as a sample."""
    start = time.process_time()
    events, truth = decay_tree_events(n_events, seed)
    generated = time.process_time()
    graphs = graph_arrays(events, max_particles, ordering)
    built = time.process_time()
    return FilterSample(
        graphs,
        truth["passed"],
        {"m_vis": truth["m_vis"], "n_particles": graphs.n_particles.astype(np.float64)},
        ak.to_numpy(events.event_number),
        (generated - start) / n_events,
        (built - generated) / n_events,
        None,
        f"{n_events} toy decay trees (seed {seed})",
    )


def select_events(
    objects: ak.Array, cuts: Mapping[str, float]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The pass label of the selection ``cuts`` (see the module docstring) and the variables."""
    jets = objects.jets
    jets = jets[(jets.pt > cuts["jet_pt"]) & (abs(jets.eta) < MAX_ABS_ETA)]
    leptons = []
    for name in ("electrons", "muons"):
        c = objects[name]
        leptons.append(c[(c.pt > cuts["lepton_pt"]) & (abs(c.eta) < MAX_ABS_ETA) & c.isolated])
    n_leptons = ak.to_numpy(ak.num(leptons[0]) + ak.num(leptons[1]))
    n_jets = ak.to_numpy(ak.num(jets))
    lepton_pt = np.maximum(
        ak.to_numpy(ak.fill_none(ak.max(leptons[0].pt, axis=1), 0.0)),
        ak.to_numpy(ak.fill_none(ak.max(leptons[1].pt, axis=1), 0.0)),
    )
    pt, eta, phi, mass = (jets[f] for f in ("pt", "eta", "phi", "mass"))
    px, py = pt * np.cos(phi), pt * np.sin(phi)
    pz, energy = pt * np.sinh(eta), np.sqrt((pt * np.cosh(eta)) ** 2 + mass**2)
    total = [ak.to_numpy(ak.sum(v, axis=1)) for v in (px, py, pz, energy)]
    m_jets = np.sqrt(
        np.clip(total[3] ** 2 - total[0] ** 2 - total[1] ** 2 - total[2] ** 2, 0, None)
    )
    passed = (n_jets >= cuts["min_jets"]) & (n_leptons >= cuts["min_leptons"])
    variables = {
        "ht": ak.to_numpy(ak.sum(pt, axis=1)).astype(np.float64),
        "m_jets": m_jets.astype(np.float64),
        "n_jets": n_jets.astype(np.float64),
        "lepton_pt": lepton_pt.astype(np.float64),
    }
    return passed, variables


def pythia_sample(
    settings: list[str],
    n_events: int,
    seed: int,
    max_particles: int,
    ordering: str,
    *,
    chunk_size: int = 500,
    selection: Mapping[str, float] | None = None,
) -> FilterSample:
    """Pythia8 events, their graphs, and the label of the selection on recast objects."""
    from ...events.pythia import generate
    from ...objects import build_objects

    cuts = {**SELECTION_DEFAULTS, **dict(selection or {})}
    unknown = sorted(set(cuts) - set(SELECTION_DEFAULTS))
    if unknown:
        raise UsageError(
            f"selection has unknown field(s) {unknown}; known: {sorted(SELECTION_DEFAULTS)}"
        )
    parts: list[GraphArrays] = []
    labels, numbers, variables = [], [], []
    t_gen = t_graph = t_down = 0.0
    chunks = generate(settings, n_events, seed, chunk_size)
    while True:
        start = time.process_time()
        chunk = next(chunks, None)
        generated = time.process_time()
        t_gen += generated - start
        if chunk is None:
            break
        parts.append(graph_arrays(chunk, max_particles, ordering))
        built = time.process_time()
        passed, values = select_events(build_objects(chunk), cuts)
        t_down += time.process_time() - built
        t_graph += built - generated
        labels.append(passed)
        variables.append(values)
        numbers.append(ak.to_numpy(chunk.event_number))
        log.info("pythia sample: %d of %d events", sum(map(len, labels)), n_events)
    graphs = concatenate(parts)
    merged = {k: np.concatenate([v[k] for v in variables]) for k in variables[0]}
    merged["n_particles"] = graphs.n_particles.astype(np.float64)
    return FilterSample(
        graphs,
        np.concatenate(labels),
        merged,
        np.concatenate(numbers),
        t_gen / n_events,
        t_graph / n_events,
        t_down / n_events,
        f"{n_events} Pythia8 events (seed {seed}); pass: ≥{cuts['min_jets']} jets "
        f"pT > {cuts['jet_pt']:g} GeV and ≥{cuts['min_leptons']} isolated lepton(s) "
        f"pT > {cuts['lepton_pt']:g} GeV, |η| < {MAX_ABS_ETA:g}",
        {"selection": cuts, "settings": list(settings)},
    )


#: the per-event variables of each kind of sample (for decorrelate and bias.variables)
SYNTHETIC_VARIABLES = ("m_vis", "n_particles")
PYTHIA_VARIABLES = ("ht", "m_jets", "n_jets", "lepton_pt", "n_particles")


def sample_variables(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """The variables the sample a config's ``sample`` entry describes will have, known before
    it is made (empty for an entry the schema refuses)."""
    if "synthetic" in spec:
        return SYNTHETIC_VARIABLES
    if "pythia" in spec:
        return PYTHIA_VARIABLES
    return ()


def load_sample(spec: Mapping[str, Any], max_particles: int, ordering: str) -> FilterSample:
    """The sample a config's ``sample`` entry describes (see the module docstring)."""
    where = "sample"
    seed = spec.get("seed", 1)
    if "synthetic" in spec:
        if spec["synthetic"] not in SYNTHETIC:
            raise UsageError(
                f"{where}.synthetic is {spec['synthetic']!r}; choose one of {SYNTHETIC}"
            )
        return synthetic_sample(_events(spec, where), seed, max_particles, ordering)
    if "pythia" in spec:
        return pythia_sample(
            list(spec["pythia"]),
            _events(spec, where),
            seed,
            max_particles,
            ordering,
            chunk_size=int(spec.get("chunk_size", 500)),
            selection=spec.get("selection"),
        )
    raise UsageError(f"{where}: give 'synthetic' or 'pythia'")


__all__ = [
    "FilterSample",
    "load_sample",
    "pythia_sample",
    "sample_variables",
    "select_events",
    "synthetic_sample",
]
