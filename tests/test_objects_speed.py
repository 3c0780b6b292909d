"""The fast paths of the object building and of ``near`` give what the simple versions give,
value for value: distinct PDG ids by table, first-reached particles by marking, φ of arctan2
without the modulo, ΔR pairs as flat numpy arrays (issue 17)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import awkward as ak
import numpy as np
import pytest

from recast.analysis import variables
from recast.angles import wrap_phi
from recast.objects import ObjectConfig, build_objects, pdg, toy_truth_chunk
from recast.objects import kinematics as kinematics_module
from recast.objects import truth as truth_module
from recast.objects.ancestry import History
from recast.objects.kinematics import FlatChunk, kinematics
from recast.objects.truth import BEAM_STATUS, Truth, unique_ids

from .conftest import GttSample

#: the objects of the flagship analysis: ghost labels, tracks, track isolation
CONFIG = ObjectConfig(
    flavour_matching="ghost",
    jet_exclude_leptons=True,
    jet_track_min_pt=0.5,
    track_isolation_k=10.0,
    track_min_pt=1.0,
)


@pytest.fixture(scope="module")
def events(gtt: GttSample) -> ak.Array:
    """40 full-history Pythia8 Gtt events (1200/100 GeV)."""
    return gtt.events[:40]


def same(a: Any, b: Any) -> bool:
    """Bit-identical awkward arrays: the same form and the same bytes in every buffer."""
    form_a, length_a, buffers_a = ak.to_buffers(ak.to_packed(a))
    form_b, length_b, buffers_b = ak.to_buffers(ak.to_packed(b))
    return bool(
        form_a == form_b
        and length_a == length_b
        and buffers_a.keys() == buffers_b.keys()
        and all(
            np.asarray(buffers_a[k]).tobytes() == np.asarray(buffers_b[k]).tobytes()
            for k in buffers_a
        )
    )


# -- distinct ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pid",
    [
        np.zeros(0, np.int64),
        np.array([5, -5, 0, 5, 1000021, -1000021, 9010221, 1000022, 211, -211]),
        np.array([-(1 << 17), 1 << 17, (1 << 17) - 1, 1 - (1 << 17), 2**62, -(2**62)]),
        np.random.default_rng(3).integers(-400_000, 400_000, 50_000),
        np.array([22, 22, 22]),
        np.array([1000022]),
    ],
)
def test_unique_ids_is_numpys_unique(pid: np.ndarray) -> None:
    ids, inverse = np.unique(pid, return_inverse=True)
    fast_ids, fast_inverse = unique_ids(pid)
    assert fast_ids.dtype == ids.dtype and fast_inverse.dtype == inverse.dtype
    assert np.array_equal(fast_ids, ids) and np.array_equal(fast_inverse, inverse)


def test_unique_ids_on_a_generated_chunk(events: ak.Array) -> None:
    pid = FlatChunk.from_events(events).pid
    ids, inverse = np.unique(pid, return_inverse=True)
    fast_ids, fast_inverse = unique_ids(pid)
    assert np.array_equal(fast_ids, ids) and np.array_equal(fast_inverse, inverse)
    assert (np.abs(ids) >= 1 << 17).any()  # SUSY ids take the sorted path


# -- ancestry --------------------------------------------------------------------------------------


def reference_nearest_ancestor(flat: FlatChunk, seed: np.ndarray) -> np.ndarray:
    """Particle by particle in Python: generation after generation from the seeds (in index
    order), each particle takes the label of the first parent that reaches it."""
    children: dict[int, list[int]] = defaultdict(list)
    for i, vertex in enumerate(flat.production.tolist()):
        if vertex >= 0:
            children[vertex].append(i)
    label = [-1] * flat.n_particles
    frontier = [int(i) for i in np.flatnonzero(seed)]
    handed = {i: i for i in frontier}
    while frontier:
        reached: list[int] = []
        for parent in frontier:
            vertex = int(flat.end[parent])
            for kid in children.get(vertex, []) if vertex >= 0 else []:
                if label[kid] < 0:
                    label[kid] = handed[parent]
                    reached.append(kid)
        frontier = sorted(reached)
        handed = {k: k if seed[k] else label[k] for k in frontier}
    return np.array(label, dtype=np.int64)


def test_nearest_ancestor_matches_the_reference(events: ak.Array) -> None:
    flat = FlatChunk.from_events(events[:15])
    truth = Truth(flat, CONFIG)
    hadrons = truth.by_pid(pdg.is_hadron) & (flat.status != BEAM_STATUS) & (flat.production >= 0)
    for seed in (hadrons, flat.abs_pid == 15, flat.abs_pid == 6, flat.status == 2):
        assert np.array_equal(
            truth.history.nearest_ancestor(seed), reference_nearest_ancestor(flat, seed)
        )


@pytest.mark.parametrize("size", [0, 5, 300, 5000])
@pytest.mark.parametrize("repeats", [False, True])
def test_first_reached_is_numpys_unique(size: int, repeats: bool) -> None:
    flat = FlatChunk.from_events(toy_truth_chunk(3, n_particles=2000, seed=1))
    history = History(flat)
    rng = np.random.default_rng(size)
    kids = rng.permutation(flat.n_particles)[:size]
    if repeats and size:
        kids = np.concatenate([kids, kids[: size // 3]])[rng.permutation(size + size // 3)]
    distinct, first = history._first_reached(kids)
    reference = np.unique(kids, return_index=True)
    assert np.array_equal(distinct, reference[0]) and np.array_equal(first, reference[1])


# -- φ ---------------------------------------------------------------------------------------------


def test_kinematics_phi_is_the_wrapped_arctan2() -> None:
    rng = np.random.default_rng(5)
    px = np.concatenate([rng.normal(0, 10, 1000), [-1.0, -1.0, 0.0, -0.0, 1.0, np.nan, -3.0]])
    py = np.concatenate([rng.normal(0, 10, 1000), [-0.0, 0.0, -0.0, -0.0, -0.0, 1.0, np.nan]])
    phi = kinematics(px, py, np.zeros_like(px), np.ones_like(px))[2]
    expected = wrap_phi(np.arctan2(py, px))
    assert np.array_equal(phi, expected, equal_nan=True)
    assert phi[1000] == np.pi  # arctan2(−0, −1) = −π, moved to π
    x, y = px[:3].astype(np.float32), py[:3].astype(np.float32)  # not float64: wrap_phi's way
    low = kinematics(x, y, x, x)[2]
    assert np.array_equal(low, wrap_phi(np.arctan2(y, x)))


# -- the whole object building ---------------------------------------------------------------------


def test_build_objects_equals_the_sorting_versions(
    events: ak.Array, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The objects with every fast path against those with numpy's unique and wrap_phi."""
    fast = build_objects(events, CONFIG)
    monkeypatch.setattr(truth_module, "unique_ids", lambda p: np.unique(p, return_inverse=True))
    monkeypatch.setattr(
        History, "_first_reached", lambda self, kids: np.unique(kids, return_index=True)
    )
    monkeypatch.setattr(kinematics_module, "_arctan2_phi", lambda y, x: wrap_phi(np.arctan2(y, x)))
    slow = build_objects(events, CONFIG)
    assert same(fast, slow)
    assert int(ak.sum(ak.num(fast.jets))) > 100 and int(ak.sum(ak.num(fast.muons))) > 0


