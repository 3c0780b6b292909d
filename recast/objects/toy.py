"""Seeded toy truth chunks for tests, docs and benchmarks, in the layout of recast.events.chunk.

Not physics: momentum is not conserved and the spectra are made up. What is realistic is the
*shape* of the record: beams, a hard vertex, collimated sprays around a few jet axes on top of
a soft underlying event, π⁰ → γγ, b-hadrons (some via B* → B γ) decaying to a c-hadron and
sometimes a muon, c-hadrons, W → ℓν with final-state radiation, τ decays and, in some events,
a pair of stable neutralinos; so every code path of :mod:`recast.objects` is exercised.
"""

from __future__ import annotations

from collections.abc import Sequence

import awkward as ak
import numpy as np

from ..events.chunk import PARTICLE_FIELDS, VERTEX_FIELDS, make_chunk

_MASS = {
    11: 0.000511, 13: 0.10566, 15: 1.777, 22: 0.0, 111: 0.135, 211: 0.1396, 321: 0.4937,
    130: 0.4976, 2212: 0.9383, 2112: 0.9396, 421: 1.865, 411: 1.870, 511: 5.280, 513: 5.325,
    521: 5.279, 531: 5.367, 5122: 5.620, 24: 80.4, 1000022: 100.0, 12: 0.0, 14: 0.0, 16: 0.0,
    21: 0.0, 5: 4.8, 4: 1.5, 2: 0.0,
}  # fmt: skip
Number = float | Sequence[float] | np.ndarray
_MASS_IDS = np.array(sorted(_MASS))
_MASS_VALUES = np.array([_MASS[k] for k in sorted(_MASS)])
_SOFT = np.array([211, -211, 111, 321, -321, 130, 2212, -2212, 2112, 22])
_SOFT_P = np.array([0.3, 0.3, 0.22, 0.04, 0.04, 0.03, 0.02, 0.02, 0.02, 0.01])


