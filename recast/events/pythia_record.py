"""Pure array functions turning Pythia8 event records into the chunk layout's history.

Pythia links particles by index (``mother1/mother2``, ``daughter1/daughter2``) with
status-dependent meanings; HepMC3 links them through vertices. The functions here reproduce,
on flat numpy arrays of a whole chunk at once, exactly what Pythia's own HepMC3 interface
(``Pythia8ToHepMC3``) builds particle by particle, so that an event generated in process has
the same statuses and vertices as the same event written by Pythia to a HepMC3 file:

* :func:`hepmc_status` is ``Particle::statusHepMC()``;
* :func:`build_vertices` is the vertex construction of ``Pythia8ToHepMC3::fill_next_event``;
* :func:`inherit_positions` is HepMC3's ``GenVertex::position()``.

:func:`unpack_batch` reads the columns out of one event of pythia8mc's ``nextBatch``.

Inputs are flat arrays over all particles of all events *including* Pythia's entry 0 (the
"system" pseudo-particle, id 90), with ``counts`` the record sizes; outputs drop entry 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

# the per-particle columns taken from Pythia's record
COLUMNS: tuple[str, ...] = ("id", "status", "mother1", "mother2", "daughter1", "m")
COLUMNS += ("px", "py", "pz", "e", "x", "y", "z", "t")
# Status codes of particles without mothers in motherList(): 11 (system) and 12 (beams).
_NO_MOTHER_STATUS = (11, 12)


@dataclass(frozen=True)
class Vertices:
    """The vertex structure of a chunk, without Pythia's entry 0 (indices are per event)."""

    production_vertex: np.ndarray  # int32 per particle, -1 for none
    end_vertex: np.ndarray  # int32 per particle, -1 for none
    counts: np.ndarray  # int64 per event
    x: np.ndarray  # mm, per vertex
    y: np.ndarray
    z: np.ndarray
    t: np.ndarray  # mm (c·t)
    n_fallback: int  # events that needed the particle-by-particle construction


