"""Charged particles as tracks: each jet's number of tracks and the leptons' variable-cone
track isolation (ptvarcone), on hand-made events."""

from __future__ import annotations

import pytest

from recast.objects import ObjectConfig, build_objects

from .test_objects_leptons import w_to
from .truth_events import Sketch, chunk

TRACKS = ObjectConfig(dressing_dr=None, jet_track_min_pt=0.5, track_isolation_k=10.0)


def jet_event(ghost_matching: bool = False) -> Sketch:
    """One jet at η = 0, φ = 1: three charged particles above 0.5 GeV, one below, two neutral."""
    s = Sketch()
    v = s.hard_vertex()
    s.add(211, 30.0, 0.0, 1.0, production=v)
    s.add(-211, 20.0, 0.05, 1.05, production=v)
    s.add(321, 0.6, -0.1, 1.0, production=v)
    s.add(211, 0.4, 0.1, 0.95, production=v)  # below the track threshold
    s.add(22, 15.0, 0.0, 0.9, production=v)
    s.add(130, 10.0, -0.05, 1.0, production=v)  # K⁰_L: neutral
    s.add(211, 25.0, 2.0, -2.0, production=v)  # a second jet, far away, one track
    return s


@pytest.mark.parametrize("matching", ["cone", "ghost"])
def test_each_jet_counts_its_charged_constituents(matching: str) -> None:
    config = ObjectConfig(jet_min_pt=10.0, jet_track_min_pt=0.5, flavour_matching=matching)
    jets = build_objects(chunk(jet_event()), config).jets[0]
    assert jets.pt.tolist() == pytest.approx([76.0, 25.0], rel=1e-2)
    assert jets.n_charged.tolist() == [3, 1]
    higher = ObjectConfig(jet_min_pt=10.0, jet_track_min_pt=1.0, flavour_matching=matching)
    assert build_objects(chunk(jet_event()), higher).jets[0].n_charged.tolist() == [2, 1]


def test_no_track_count_unless_asked() -> None:
    jets = build_objects(chunk(jet_event()), ObjectConfig(jet_min_pt=10.0)).jets
    assert "n_charged" not in jets.fields


def test_track_isolation_uses_a_cone_shrinking_with_pt() -> None:
    s = Sketch()
    v = s.hard_vertex()
    w_to(s, v, 13, pt=40.0)  # muon at η = φ = 0: cone min(0.3, 10/40) = 0.25
    s.add(211, 2.0, 0.2, 0.0, production=v)  # ΔR 0.20: in
    s.add(-211, 3.0, 0.0, 0.27, production=v)  # ΔR 0.27: out of 0.25, in the fixed 0.3
    s.add(22, 8.0, 0.1, 0.0, production=v)  # neutral: not a track
    s.add(211, 0.8, -0.1, 0.0, production=v)  # below 1 GeV: not a track
    muons = build_objects(chunk(s), TRACKS).muons[0]
    assert muons.isolation_track.tolist() == pytest.approx([2.0 / 40.0], rel=1e-12)
    # the calorimeter-like isolation still counts the photon and the soft pion (ΔR < 0.2)
    assert muons.isolation.tolist() == pytest.approx([(8.0 + 0.8) / 40.0], rel=1e-12)


def test_electron_cone_is_smaller_and_low_pt_cones_are_capped() -> None:
    s = Sketch()
    v = s.hard_vertex()
    w_to(s, v, 11, pt=20.0)  # electron: cone min(0.2, 10/20 = 0.5) = 0.2
    s.add(211, 1.5, 0.18, 0.0, production=v)  # in
    s.add(211, 2.5, 0.0, -0.22, production=v)  # out: beyond 0.2
    electrons = build_objects(chunk(s), TRACKS).electrons[0]
    assert electrons.isolation_track.tolist() == pytest.approx([1.5 / 20.0], rel=1e-12)


def test_track_fields_absent_by_default() -> None:
    s = Sketch()
    w_to(s, s.hard_vertex(), 13)
    assert "isolation_track" not in build_objects(chunk(s)).muons.fields
