"""A chunk flattened to numpy, and the columnar kinematics every object builder shares.

Particles of all events are numbered globally (event by event, in file order); ``event`` gives
each one's event position in the chunk, so per-event work becomes grouped numpy work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import awkward as ak
import numpy as np

from ..angles import delta_phi, wrap_phi
from ..errors import UsageError

log = logging.getLogger(__name__)

#: FastJet's pseudorapidity for a particle along the beam
MAX_RAPIDITY = 1e5


def kinematics(
    px: np.ndarray, py: np.ndarray, pz: np.ndarray, energy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(pt, eta, phi, mass) with FastJet's conventions: mass = -sqrt(-m²) when m² < 0."""
    # intermediate particles may carry odd values; they must not raise warnings
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pt = np.hypot(px, py)
        eta = np.where(pt > 0, np.arcsinh(pz / pt), np.copysign(MAX_RAPIDITY, pz))
        phi = _arctan2_phi(py, px)
        m2 = (energy + pz) * (energy - pz) - pt * pt
        mass = np.copysign(np.sqrt(np.abs(m2)), m2)
    return pt, eta, phi, mass


def _arctan2_phi(py: np.ndarray, px: np.ndarray) -> np.ndarray:
    """``wrap_phi(np.arctan2(py, px))``, the same values: arctan2 is already in [−π, π] and
    only −π (py = −0, px < 0) moves, to π; this skips wrap_phi's modulo of every particle."""
    phi = np.arctan2(py, px)
    if isinstance(phi, np.ndarray) and phi.dtype == np.float64:
        phi[phi == -np.pi] = np.pi
        return phi
    return wrap_phi(phi)  # type: ignore[no-any-return]


def delta_r(eta1: np.ndarray, phi1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    return np.hypot(eta1 - eta2, delta_phi(phi1, phi2))


def offsets(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def event_pairs(
    a_event: np.ndarray, b_event: np.ndarray, n_events: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with ``a_event[i] == b_event[j]``; ``b_event`` must be sorted."""
    b_counts = np.bincount(b_event, minlength=n_events)
    b_start = offsets(b_counts)[:-1]
    per_a = b_counts[a_event]
    ia = np.repeat(np.arange(len(a_event)), per_a)
    first = np.cumsum(per_a) - per_a
    ib = np.repeat(b_start[a_event] - first, per_a) + np.arange(int(per_a.sum()))
    return ia, ib


def closest_per_group(group: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Positions of the smallest ``distance`` within each value of ``group`` (ties: first)."""
    order = np.lexsort((distance, group))
    _, first = np.unique(group[order], return_index=True)
    return order[first]


def collection(
    event: np.ndarray, n_events: int, fields: dict[str, np.ndarray], name: str = "Momentum4D"
) -> ak.Array:
    """A jagged collection from flat per-object arrays, pT-descending within each event.

    ``fields`` must hold ``pt``; ``event`` need not be sorted.
    """
    order = np.lexsort((-fields["pt"], event))
    counts = np.bincount(event, minlength=n_events)
    record = ak.zip({k: np.asarray(v)[order] for k, v in fields.items()}, with_name=name)
    return ak.unflatten(record, counts)


@dataclass
class FlatChunk:
    """The particles of a chunk as flat numpy arrays with global particle and vertex indices."""

    n_events: int
    counts: np.ndarray
    event: np.ndarray
    px: np.ndarray
    py: np.ndarray
    pz: np.ndarray
    energy: np.ndarray
    pid: np.ndarray
    status: np.ndarray
    production: np.ndarray
    end: np.ndarray
    n_vertices: int

    @classmethod
    def from_events(cls, events: ak.Array) -> FlatChunk:
        """Flatten ``events`` (the layout of :mod:`recast.events.chunk`), checking the indices."""
        try:
            particles = events["particles"]
            vertex_counts = ak.to_numpy(ak.num(events["vertices"], axis=1)).astype(np.int64)
        except (LookupError, AttributeError, TypeError, ValueError) as error:  # another layout
            raise UsageError(
                "build_objects: events must be a chunk in the layout of recast.events.chunk "
                f"(fields particles and vertices), got fields {ak.fields(events)}"
            ) from error
        counts = ak.to_numpy(ak.num(particles, axis=1)).astype(np.int64)
        flat = ak.flatten(particles, axis=1)

        def column(name: str, dtype: type) -> np.ndarray:
            return ak.to_numpy(flat[name]).astype(dtype, copy=False)

        n = len(counts)
        event = np.repeat(np.arange(n), counts)
        vertex_start = offsets(vertex_counts)[:-1][event]
        ends = []
        for name in ("production_vertex", "end_vertex"):
            local = column(name, np.int64)
            bad = (local < -1) | (local >= vertex_counts[event])
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise UsageError(
                    f"build_objects: event_number {_number(events, event[first])}: particle "
                    f"{first - offsets(counts)[event[first]]} has {name} {local[first]}, but "
                    f"the event has {vertex_counts[event[first]]} vertices"
                )
            ends.append(np.where(local >= 0, local + vertex_start, -1))
        momenta = [column(f, np.float64) for f in ("px", "py", "pz", "E")]
        status = column("status", np.int64)
        # final-state momenta enter jets and MET; a NaN there would spread silently
        finite = np.isfinite(momenta[0])
        for m in momenta[1:]:
            finite &= np.isfinite(m)
        bad = (status == 1) & ~finite
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise UsageError(
                f"build_objects: event_number {_number(events, event[first])}: particle "
                f"{first - offsets(counts)[event[first]]} has a non-finite four-momentum"
            )
        return cls(
            n_events=n,
            counts=counts,
            event=event,
            px=momenta[0],
            py=momenta[1],
            pz=momenta[2],
            energy=momenta[3],
            pid=column("pid", np.int64),
            status=status,
            production=ends[0],
            end=ends[1],
            n_vertices=int(vertex_counts.sum()),
        )

    @property
    def n_particles(self) -> int:
        return len(self.pid)

    @cached_property
    def pt_eta_phi_mass(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return kinematics(self.px, self.py, self.pz, self.energy)

    @cached_property
    def abs_pid(self) -> np.ndarray:
        return np.abs(self.pid)


def _number(events: ak.Array, position: int) -> object:
    if "event_number" in ak.fields(events):
        return int(events["event_number"][position])
    return f"at chunk position {position}"
