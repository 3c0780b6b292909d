"""A seeded toy "decay tree" generator: small truth records with a known pass rule.

Each event holds a few primary hadrons from a vertex near the origin; unstable ones decay
(two- and three-body phase space, the three-body ones through a virtual intermediate that is not
recorded) after a flight of γβcτ, down to stable pions, kaons, muons, electrons, photons and
neutrinos. The records follow :mod:`recast.events.chunk` exactly (``particles`` with
production/end vertex indices, ``vertices`` in mm), so everything that reads real generator
output reads these too. Needs no torch.

The **pass label** stands in for a skim after detector simulation and reconstruction:

* the rule: a b-hadron with pT > ``B_PT`` that has a muon descendant with pT > ``MU_PT``;
* the "detector": events with the rule pass with probability sigmoid((m_vis − 45 GeV) / 10 GeV)
  (a trigger-like turn-on in the visible mass), events without it with probability 0.01.

So the best possible filter depends on the visible mass ``m_vis`` (the invariant mass of all
final-state particles but neutrinos), the variable to decorrelate: a hard cut on such a filter
sculpts the m_vis distribution of the passing events, which the dCorr penalty prevents.

>>> events, truth = decay_tree_events(1000, seed=1)     # doctest: +SKIP
>>> truth["passed"].mean(), truth["m_vis"][:3]         # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import awkward as ak
import numpy as np

from ...errors import UsageError
from ...events.chunk import make_chunk

log = logging.getLogger(__name__)

B_PT, MU_PT = 8.0, 3.0  # GeV
M_TURN_ON, M_WIDTH = 45.0, 10.0  # GeV
FAKE_RATE = 0.01

#: mass (GeV), cτ (mm; 0 decays at once, inf is stable)
PROPERTIES: dict[int, tuple[float, float]] = {
    511: (5.2797, 0.455),
    521: (5.2793, 0.491),
    421: (1.8648, 0.123),
    411: (1.8697, 0.312),
    310: (0.4976, 26.84),
    113: (0.7753, 0.0),
    111: (0.1350, 0.0),
    211: (0.1396, np.inf),
    321: (0.4937, np.inf),
    13: (0.1057, np.inf),
    11: (0.000511, np.inf),
    14: (0.0, np.inf),
    12: (0.0, np.inf),
    22: (0.0, np.inf),
}
#: decay modes of the particles (not antiparticles): (branching fraction, daughters)
DECAYS: dict[int, list[tuple[float, tuple[int, ...]]]] = {
    511: [(0.45, (-411, 211)), (0.40, (-411, -13, 14)), (0.15, (-411, -11, 12))],
    521: [(0.45, (-421, 211)), (0.40, (-421, -13, 14)), (0.15, (-421, -11, 12))],
    421: [(0.70, (-321, 211)), (0.15, (-321, -13, 14)), (0.15, (-321, 211, 111))],
    411: [(0.80, (-321, 211, 211)), (0.20, (-321, -13, 14))],
    310: [(0.70, (211, -211)), (0.30, (111, 111))],
    113: [(1.0, (211, -211))],
    111: [(1.0, (22, 22))],
}
SELF_CONJUGATE = frozenset({22, 111, 113, 310})
B_HADRONS = frozenset({511, 521})
#: primary hadrons besides the b-hadrons, and their probabilities
LIGHT = (421, 411, 310, 113, 211, 321)
LIGHT_P = (0.15, 0.10, 0.15, 0.15, 0.30, 0.15)
INVISIBLE = frozenset({12, 14, 16})


def _conjugate(pid: int) -> int:
    return pid if abs(pid) in SELF_CONJUGATE else -pid


def _boost(p: np.ndarray, parent: np.ndarray) -> np.ndarray:
    """Boost four-momentum ``p`` (px, py, pz, E) from the parent's rest frame to the lab."""
    mass = np.sqrt(max(parent[3] ** 2 - parent[:3] @ parent[:3], 1e-18))
    beta = parent[:3] / parent[3]
    b2 = beta @ beta
    if b2 < 1e-15:
        return p.copy()
    gamma = parent[3] / mass
    bp = beta @ p[:3]
    space = p[:3] + ((gamma - 1.0) * bp / b2 + gamma * p[3]) * beta
    return np.array([*space, gamma * (p[3] + bp)])