def is_hadron(pid: np.ndarray) -> np.ndarray:
    """Pythia's ``ParticleDataEntry::isHadron`` on an array of PDG ids (R-hadrons excluded)."""
    a = np.abs(np.asarray(pid, dtype=np.int64))
    out = ~((a <= 100) | ((a >= 1_000_000) & (a <= 9_000_000)) | (a >= 9_900_000))
    out &= ~((a % 10 == 0) | ((a // 10) % 10 == 0) | ((a // 100) % 10 == 0))
    return out | (a == 130) | (a == 310)


def _starts(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-particle event number, per-event first global index, per-particle local index."""
    counts = np.asarray(counts, dtype=np.int64)
    event = np.repeat(np.arange(len(counts)), counts)
    start = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    local = np.arange(int(counts.sum()), dtype=np.int64) - start[event]
    return event, start, local


def hepmc_status(
    counts: np.ndarray, pid: np.ndarray, status: np.ndarray, daughter1: np.ndarray
) -> np.ndarray:
    """HepMC status of every particle, as ``Particle::statusHepMC()`` gives it.

    1 final (Pythia status > 0), 4 beam (-12), 2 for hadrons, muons and taus that decayed
    normally (their first daughter has status 91-94 and another id), otherwise Pythia's
    status made positive (e.g. 22 for the gluinos, 62 for a top's last copy), 0 if out of range.
    """
    event, start, _ = _starts(counts)
    status = np.asarray(status, dtype=np.int64)
    pid = np.asarray(pid, dtype=np.int64)
    first = start[event] + np.asarray(daughter1, dtype=np.int64)
    decays = (is_hadron(pid) | np.isin(np.abs(pid), (13, 15))) & (pid[first] != pid)
    decays &= (np.abs(status[first]) > 90) & (np.abs(status[first]) < 95)
    out = np.where((status <= -11) & (status >= -200), -status, 0)
    out = np.where(decays, 2, out)
    out = np.where(status == -12, 4, out)
    return np.where(status > 0, 1, out).astype(np.int32)


def mother_list(status: int, mother1: int, mother2: int) -> list[int]:
    """Pythia's ``Particle::motherList()`` for one particle."""
    a = abs(status)
    if a in _NO_MOTHER_STATUS:
        return []
    if mother1 == 0 and mother2 == 0:
        return [0]
    if mother2 == 0 or mother2 == mother1:
        return [mother1]
    if 80 < a < 90 or 100 < a < 107:
        return list(range(mother1, mother2 + 1))
    return [min(mother1, mother2), max(mother1, mother2)]


def build_event_vertices(
    status: np.ndarray, mother1: np.ndarray, mother2: np.ndarray, position: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The particle-by-particle construction of Pythia8ToHepMC3 for one event (entry 0 kept).

    Returns production and end vertex per particle (entry 0 included, always -1) and the
    vertex positions, shape (n_vertices, 4). This is the reference the vectorised
    :func:`build_vertices` must agree with; it is used for the rare inconsistent records.
    """
    n = len(status)
    prod = [-1] * n
    end = [-1] * n
    where: list[np.ndarray] = []
    for i in range(1, n):
        mothers = mother_list(int(status[i]), int(mother1[i]), int(mother2[i]))
        vertex = -1
        for m in mothers:  # the first mother that already ends somewhere
            if m <= 0:
                break
            if end[m] >= 0:
                vertex = end[m]
                break
        pos = position[i]
        if vertex < 0 and (mothers or pos.any()):
            vertex = len(where)
            where.append(np.zeros(4))
        if vertex < 0:
            continue
        prod[i] = vertex
        if not where[vertex].any():
            where[vertex] = pos.astype(np.float64)
        for m in mothers:
            if m <= 0:
                break
            if end[m] < 0:
                end[m] = vertex
    for i in range(1, n):  # particles from nowhere get a vertex of their own
        if prod[i] < 0 and end[i] < 0:
            prod[i] = len(where)
            where.append(np.zeros(4))
    positions = np.array(where).reshape(-1, 4)
    return np.array(prod, dtype=np.int32), np.array(end, dtype=np.int32), positions


def build_vertices(
    counts: np.ndarray,
    status: np.ndarray,
    mother1: np.ndarray,
    mother2: np.ndarray,
    position: np.ndarray,
) -> Vertices:
    """Vertices of a whole chunk, as Pythia8ToHepMC3 builds them, without per-particle loops.

    ``position`` has shape (n, 4): the production x, y, z, t in mm. In a consistent record
    every particle sharing a mother has the same mother list, so a vertex is exactly a distinct
    mother list, numbered by its first daughter. Events where a mother appears in two different
    lists (Pythia then joins the vertex of the first) go through :func:`build_event_vertices`.
    """
    counts = np.asarray(counts, dtype=np.int64)
    status = np.asarray(status, dtype=np.int64)
    m1 = np.asarray(mother1, dtype=np.int64)
    m2 = np.asarray(mother2, dtype=np.int64)
    position = np.asarray(position, dtype=np.float64).reshape(-1, 4)
    event, start, local = _starts(counts)
    a = np.abs(status)

    # motherList() in columns: kind 0 = contiguous lo..hi, 1 = the pair {lo, hi}, 2 = a vertex
    # of its own with no incoming particle (mother list [0] or led by 0, or no mothers but a
    # production position); particles with no mothers and no position get no vertex here.
    no_mothers = np.isin(a, _NO_MOTHER_STATUS) | (local == 0)
    single = (m2 == 0) | (m2 == m1)
    ranged = ~single & (((a > 80) & (a < 90)) | ((a > 100) & (a < 107)))
    lo = np.where(single | ranged, m1, np.minimum(m1, m2))
    hi = np.where(single, m1, np.where(ranged, m2, np.maximum(m1, m2)))
    no_mothers |= ranged & (m2 < m1)  # an empty range
    nonzero = np.asarray(position.any(axis=1))
    own = ~no_mothers & (lo == 0)
    own |= no_mothers & nonzero & (local > 0)
    keyed = ~no_mothers & ~own
    kind = np.where(keyed & ~single & ~ranged & (hi > lo + 1), 1, 0)
    kind = np.where(own, 2, kind)
    lo = np.where(own, local, lo)
    hi = np.where(own, local, hi)

    has = np.flatnonzero(keyed | own)
    width = int(counts.max(initial=0)) + 1
    key = ((event[has] * width + lo[has]) * width + hi[has]) * 3 + kind[has]
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    vertex_of = rank[inverse.ravel()]  # global vertex number per particle in `has`
    owner = has[first[np.argsort(first, kind="stable")]]  # first daughter per global vertex
    n_regular = np.bincount(event[owner], minlength=len(counts))

    prod = np.full(len(status), -1, dtype=np.int64)
    end = np.full(len(status), -1, dtype=np.int64)
    prod[has] = vertex_of

    # the mothers of each vertex, expanded in columns
    v_kind, v_lo, v_hi = kind[owner], lo[owner], hi[owner]
    n_in = np.where(v_kind == 0, v_hi - v_lo + 1, np.where(v_kind == 1, 2, 0))
    v_rep = np.repeat(np.arange(len(owner)), n_in)
    step = np.arange(len(v_rep)) - np.repeat(np.cumsum(n_in) - n_in, n_in)
    pair_end = np.where(step == 0, v_lo[v_rep], v_hi[v_rep])
    m_local = np.where(v_kind[v_rep] == 0, v_lo[v_rep] + step, pair_end)
    mothers = start[event[owner]][v_rep] + m_local
    clash = np.bincount(mothers, minlength=len(status)) > 1
    end[mothers] = v_rep

    # a vertex sits at the first non-zero production point of its outgoing particles
    v_pos = np.zeros((len(owner), 4))
    placed = has[nonzero[has]]
    seen, at = np.unique(prod[placed], return_index=True)
    v_pos[seen] = position[placed[at]]

    # per-event vertex numbering; particles from nowhere get their own vertex at the end
    v_start = np.concatenate(([0], np.cumsum(n_regular)[:-1]))
    hanging = (prod < 0) & (end < 0) & (local > 0)
    h_event = event[hanging]
    n_hanging = np.bincount(h_event, minlength=len(counts))
    h_rank = np.arange(len(h_event)) - np.repeat(np.cumsum(n_hanging) - n_hanging, n_hanging)
    prod_local = np.where(prod >= 0, prod - v_start[event], -1)
    end_local = np.where(end >= 0, end - v_start[event], -1)
    prod_local[hanging] = n_regular[h_event] + h_rank
    v_event = np.concatenate((event[owner], h_event))
    v_local = np.concatenate(
        (np.arange(len(owner)) - v_start[event[owner]], n_regular[h_event] + h_rank)
    )
    order = np.lexsort((v_local, v_event))
    v_pos = np.concatenate((v_pos, np.zeros((len(h_event), 4))))[order]
    v_counts = n_regular + n_hanging

    bad = np.unique(event[clash])
    if len(bad):
        prod_local, end_local, v_pos, v_counts = _redo(
            bad, counts, start, status, m1, m2, position, prod_local, end_local, v_pos, v_counts
        )
    keep = local > 0
    v_counts = np.asarray(v_counts, dtype=np.int64)
    v_pos = inherit_positions(
        counts - 1, v_counts, prod_local[keep], end_local[keep], np.asarray(v_pos, dtype=float)
    )
    return Vertices(
        production_vertex=prod_local[keep].astype(np.int32),
        end_vertex=end_local[keep].astype(np.int32),
        counts=v_counts,
        x=v_pos[:, 0].copy(),
        y=v_pos[:, 1].copy(),
        z=v_pos[:, 2].copy(),
        t=v_pos[:, 3].copy(),
        n_fallback=len(bad),
    )


def _redo(
    bad: np.ndarray,
    counts: np.ndarray,
    start: np.ndarray,
    status: np.ndarray,
    m1: np.ndarray,
    m2: np.ndarray,
    position: np.ndarray,
    prod: np.ndarray,
    end: np.ndarray,
    v_pos: np.ndarray,
    v_counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Replace the vertices of the events in ``bad`` by the particle-by-particle construction."""
    v_start = np.concatenate(([0], np.cumsum(v_counts)))
    pieces = [v_pos[v_start[e] : v_start[e + 1]] for e in range(len(counts))]
    v_counts = v_counts.copy()
    for e in bad:
        span = slice(start[e], start[e] + counts[e])
        p, d, where = build_event_vertices(status[span], m1[span], m2[span], position[span])
        prod[span], end[span] = p, d
        pieces[e] = where
        v_counts[e] = len(where)
    return prod, end, np.concatenate(pieces).reshape(-1, 4), v_counts


def inherit_positions(
    counts: np.ndarray,
    vertex_counts: np.ndarray,
    production: np.ndarray,
    end: np.ndarray,
    position: np.ndarray,
) -> np.ndarray:
    """Vertex positions as HepMC3's ``GenVertex::position()`` reports them.

    A vertex stored at exactly (0, 0, 0, 0) takes the position of the production vertex of
    its first incoming particle that has one (recursively); this is what reading the same
    event from a HepMC3 file gives (see :mod:`recast.events.hepmc`). Per-event indices.
    """
    position = np.array(position, dtype=np.float64).reshape(-1, 4)
    unset = ~position.any(axis=1)
    if not unset.any():
        return position
    event = np.repeat(np.arange(len(counts)), counts)
    v_start = np.concatenate(([0], np.cumsum(vertex_counts)[:-1])).astype(np.int64)
    linked = np.flatnonzero((end >= 0) & (production >= 0))  # particle order: first wins
    target = v_start[event[linked]] + end[linked]
    source = v_start[event[linked]] + production[linked]
    target, first = np.unique(target, return_index=True)
    parent = np.full(len(position), -1, dtype=np.int64)
    parent[target] = source[first]
    todo = unset & (parent >= 0)
    while todo.any():  # from the top of each chain down, one generation per pass
        ready = todo & ~todo[np.maximum(parent, 0)]
        if not ready.any():
            break  # a cycle cannot come from Pythia; leave those vertices at zero
        position[ready] = position[parent[ready]]
        todo &= ~ready
    return position


def _span(layout: Any) -> tuple[Any, int, int]:
    """The content and [start, stop) of the single list in a length-1 list layout."""
    if hasattr(layout, "offsets"):
        offsets = np.asarray(layout.offsets.data)
        return layout.content, int(offsets[0]), int(offsets[1])
    starts, stops = np.asarray(layout.starts.data), np.asarray(layout.stops.data)
    return layout.content, int(starts[0]), int(stops[0])


def unpack_batch(layout: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Numpy columns of a one-event nextBatch() result, straight from its buffers.

    Going through awkward's high-level field access costs ~0.5 ms per field and per event,
    a third of the generation time; the layout's buffers cost microseconds. Should a future
    pythia8mc build the array differently, the slow but general path takes over.
    """
    try:
        return _unpack_buffers(layout)
    except (AttributeError, TypeError, ValueError, IndexError):
        return _unpack_slow(ak.Array(layout))


def _unpack_buffers(layout: Any) -> tuple[dict[str, np.ndarray], np.ndarray]:
    prt, lo, hi = _span(layout.content("prt"))
    out = {k: np.asarray(prt.content(k).data)[lo:hi] for k in COLUMNS[:6]}
    p = prt.content("p")
    for name in ("px", "py", "pz", "e"):
        out[name] = np.asarray(p.content(name).data)[lo:hi]
    vertex = prt.content("vProd")  # option type: None where Pythia stores no vertex
    index = np.asarray(vertex.index.data)[lo:hi]
    present = index >= 0
    for name, field in zip(("x", "y", "z", "t"), ("px", "py", "pz", "e"), strict=True):
        data = np.asarray(vertex.content.content(field).data)
        out[name] = np.zeros(hi - lo)
        out[name][present] = data[index[present]]
    weights, wlo, whi = _span(layout.content("info").content("weights"))
    for name, column in out.items():
        if len(column) != hi - lo:
            raise ValueError(f"column {name} has {len(column)} entries, not {hi - lo}")
    return out, np.asarray(weights.data)[wlo:whi].copy()


def _unpack_slow(batch: ak.Array) -> tuple[dict[str, np.ndarray], np.ndarray]:
    prt = batch["prt"][0]
    out = {k: np.asarray(ak.to_numpy(prt[k])) for k in COLUMNS[:6]}
    for name in ("px", "py", "pz", "e"):
        out[name] = np.asarray(ak.to_numpy(prt["p"][name]))
    for name, field in zip(("x", "y", "z", "t"), ("px", "py", "pz", "e"), strict=True):
        out[name] = np.asarray(ak.to_numpy(ak.fill_none(prt["vProd"][field], 0.0)))
    return out, np.asarray(ak.to_numpy(batch["info"]["weights"][0]), dtype=np.float64)