class _Event:
    """Particles and vertices of one toy event, appended block by block."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.blocks: list[dict[str, np.ndarray]] = []
        self.n = 0
        self.n_vertices = 0

    def vertex(self) -> int:
        self.n_vertices += 1
        return self.n_vertices - 1

    def add(
        self,
        pid: int | Sequence[int] | np.ndarray,
        status: int,
        pt: Number,
        eta: Number,
        phi: Number,
        production: int | np.ndarray,
        end: int | np.ndarray = -1,
    ) -> np.ndarray:
        """Particles from (pt, η, φ) and the mass of their pid; returns their indices."""
        pid = np.atleast_1d(np.asarray(pid, dtype=np.int64))
        pt, eta, phi = (np.broadcast_to(np.asarray(x, float), pid.shape) for x in (pt, eta, phi))
        slot = np.minimum(np.searchsorted(_MASS_IDS, np.abs(pid)), len(_MASS_IDS) - 1)
        mass = np.where(_MASS_IDS[slot] == np.abs(pid), _MASS_VALUES[slot], 0.0)
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        self.blocks.append(
            {
                "px": px,
                "py": py,
                "pz": pz,
                "E": np.sqrt(px**2 + py**2 + pz**2 + mass**2),
                "pid": pid,
                "status": np.broadcast_to(status, pid.shape),
                "generated_mass": mass,
                "production_vertex": np.broadcast_to(production, pid.shape),
                "end_vertex": np.broadcast_to(end, pid.shape),
            }
        )
        self.n += len(pid)
        return np.arange(self.n - len(pid), self.n)

    def beams(self, end: int) -> None:
        """Two 6.5 TeV protons along the beam axis (status 4), ending at ``end``."""
        self.add([2212, 2212], 4, 0.0, 0.0, 0.0, -1, end)
        last = self.blocks[-1]
        last["pz"] = np.array([6500.0, -6500.0])
        last["E"] = np.hypot(last["pz"], _MASS[2212])

    def near(
        self, eta: float | np.ndarray, phi: float | np.ndarray, n: int, spread: float
    ) -> tuple[np.ndarray, np.ndarray]:
        return eta + self.rng.normal(0, spread, n), phi + self.rng.normal(0, spread, n)

    def decay_pi0(self, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, production: int) -> None:
        """π⁰ (status 2) → γγ, each with its own decay vertex."""
        n = len(pt)
        vertices = np.arange(self.n_vertices, self.n_vertices + n)
        self.n_vertices += n
        self.add(np.full(n, 111), 2, pt, eta, phi, production, vertices)
        share = self.rng.uniform(0.2, 0.8, n)
        e2, p2 = self.near(np.repeat(eta, 2), np.repeat(phi, 2), 2 * n, 0.01)
        pts = np.stack([share, 1 - share], axis=1).ravel() * np.repeat(pt, 2)
        self.add(np.full(2 * n, 22), 1, pts, e2, p2, np.repeat(vertices, 2))


def _event(rng: np.random.Generator, n_particles: int) -> _Event:
    ev = _Event(rng)
    hard, hadronisation = ev.vertex(), ev.vertex()
    ev.beams(hard)
    n_axes = rng.integers(2, 5)
    axis_eta, axis_phi = rng.uniform(-2.5, 2.5, n_axes), rng.uniform(-np.pi, np.pi, n_axes)
    axis_pt = 30.0 + rng.exponential(80.0, n_axes)
    ev.add(rng.choice([21, 2, -2, 5], n_axes), 23, axis_pt, axis_eta, axis_phi, hard, hadronisation)
    budget = n_particles
    for a in range(n_axes):  # collimated sprays: the jets
        k = int(rng.integers(10, 30))
        share = axis_pt[a] * rng.dirichlet(np.full(k, 0.6))
        e, p = ev.near(axis_eta[a], axis_phi[a], k, 0.12)
        pid = rng.choice(_SOFT, k, p=_SOFT_P)
        neutral_pion = pid == 111
        ev.add(
            pid[~neutral_pion],
            1,
            share[~neutral_pion],
            e[~neutral_pion],
            p[~neutral_pion],
            hadronisation,
        )
        ev.decay_pi0(share[neutral_pion], e[neutral_pion], p[neutral_pion], hadronisation)
        budget -= k
        roll = rng.random()
        if roll < 0.3:  # a b-hadron, sometimes through B* → B γ, to a c-hadron (and a muon)
            pt_b = 0.6 * axis_pt[a]
            b_pid = int(rng.choice([511, -521, 531, 5122]))
            made_at = hadronisation
            if rng.random() < 0.3:
                v_star = ev.vertex()
                ev.add(513, 2, pt_b, axis_eta[a], axis_phi[a], hadronisation, v_star)
                ev.add(22, 1, 0.4, axis_eta[a] + 0.05, axis_phi[a], v_star)
                made_at = v_star
            v_b, v_c = ev.vertex(), ev.vertex()
            ev.add(b_pid, 2, pt_b, axis_eta[a], axis_phi[a], made_at, v_b)
            e, p = ev.near(axis_eta[a], axis_phi[a], 4, 0.08)
            ev.add(421, 2, 0.5 * pt_b, e[0], p[0], v_b, v_c)
            ev.add(211, 1, 0.1 * pt_b, e[1], p[1], v_b)
            if rng.random() < 0.4:  # semileptonic: a non-prompt muon
                ev.add([-13, 14], 1, 0.15 * pt_b, e[2:], p[2:], v_b)
            ev.add([-321, 211], 1, 0.25 * pt_b, *ev.near(e[0], p[0], 2, 0.05), v_c)
        elif roll < 0.45:  # a c-hadron
            v_c = ev.vertex()
            ev.add(411, 2, 0.5 * axis_pt[a], axis_eta[a], axis_phi[a], hadronisation, v_c)
            e, p = ev.near(axis_eta[a], axis_phi[a], 3, 0.05)
            ev.add([-321, 211, 211], 1, 0.16 * axis_pt[a], e, p, v_c)
    if rng.random() < 0.6:  # W → ℓν
        v_w, v_l = ev.vertex(), ev.vertex()
        w_eta, w_phi = rng.uniform(-2, 2), rng.uniform(-np.pi, np.pi)
        ev.add(24, 22, 40.0 + rng.exponential(30.0), w_eta, w_phi, hard, v_w)
        flavour = int(rng.choice([11, 13, 15]))
        l_pt = 20.0 + rng.exponential(25.0)
        ev.add(flavour + 1, 1, 30.0, -w_eta, w_phi + np.pi, v_w)
        ev.add(-flavour, 23 if flavour != 15 else 2, l_pt, w_eta, w_phi, v_w, v_l)
        if flavour == 15:  # τ → ντ + (π± π⁰, or ℓ ν)
            ev.add(-16, 1, 0.3 * l_pt, w_eta + 0.02, w_phi, v_l)
            if rng.random() < 0.65:
                ev.add(211, 1, 0.4 * l_pt, w_eta, w_phi + 0.03, v_l)
                ev.decay_pi0(
                    np.array([0.3 * l_pt]), np.array([w_eta - 0.03]), np.array([w_phi]), v_l
                )
            else:
                ev.add([-11, 12], 1, 0.35 * l_pt, w_eta + np.array([0.0, 0.1]), w_phi, v_l)
        else:  # final-state radiation: one photon close (dressing), sometimes one wider
            ev.add(-flavour, 1, 0.9 * l_pt, w_eta, w_phi, v_l)
            ev.add(22, 1, 0.1 * l_pt, w_eta + 0.04, w_phi - 0.03, v_l)
            if rng.random() < 0.3:
                ev.add(22, 1, 12.0, w_eta + 0.4, w_phi, v_l)
    if rng.random() < 0.3:  # invisible BSM pair
        ev.add([1000022, 1000022], 1, rng.exponential(100.0, 2), rng.normal(0, 1.5, 2),
               rng.uniform(-np.pi, np.pi, 2), hard)  # fmt: skip
    k = max(budget, 0)  # the soft underlying event
    pid = rng.choice(_SOFT, k, p=_SOFT_P)
    pt, eta, phi = (
        rng.exponential(0.8, k) + 0.05,
        rng.uniform(-4.5, 4.5, k),
        rng.uniform(-np.pi, np.pi, k),
    )
    neutral_pion = pid == 111
    ev.add(
        pid[~neutral_pion],
        1,
        pt[~neutral_pion],
        eta[~neutral_pion],
        phi[~neutral_pion],
        hadronisation,
    )
    ev.decay_pi0(pt[neutral_pion], eta[neutral_pion], phi[neutral_pion], hadronisation)
    return ev


def toy_truth_chunk(n_events: int, n_particles: int = 120, seed: int = 0) -> ak.Array:
    """``n_events`` seeded toy truth events with about ``n_particles`` final-state particles."""
    rng = np.random.default_rng(seed)
    events = [_event(rng, n_particles) for _ in range(n_events)]
    particles = {
        f: np.concatenate([b[f] for ev in events for b in ev.blocks]) if events else np.zeros(0)
        for f in PARTICLE_FIELDS
    }
    vertex_counts = np.array([ev.n_vertices for ev in events], dtype=np.int64)
    n_vertices = int(vertex_counts.sum())
    return make_chunk(
        event_number=np.arange(n_events, dtype=np.int64) + 100_000 * seed,
        weights={"nominal": rng.normal(1.0, 0.2, n_events)},
        cross_section=np.full(n_events, np.nan),
        cross_section_error=np.full(n_events, np.nan),
        particle_counts=np.array([ev.n for ev in events], dtype=np.int64),
        particles=particles,
        vertex_counts=vertex_counts,
        vertices={f: np.zeros(n_vertices) for f in VERTEX_FIELDS},
    )
