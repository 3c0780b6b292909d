"""Prompt leptons, photons and τ on hand-made events: ancestry, isolation by hand, dressing."""

from __future__ import annotations

import numpy as np
import pytest
import vector

from recast.objects import ObjectConfig, build_objects

from .truth_events import Sketch, chunk

BARE = ObjectConfig(dressing_dr=None)


def w_to(s: Sketch, v: int, pid: int, pt: float = 40.0, eta: float = 0.0, phi: float = 0.0) -> int:
    """W⁻ → lepton (final state) + antineutrino; returns the W decay vertex."""
    vw = s.vertex()
    s.add(-24, 60.0, eta, phi, status=22, production=v, end=vw, mass=80.4)
    s.add(pid, pt, eta, phi, production=vw)
    s.add(-(abs(pid) + 1), 30.0, -1.0, phi + 2.0, production=vw)
    return vw


def test_muon_from_a_w_is_prompt_and_muon_from_a_b_hadron_is_not() -> None:
    s = Sketch()
    v = s.hard_vertex()
    w_to(s, v, 13, pt=40.0)
    vb = s.decay(511, 30.0, 1.5, 2.0, v)
    s.add(-13, 12.0, 1.5, 2.0, production=vb)
    s.add(14, 6.0, 1.5, 2.0, production=vb)
    vd = s.vertex()  # deeper: B → J/ψ → μμ
    s.add(-521, 40.0, -1.5, -2.0, status=2, production=v, end=vd)
    vj = s.decay(443, 30.0, -1.5, -2.0, vd)
    s.add(13, 15.0, -1.5, -2.0, production=vj)
    muons = build_objects(chunk(s)).muons[0]
    assert muons.pt.tolist() == pytest.approx([40.0])
    assert muons.charge.tolist() == [-1]
    assert muons.from_tau.tolist() == [False]


def test_leptons_from_tau_are_prompt_and_flagged() -> None:
    s = Sketch()
    v = s.hard_vertex()
    vt = s.decay(15, 40.0, 0.0, 0.0, v)
    s.add(11, 25.0, 0.0, 0.0, production=vt)
    s.add(-12, 10.0, 0.0, 0.1, production=vt)
    s.add(16, 5.0, 0.1, 0.0, production=vt)
    w_to(s, v, -13, pt=30.0, phi=2.0)
    objects = build_objects(chunk(s))
    assert objects.electrons.from_tau.tolist() == [[True]]
    assert objects.electrons.charge.tolist() == [[-1]]
    assert objects.muons.charge.tolist() == [[1]]
    assert objects.muons.from_tau.tolist() == [[False]]
    assert objects.taus.pt.tolist() == [[]]  # leptonic τ are not in the τ collection
    dropped = build_objects(chunk(s), ObjectConfig(leptons_from_tau=False))
    assert dropped.electrons.pt.tolist() == [[]]
    assert dropped.muons.pt[0].tolist() == pytest.approx([30.0])


def test_isolation_by_hand() -> None:
    s = Sketch()
    v = s.hard_vertex()
    w_to(s, v, 13, pt=40.0)
    s.add(211, 2.0, 0.1, 0.0, production=v)  # ΔR 0.1: in
    s.add(-211, 3.0, 0.0, -0.15, production=v)  # ΔR 0.15: in
    s.add(211, 5.0, 0.25, 0.0, production=v)  # ΔR 0.25: out
    s.add(14, 20.0, 0.05, 0.0, production=v)  # invisible: never counted
    s.add(1000022, 20.0, 0.0, 0.05, production=v, mass=100.0)  # invisible
    muons = build_objects(chunk(s), BARE).muons[0]
    assert muons.isolation.tolist() == pytest.approx([5.0 / 40.0], rel=1e-12)
    assert muons.isolated.tolist() == [True]
    wide = build_objects(
        chunk(s), ObjectConfig(dressing_dr=None, isolation_dr=0.3, isolation_max=0.2)
    )
    assert wide.muons.isolation[0].tolist() == pytest.approx([10.0 / 40.0], rel=1e-12)
    assert wide.muons.isolated.tolist() == [[False]]


def test_dressing_adds_the_photon_and_removes_it_from_the_photons() -> None:
    s = Sketch()
    v = s.hard_vertex()
    vw = w_to(s, v, 11, pt=40.0)
    s.add(22, 12.0, 0.05, 0.03, production=vw)  # ΔR 0.058: dresses the electron
    s.add(22, 15.0, 0.4, 0.0, production=vw)  # ΔR 0.4: a photon of its own
    s.add(211, 1.0, -0.1, 0.05, production=v)
    objects = build_objects(chunk(s))
    electron = objects.electrons[0][0]
    bare = vector.obj(pt=40.0, eta=0.0, phi=0.0, mass=0.000511)
    expected = bare + vector.obj(pt=12.0, eta=0.05, phi=0.03, mass=0.0)
    assert (electron.pt, electron.eta, electron.phi, electron.mass) == pytest.approx(
        (expected.pt, expected.eta, expected.phi, expected.mass), rel=1e-12
    )
    assert electron.n_dressing_photons == 1
    # the dressing photon is part of the electron, not of its isolation cone
    assert electron.isolation == pytest.approx(1.0 / expected.pt, rel=1e-12)
    assert objects.photons.pt[0].tolist() == pytest.approx([15.0])
    assert objects.photons.isolation[0].tolist() == pytest.approx([0.0])
    undressed = build_objects(chunk(s), BARE)
    assert undressed.electrons.pt[0].tolist() == pytest.approx([40.0])
    assert undressed.photons.pt[0].tolist() == pytest.approx([15.0, 12.0])
    assert undressed.electrons.isolation[0].tolist() == pytest.approx([13.0 / 40.0])


