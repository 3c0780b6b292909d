"""Columnar walks through the particle history of a whole chunk.

The history is a graph: particle *i* is a child of every particle whose end vertex is *i*'s
production vertex. Instead of following parents from each particle (many parents at a
hadronisation vertex, deep parton-shower chains), properties are pushed *down* from the
particles that carry them, one generation per numpy step, over every event of the chunk at
once. Hadron decays are shallow, so a handful of steps suffices.
"""

from __future__ import annotations

import logging

import numpy as np

from .kinematics import FlatChunk, offsets

log = logging.getLogger(__name__)

#: a generation of at least 1/_MARK_FRACTION of the chunk's particles is marked, not sorted
_MARK_FRACTION = 64


class History:
    """Children lookup of a :class:`FlatChunk`, by global vertex index."""

    def __init__(self, flat: FlatChunk) -> None:
        self.flat = flat
        produced = flat.production >= 0
        # particles sorted by production vertex: the children of vertex v are one slice
        self._by_vertex = np.flatnonzero(produced)[
            np.argsort(flat.production[produced], kind="stable")
        ]
        self._start = offsets(np.bincount(flat.production[produced], minlength=flat.n_vertices))

    def children(self, vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(particles produced at ``vertices``, position in ``vertices`` each came from)."""
        first = self._start[vertices]
        count = self._start[vertices + 1] - first
        which = np.repeat(np.arange(len(vertices)), count)
        before = np.cumsum(count) - count
        slot = np.repeat(first - before, count) + np.arange(int(count.sum()))
        return self._by_vertex[slot], which

    def has_child(self, mask: np.ndarray) -> np.ndarray:
        """True for particles with at least one child for which ``mask`` is True."""
        flat = self.flat
        marked = np.zeros(flat.n_vertices + 1, dtype=bool)  # last slot: "no end vertex"
        marked[flat.production[mask & (flat.production >= 0)]] = True
        return marked[np.where(flat.end >= 0, flat.end, flat.n_vertices)]

    def nearest_ancestor(self, seed: np.ndarray) -> np.ndarray:
        """For every particle, the global index of its nearest ancestor with ``seed`` True.

        -1 where there is none. A particle is not its own ancestor. "Nearest" counts
        generations; a particle reached through several parents keeps the first label found.
        """
        label = np.full(self.flat.n_particles, -1, dtype=np.int64)
        frontier = np.flatnonzero(seed)
        handed = frontier  # what each frontier particle hands to its children
        generations = 0
        while frontier.size:
            vertices = self.flat.end[frontier]
            decayed = vertices >= 0
            kids, which = self.children(vertices[decayed])
            kid_label = handed[decayed][which]
            fresh = label[kids] < 0
            kids, first = self._first_reached(kids[fresh])
            label[kids] = kid_label[fresh][first]
            frontier = kids
            handed = np.where(seed[kids], kids, label[kids])
            generations += 1
        log.debug("nearest_ancestor: %d generations", generations)
        return label

    def _first_reached(self, kids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``np.unique(kids, return_index=True)``: the distinct particles, sorted, and where
        each first occurs in ``kids``.

        The first generations below the seeds (every hadron of the chunk) are large and
        mostly free of repeats: particles are then marked in a table of the chunk's particles
        instead of sorted, and the sort is kept for repeats and small generations.
        """
        n = self.flat.n_particles
        if len(kids) * _MARK_FRACTION < n:
            return np.unique(kids, return_index=True)  # type: ignore[no-any-return]
        marked = np.zeros(n, dtype=bool)
        marked[kids] = True
        distinct = np.flatnonzero(marked)
        if len(distinct) != len(kids):  # a particle reached from two parents
            return np.unique(kids, return_index=True)  # type: ignore[no-any-return]
        position = np.empty(n, dtype=np.intp)
        position[kids] = np.arange(len(kids))
        return distinct, position[distinct]

    def descends_from(self, seed: np.ndarray) -> np.ndarray:
        """True for particles with at least one ancestor for which ``seed`` is True."""
        return self.nearest_ancestor(seed) >= 0
