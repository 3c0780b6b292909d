"""Fixed-size graph tensors from the generator-level truth record (numpy + awkward, no torch).

One graph per event: a node per particle of ``events.particles`` (the layout of
:mod:`recast.events.chunk`), an undirected edge per mother–daughter link (the parents of a
particle are those whose ``end_vertex`` is its ``production_vertex``). The particle list is
cropped or padded to ``max_particles`` (100 by default): ``ordering="pt"`` (the default) keeps
the hardest ones, ``"record"`` the first ones in the generator's record order. In a Pythia8
record of an LHC event the first hundred entries are the beams, the hard process and then the
initial-state shower and MPI partons: the top decay products come hundreds of entries later, so
"record" suits small decay trees (Belle II's Υ(4S) decays, the toy of
:mod:`recast.train.filter.toy`) and "pt" hadron-collider events. Links to a particle that was
cropped away are lost.

Three arrays, the inputs of the exported network:

* ``nodes`` ``[N, P, F]`` float32, the raw features of :data:`FEATURES` (0 in padding slots);
* ``adjacency`` ``[N, P, P]`` uint8, symmetric, 1 for a mother–daughter link, no self loops;
* ``mask`` ``[N, P]`` float32, 1 for a particle, 0 for padding.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import awkward as ak
import numpy as np

from ..errors import MissingCollectionError, UsageError

log = logging.getLogger(__name__)

#: the node names of an event filter's network (its card and its ONNX graph)
NODES, ADJACENCY, MASK, OUTPUT = "nodes", "adjacency", "mask", "pass_probability"

ORDERINGS = ("record", "pt")
ETA_LIMIT = 10.0

#: node feature name → (unit, physics definition); the order is the column order
FEATURES: dict[str, tuple[str, str]] = {
    "pid": ("1", "PDG id of the particle (signed), embedded by the network"),
    "log_pt": ("1", "ln(1 + pT / GeV)"),
    "eta": ("1", f"pseudorapidity, clipped to [-{ETA_LIMIT:g}, {ETA_LIMIT:g}] (beams: ±limit)"),
    "log_energy": ("1", "ln(1 + E / GeV)"),
    "log_mass": ("1", "ln(1 + m / GeV), m the generated mass (0 if negative)"),
    "final_state": ("1", "1 if the status is 1 (final state), else 0"),
    "production_rho": ("1", "ln(1 + ρ / mm), ρ the transverse distance of the production vertex"),
    "production_z": ("1", "sign(z) ln(1 + |z| / mm), z of the production vertex"),
    "flight": (
        "1",
        "ln(1 + c·Δt / mm), c·Δt between production and end vertex (decay time; 0 if stable)",
    ),
}
PARTICLE_FIELDS: tuple[str, ...] = ("px", "py", "pz", "E", "pid", "status", "generated_mass")
PARTICLE_FIELDS += ("production_vertex", "end_vertex")


@dataclass(frozen=True)
class GraphArrays:
    """Padded graphs of N events (see the module docstring); ``n_particles`` before cropping."""

    nodes: np.ndarray
    adjacency: np.ndarray
    mask: np.ndarray
    n_particles: np.ndarray

    def __len__(self) -> int:
        return len(self.mask)

    @property
    def max_particles(self) -> int:
        return int(self.mask.shape[1])

    def take(self, rows: np.ndarray) -> GraphArrays:
        return GraphArrays(
            self.nodes[rows], self.adjacency[rows], self.mask[rows], self.n_particles[rows]
        )

    def cropped_fraction(self) -> float:
        """The fraction of events with more particles than slots."""
        return float(np.mean(self.n_particles > self.max_particles)) if len(self) else 0.0


def _check(events: ak.Array, max_particles: int, ordering: str, source: str) -> None:
    if ordering not in ORDERINGS:
        raise UsageError(f"{source}: ordering={ordering!r}; choose one of {list(ORDERINGS)}")
    if int(max_particles) < 2:
        raise UsageError(f"{source}: max_particles must be at least 2, not {max_particles!r}")
    fields = set(ak.fields(events))
    for name in ("particles", "vertices"):
        if name not in fields:
            raise MissingCollectionError(source, "collection", name, fields)
    have = set(ak.fields(events.particles))
    for name in PARTICLE_FIELDS:
        if name not in have:
            raise MissingCollectionError(source, "particle field", name, have)


def _features(
    flat: Mapping[str, np.ndarray],
    event: np.ndarray,
    vertices: ak.Array,
) -> np.ndarray:
    """The raw node features of the given particles (flat columns, their events):
    ``[particles, F]`` float64."""
    px, py, pz, energy = (flat[f].astype(np.float64) for f in ("px", "py", "pz", "E"))
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.where(pt > 0, np.arcsinh(pz / np.where(pt > 0, pt, 1.0)), np.sign(pz) * ETA_LIMIT)
    vertex_counts = ak.to_numpy(ak.num(vertices))
    vertex_start = np.concatenate(([0], np.cumsum(vertex_counts)[:-1]))
    vx, vy, vz, vt = (
        np.append(ak.to_numpy(ak.flatten(vertices[f])).astype(np.float64), 0.0)
        for f in ("x", "y", "z", "t")
    )

    def at(index: np.ndarray, column: np.ndarray) -> np.ndarray:
        """The vertex column at a per-event index; 0 (the appended slot) for -1."""
        valid = (index >= 0) & (index < vertex_counts[event])
        return column[np.where(valid, vertex_start[event] + index, len(column) - 1)]

    production = flat["production_vertex"].astype(np.int64)
    end = flat["end_vertex"].astype(np.int64)
    z = at(production, vz)
    flight = np.where((production >= 0) & (end >= 0), np.abs(at(end, vt) - at(production, vt)), 0.0)
    columns = {
        "pid": flat["pid"].astype(np.float64),
        "log_pt": np.log1p(pt),
        "eta": np.clip(eta, -ETA_LIMIT, ETA_LIMIT),
        "log_energy": np.log1p(np.clip(energy, 0.0, None)),
        "log_mass": np.log1p(np.clip(flat["generated_mass"].astype(np.float64), 0.0, None)),
        "final_state": (flat["status"] == 1).astype(np.float64),
        "production_rho": np.log1p(np.hypot(at(production, vx), at(production, vy))),
        "production_z": np.sign(z) * np.log1p(np.abs(z)),
        "flight": np.log1p(flight),
    }
    return np.stack([columns[name] for name in FEATURES], axis=1)


def _slots(
    flat: Mapping[str, np.ndarray], event: np.ndarray, counts: np.ndarray, ordering: str
) -> np.ndarray:
    """Per particle (flat) its position after ordering within its event (0, 1, ...)."""
    start = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    position = np.arange(len(event), dtype=np.int64) - start[event]
    if ordering == "record":
        return position
    pt = np.hypot(flat["px"].astype(np.float64), flat["py"].astype(np.float64))
    # by pT descending, then (stably) by event: ties keep the record order. The event sort is
    # a radix sort on 16-bit integers, about a third faster than np.lexsort on a Pythia record
    order = np.argsort(-pt, kind="stable")
    small = np.int16 if len(counts) <= np.iinfo(np.int16).max else np.int64
    order = order[np.argsort(event[order].astype(small), kind="stable")]
    rank = np.empty(len(event), dtype=np.int64)
    rank[order] = position  # the k-th of an event in that order gets slot k
    return rank


def _links(
    event: np.ndarray, production: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(mother, daughter) indices into the given particles: mother.end_vertex ==
    daughter.production_vertex in the same event (vertex ≥ 0)."""
    stride = int(max(production.max(initial=0), end.max(initial=0))) + 2
    mothers = np.flatnonzero(end >= 0)
    daughters = np.flatnonzero(production >= 0)
    mother_key = event[mothers] * stride + end[mothers]
    daughter_key = event[daughters] * stride + production[daughters]
    order = np.argsort(mother_key, kind="stable")
    sorted_key = mother_key[order]
    low = np.searchsorted(sorted_key, daughter_key, "left")
    high = np.searchsorted(sorted_key, daughter_key, "right")
    n = high - low
    child = np.repeat(daughters, n)
    offset = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    mother = mothers[order[np.repeat(low, n) + offset]]
    return mother, child


