"""The shared derived variables (recast.analysis.variables) against values computed by hand."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest

from recast.analysis.variables import (
    leading_pt,
    leading_transverse_mass,
    min_delta_phi,
    min_transverse_mass,
    near,
    recluster,
    sum_of_masses,
)
from recast.angles import delta_phi, wrap_phi


def objects(*events: list[tuple[float, float, float, float]]) -> ak.Array:
    """Events of (pt, eta, phi, mass) tuples."""
    return ak.Array(
        [[dict(zip(("pt", "eta", "phi", "mass"), o, strict=True)) for o in e] for e in events]
    )


MET = ak.Array([{"pt": 100.0, "phi": 0.0}, {"pt": 50.0, "phi": 3.0}])


def test_angles_wrap_into_minus_pi_pi() -> None:
    assert wrap_phi(np.array([np.pi, -np.pi, 3 * np.pi / 2, 0.1])).tolist() == pytest.approx(
        [np.pi, np.pi, -np.pi / 2, 0.1]
    )
    assert float(delta_phi(np.array(3.0), np.array(-3.0))) == pytest.approx(6.0 - 2 * np.pi)
    assert float(abs(delta_phi(np.array(-3.0), np.array(3.0)))) == pytest.approx(2 * np.pi - 6.0)


def test_transverse_masses_and_their_defaults() -> None:
    jets = objects([(50.0, 0.0, np.pi / 2, 0.0), (80.0, 0.0, np.pi, 0.0), (10.0, 0, 0.0, 0)], [])
    # m_T = √(2 pT MET (1 − cos Δφ)): Δφ = π/2 → √(2·50·100), Δφ = π → √(4·80·100), Δφ = 0 → 0
    assert min_transverse_mass(jets, MET).tolist() == pytest.approx([0.0, 0.0])
    assert min_transverse_mass(jets, MET, leading=2).tolist() == pytest.approx(
        [math.sqrt(2 * 50 * 100), 0.0]
    )
    assert leading_transverse_mass(jets, MET).tolist() == pytest.approx(
        [math.sqrt(2 * 50 * 100), 0.0]
    )


def test_min_delta_phi_over_the_leading_objects_or_pi() -> None:
    jets = objects([(50.0, 0.0, 1.0, 0.0), (40.0, 0.0, 2.0, 0.0), (30.0, 0.0, 0.1, 0.0)], [])
    assert min_delta_phi(jets, MET).tolist() == pytest.approx([0.1, np.pi])
    assert min_delta_phi(jets, MET, leading=2).tolist() == pytest.approx([1.0, np.pi])


def test_leading_pt_and_sum_of_masses() -> None:
    jets = objects([(50.0, 0.0, 1.0, 10.0), (40.0, 0.0, 2.0, 20.0), (30.0, 0.0, 0.1, 5.0)], [])
    assert leading_pt(jets).tolist() == [50.0, 0.0]
    assert sum_of_masses(jets, leading=2).tolist() == [30.0, 0.0]
    assert sum_of_masses(jets).tolist() == [35.0, 0.0]


def test_near_in_rapidity_or_pseudorapidity() -> None:
    heavy = objects([(10.0, 1.0, 0.0, 30.0)])  # massive: y well below η
    light = objects([(10.0, 1.1, 0.0, 0.0)])
    assert near(heavy, light, 0.2, use_rapidity=False).tolist() == [[True]]
    assert near(heavy, light, 0.2).tolist() == [[False]]


def test_recluster_merges_close_jets_and_trims_soft_ones() -> None:
    jets = objects(
        [(200.0, 0.0, 0.0, 10.0), (100.0, 0.3, 0.2, 10.0), (15.0, -0.3, -0.3, 5.0)],
        [(50.0, 0.0, 0.0, 5.0)],
    )
    large = recluster(jets, 1.0)
    assert ak.num(large).tolist() == [1, 1]
    assert large.pt[0, 0] > 290.0 and large.mass[0, 0] > 40.0
    trimmed = recluster(jets, 1.0, trim_fcut=0.1)  # 15 GeV < 10 % of ~310 GeV: dropped
    assert trimmed.pt[0, 0] < large.pt[0, 0] - 10.0
    assert ak.num(recluster(jets, 1.0, min_pt=100.0)).tolist() == [1, 0]
    assert ak.num(recluster(jets, 1.0, max_abs_eta=0.0)).tolist() == [0, 0]
