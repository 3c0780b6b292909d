"""The reference experiment's published results: tag resampling, backgrounds, pseudo-data,
cutflows and the likelihood, on small Pythia samples and a copy of the flagship bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import awkward as ak
import numpy as np
import pytest

from recast.analysis.bundle import check_bundle
from recast.errors import ArtefactNotFoundError, UsageError
from recast.likelihood.limits import compute_limits
from recast.likelihood.spec import likelihood_from_document
from recast.objects import build_objects, toy_truth_chunk
from recast.schema import validate
from reference_experiment import publish_results as pr
from reference_experiment.closure_yields import BUNDLE, load_analysis
from reference_experiment.detector import REFERENCE_OBJECTS, ReferenceDetector

pytest.importorskip("pythia8mc")


def _jet_table(reco: ak.Array, field: str) -> dict[tuple[int, int], float]:
    counts = ak.to_numpy(ak.num(reco.jets))
    events = np.repeat(ak.to_numpy(reco.event_number), counts)
    index = ak.to_numpy(ak.flatten(reco.jets.truth_index))
    values = ak.to_numpy(ak.flatten(reco.jets[field]))
    return {(int(e), int(i)): v for e, i, v in zip(events, index, values, strict=True)}


def test_retag_draws_the_tags_the_detector_draws_with_that_seed() -> None:
    detector = ReferenceDetector()
    truth = build_objects(toy_truth_chunk(300, seed=3), REFERENCE_OBJECTS)
    first, second = detector.apply(truth, 5), detector.apply(truth, 6)
    retagged = detector.retag(first, 6)
    # the kinematics are the first realisation's, the tags those of the second seed
    assert ak.all(retagged.jets.pt == first.jets.pt)
    assert ak.all(retagged.met.pt == first.met.pt)
    new, other = _jet_table(retagged, "btag_score"), _jet_table(second, "btag_score")
    common = set(new) & set(other)
    assert len(common) > 0.9 * len(new)
    assert all(new[k] == other[k] for k in common)
    tagged = _jet_table(retagged, "btag_77")
    assert tagged != _jet_table(first, "btag_77")
    assert all(tagged[k] == (new[k] > detector.working_points[77]) for k in new)
    with pytest.raises(UsageError, match="seed must be an integer >= 0"):
        detector.retag(first, -1)


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from reference_experiment.samples import make_samples

    out = tmp_path_factory.mktemp("samples")
    make_samples("Gtt_2100_800,ttbar,ttbar_boosted", out, events=200, seed=11)
    return out


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    folder = tmp_path / "DEMO_MULTIB_GLUINO"
    shutil.copytree(BUNDLE, folder)
    return folder


def test_one_resampling_is_the_plain_detector_level_yield(samples: Path) -> None:
    analysis, _ = load_analysis(BUNDLE)
    once = pr.background_estimate(samples, analysis, 139.0, resamplings=1)
    plain = pr.official_cutflows(samples, "ttbar", analysis)
    boosted = pr.official_cutflows(samples, "ttbar_boosted", analysis)
    # events at 139 fb⁻¹ per unit weight: σ·L over the weight of all events (the first step)
    first = next(iter(analysis.regions))
    low = pr.cross_section(samples, ["ttbar"]) * 1000 * 139 / plain[first].sumw[0]
    scale = pr.cross_section(samples, ["ttbar_boosted"]) * 1000 * 139 / boosted[first].sumw[0]
    for region, entry in once.items():
        expected = plain[region].sumw[-1] * low + boosted[region].sumw[-1] * scale
        assert entry["background"] == pytest.approx(expected, abs=1e-9)
        assert entry["one_event"] == pytest.approx(scale)
    many = pr.background_estimate(samples, analysis, 139.0, resamplings=8)
    preselection = "SR-Gbb-0L"  # more resamplings reach at least as many simulated events
    assert many[preselection]["raw"] >= once[preselection]["raw"]


def test_publish_writes_a_bundle_that_checks_and_gives_limits(samples: Path, bundle: Path) -> None:
    summary = pr.publish(samples, bundle, benchmarks=["Gtt_2100_800"], resamplings=4)
    document = json.loads((bundle / "analysis.json").read_text())
    assert document["validation"] == pr.VALIDATION
    assert document["detector"]["path"] == "detector_learned.json"
    assert set(document["detectors"]) == {"binned", "learned", "surrogate"}
    assert len(document["cutflows"]) == len(document["regions"])
    checked = check_bundle(bundle)  # raises, listing every problem, if anything is wrong
    assert any("cutflow" in line for line in checked)
    for entry in document["cutflows"]:
        cutflow = json.loads((bundle / entry["path"]).read_text())
        validate(cutflow, "cutflow", entry["path"])
        assert cutflow["benchmark"]["slha"] == "Gtt_2100_800.slha"
        assert (bundle / "cutflows" / "Gtt_2100_800.slha").is_file()
        values = [s["value"] for s in cutflow["steps"]]
        assert cutflow["initial"] >= values[0] and values == sorted(values, reverse=True)
    table = summary["regions"]
    for region, row in table.items():
        assert document["regions"][region]["observed"] == row["observed"]
        assert row["background"] > 0 and row["background_uncertainty"] > 0
    spec = likelihood_from_document(document["likelihood"], bundle, "analysis.json")
    assert spec.workspace is not None and set(spec.workspace.region_map) == set(
        pr.WORKSPACE_REGIONS
    )
    signal = {r: {"value": 3.0, "mc_uncertainty": 0.3} for r in document["regions"]}
    limits = compute_limits(spec, signal, with_limits=False)
    assert limits["workspace"]["status"] == "ok"
    assert 0.0 <= limits["verdict"]["cls"]["observed"] <= 1.0
    # the same seed draws the same pseudo-data; another seed other pseudo-data
    again = pr.region_table(
        {r: {"raw": 1, "background": 5.0, "mc_error": 1.0, "one_event": 2.0} for r in table},
        {r: "signal" for r in table},
        seed=pr.PSEUDO_DATA_SEED,
    )
    same = pr.region_table(
        {r: {"raw": 1, "background": 5.0, "mc_error": 1.0, "one_event": 2.0} for r in table},
        {r: "signal" for r in table},
        seed=pr.PSEUDO_DATA_SEED,
    )
    assert again == same


def test_a_region_no_simulated_event_reaches_gets_one_event_with_full_uncertainty() -> None:
    table = pr.region_table(
        {"SR": {"raw": 0, "background": 0.0, "mc_error": 0.0, "one_event": 6.0}},
        {"SR": "signal"},
        seed=1,
    )
    assert table["SR"]["background"] == 6.0 and table["SR"]["background_uncertainty"] == 6.0
    assert table["SR"]["mc_events"] == 0


def test_bad_requests_are_refused_before_anything_is_written(
    samples: Path, bundle: Path, tmp_path: Path
) -> None:
    before = (bundle / "analysis.json").read_bytes()
    regions_file = bundle / "likelihood" / "signal_regions.json"
    regions_before = regions_file.read_bytes() if regions_file.exists() else None
    with pytest.raises(UsageError, match=r"Gtt_2000_1.*not a held-out point"):
        pr.publish(samples, bundle, benchmarks=["Gtt_2000_1"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="samples --what ttbar --out"):
        pr.publish(empty, bundle, benchmarks=[])
    (bundle / "detector_surrogate.json").unlink()  # the bundle names it: refused on loading
    with pytest.raises(ArtefactNotFoundError, match=r"detectors\.surrogate\.path"):
        pr.publish(samples, bundle, benchmarks=["Gtt_2100_800"])
    document = json.loads(before)  # a first publication: no detectors named yet
    document.pop("detectors")
    (bundle / "analysis.json").write_text(json.dumps(document))
    with pytest.raises(UsageError, match=r"detector_surrogate\.json: missing; run"):
        pr.publish(samples, bundle, benchmarks=["Gtt_2100_800"])
    (bundle / "analysis.json").write_bytes(before)
    assert (bundle / "analysis.json").read_bytes() == before
    after = regions_file.read_bytes() if regions_file.exists() else None
    assert after == regions_before