def _two_body(rng: np.random.Generator, parent: np.ndarray, m1: float, m2: float) -> np.ndarray:
    """Isotropic two-body decay in the parent's rest frame, boosted: ``[2, 4]``."""
    m = np.sqrt(max(parent[3] ** 2 - parent[:3] @ parent[:3], 0.0))
    q2 = (m * m - (m1 + m2) ** 2) * (m * m - (m1 - m2) ** 2)
    q = np.sqrt(max(q2, 0.0)) / (2 * m)
    cos = rng.uniform(-1, 1)
    phi = rng.uniform(-np.pi, np.pi)
    sin = np.sqrt(1 - cos * cos)
    k = q * np.array([sin * np.cos(phi), sin * np.sin(phi), cos])
    first = np.array([*k, np.sqrt(q * q + m1 * m1)])
    second = np.array([*-k, np.sqrt(q * q + m2 * m2)])
    return np.stack([_boost(first, parent), _boost(second, parent)])


def _decay(rng: np.random.Generator, parent: np.ndarray, masses: Sequence[float]) -> np.ndarray:
    """Phase-space-like decay into len(masses) daughters (2 or 3)."""
    if len(masses) == 2:
        return _two_body(rng, parent, masses[0], masses[1])
    m = np.sqrt(max(parent[3] ** 2 - parent[:3] @ parent[:3], 0.0))
    low, high = masses[1] + masses[2], m - masses[0]
    virtual = low + (high - low) * rng.uniform(0.05, 0.95)
    first, rest = _two_body(rng, parent, masses[0], virtual)
    return np.concatenate([first[None], _two_body(rng, rest, masses[1], masses[2])])


class _Record:
    """One event being built: flat particle and vertex lists."""

    def __init__(self) -> None:
        self.pid: list[int] = []
        self.p: list[np.ndarray] = []
        self.production: list[int] = []
        self.end: list[int] = []
        self.vertices: list[np.ndarray] = []  # x, y, z, t (mm)
        self.parent: list[int] = []

    def vertex(self, position: np.ndarray) -> int:
        self.vertices.append(position)
        return len(self.vertices) - 1

    def add(self, pid: int, p: np.ndarray, production: int, parent: int) -> int:
        self.pid.append(pid)
        self.p.append(p)
        self.production.append(production)
        self.end.append(-1)
        self.parent.append(parent)
        return len(self.pid) - 1


def _primary(rng: np.random.Generator, pid: int, mean_pt: float) -> np.ndarray:
    mass = PROPERTIES[abs(pid)][0]
    pt = rng.exponential(mean_pt) + 0.5
    eta = rng.uniform(-2.5, 2.5)
    phi = rng.uniform(-np.pi, np.pi)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return np.array([px, py, pz, np.sqrt(px * px + py * py + pz * pz + mass * mass)])


def _one_event(rng: np.random.Generator) -> tuple[_Record, bool]:
    record = _Record()
    origin = record.vertex(np.array([0.0, 0.0, rng.normal(0.0, 30.0), 0.0]))
    pids = []
    if rng.random() < 0.6:
        pids.append(int(rng.choice((511, 521))))
    pids += [int(rng.choice(LIGHT, p=LIGHT_P)) for _ in range(rng.poisson(3.0) + 1)]
    for pid in pids:
        mean_pt = 15.0 if pid in B_HADRONS else 6.0
        signed = _conjugate(pid) if rng.random() < 0.5 else pid
        record.add(signed, _primary(rng, pid, mean_pt), origin, -1)
    k = 0
    while k < len(record.pid):  # decays append daughters, which are visited in turn
        pid = record.pid[k]
        table = DECAYS.get(abs(pid))
        if table is not None:
            mass, ctau = PROPERTIES[abs(pid)]
            p = record.p[k]
            choice = rng.choice(len(table), p=[b for b, _ in table])
            daughters = table[choice][1]
            if pid < 0:
                daughters = tuple(_conjugate(d) for d in daughters)
            flight = rng.exponential(ctau) * p[:3] / mass if ctau > 0 else np.zeros(3)
            start = record.vertices[record.production[k]]
            beta_t = np.linalg.norm(flight) * p[3] / max(np.linalg.norm(p[:3]), 1e-12)
            end = record.vertex(np.array([*(start[:3] + flight), start[3] + beta_t]))
            record.end[k] = end
            momenta = _decay(rng, p, [PROPERTIES[abs(d)][0] for d in daughters])
            for d, q in zip(daughters, momenta, strict=True):
                record.add(d, q, end, k)
        k += 1
    return record, _rule(record)


