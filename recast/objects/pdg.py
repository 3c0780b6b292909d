"""Particle properties from PDG Monte Carlo ids, columnar over numpy arrays of ids.

The id of a hadron encodes its quarks: ``|pid| = n nr nL nq1 nq2 nq3 nJ`` (digits from the
left). Mesons have ``nq1 = 0`` and quarks ``nq2``, ``nq3``; baryons have three quark digits.
Excited states (``nr``, ``nL``: 10511, 20513, 100443) keep the same quark digits, so every rule
here covers them. Ids with ``n`` not 0 or 9 (SUSY, technicolour, excited leptons, nuclei) are
not hadrons here.
"""

from __future__ import annotations

import numpy as np

#: three times the charge of the quarks d, u, s, c, b, t (index = quark digit)
_QUARK_CHARGE3 = np.array([0, -1, 2, -1, 2, -1, 2, 0, 0, 0])
#: three times the charge of the non-hadrons that carry one, by |pid|
_CHARGE3 = {
    **{q: int(_QUARK_CHARGE3[q]) for q in range(1, 7)},
    11: -3,
    13: -3,
    15: -3,
    17: -3,
    24: 3,
    34: 3,
    37: 3,
    1000011: -3,
    1000013: -3,
    1000015: -3,
    2000011: -3,
    2000013: -3,
    2000015: -3,
    1000024: 3,
    1000037: 3,
}


def _digits(pid: np.ndarray) -> tuple[np.ndarray, ...]:
    a = np.abs(np.asarray(pid, dtype=np.int64))
    return a, (a // 1000) % 10, (a // 100) % 10, (a // 10) % 10, a // 1_000_000


def is_meson(pid: np.ndarray) -> np.ndarray:
    """True for mesons, their excited states, and K0L/K0S (130, 310)."""
    a, q1, q2, q3, n = _digits(pid)
    ordinary = (n == 0) | (n == 9)
    return ordinary & (q1 == 0) & (q2 > 0) & (q3 > 0) & (a % 10 > 0) | (a == 130) | (a == 310)


def is_baryon(pid: np.ndarray) -> np.ndarray:
    """True for baryons (three quark digits; diquarks such as 2101 have ``nq3 = 0``)."""
    a, q1, q2, q3, n = _digits(pid)
    ordinary = (n == 0) | (n == 9)
    return ordinary & (q1 > 0) & (q2 > 0) & (q3 > 0) & (a % 10 > 0)


def is_hadron(pid: np.ndarray) -> np.ndarray:
    """True for mesons and baryons."""
    return is_meson(pid) | is_baryon(pid)


def heaviest_quark(pid: np.ndarray) -> np.ndarray:
    """The heaviest quark digit of a hadron (5 for B_c), 0 for anything else."""
    _, q1, q2, q3, _ = _digits(pid)
    return np.where(is_hadron(pid), np.maximum(np.maximum(q1, q2), q3), 0)


def _is_onium(pid: np.ndarray, quark: int) -> np.ndarray:
    _, q1, q2, q3, _ = _digits(pid)
    return is_meson(pid) & (q1 == 0) & (q2 == quark) & (q3 == quark)


def is_b_hadron(pid: np.ndarray) -> np.ndarray:
    """Hadrons with a b quark (B_c included), except bottomonium (b b̄ decays without a b)."""
    return (heaviest_quark(pid) == 5) & ~_is_onium(pid, 5)


def is_c_hadron(pid: np.ndarray) -> np.ndarray:
    """Hadrons whose heaviest quark is c, except charmonium (c c̄ decays without a c)."""
    return (heaviest_quark(pid) == 4) & ~_is_onium(pid, 4)


def charge(pid: np.ndarray) -> np.ndarray:
    """Electric charge (units of e) from the id: quark content for hadrons, a table otherwise."""
    pid = np.asarray(pid, dtype=np.int64)
    a, q1, q2, q3, _ = _digits(pid)
    c3 = np.zeros(a.shape, dtype=np.int64)
    for code, value in _CHARGE3.items():
        c3[a == code] = value
    meson = is_meson(pid)
    # a meson code lists its heavier quark first; a down-type heavier quark is the antiquark
    m3 = _QUARK_CHARGE3[q2] - _QUARK_CHARGE3[q3]
    m3 = np.where((q2 % 2) == 1, -m3, m3)
    c3 = np.where(meson, m3, c3)
    baryon = is_baryon(pid)
    c3 = np.where(baryon, _QUARK_CHARGE3[q1] + _QUARK_CHARGE3[q2] + _QUARK_CHARGE3[q3], c3)
    return np.sign(pid) * c3 / 3.0