def graph_arrays(
    events: ak.Array,
    max_particles: int = 100,
    ordering: str = "pt",
    *,
    source: str = "events",
) -> GraphArrays:
    """The padded graphs of a chunk of truth events (see the module docstring)."""
    _check(events, max_particles, ordering, source)
    particles = events.particles
    n_events = len(events)
    counts = ak.to_numpy(ak.num(particles)).astype(np.int64)
    event = np.repeat(np.arange(n_events), counts)
    flat = {f: ak.to_numpy(ak.flatten(particles[f])) for f in PARTICLE_FIELDS}
    slot = _slots(flat, event, counts, ordering)
    # only the particles that get a slot matter from here on (a Pythia8 LHC event has ~1600)
    kept = np.flatnonzero(slot < max_particles)
    event, slot = event[kept], slot[kept]
    flat = {f: v[kept] for f, v in flat.items()}
    nodes = np.zeros((n_events, max_particles, len(FEATURES)), dtype=np.float32)
    nodes[event, slot] = _features(flat, event, events.vertices)
    mask = np.zeros((n_events, max_particles), dtype=np.float32)
    mask[event, slot] = 1.0
    adjacency = np.zeros((n_events, max_particles, max_particles), dtype=np.uint8)
    production = flat["production_vertex"].astype(np.int64)
    end = flat["end_vertex"].astype(np.int64)
    mother, child = _links(event, production, end)
    both = mother != child
    e, a, b = event[mother[both]], slot[mother[both]], slot[child[both]]
    adjacency[e, a, b] = 1
    adjacency[e, b, a] = 1
    graphs = GraphArrays(nodes, adjacency, mask, counts)
    log.debug(
        "%d graphs of %d slots: %d links, %.1f%% of events cropped",
        n_events,
        max_particles,
        int(both.sum()),
        100 * graphs.cropped_fraction(),
    )
    return graphs


