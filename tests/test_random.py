"""Counter-based random numbers: reproducible, independent of chunking, well distributed."""

from __future__ import annotations

import numpy as np

from recast.detector.random import normals, uniforms


def test_same_seed_same_draws_whatever_the_chunking() -> None:
    events = np.arange(1000, 2000)
    whole = uniforms(3, "smear", events, 0)
    pieces = np.concatenate([uniforms(3, "smear", chunk, 0) for chunk in np.array_split(events, 7)])
    np.testing.assert_array_equal(whole, pieces)


def test_seeds_streams_and_objects_are_independent() -> None:
    events = np.arange(10_000)
    a = uniforms(1, "btag", events)
    for other in (
        uniforms(2, "btag", events),
        uniforms(1, "jes", events),
        uniforms(1, "btag", events, 1),
        uniforms(1, "btag", events, draw=1),
    ):
        assert abs(np.corrcoef(a, other)[0, 1]) < 0.05
        assert np.mean(a == other) < 1e-3


def test_uniform_and_normal_moments() -> None:
    u = uniforms(5, "u", np.arange(200_000))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 3 * np.sqrt(1 / 12 / len(u))
    counts, _ = np.histogram(u, bins=20, range=(0, 1))
    chi2 = np.sum((counts - len(u) / 20) ** 2 / (len(u) / 20))
    assert chi2 < 45  # 19 degrees of freedom: p ≈ 1e-3
    z = normals(5, "z", np.arange(200_000))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
