"""The flagship closure script on a tiny synthetic sample (toy truth events, reference detector)."""

from __future__ import annotations

import json
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from recast.detector.description import load_detector
from recast.errors import UsageError
from recast.objects import build_objects, toy_truth_chunk
from reference_experiment import closure_yields as cy
from reference_experiment.detector import REFERENCE_OBJECTS, ReferenceDetector

SEED = 5


@pytest.fixture(scope="module")
def pairs() -> list[tuple[ak.Array, ak.Array]]:
    truth = build_objects(toy_truth_chunk(200, seed=11), REFERENCE_OBJECTS)
    return [(truth, ReferenceDetector().apply(truth, seed=SEED))]


@pytest.fixture(scope="module")
def analysis() -> cy.Analysis:
    analysis, skipped = cy.load_analysis(cy.BUNDLE, networks=False)
    assert all(name.startswith("SR-NN") for name in skipped) and skipped
    return analysis


def test_the_reference_detector_as_its_own_emulation_closes_exactly(
    pairs: list[tuple[ak.Array, ak.Array]], analysis: cy.Analysis
) -> None:
    emulations: dict[str, cy.Emulation] = {
        "self": ReferenceDetector(),
        "binned": load_detector(cy.BUNDLE / "detector.json"),
    }
    sums = cy.accumulate(analysis, pairs, emulations, SEED)
    result = cy.yields(sums, cross_section_pb=0.01, luminosity=139.0)
    assert set(result) == set(analysis.regions)
    first = result["SR-Gtt-0L"]
    # the first cut's yield is σ·L·(weight passing / all weight)
    truth, reco = pairs[0]
    passed = cy.passing(analysis, reco)["SR-Gtt-0L"][:, 0]
    assert first["official"]["raw"][0] == np.count_nonzero(passed) > 0
    expected = 0.01 * 1000 * 139 * passed.sum() / np.sum(np.asarray(truth.weight))
    assert first["official"]["yield"][0] == pytest.approx(expected)
    for region, entry in result.items():
        assert set(entry) == {"official", "self", "binned"}
        assert entry["self"]["yield"] == entry["official"]["yield"], region
        for ratio, error, y in zip(
            entry["self"]["ratio"],
            entry["self"]["ratio_error"],
            entry["official"]["yield"],
            strict=True,
        ):
            if y > 0:
                assert ratio == 1.0 and error == pytest.approx(0.0, abs=1e-12)
            else:
                assert ratio is None and error is None


def test_the_ratio_error_uses_the_per_event_difference(analysis: cy.Analysis) -> None:
    sums = cy.Sums(analysis, ["official", "other"])
    w_official = np.array([1.0, 1.0, 1.0, 0.0])
    w_other = np.array([1.0, 0.0, 0.0, 1.0])  # two events lost, one gained
    n = len(analysis.regions["SR-Gtt-0L"])
    weights = {r: np.zeros((4, len(c))) for r, c in analysis.regions.items()}
    official = {r: w.copy() for r, w in weights.items()}
    official["SR-Gtt-0L"] = np.repeat(w_official[:, None], n, axis=1)
    other = {r: w.copy() for r, w in weights.items()}
    other["SR-Gtt-0L"] = np.repeat(w_other[:, None], n, axis=1)
    sums.add("official", official, official)
    sums.add("other", other, official)
    sums.total_weight = 4.0
    row = cy.yields(sums, 1.0, 1.0)["SR-Gtt-0L"]["other"]
    # R = 2/3; Σ(w_E − R w_O)² = (1/3)² + 2·(2/3)² + 1 = 2 → σ_R = sqrt(2)/3
    assert row["ratio"][-1] == pytest.approx(2 / 3)
    assert row["ratio_error"][-1] == pytest.approx(np.sqrt(2) / 3)


def test_report_table_names_every_region_and_emulation(
    tmp_path: Path, pairs: list[tuple[ak.Array, ak.Array]], analysis: cy.Analysis
) -> None:
    emulations = {k: load_detector(cy.BUNDLE / v) for k, v in cy.EMULATIONS.items()}
    sums = cy.accumulate(analysis, pairs, emulations, SEED)
    regions = cy.yields(sums, 0.01, 139.0)
    report = {
        "kinds": {r: "signal" for r in analysis.regions},
        "cuts": analysis.regions,
        "four_b_regions": ["SR-4b-0L"],
        "points": {"toy": {"regions": regions}},
    }
    table = cy.markdown(report)
    for region in analysis.regions:
        assert f"| toy | {region} |" in table
    for name in cy.EMULATIONS:
        assert f"{name} / official" in table
    checks = cy.targets(report)  # 200 toy events: no region reaches MIN_RAW raw events
    assert all(row[-1] in (True, False) for row in checks["learned_within_10pc"])
    json.dumps(report)  # the report is plain JSON


def test_bad_inputs_give_clear_errors(tmp_path: Path, analysis: cy.Analysis) -> None:
    sums = cy.Sums(analysis, ["official"])
    with pytest.raises(UsageError, match="no events"):
        cy.yields(sums, 1.0, 139.0)
    with pytest.raises(UsageError, match="seed"):
        cy.closure(tmp_path, seed=-1)
    with pytest.raises(UsageError, match="no finished sample 'Gtt_1_1'"):
        cy.closure(tmp_path, points=["Gtt_1_1"], networks=False)
    assert (
        cy.main(
            [
                "--samples",
                str(tmp_path),
                "--out",
                str(tmp_path / "c.json"),
                "--points",
                "nope",
                "--no-networks",
            ]
        )
        == 2
    )
    assert not (tmp_path / "c.json").exists()