def concatenate(parts: list[GraphArrays]) -> GraphArrays:
    """Graphs of several chunks (with the same number of slots) as one."""
    if not parts:
        raise UsageError("concatenate: no graphs given")
    return GraphArrays(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in GraphArrays.__dataclass_fields__)
    )


def vocabulary(graphs: GraphArrays, size: int) -> list[int]:
    """The ``size`` most frequent PDG ids of the real particles (ties: smaller id first)."""
    pid = graphs.nodes[..., 0][graphs.mask > 0].astype(np.int64)
    values, counts = np.unique(pid, return_counts=True)
    order = np.lexsort((values, -counts))
    return sorted(int(v) for v in values[order][: int(size)])


def standardisation(graphs: GraphArrays) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation of every feature over the real particles (not the PDG id
    nor the 0/1 flag, which enter as they are)."""
    real = graphs.nodes[graphs.mask > 0].astype(np.float64)
    out = {}
    for j, name in enumerate(FEATURES):
        if name in ("pid", "final_state"):
            continue
        std = float(real[:, j].std()) if len(real) else 1.0
        out[name] = (float(real[:, j].mean()) if len(real) else 0.0, std if std > 1e-6 else 1.0)
    return out


def preprocess(graphs: GraphArrays, scaling: Mapping[str, tuple[float, float]]) -> np.ndarray:
    """The node features as the network takes them: (x - mean) / std, 0 in padding slots."""
    nodes = graphs.nodes.astype(np.float32, copy=True)
    for j, name in enumerate(FEATURES):
        if name in scaling:
            mean, std = scaling[name]
            nodes[..., j] = (nodes[..., j] - mean) / std
    nodes *= graphs.mask[..., None]
    return nodes


__all__ = [
    "FEATURES",
    "GraphArrays",
    "concatenate",
    "graph_arrays",
    "preprocess",
    "standardisation",
    "vocabulary",
]
