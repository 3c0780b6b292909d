"""The per-chunk facts every object builder asks about: final state, visibility, ancestry."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from . import pdg
from .ancestry import History
from .config import ObjectConfig
from .kinematics import FlatChunk

BEAM_STATUS = 4
#: ids with |pid| below this (partons, leptons, nearly every hadron) are found with a table
#: instead of a sort of every particle: 2¹⁷ covers the excited states such as 100443
_TABLE = 1 << 17


def unique_ids(pid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(pid, return_inverse=True)``, the same arrays, without sorting every particle.

    A chunk holds millions of particles but a few hundred distinct ids: the small ones are
    marked in a table indexed by id (linear), and only the rare large ones (SUSY particles,
    9xxxxxx hadrons) are sorted.
    """
    pid = np.asarray(pid, dtype=np.int64).ravel()
    slot = pid + _TABLE
    small = (slot > 0) & (slot < 2 * _TABLE)
    slot[~small] = 0  # slot 0 is id -_TABLE, never a small id: cleared below
    present = np.zeros(2 * _TABLE, dtype=bool)
    present[slot] = True
    present[0] = False
    large = np.flatnonzero(~small)
    large_ids, large_inverse = np.unique(pid[large], return_inverse=True)
    n_negative = int(np.searchsorted(large_ids, 0))
    table_ids = np.flatnonzero(present) - _TABLE
    ids = np.concatenate([large_ids[:n_negative], table_ids, large_ids[n_negative:]])
    rank = np.cumsum(present, dtype=np.intp) - 1 + n_negative
    inverse = rank[slot]
    large_inverse = large_inverse.ravel()
    inverse[large] = np.where(
        large_inverse < n_negative, large_inverse, large_inverse + len(table_ids)
    )
    return ids, inverse


class Truth:
    """A flattened chunk with lazily computed masks over its particles (global indices)."""

    def __init__(self, flat: FlatChunk, config: ObjectConfig) -> None:
        self.flat = flat
        self.config = config
        self.history = History(flat)
        self._by_pid: dict[Callable[[np.ndarray], np.ndarray], np.ndarray] = {}

    @cached_property
    def _unique_pid(self) -> tuple[np.ndarray, np.ndarray]:
        return unique_ids(self.flat.pid)

    def by_pid(self, rule: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``rule(pid)`` for every particle, evaluated once per distinct id (a few hundred)."""
        if rule not in self._by_pid:
            ids, inverse = self._unique_pid
            self._by_pid[rule] = rule(ids)[inverse]
        return self._by_pid[rule]

    @cached_property
    def final(self) -> np.ndarray:
        """Final-state particles (status 1)."""
        return self.flat.status == 1

    @cached_property
    def invisible(self) -> np.ndarray:
        """Final-state particles that leave no trace (``ObjectConfig.invisible_ids``)."""
        return self.final & np.isin(self.flat.abs_pid, self.config.invisible_ids)

    @cached_property
    def visible(self) -> np.ndarray:
        return self.final & ~self.invisible

    @cached_property
    def hadron_ancestor(self) -> np.ndarray:
        """Nearest hadron ancestor (global index) or -1.

        Beam particles (status 4, or no production vertex) are hadrons that everything
        descends from: they do not count.
        """
        flat = self.flat
        seed = self.by_pid(pdg.is_hadron) & (flat.status != BEAM_STATUS) & (flat.production >= 0)
        return self.history.nearest_ancestor(seed)

    @cached_property
    def from_hadron(self) -> np.ndarray:
        """True for particles with a hadron among their ancestors: not prompt."""
        return self.hadron_ancestor >= 0

    @cached_property
    def tau_ancestor(self) -> np.ndarray:
        """Nearest τ ancestor (global index) or -1: the last τ copy, the one that decayed."""
        return self.history.nearest_ancestor(self.flat.abs_pid == 15)

    @cached_property
    def charge(self) -> np.ndarray:
        return self.by_pid(pdg.charge)
