"""Jets from recast.objects against FastJet's classic per-event API on the same particles."""

from __future__ import annotations

import awkward as ak
import fastjet
import numpy as np
import pytest

from recast.objects import DEFAULT_INVISIBLE, ObjectConfig, build_objects, toy_truth_chunk
from recast.objects.jets import cluster, sum_constituents

from .truth_events import Sketch, chunk


def wrapped(phi: float) -> float:
    return phi - 2 * np.pi if phi > np.pi else phi


def visible_pseudojets(event: ak.Record, invisible: tuple[int, ...] = DEFAULT_INVISIBLE) -> list:
    p = {f: ak.to_numpy(event.particles[f]) for f in ("px", "py", "pz", "E", "pid", "status")}
    keep = (p["status"] == 1) & ~np.isin(np.abs(p["pid"]), invisible)
    return [
        fastjet.PseudoJet(*(float(p[f][i]) for f in ("px", "py", "pz", "E")))
        for i in np.flatnonzero(keep)
    ]


def classic(
    pseudojets: list, radius: float, min_pt: float, algorithm: int = fastjet.antikt_algorithm
):
    """(pt, eta, phi, m) of the inclusive jets, pT-sorted, and the jets themselves."""
    sequence = fastjet.ClusterSequence(pseudojets, fastjet.JetDefinition(algorithm, radius))
    jets = fastjet.sorted_by_pt(sequence.inclusive_jets(min_pt))
    rows = [(j.pt(), j.eta(), wrapped(j.phi()), j.m()) for j in jets]
    return rows, jets, sequence


def rows(jets: ak.Array) -> list[tuple[float, float, float, float]]:
    columns = (jets.pt, jets.eta, jets.phi, jets.mass)
    return list(zip(*(c.tolist() for c in columns), strict=True))


@pytest.fixture(scope="module")
def toy() -> ak.Array:
    return toy_truth_chunk(12, n_particles=150, seed=3)


@pytest.mark.parametrize(("radius", "min_pt"), [(0.4, 20.0), (0.6, 5.0)])
def test_small_r_jets_equal_classic_fastjet(toy: ak.Array, radius: float, min_pt: float) -> None:
    objects = build_objects(toy, ObjectConfig(jet_radius=radius, jet_min_pt=min_pt))
    n_jets = 0
    for event, jets in zip(toy, objects.jets, strict=True):
        expected, _, _ = classic(visible_pseudojets(event), radius, min_pt)
        assert len(jets) == len(expected)
        assert np.array(rows(jets)) == pytest.approx(np.array(expected).reshape(-1, 4), abs=1e-9)
        n_jets += len(jets)
    assert n_jets > 30


def test_large_r_jets_from_particles_equal_classic_fastjet(toy: ak.Array) -> None:
    config = ObjectConfig(large_R="particles", large_R_radius=1.0, large_R_min_pt=50.0)
    objects = build_objects(toy, config)
    for event, jets in zip(toy, objects.large_R_jets, strict=True):
        expected, _, _ = classic(visible_pseudojets(event), 1.0, 50.0)
        assert np.array(rows(jets)).reshape(-1, 4) == pytest.approx(
            np.array(expected).reshape(-1, 4), abs=1e-9
        )


def test_trimmed_large_r_jets_equal_trimming_by_hand(toy: ak.Array) -> None:
    config = ObjectConfig(large_R="particles", large_R_min_pt=50.0, trim_fcut=0.1, trim_radius=0.2)
    objects = build_objects(toy, config)
    n_changed = 0
    for event, jets in zip(toy, objects.large_R_jets, strict=True):
        _, untrimmed, _sequence = classic(visible_pseudojets(event), 1.0, 50.0)
        expected = []
        for jet in untrimmed:
            subjets, _, _sub_sequence = classic(
                list(jet.constituents()), 0.2, 0.0, fastjet.kt_algorithm
            )
            kept = [s for s in _sub_sequence.inclusive_jets(0.0) if s.pt() >= 0.1 * jet.pt()]
            total = fastjet.PseudoJet(0.0, 0.0, 0.0, 0.0)
            for s in kept:
                total = total + s
            n_changed += len(kept) < len(subjets)
            if total.pt() >= 50.0:
                expected.append((total.pt(), total.eta(), wrapped(total.phi()), total.m()))
        expected.sort(reverse=True)
        assert np.array(rows(jets)).reshape(-1, 4) == pytest.approx(
            np.array(expected).reshape(-1, 4), abs=1e-9
        )
    assert n_changed > 0


def test_reclustered_jets_are_anti_kt_of_the_small_r_jets(toy: ak.Array) -> None:
    config = ObjectConfig(large_R="reclustered", large_R_radius=1.0, large_R_min_pt=40.0)
    objects = build_objects(toy, config)
    for small, large in zip(objects.jets, objects.large_R_jets, strict=True):
        inputs = [
            fastjet.PseudoJet(float(j.px), float(j.py), float(j.pz), float(j.E)) for j in small
        ]
        expected, _, _ = classic(inputs, 1.0, 40.0)
        assert np.array(rows(large)).reshape(-1, 4) == pytest.approx(
            np.array(expected).reshape(-1, 4), abs=1e-9
        )