def _descends_from(record: _Record, child: int, ancestor: int) -> bool:
    while child >= 0:
        if child == ancestor:
            return True
        child = record.parent[child]
    return False


def _pt(p: np.ndarray) -> float:
    return float(np.hypot(p[0], p[1]))


def _rule(record: _Record) -> bool:
    """A b-hadron with pT > B_PT and a muon descendant with pT > MU_PT."""
    bs = [
        i for i, pid in enumerate(record.pid) if abs(pid) in B_HADRONS and _pt(record.p[i]) > B_PT
    ]
    muons = [i for i, pid in enumerate(record.pid) if abs(pid) == 13 and _pt(record.p[i]) > MU_PT]
    return any(_descends_from(record, m, b) for b in bs for m in muons)


def decay_tree_events(
    n_events: int, seed: int, *, first_event_number: int = 0
) -> tuple[ak.Array, dict[str, np.ndarray]]:
    """``n_events`` toy truth records (chunk layout) and per event their truth:
    ``rule`` (bool), ``pass_probability``, ``passed`` (the label, drawn with ``seed``) and
    ``m_vis`` (GeV). The same seed gives the same events, bit for bit."""
    if int(n_events) < 1:
        raise UsageError(f"decay_tree_events: n_events must be at least 1, not {n_events!r}")
    rng = np.random.default_rng(seed)
    records, rules = zip(*(_one_event(rng) for _ in range(int(n_events))), strict=True)
    counts = np.array([len(r.pid) for r in records])
    momenta = np.concatenate([np.stack(r.p) for r in records])
    pid = np.concatenate([r.pid for r in records])
    end = np.concatenate([r.end for r in records])
    stable = end < 0
    particles = {
        "px": momenta[:, 0],
        "py": momenta[:, 1],
        "pz": momenta[:, 2],
        "E": momenta[:, 3],
        "pid": pid,
        "status": np.where(stable, 1, 2),
        "generated_mass": np.array([PROPERTIES[abs(int(p))][0] for p in pid]),
        "production_vertex": np.concatenate([r.production for r in records]),
        "end_vertex": end,
    }
    vertices = np.concatenate([np.stack(r.vertices) for r in records])
    numbers = np.arange(first_event_number, first_event_number + int(n_events))
    events = make_chunk(
        numbers,
        {"nominal": np.ones(int(n_events))},
        np.full(int(n_events), np.nan),
        np.full(int(n_events), np.nan),
        counts,
        particles,
        np.array([len(r.vertices) for r in records]),
        dict(zip(("x", "y", "z", "t"), vertices.T, strict=True)),
    )
    visible = stable & ~np.isin(np.abs(pid), list(INVISIBLE))
    event = np.repeat(np.arange(int(n_events)), counts)
    total = np.stack([np.bincount(event, momenta[:, j] * visible, int(n_events)) for j in range(4)])
    m_vis = np.sqrt(np.clip(total[3] ** 2 - (total[:3] ** 2).sum(axis=0), 0.0, None))
    rule = np.array(rules, dtype=bool)
    turn_on = 1.0 / (1.0 + np.exp(-(m_vis - M_TURN_ON) / M_WIDTH))
    probability = np.where(rule, turn_on, FAKE_RATE)
    passed = rng.random(int(n_events)) < probability
    truth = {"rule": rule, "pass_probability": probability, "passed": passed, "m_vis": m_vis}
    return events, truth


__all__ = ["decay_tree_events"]