def test_a_photon_between_two_leptons_dresses_the_closer() -> None:
    s = Sketch()
    v = s.hard_vertex()
    vw = w_to(s, v, 11, pt=30.0, phi=0.0)
    w_to(s, v, 13, pt=40.0, phi=0.15)
    s.add(22, 10.0, 0.0, 0.06, production=vw)
    objects = build_objects(chunk(s))
    assert objects.electrons.n_dressing_photons.tolist() == [[1]]
    assert objects.muons.n_dressing_photons.tolist() == [[0]]
    assert objects.photons.pt.tolist() == [[]]


def test_photons_from_hadron_decays_are_not_prompt() -> None:
    s = Sketch()
    v = s.hard_vertex()
    vp = s.decay(111, 40.0, 1.0, 1.0, v)
    s.add(22, 25.0, 1.0, 1.0, production=vp)
    s.add(22, 15.0, 1.01, 1.0, production=vp)
    s.add(22, 30.0, -1.0, -1.0, production=v)  # a prompt photon
    photons = build_objects(chunk(s)).photons
    assert photons.pt[0].tolist() == pytest.approx([30.0])
    assert photons.eta[0].tolist() == pytest.approx([-1.0])


def test_lepton_thresholds_apply_to_the_dressed_lepton() -> None:
    s = Sketch()
    v = s.hard_vertex()
    vw = w_to(s, v, 13, pt=4.0)
    s.add(22, 2.0, 0.02, 0.0, production=vw)
    assert build_objects(chunk(s)).muons.pt[0].tolist() == pytest.approx([6.0], rel=1e-3)
    assert build_objects(chunk(s), BARE).muons.pt.tolist() == [[]]
    config = ObjectConfig(lepton_min_pt=1.0, lepton_max_abs_eta=1.0)
    assert len(build_objects(chunk(s), config).muons[0]) == 1
    s2 = Sketch()
    w_to(s2, s2.hard_vertex(), 13, pt=40.0, eta=1.2)
    assert build_objects(chunk(s2), config).muons.pt.tolist() == [[]]


def test_hadronic_tau_carries_its_visible_momentum() -> None:
    s = Sketch()
    v = s.hard_vertex()
    vt0, vt = s.vertex(), s.vertex()
    s.add(-15, 50.0, 0.5, 1.0, status=2, production=v, end=vt0)
    s.add(-15, 49.0, 0.5, 1.0, status=2, production=vt0, end=vt)  # a copy: the last τ decays
    s.add(211, 20.0, 0.5, 1.0, production=vt)
    vp = s.decay(111, 15.0, 0.52, 1.02, vt)
    s.add(22, 9.0, 0.52, 1.02, production=vp)
    s.add(22, 6.0, 0.53, 1.02, production=vp)
    s.add(-16, 14.0, 0.5, 0.98, production=vt)
    taus = build_objects(chunk(s)).taus[0]
    visible = (
        vector.obj(pt=20.0, eta=0.5, phi=1.0, mass=0.13957)
        + vector.obj(pt=9.0, eta=0.52, phi=1.02, mass=0.0)
        + vector.obj(pt=6.0, eta=0.53, phi=1.02, mass=0.0)
    )
    assert len(taus) == 1
    assert (taus[0].pt, taus[0].eta, taus[0].phi, taus[0].mass) == pytest.approx(
        (visible.pt, visible.eta, visible.phi, visible.mass), rel=1e-12
    )
    assert (taus[0].charge, taus[0].n_prongs) == (1, 1)
    # the photons from the τ's π⁰ are not prompt photons
    assert build_objects(chunk(s), ObjectConfig(photon_min_pt=1.0)).photons.pt.tolist() == [[]]


def test_phi_of_leptons_is_in_range() -> None:
    s = Sketch()
    v = s.hard_vertex()
    vw = s.vertex()
    s.add(24, 60.0, 0.0, 0.0, status=22, production=v, end=vw)
    s.add_p4(-11, (-30.0, -0.0, 5.0, float(np.sqrt(925.0))), production=vw)
    assert build_objects(chunk(s), BARE).electrons.phi.tolist() == [[np.pi]]