def test_reclustered_trimming_drops_small_jets_below_fcut() -> None:
    s = Sketch()
    v = s.hard_vertex()
    for pt, phi in ((300.0, 0.0), (100.0, 0.5), (10.0, -0.5)):
        s.add(211, pt, 0.0, phi, production=v)
    config = ObjectConfig(large_R="reclustered", large_R_min_pt=100.0, jet_min_pt=5.0)
    untrimmed = build_objects(chunk(s), config).large_R_jets[0]
    trimmed = build_objects(
        chunk(s), ObjectConfig(**{**config.__dict__, "trim_fcut": 0.05})
    ).large_R_jets[0]
    jets = build_objects(chunk(s), config).jets[0]
    assert len(untrimmed) == len(trimmed) == 1
    # 10 GeV < 0.05 × ~395 GeV: the third jet goes
    assert trimmed[0].pt == pytest.approx((jets[0] + jets[1]).pt, abs=1e-9)
    assert trimmed[0].mass == pytest.approx((jets[0] + jets[1]).mass, abs=1e-9)
    assert untrimmed[0].pt == pytest.approx((jets[0] + jets[1] + jets[2]).pt, abs=1e-9)


def test_invisible_particles_are_not_clustered() -> None:
    s = Sketch()
    v = s.hard_vertex()
    s.add(211, 50.0, 0.0, 0.0, production=v)
    s.add(1000022, 300.0, 1.0, 2.0, production=v, mass=100.0)
    s.add(14, 80.0, 0.1, 0.05, production=v)  # a neutrino inside the pion's jet
    jets = build_objects(chunk(s)).jets[0]
    assert rows(jets)[0] == pytest.approx((50.0, 0.0, 0.0, 0.13957), abs=1e-6)
    # the configurable list replaces the BSM ids; neutrinos stay invisible whatever it says
    jets = build_objects(chunk(s), ObjectConfig(invisible=())).jets[0]
    assert jets.pt.tolist() == pytest.approx([300.0, 50.0])


def test_jets_are_pt_ordered_with_phi_in_range_and_cuts_applied(toy: ak.Array) -> None:
    objects = build_objects(toy, ObjectConfig(jet_min_pt=15.0, jet_max_abs_eta=2.0))
    pt = objects.jets.pt
    assert ak.all(pt[:, :-1] >= pt[:, 1:])
    assert ak.all(pt >= 15.0)
    assert ak.all(abs(objects.jets.eta) < 2.0)
    assert ak.all((objects.jets.phi > -np.pi) & (objects.jets.phi <= np.pi))


def test_a_jet_along_minus_x_has_phi_plus_pi() -> None:
    s = Sketch()
    v = s.hard_vertex()
    s.add_p4(211, (-40.0, -0.0, 0.0, 40.0), production=v)  # atan2(-0.0, -40) = -π
    objects = build_objects(chunk(s))
    assert objects.jets.phi.tolist() == [[np.pi]]


def test_empty_events_and_an_empty_chunk() -> None:
    s = Sketch()
    s.add(211, 50.0, 0.0, 0.0)
    objects = build_objects(chunk(Sketch(), s, Sketch()))
    assert ak.num(objects.jets).tolist() == [0, 1, 0]
    assert objects.met.pt.tolist() == [0.0, 0.0, 0.0]
    empty = build_objects(toy_truth_chunk(3)[:0], ObjectConfig(large_R="particles", trim_fcut=0.05))
    assert len(empty) == 0
    assert "large_R_jets" in empty.fields


def test_jets_without_prompt_leptons_on_request() -> None:
    s = Sketch()
    v = s.hard_vertex()
    vw = s.vertex()
    s.add(24, 60.0, 0.0, 0.0, status=22, production=v, end=vw, mass=80.4)
    s.add(-13, 40.0, 0.0, 0.0, production=vw)
    s.add(14, 30.0, 1.0, 2.0, production=vw)
    s.add(22, 5.0, 0.03, 0.0, production=vw)  # dresses the muon
    s.add(22, 25.0, 0.0, 1.5, production=vw)  # a prompt photon too far to dress: stays a jet
    s.add(211, 30.0, -1.0, -2.0, production=v)
    default = build_objects(chunk(s)).jets[0]
    assert default.pt.tolist() == pytest.approx([45.0, 30.0, 25.0], abs=0.01)
    wz = build_objects(chunk(s), ObjectConfig(jet_exclude_leptons=True)).jets[0]
    assert wz.pt.tolist() == pytest.approx([30.0, 25.0])


def test_constituent_lists_follow_the_jet_order(toy: ak.Array) -> None:
    # ghost labels and trimming rely on FastJet listing constituents in the jets' order
    p = ak.flatten(toy.particles)
    keep = ak.to_numpy((p.status == 1) & ~np.isin(np.abs(ak.to_numpy(p.pid)), DEFAULT_INVISIBLE))
    event = np.repeat(np.arange(len(toy)), ak.to_numpy(ak.num(toy.particles)))[keep]
    momenta = tuple(ak.to_numpy(p[f])[keep] for f in ("px", "py", "pz", "E"))
    jets = cluster(event, momenta, len(toy), 0.4, 10.0, constituents=True)  # type: ignore[arg-type]
    summed = sum_constituents(jets, momenta)  # type: ignore[arg-type]
    for total, direct in zip(summed, (jets.px, jets.py, jets.pz, jets.energy), strict=True):
        assert total == pytest.approx(direct, abs=1e-9)
    assert len(jets) > 30
