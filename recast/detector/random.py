"""Counter-based random numbers: the same seed gives the same draws whatever the chunking.

A stream position is meaningless when a sample is cut into chunks or spread over workers, so
every draw is a pure function of (seed, stream, event number, object index): a splitmix64 hash
of those integers, vectorised over numpy arrays. Distinct ``stream`` names keep the draws of
different stochastic steps (jet smearing, b-tagging, ...) independent.
"""

from __future__ import annotations

import hashlib

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijective, well-mixing map of uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def stream_key(seed: int, stream: str) -> np.uint64:
    """One 64-bit key per (seed, stream name); stable across Python versions and platforms."""
    digest = hashlib.sha256(f"{int(seed)}/{stream}".encode()).digest()
    return np.uint64(int.from_bytes(digest[:8], "little"))


def uniforms(
    seed: int, stream: str, event_number: np.ndarray, index: np.ndarray | int = 0, draw: int = 0
) -> np.ndarray:
    """Uniform numbers in [0, 1), one per (event number, index) pair, broadcast together.

    ``draw`` distinguishes several independent numbers for the same object (e.g. the two of a
    Box-Muller pair).
    """
    key = stream_key(seed, f"{stream}#{draw}")
    events = np.asarray(event_number).astype(np.uint64)
    objects = np.asarray(index).astype(np.uint64)
    with np.errstate(over="ignore"):
        state = _splitmix64(_splitmix64(key ^ events) ^ (objects * _GOLDEN))
    # the top 53 bits make an exactly representable double in [0, 1)
    return (state >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def normals(
    seed: int, stream: str, event_number: np.ndarray, index: np.ndarray | int = 0
) -> np.ndarray:
    """Standard normal numbers by Box-Muller from two independent uniform draws."""
    u1 = uniforms(seed, stream, event_number, index, draw=0)
    u2 = uniforms(seed, stream, event_number, index, draw=1)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
