"""validation.normalise_after: rows after a step truth level cannot reproduce are compared
with that step's ratio divided out, and the step itself is reported but not tested."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from recast.analysis.cutflow import Cutflow
from recast.pipeline.run import _region
from recast.report.validation_table import validation_tables

CUTS = ["lepton", "jets", "score"]
PUBLISHED = {
    "region": "SR",
    "unit": "events",
    "initial": 1000.0,
    "steps": [
        {"cut": "lepton", "value": 400.0},
        {"cut": "jets", "value": 100.0},
        {"cut": "score", "value": 20.0},
    ],
}
TOLERANCE = {"relative": 0.2, "max_pull": 2.0}


def _result(values: list[float]) -> SimpleNamespace:
    """A recast cutflow of many unit-weight events (tiny MC errors): Σw = values."""
    sumw = np.asarray(values, dtype=float)
    flow = Cutflow(CUTS, sumw=sumw, sumw2=sumw * 1e-6, raw=np.full(len(values), 10**6))
    return SimpleNamespace(cutflows={"SR": flow})


def test_rows_after_the_step_are_compared_as_ratios_to_it() -> None:
    # the lepton row is 0.75 of the published one; the later rows keep the published ratios
    result = _result([1000.0, 300.0, 75.0, 15.0])
    plain = _region(result, PUBLISHED, 1.0, TOLERANCE)
    assert not plain["passed"]  # absolute comparison: every row 0.75
    region = _region(result, PUBLISHED, 1.0, TOLERANCE, normalise_after="lepton")
    assert region["passed"]
    assert region["normalised_after"] == {"cut": "lepton", "factor": pytest.approx(400 / 300)}
    lepton, jets, score = region["steps"]
    assert lepton["passed"] is None and lepton["ratio"] == pytest.approx(0.75)
    assert jets["ratio"] == pytest.approx(1.0) and score["ratio"] == pytest.approx(1.0)


def test_a_later_row_that_differs_still_fails() -> None:
    result = _result([1000.0, 300.0, 75.0, 7.5])  # the score row is half the published ratio
    region = _region(result, PUBLISHED, 1.0, TOLERANCE, normalise_after="lepton")
    assert not region["passed"]
    assert [s["passed"] for s in region["steps"]] == [None, True, False]


def test_a_cutflow_without_the_step_is_compared_as_before() -> None:
    result = _result([1000.0, 300.0, 75.0, 15.0])
    region = _region(result, PUBLISHED, 1.0, TOLERANCE, normalise_after="no_such_cut")
    assert "normalised_after" not in region
    assert not region["passed"]


def test_the_table_says_which_row_normalises() -> None:
    result = _result([1000.0, 300.0, 75.0, 15.0])
    region = _region(result, PUBLISHED, 1.0, TOLERANCE, normalise_after="lepton")
    verdict = {"analysis": "A", "benchmark": "b", "tolerance": TOLERANCE, "regions": [region]}
    (table,) = validation_tables(verdict)
    assert "rows after lepton" in str(table.title)
