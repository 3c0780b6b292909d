"""ATLAS_SUSY_2019_04: the shipped networks against the published ones, the 65 inputs the
cards build from a hand-made event element by element (units, padding, order, φ), the
options that change what the networks read, the score bins, and the bundle check."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import awkward as ak
import numpy as np
import onnxruntime as ort
import pytest
import vector
from click.testing import CliRunner

import recast as recast_api
from recast.analysis.code import import_file
from recast.cli import cli
from recast.preserve.card import NetworkCard
from recast.preserve.session import NetworkSession

from .docs_pages import check_worked_example
from .test_atlas_susy_2018_30 import events, jet, lepton

BUNDLE = Path(__file__).resolve().parents[1] / "analyses" / "ATLAS_SUSY_2019_04"
PAGE = BUNDLE.parents[1] / "docs" / "atlas-susy-2019-04.md"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "atlas_susy_2019_04"
needs_data = pytest.mark.skipif(
    not (DATA / "onnx").is_dir(),
    reason=f"the published ATLAS-SUSY-2019-04 networks ({DATA}) are not on this machine",
)
analysis_module = import_file(
    "recast_bundle_ATLAS_SUSY_2019_04", BUNDLE / "analysis.py", reuse=True
)
regions_module = import_file(
    "recast_bundle_ATLAS_SUSY_2019_04_regions", BUNDLE / "regions.py", reuse=True
)
#: the published networks fed 65 zeros (selection.md §4.2, onnxruntime 1.32.0)
ZERO_INPUT_SCORES = {4: 0.58691555, 5: 0.49117318, 6: 0.47799507, 7: 0.5353713, 8: 0.4478148}


@pytest.fixture(scope="module")
def sessions() -> dict[str, NetworkSession]:
    return {
        f"nn_{n}j": NetworkSession(NetworkCard.load(BUNDLE / "networks" / f"nn_{n}j.card.json"))
        for n in regions_module.NN_BINS
    }


def make_analysis(sessions: dict[str, NetworkSession], **options: Any) -> Any:
    document = analysis_module.Atlas2019Susy04.document()
    cuts = {name: region["cuts"] for name, region in document["regions"].items()}
    return analysis_module.Atlas2019Susy04(cuts, networks=dict(sessions), options=options)


@pytest.mark.parametrize("n", [4, 5, 6, 7, 8])
def test_shipped_networks_give_the_published_zero_input_scores(
    sessions: dict[str, NetworkSession], n: int
) -> None:
    """Three rows at once: the re-exported networks take whole chunks."""
    outputs = sessions[f"nn_{n}j"].run({"input.1": np.zeros((3, 65), np.float32)})
    assert outputs["39"][:, 0] == pytest.approx([ZERO_INPUT_SCORES[n]] * 3, abs=2e-7)


@needs_data
@pytest.mark.parametrize("n", [4, 6, 8])
def test_shipped_networks_equal_the_published_files(
    sessions: dict[str, NetworkSession], n: int
) -> None:
    rng = np.random.default_rng(n)
    rows = rng.normal(0.0, 2.0, (200, 65)).astype(np.float32)
    published = ort.InferenceSession(
        str(DATA / "onnx" / f"OneLeptonMultiJets2018_{n}jets.onnx"),
        providers=["CPUExecutionProvider"],
    )
    one_by_one = np.concatenate([published.run(None, {"input.1": r[None]})[0] for r in rows])
    ours = sessions[f"nn_{n}j"].run({"input.1": rows})["39"]
    assert np.max(np.abs(ours - one_by_one)) < 1e-6


def five_jet_event() -> dict[str, Any]:
    """Five jets out of pT order (four b-tagged, one with φ < 0), one muon, MET at φ = −2."""
    return {
        "jets": [
            jet(60.0, 0.5, -2.5, 8.0, b=True),
            jet(250.0, -1.0, 1.0, 20.0, b=True),
            jet(45.0, 1.5, 0.3, 6.0),
            jet(120.0, 0.2, 2.9, 12.0, b=True),
            jet(90.0, -2.0, -1.0, 9.0, b=True),
        ],
        "muons": [lepton(80.0, 0.7, -0.4, charge=1, mass=0.10566)],
        "met": (150.0, -2.0),
    }


def built_inputs(analysis: Any, sample: ak.Array, n: int) -> np.ndarray:
    derived = analysis.derive(sample)
    session = analysis.session(f"nn_{n}j")
    built = session.builder.build(analysis._network_events(derived))
    return np.asarray(built.at()["input.1"], dtype=np.float64)[0]


def energy(pt: float, eta: float, mass: float) -> float:
    return float(vector.obj(pt=pt, eta=eta, phi=0.0, mass=mass).E)


def test_the_card_builds_the_65_inputs_from_the_objects(
    sessions: dict[str, NetworkSession],
) -> None:
    analysis = make_analysis(sessions)
    sample = events(five_jet_event())
    x = built_inputs(analysis, sample, 5)
    jets = sorted(five_jet_event()["jets"], key=lambda j: -j["pt"])
    assert x[:3].tolist() == [5, 3, 4]  # n_jet, n_bcat = min(4 − 1, 3), n_bjet
    assert x[4] == pytest.approx(sum(j["pt"] for j in jets) / 100)  # ht_jet in 100 GeV
    assert x[5] == pytest.approx(sum(j["pt"] for j in jets if j["btag"]) / 100)
    assert x[9] == pytest.approx(1.5) and x[10] == pytest.approx(-2.0)  # MET /100, φ as given
    for i in range(10):
        if i < 5:
            j = jets[i]
            assert x[11 + i] == pytest.approx(j["pt"] / 100)
            assert x[21 + i] == pytest.approx(j["eta"])
            assert x[31 + i] == pytest.approx(j["phi"])  # (−π, π]: negative φ kept
            assert x[41 + i] == pytest.approx(energy(j["pt"], j["eta"], j["mass"]) / 100)
            assert x[51 + i] == (5.0 if j["btag"] else 1.0)
        else:  # the padding of a missing jet (selection.md §3.2)
            assert x[[11 + i, 21 + i, 31 + i, 41 + i, 51 + i]] == pytest.approx(
                [1e-7, -5.0, -5.0, 1e-7, 0.0]
            )
    assert x[61:65] == pytest.approx([0.8, 0.7, -0.4, energy(80.0, 0.7, 0.10566) / 100])
    # the event variables, from the analysis in GeV, reach the network in 100 GeV
    derived = analysis.derive(sample)
    fed = analysis._network_events(derived)
    for index, name in ((3, "three_jet_maxpt_mass"), (6, "three_jet_lep_met_mass_max_pt")):
        assert x[index] == pytest.approx(float(fed[name][0]) / 100)
    assert x[7] == pytest.approx(float(fed["min_dr_lj"][0]))
    assert x[8] == pytest.approx(float(fed["minmax_mass"][0]) / 100)
    assert 0 < x[7] < 5 and x[3] > 0 and x[6] > x[3]


LEPTON_E = energy(80.0, 0.7, 0.10566)


@pytest.mark.parametrize(
    ("options", "changed"),
    [
        ({"eta_padding": 1e-7}, {i: 1e-7 for i in range(26, 31)}),
        ({"lepton_met_units": "GeV lepton"}, {61: 80.0, 64: LEPTON_E, 9: 1.5}),
        ({"lepton_met_units": "GeV lepton and MET"}, {61: 80.0, 64: LEPTON_E, 9: 150.0}),
        ({"phi_range": "[0, 2pi)"}, {10: 2 * math.pi - 2.0, 63: 2 * math.pi - 0.4}),
        ({"btag_bin_untagged": -0.5}, {55: -0.5, 51: 5.0}),
    ],
)
def test_options_change_what_the_networks_read(
    sessions: dict[str, NetworkSession], options: dict[str, Any], changed: dict[int, float]
) -> None:
    sample = events(five_jet_event())
    default = built_inputs(make_analysis(sessions), sample, 5)
    varied = built_inputs(make_analysis(sessions, **options), sample, 5)
    for index, value in changed.items():
        assert varied[index] == pytest.approx(value)
    untouched = [i for i in range(65) if i not in changed and varied[i] != default[i]]
    if "phi_range" not in options:
        assert untouched == []


def test_an_event_falls_in_exactly_one_score_bin(sessions: dict[str, NetworkSession]) -> None:
    analysis = make_analysis(sessions)
    sample = events(five_jet_event(), five_jet_event())
    derived = analysis.derive(sample)
    values = analysis.cut_values(derived)
    threshold, e1, e2 = regions_module.NN_BINS[5]
    bins = [
        values[regions_module.score_cut(5, low, high)]
        for low, high in ((0.0, e1), (e1, e2), (e2, threshold))
    ] + [values[regions_module.score_cut(5, threshold)]]
    assert np.sum(bins, axis=0).tolist() == [1.0, 1.0]
    assert np.isfinite(np.asarray(derived["nn_5j"])).all()
    assert np.isnan(np.asarray(derived["nn_4j"])).all()  # not evaluated: every cut fails


def test_the_bundle_passes_its_check() -> None:
    result = CliRunner().invoke(cli, ["bundle", "check", "ATLAS_SUSY_2019_04"])
    assert result.exit_code == 0, result.output
    assert "bundle passes every check" in result.output


def test_the_benchmark_is_generated_with_its_own_production() -> None:
    """recast.run(benchmark=...) generates χ̃₁⁰χ̃₂⁰ (the cutflow file's process), not gluino
    pairs; about 30 % of such events have a lepton above 27 GeV (selection.md §5.1: 29.5 %)."""
    point = recast_api.find_benchmark("ATLAS_SUSY_2019_04", "higgsino_n1n2_250")
    assert point.process == "higgsino-n1n2" and point.cross_section_pb == pytest.approx(0.104252)
    run = recast_api.run("ATLAS_SUSY_2019_04", benchmark="higgsino_n1n2_250", n_events=200)
    flow = run.document["cutflows"]["SR-NN-6j"]
    lepton = flow["raw"][flow["cuts"].index("lead_lepton_pt_gt_27")]
    assert 30 <= lepton <= 95  # 200 × 0.3 ± 4σ of a binomial
    assert run.document["normalisation"]["cross_section_source"] == "benchmark"
    # CLs in every region with published numbers: 21 jet-counting ones and the 6-jet network
    limits = run.document["limits"]
    assert len(limits["regions"]) == 22 and "SR-NN-6j" in limits["regions"]
    assert "SR-NN-5j" not in limits["regions"]  # no published numbers: yields only
    assert 0.0 <= limits["verdict"]["cls"]["observed"] <= 1.0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--process", "higgsino-n1n3"], "higgsino-n1n2"),
        (["--process", "higgsino-n1n2"], "--pythia-slha"),
    ],
)
def test_a_wrong_production_is_refused_before_any_event(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    slha = BUNDLE / "cutflows" / "higgsino_n1n2_250.slha"
    given = ["--pythia-slha", str(slha), "--events", "10"] if message != "--pythia-slha" else []
    output = tmp_path / "results.json"
    result = CliRunner().invoke(
        cli, ["run", "ATLAS_SUSY_2019_04", *given, *extra, "-o", str(output)]
    )
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert not output.exists()


def test_the_docs_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    tolerances = {
        "fed zeros": 1e-5,
        "lepton row ratio": 0.15,
        "jets ratio": 0.7,
        "rescaled by": 0.5,
    }
    check_worked_example(PAGE, tmp_path, monkeypatch, capsys, tolerances)


def test_validate_generates_the_benchmark_when_given_only_a_number_of_events(
    tmp_path: Path,
) -> None:
    """`recast validate ID --benchmark NAME --events N`: its spectrum, its production."""
    output = tmp_path / "validation.json"
    result = CliRunner().invoke(
        cli,
        [
            "validate",
            "ATLAS_SUSY_2019_04",
            "--benchmark",
            "higgsino_n1n2_250",
            "--events",
            "150",
            "-o",
            str(output),
        ],
    )
    assert result.exit_code in (0, 1), result.output  # 150 events may fail a step, not crash
    verdict = json.loads(output.read_text())
    generation = verdict["provenance"]["generation"]
    assert "higgsino_n1n2_250.slha" in str(generation)
    assert "qqbar2chi0chi0" in str(generation)  # χ̃₁⁰χ̃₂⁰, not the default gluino pairs
