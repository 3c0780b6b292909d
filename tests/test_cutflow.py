"""Cutflows: weighted sums with negative weights, merging, and comparison to published ones."""

from __future__ import annotations

import math

import awkward as ak
import numpy as np
import pytest

from recast.analysis import Analysis, AnalysisDefinitionError, cut
from recast.analysis.cutflow import Cutflow, compare, step_uncertainties


class Toy(Analysis):
    def derive(self, events: ak.Array) -> ak.Array:
        return ak.with_field(events, events.x * 2, "x2")

    @cut("positive", "x > 0")
    def positive(self, events: ak.Array) -> ak.Array:
        return events.x > 0

    @cut("big")
    def big(self, events: ak.Array) -> ak.Array:
        """x2 > 3"""
        return events.x2 > 3

    @cut("tagged")
    def tagged(self, events: ak.Array) -> ak.Array:
        return events.p  # a truth-tagging probability


def chunk() -> ak.Array:
    return ak.Array(
        {
            "x": [-1.0, 0.5, 2.0, 3.0, 4.0],
            "weight": [1.0, -0.5, 2.0, -1.0, 1.5],
            "p": [1.0, 1.0, 0.5, 0.25, 0.0],
        }
    )


def test_mixed_sign_weights_and_probabilities_by_hand() -> None:
    flows = Toy({"SR": ["positive", "big", "tagged"]}).process(chunk())
    flow = flows["SR"]
    assert flow.steps == ["initial", "positive", "big", "tagged"]
    np.testing.assert_allclose(flow.sumw, [3.0, 2.0, 2.5, 1.0 - 0.25])
    np.testing.assert_allclose(
        flow.sumw2, [1 + 0.25 + 4 + 1 + 2.25, 0.25 + 4 + 1 + 2.25, 4 + 1 + 2.25, 1.0 + 0.0625]
    )
    np.testing.assert_array_equal(flow.raw, [5, 4, 3, 2])


def test_chunks_merge_to_the_whole() -> None:
    analysis = Toy({"SR": ["positive", "tagged"], "CR": ["big"]})
    events = chunk()
    whole = analysis.process(events)
    parts = [analysis.process(events[i : i + 2]) for i in range(0, len(events), 2)]
    for region in whole:
        merged = parts[0][region]
        for part in parts[1:]:
            merged = merged.merge(part[region])
        np.testing.assert_allclose(merged.sumw, whole[region].sumw, rtol=1e-15)
        np.testing.assert_array_equal(merged.raw, whole[region].raw)


def test_a_cut_declared_twice_raises() -> None:
    with pytest.raises(AnalysisDefinitionError, match="cut 'positive' is declared twice"):

        class Twice(Analysis):
            @cut("positive")
            def a(self, events: ak.Array) -> ak.Array:
                return events.x > 0

            @cut("positive")
            def b(self, events: ak.Array) -> ak.Array:
                return events.x > 1


def test_a_region_naming_an_unknown_cut() -> None:
    with pytest.raises(
        AnalysisDefinitionError, match=r"region 'SR' uses cut 'bigg'.*Did you mean 'big'"
    ):
        Toy({"SR": ["positive", "bigg"]})


def test_a_cut_unknown_to_many_regions_is_one_short_problem() -> None:
    """A cut renamed in the code and not in analysis.json: dozens of regions, one line."""
    regions = {f"SR{i}": ["positive", "bigg"] for i in range(30)}
    with pytest.raises(AnalysisDefinitionError) as caught:
        Toy(regions)
    message = str(caught.value)
    assert message.startswith("regions 'SR0', 'SR1', 'SR2' and 27 more use cut 'bigg'")
    assert message.count("bigg") == 1 and len(message) < 200


def test_round_trip_and_scaling() -> None:
    flow = Toy({"SR": ["positive"]}).process(chunk())["SR"]
    again = Cutflow.from_dict(flow.to_dict())
    np.testing.assert_array_equal(again.sumw, flow.sumw)
    scaled = flow.scaled(10.0)
    np.testing.assert_allclose(scaled.sumw2, flow.sumw2 * 100)


def test_comparison_with_a_published_cutflow() -> None:
    flow = Cutflow(
        ["a", "b"],
        np.array([100.0, 50.0, 10.0]),
        np.array([100.0, 50.0, 10.0]),
        np.array([100, 50, 10]),
    )
    rows = compare(
        flow,
        [{"cut": "a", "value": 52.0, "uncertainty": 1.0}, {"cut": "b", "value": 20.0}],
        published_initial=100.0,
        relative_tolerance=0.1,
        max_pull=2.0,
    )
    assert rows[0].ratio == pytest.approx(50 / 52)
    # binomial: 100 events, ε = 0.5 -> σ = √(100 · 0.5 · 0.5) = 5; ε = 0.1 -> σ = 3
    assert rows[0].recast_uncertainty == pytest.approx(5.0)
    assert rows[0].pull == pytest.approx(-2 / math.sqrt(25 + 1))
    assert rows[0].passed
    assert rows[1].recast_relative == pytest.approx(0.2)
    assert rows[1].published_relative == pytest.approx(20 / 52)
    assert rows[1].recast_uncertainty == pytest.approx(3.0)
    assert rows[1].pull == pytest.approx(-10 / 3)
    assert not rows[1].passed


def test_step_uncertainties_are_weighted_binomial() -> None:
    weights = np.array([2.0, -0.5, 1.0, 1.5, 0.5])
    passed = np.array([1, 1, 0, 1, 0], dtype=float)
    flow = Cutflow(["a"])
    flow.fill(weights, [passed])
    total, kept = weights.sum(), (weights * passed).sum()
    efficiency = kept / total
    # the efficiency's variance, by propagating each event's weight independently
    derivative = (passed - efficiency) / total
    expected = total * math.sqrt(np.sum(derivative**2 * weights**2))
    assert step_uncertainties(flow) == pytest.approx([0.0, expected])
    with pytest.raises(ValueError, match=r"published steps \['b'\] are not cuts"):
        compare(flow, [{"cut": "b", "value": 1.0}], 1.0)
