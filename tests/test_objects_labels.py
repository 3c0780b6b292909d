"""Truth flavour labels of jets on hand-made events, and the PDG-id rules behind them."""

from __future__ import annotations

from collections.abc import Callable

import awkward as ak
import numpy as np
import pytest

from recast.objects import ObjectConfig, build_objects, charge, is_b_hadron, is_c_hadron, is_hadron

from .truth_events import Sketch, chunk


def spray(s: Sketch, v: int, phi: float = 0.0) -> None:
    """A 60 GeV jet of three pions around (η, φ) = (0, phi)."""
    for d_eta, d_phi, pt in ((0.0, 0.0, 30.0), (0.05, -0.04, 20.0), (-0.04, 0.05, 10.0)):
        s.add(211, pt, d_eta, phi + d_phi, production=v)


def decay(s: Sketch, pid: int, pt: float, eta: float, phi: float, production: int) -> int:
    """A particle (status 2) with a decay vertex, returned."""
    end = s.decay(pid, pt, eta, phi, production)
    return end


def case(build: Callable[[Sketch, int], None], n_jets: int = 1) -> Sketch:
    s = Sketch()
    v = s.hard_vertex()
    for k in range(n_jets):
        spray(s, v, 0.5 * k)
    build(s, v)
    return s


def b_hadron(s: Sketch, v: int, pid: int = 511, pt: float = 30.0, phi: float = 0.02) -> None:
    vb = decay(s, pid, pt, 0.02, phi, v)
    s.add(211, 3.0, 0.03, phi, production=vb)


def c_hadron(s: Sketch, v: int) -> None:
    vc = decay(s, 421, 20.0, -0.02, 0.03, v)
    s.add(321, 2.0, -0.02, 0.03, production=vc)


def b_to_c(s: Sketch, v: int) -> None:
    vb = decay(s, 521, 30.0, 0.02, 0.0, v)
    vc = decay(s, -421, 20.0, 0.03, 0.01, vb)
    s.add(321, 2.0, 0.03, 0.01, production=vc)


def b_star(s: Sketch, v: int) -> None:
    vs = decay(s, 513, 30.0, 0.02, 0.0, v)
    s.add(22, 0.1, 0.02, 0.0, production=vs)
    b_hadron(s, vs, pid=511, pt=29.9, phi=0.0)


def hadronic_tau(s: Sketch, v: int) -> None:
    vt = decay(s, 15, 30.0, 0.0, 0.1, v)
    s.add(-211, 20.0, 0.0, 0.1, production=vt)
    s.add(16, 10.0, 0.0, 0.1, production=vt)


def leptonic_tau(s: Sketch, v: int) -> None:
    vt = decay(s, -15, 30.0, 0.0, 0.1, v)
    for pid, pt in ((-11, 15.0), (12, 8.0), (-16, 7.0)):
        s.add(pid, pt, 0.0, 0.1, production=vt)


def upsilon(s: Sketch, v: int) -> None:
    vu = decay(s, 553, 30.0, 0.02, 0.0, v)
    s.add(211, 3.0, 0.03, 0.0, production=vu)


CASES = {
    "b": (b_hadron, [5], [1], [0]),
    "c": (c_hadron, [4], [0], [1]),
    "b and c": (b_to_c, [5], [1], [1]),
    "B* -> B gamma": (b_star, [5], [1], [0]),
    "hadronic tau": (hadronic_tau, [15], [0], [0]),
    "leptonic tau": (leptonic_tau, [0], [0], [0]),
    "bottomonium": (upsilon, [0], [0], [0]),
    "nothing": (lambda s, v: None, [0], [0], [0]),
    "soft b-hadron": (lambda s, v: b_hadron(s, v, pt=4.0), [0], [0], [0]),
}


@pytest.mark.parametrize("matching", ["cone", "ghost"])
def test_flavour_labels_on_hand_made_jets(matching: str) -> None:
    events = chunk(*(case(build) for build, *_ in CASES.values()))
    jets = build_objects(events, ObjectConfig(flavour_matching=matching)).jets
    assert ak.num(jets).tolist() == [1] * len(CASES)
    for name, (_, flavour, n_b, n_c), jet in zip(CASES, CASES.values(), jets, strict=True):
        assert (jet.flavour.tolist(), jet.n_bhadrons.tolist(), jet.n_chadrons.tolist()) == (
            flavour,
            n_b,
            n_c,
        ), name
    assert jets.n_taus.tolist()[4] == [1]


