"""Vertex positions as HepMC3's ``GenVertex.position`` gives them.

HepMC3 stores a position only where the writer set one; a vertex without (all four numbers
zero) reports the position of the production vertex of its first incoming particle (the lowest
id: HepMC3 keeps them in order), recursively; failing that, the event's position (``@`` on the
``E`` line, usually zero). Vectorised over any number of events.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .sanity import event_of, starts_of


def resolved_positions(
    vertices: Any,
    production: np.ndarray,
    end: np.ndarray,
    n_particles: np.ndarray,
    n_vertices: np.ndarray,
    event_pos: np.ndarray,
) -> np.ndarray:
    """(vertices, 4) positions in the file's unit.

    ``vertices``: columns ``x, y, z, t`` (a dict or a structured array) of the events' vertices
    in order; ``production``/``end``: each particle's vertex index within its event (-1: none);
    ``n_particles``/``n_vertices``: per event; ``event_pos``: (events, 4).
    """
    raw = np.stack([vertices[f] for f in ("x", "y", "z", "t")], axis=1).astype(np.float64)
    unset = np.asarray(~raw.any(axis=1))
    if not unset.any():
        return raw
    v_start = starts_of(n_vertices)
    event_of_vertex = event_of(n_vertices)
    event_of_particle = event_of(n_particles)
    entering = np.flatnonzero(end >= 0)
    target = v_start[event_of_particle[entering]] + end[entering]
    first = np.full(len(raw), len(end), dtype=np.int64)
    np.minimum.at(first, target, entering)
    parent = np.full(len(raw), -1, dtype=np.int64)
    linked = first < len(end)
    made = production[first[linked]]
    parent[linked] = np.where(made >= 0, v_start[event_of_vertex[linked]] + made, -1)
    positions = np.where(unset[:, None], np.asarray(event_pos)[event_of_vertex], raw)
    # each unset vertex with a parent takes the position at the end of its chain of parents
    # (a vertex with a position, or one without parent, which holds the event's): pointers
    # doubled until they stop moving, log(depth) passes
    pointer = np.arange(len(raw))
    follow = unset & (parent >= 0)
    pointer[follow] = parent[follow]
    for _ in range(64):
        further = pointer[pointer]
        if np.array_equal(further, pointer):
            break
        pointer = further
    settled = pointer[pointer] == pointer  # not in (or below) a cycle, where HepMC3 would
    take = follow & settled  # recurse forever: those keep the event position
    positions[take] = positions[pointer[take]]
    return positions
