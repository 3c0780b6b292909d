"""The package's one φ convention: (−π, π], signed Δφ = wrap(a − b)."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from recast.angles import delta_phi, wrap_phi

PI = np.pi


def test_inside_values_are_untouched_bit_for_bit() -> None:
    inside = np.array([0.0, -0.0, 1.0, -3.0, PI, np.nextafter(-PI, 0), 1e-300])
    wrapped = wrap_phi(inside)
    np.testing.assert_array_equal(wrapped, inside)
    np.testing.assert_array_equal(np.signbit(wrapped), np.signbit(inside))


def test_the_range_is_half_open_at_minus_pi() -> None:
    assert wrap_phi(np.array([-PI])).tolist() == [PI]
    np.testing.assert_allclose(
        wrap_phi(np.array([3 * PI, -2.5 * PI, 7.0, -7.0, 100.0])),
        [PI, -0.5 * PI, 7.0 - 2 * PI, 2 * PI - 7.0, 100.0 - 32 * PI],
        atol=1e-12,
    )
    # one rounding step beyond ±π stays inside the range
    edges = np.array([np.nextafter(PI, 4), np.nextafter(-PI, -4), 2 * PI, -2 * PI])
    wrapped = wrap_phi(edges)
    assert np.all(wrapped > -PI) and np.all(wrapped <= PI)


def test_every_value_lands_in_minus_pi_pi() -> None:
    phi = np.random.default_rng(5).uniform(-40.0, 40.0, 100_000)
    wrapped = wrap_phi(phi)
    assert wrapped.min() > -PI and wrapped.max() <= PI
    turns = (phi - wrapped) / (2 * PI)
    np.testing.assert_allclose(turns, np.round(turns), atol=1e-12)


def test_nan_stays_nan_without_warnings() -> None:
    with np.errstate(all="raise"):
        assert np.isnan(wrap_phi(np.array([np.nan]))).all()
        assert np.isnan(delta_phi(np.array([np.nan]), np.array([0.0]))).all()


def test_delta_phi_is_signed_and_wrapped() -> None:
    a = np.array([3.0, -3.0, 0.5, 0.0, 0.0])
    b = np.array([-3.0, 3.0, 0.2, PI, -PI + 1e-9])
    np.testing.assert_allclose(
        delta_phi(a, b), [6.0 - 2 * PI, 2 * PI - 6.0, 0.3, PI, PI - 1e-9], atol=1e-12
    )
    # the size of the angle between two directions is the explicit abs
    assert abs(float(delta_phi(np.array(3.0), np.array(-3.0)))) == pytest.approx(2 * PI - 6.0)


def test_delta_phi_of_wrapped_angles_is_exact() -> None:
    """|a − b| < 2π: removing one turn adds no rounding (Sterbenz), so ±Δφ are mirror images."""
    rng = np.random.default_rng(8)
    a, b = wrap_phi(rng.uniform(-PI, PI, 50_000)), wrap_phi(rng.uniform(-PI, PI, 50_000))
    d = delta_phi(a, b)
    outside = np.abs(a - b) > PI
    np.testing.assert_array_equal(
        d[outside], (a - b)[outside] - np.copysign(2 * PI, a - b)[outside]
    )
    np.testing.assert_array_equal(d[~outside], (a - b)[~outside])


def test_awkward_arrays_keep_their_structure() -> None:
    phi = ak.Array([[1.0, 4.0], [], [-4.0, -PI]])
    wrapped = wrap_phi(phi)
    assert isinstance(wrapped, ak.Array)
    assert ak.num(wrapped).tolist() == [2, 0, 2]
    np.testing.assert_allclose(
        ak.flatten(wrapped).to_numpy(), [1.0, 4.0 - 2 * PI, 2 * PI - 4.0, PI], atol=1e-12
    )
    met = ak.Array([0.5, 3.0, -3.0])
    assert ak.num(delta_phi(phi, met)).tolist() == [2, 0, 2]


def test_wrap_of_a_difference_and_delta_phi_agree_to_the_last_place() -> None:
    """They differ by at most one rounding of a 2π-sized sum (the module docstring says why)."""
    rng = np.random.default_rng(9)
    a, b = rng.uniform(-PI, PI, 50_000), rng.uniform(-PI, PI, 50_000)
    d, w = delta_phi(a, b), wrap_phi(a - b)
    assert d.min() > -PI and d.max() <= PI
    np.testing.assert_allclose(d, w, rtol=0.0, atol=np.spacing(2 * PI))