def test_each_hadron_labels_only_its_closest_jet() -> None:
    # jets at φ = 0 and 0.5; the b-hadron at φ = 0.2 is within 0.3 of both
    events = chunk(case(lambda s, v: b_hadron(s, v, phi=0.2), n_jets=2))
    jets = build_objects(events).jets[0]
    assert jets.phi.tolist() == pytest.approx([0.0, 0.5], abs=0.03)
    assert jets.flavour.tolist() == [5, 0]
    assert jets.n_bhadrons.tolist() == [1, 0]


def test_cone_size_and_hadron_threshold_are_configurable() -> None:
    far = chunk(case(lambda s, v: b_hadron(s, v, phi=0.35)))
    assert build_objects(far).jets.flavour.tolist() == [[0]]
    assert build_objects(far, ObjectConfig(flavour_dr=0.4)).jets.flavour.tolist() == [[5]]
    soft = chunk(case(lambda s, v: b_hadron(s, v, pt=4.0)))
    config = ObjectConfig(flavour_hadron_min_pt=3.0)
    assert build_objects(soft, config).jets.flavour.tolist() == [[5]]


def test_two_b_hadrons_in_one_jet_are_counted() -> None:
    events = chunk(case(lambda s, v: (b_hadron(s, v), b_hadron(s, v, pid=-511, phi=-0.05))))
    for matching in ("cone", "ghost"):
        jets = build_objects(events, ObjectConfig(flavour_matching=matching)).jets
        assert jets.n_bhadrons.tolist() == [[2]]


def test_ghost_matching_follows_the_jet_area_not_a_cone() -> None:
    # a b-hadron 0.35 from the axis: outside the 0.3 cone, but inside the R = 0.4 jet
    events = chunk(case(lambda s, v: b_hadron(s, v, phi=0.35)))
    cone = build_objects(events, ObjectConfig(flavour_matching="cone")).jets
    ghost = build_objects(events, ObjectConfig(flavour_matching="ghost")).jets
    assert cone.flavour.tolist() == [[0]]
    assert ghost.flavour.tolist() == [[5]]
    # ghosts change the jets by nothing measurable
    assert ghost.pt.tolist()[0] == pytest.approx(cone.pt.tolist()[0], rel=1e-15)


B_HADRONS = [511, -511, 521, 531, 541, -541, 513, 10511, 20513, 5122, 5132, 5232, 5332, 533]
C_HADRONS = [411, -411, 421, 431, 413, 10411, 4122, 4132, 4232, 4332, 4222]
NEITHER = [553, 100553, 443, 100443, 211, 111, 321, 2212, 22, 11, 5, 4, 2101, 5101, 1000022, 21]


def test_b_and_c_hadrons_from_pdg_ids() -> None:
    assert is_b_hadron(np.array(B_HADRONS)).all()
    assert not is_c_hadron(np.array(B_HADRONS)).any()  # B_c is a b-hadron: its heaviest quark
    assert is_c_hadron(np.array(C_HADRONS)).all()
    assert not is_b_hadron(np.array(C_HADRONS)).any()
    neither = np.array(NEITHER)
    assert not (is_b_hadron(neither) | is_c_hadron(neither)).any()
    assert is_hadron(np.array([553, 443, 211, 130, 310, 2212, 9000221])).all()
    assert not is_hadron(np.array([11, 22, 21, 5, 2101, 1000022, 1000039, 92])).any()


@pytest.mark.parametrize(
    ("pid", "expected"),
    [(211, 1), (-211, -1), (321, 1), (-321, -1), (111, 0), (130, 0), (411, 1), (421, 0),
     (431, 1), (511, 0), (521, 1), (-521, -1), (541, 1), (2212, 1), (-2212, -1), (2112, 0),
     (3112, -1), (3222, 1), (3334, -1), (4222, 2), (5122, 0), (5332, -1), (11, -1), (-13, 1),
     (22, 0), (24, 1), (-24, -1), (1000024, 1), (12, 0)],
)  # fmt: skip
def test_charge_from_pdg_id(pid: int, expected: int) -> None:
    assert charge(np.array([pid]))[0] == expected