# -- near ------------------------------------------------------------------------------------------


def collections(events: ak.Array) -> dict[str, ak.Array]:
    objects = build_objects(events, CONFIG)
    jets = objects.jets
    return {
        "jets": jets,
        "electrons": objects.electrons,
        "muons": objects.muons,
        "photons": objects.photons,
        "hard jets": jets[jets.pt > 60.0],  # a ListArray, as a selection leaves it
        "no jets": jets[:, :0],
    }


@pytest.mark.parametrize("use_rapidity", [True, False])
@pytest.mark.parametrize("cone", [0.2, 0.4, 1.5])
def test_near_equals_the_nested_version(events: ak.Array, use_rapidity: bool, cone: float) -> None:
    found = collections(events)
    for mine in found.values():
        for theirs in found.values():
            fast = variables.near(mine, theirs, cone, use_rapidity=use_rapidity)
            nested = variables._near_nested(mine, theirs, cone, use_rapidity=use_rapidity)
            assert fast.type == nested.type and same(fast, nested)


def test_near_with_missing_values_takes_the_nested_way() -> None:
    jets = ak.Array([[{"pt": 50.0, "eta": 0.0, "phi": 0.0, "mass": 5.0}], None, []])
    leptons = ak.Array([[{"pt": 20.0, "eta": 0.1, "phi": 0.0, "mass": 0.0}], [], []])
    assert variables._flat_angles(jets, True) is None
    assert variables.near(jets, leptons, 0.2).tolist() == [[True], None, []]
    assert variables.near(leptons, jets, 0.2).tolist() == [[True], [], []]
    low = ak.Array([[{"pt": 50.0, "eta": 0.0, "phi": 3.1, "mass": 5.0}]])
    low = ak.zip({k: ak.values_astype(low[k], np.float32) for k in low.fields})
    assert variables._flat_angles(low, True) is None  # float32: as the nested version does
    assert same(variables.near(low, low, 0.4), variables._near_nested(low, low, 0.4))
    empty = ak.Array([[{"pt": 1.0, "eta": 0.0, "phi": 0.0, "mass": 0.0}]])[:0]
    assert variables.near(empty, empty, 0.4).tolist() == []
