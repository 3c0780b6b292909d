"""Context fields of objects: ΔR to the nearest neighbour, multiplicity, |η|, the neighbours."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

from recast.detector.context import DR_NONE, with_context
from recast.errors import MissingCollectionError

from .test_maps import make_events


@pytest.fixture
def events() -> ak.Array:
    # event 0: ΔR(0,1) = 0.3, ΔR(0,2) = hypot(1.2, 0.5) = 1.3, ΔR(1,2) = hypot(0.9, 0.5)
    # event 1: φ = ±3.04 are 0.2 apart across ±π; event 2: alone; event 3: no jets
    return make_events(
        pt=[50.0, 60.0, 70.0, 40.0, 45.0, 30.0],
        eta=[0.0, 0.3, 1.2, 0.0, 0.0, -1.0],
        phi=[0.0, 0.0, 0.5, 3.04159265, -3.04159265, 0.5],
        counts=[3, 2, 1, 0],
    )


def test_context_read_off_by_hand(events: ak.Array) -> None:
    jets = with_context(events, "jets").jets
    np.testing.assert_allclose(
        ak.flatten(jets.dr_nearest).to_numpy(),
        [0.3, 0.3, np.hypot(0.9, 0.5), 0.2, 0.2, DR_NONE],
        rtol=1e-7,
    )
    assert jets.n_objects.tolist() == [[3, 3, 3], [2, 2], [1], []]
    assert jets.abs_eta.tolist() == [[0.0, 0.3, 1.2], [0.0, 0.0], [1.0], []]
    # each jet's neighbours: the others of its event, in stored order, relative to it
    assert jets.neighbours.pt.tolist() == [
        [[60.0, 70.0], [50.0, 70.0], [50.0, 60.0]],
        [[45.0], [40.0]],
        [[]],
        [],
    ]
    np.testing.assert_allclose(jets.neighbours.dr[0, 0].to_numpy(), [0.3, 1.3], rtol=1e-7)
    np.testing.assert_allclose(jets.neighbours.deta[0, 2].to_numpy(), [-1.2, -0.9], rtol=1e-7)
    np.testing.assert_allclose(jets.neighbours.dphi[1].to_list(), [[0.2], [-0.2]], atol=1e-7)
    assert jets.pt.tolist() == events.jets.pt.tolist()  # the objects themselves are untouched
    assert jets.neighbours[0, 0].rapidity.tolist() == pytest.approx([0.3, 1.2])  # still vectors


def test_only_the_asked_fields_and_existing_fields_are_kept(events: ak.Array) -> None:
    once = with_context(events, "jets", ["dr_nearest"])
    assert "neighbours" not in ak.fields(once.jets)
    assert with_context(once, "jets", ["dr_nearest"]) is once


def test_context_does_not_depend_on_the_chunking(events: ak.Array) -> None:
    whole = with_context(events, "jets").jets
    pieces = [with_context(events[i : i + 1], "jets").jets for i in range(len(events))]
    assert ak.to_list(ak.concatenate(pieces)) == ak.to_list(whole)


def test_context_of_a_missing_collection(events: ak.Array) -> None:
    with pytest.raises(MissingCollectionError, match="Did you mean 'jets'"):
        with_context(events, "jet")
    with pytest.raises(ValueError, match="unknown context field"):
        with_context(events, "jets", ["dr_nearest", "drnearest"])
