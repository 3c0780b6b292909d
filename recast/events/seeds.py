"""Pythia8 seeds: the valid range and seeds of sub-streams derived from a user's seed."""

from __future__ import annotations

import hashlib

MAX_SEED = 900_000_000  # Pythia's Random:seed range; 0 would mean "seed from the clock"


def derived_seed(seed: int, *parts: object) -> int:
    """A seed in Pythia's range 1..900000000 from (seed, parts), stable across platforms.

    Seeds of sub-streams (block *i* of a run) are hashed rather than counted up, so the runs of
    two neighbouring user seeds share no block."""
    text = "/".join(str(p) for p in (seed, *parts))
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return 1 + value % MAX_SEED
