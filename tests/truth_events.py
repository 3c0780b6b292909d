"""Hand-made truth events in the chunk layout, for the recast.objects tests."""

from __future__ import annotations

from collections.abc import Sequence

import awkward as ak
import numpy as np

from recast.events import make_chunk
from recast.events.chunk import PARTICLE_FIELDS, VERTEX_FIELDS

MASS = {11: 0.000511, 13: 0.10566, 15: 1.777, 211: 0.13957, 111: 0.135, 511: 5.2797}


class Sketch:
    """One event: particles added one by one, vertices numbered from 0."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self.n_vertices = 0

    def vertex(self) -> int:
        self.n_vertices += 1
        return self.n_vertices - 1

    def add(
        self,
        pid: int,
        pt: float,
        eta: float,
        phi: float,
        status: int = 1,
        production: int = -1,
        end: int = -1,
        mass: float | None = None,
    ) -> int:
        """Add a particle from (pt, η, φ, m); returns its index in the event."""
        m = MASS.get(abs(pid), 0.0) if mass is None else mass
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        return self.add_p4(pid, (px, py, pz, float(np.sqrt(px**2 + py**2 + pz**2 + m**2))),
                           status, production, end)  # fmt: skip

    def decay(self, pid: int, pt: float, eta: float, phi: float, production: int) -> int:
        """Add an unstable particle (status 2) made at ``production``; returns the new vertex
        where it decays, for its products."""
        end = self.vertex()
        self.add(pid, pt, eta, phi, status=2, production=production, end=end)
        return end

    def add_p4(
        self,
        pid: int,
        p4: Sequence[float],
        status: int = 1,
        production: int = -1,
        end: int = -1,
    ) -> int:
        px, py, pz, e = p4
        self.rows.append(
            {"px": px, "py": py, "pz": pz, "E": e, "pid": pid, "status": status,
             "generated_mass": 0.0, "production_vertex": production, "end_vertex": end}
        )  # fmt: skip
        return len(self.rows) - 1

    def hard_vertex(self) -> int:
        """Two beam protons ending at a new vertex, returned."""
        v = self.vertex()
        for sign in (1, -1):
            self.add_p4(2212, (0.0, 0.0, sign * 6500.0, 6500.0), status=4, end=v)
        return v


def chunk(*events: Sketch, weights: Sequence[float] | None = None) -> ak.Array:
    """A chunk of the sketched events, numbered 1, 2, ..."""
    n = len(events)
    rows = [r for ev in events for r in ev.rows]
    n_vertices = sum(ev.n_vertices for ev in events)
    return make_chunk(
        event_number=np.arange(1, n + 1),
        weights={"nominal": np.asarray(weights if weights is not None else np.ones(n))},
        cross_section=np.full(n, np.nan),
        cross_section_error=np.full(n, np.nan),
        particle_counts=np.array([len(ev.rows) for ev in events]),
        particles={f: np.array([r[f] for r in rows], dtype=float) for f in PARTICLE_FIELDS},
        vertex_counts=np.array([ev.n_vertices for ev in events]),
        vertices={f: np.zeros(n_vertices) for f in VERTEX_FIELDS},
    )
