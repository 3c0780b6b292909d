"""Bundles: the shipped example checks, lists, validates against its own reference cutflow, ships
in the wheel; broken copies of it fail `recast bundle check` with every problem named."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import awkward as ak
import pytest
from click.testing import CliRunner

from recast.analysis import Analysis, AnalysisDefinitionError, cut
from recast.analysis.bundle import (
    BundleCheckError,
    BundleNotFoundError,
    available,
    check_bundle,
    load_bundle,
)
from recast.cli import cli

from .conftest import GttSample

BUNDLE = "EXAMPLE_JETS_MET"
ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def edit_json(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2))


def rerecord(folder: Path, relative: str) -> None:
    """Record a changed artefact's new digest, as its author would."""
    digest = hashlib.sha256((folder / relative).read_bytes()).hexdigest()

    def update(document: dict[str, Any]) -> None:
        for artefact in document["cutflows"]:
            if artefact["path"] == relative:
                artefact["sha256"] = digest

    edit_json(folder / "analysis.json", update)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    folder = tmp_path / BUNDLE
    shutil.copytree(available()[BUNDLE], folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_the_example_passes_bundle_check() -> None:
    result = run("bundle", "check", BUNDLE)
    assert result.exit_code == 0, result.output
    assert "ok  network 'signal_mlp': card passes every check" in result.output
    assert "ok  detector 'example_detector'" in result.output
    assert "ok  4 published cutflow(s) name only their region's cuts" in result.output
    assert result.output.endswith(f"{BUNDLE}: bundle passes every check\n")


def test_recast_list_shows_the_bundle_and_its_status() -> None:
    result = run("list")
    assert result.exit_code == 0, result.output
    assert BUNDLE in result.output
    assert "UNVALIDATED (an example for the documentation, not a published analysis)" in (
        result.output
    )
    assert "3 signal, 1 control" in result.output  # names: recast bundle check


def test_the_bundle_document() -> None:
    bundle = load_bundle(BUNDLE)
    assert bundle.status == "UNVALIDATED"
    assert bundle.document["sqrt_s"] == 13 and bundle.document["luminosity"] == 139
    assert {c["region"] for c in bundle.published(benchmark="gtt_1200_100")} == set(bundle.regions)
    topics = {c["topic"] for c in bundle.document["choices"]}
    assert {"b-tagging", "network", "reference cutflow"} <= topics
    for cutflow in bundle.cutflows:
        assert cutflow["benchmark"]["events_generated"] == GttSample.EVENTS
        assert f"seed {GttSample.SEED}" in cutflow["benchmark"]["generator"]
        assert "produced with recast itself" in cutflow["provenance"]["notes"]
    size = sum(p.stat().st_size for p in bundle.folder.rglob("*") if "__pycache__" not in p.parts)
    assert size < 100_000


def test_validate_against_the_bundles_own_cutflow(gtt: GttSample, tmp_path: Path) -> None:
    out, plot = tmp_path / "verdict.json", tmp_path / "verdict.png"
    files = [str(gtt.first), str(gtt.second)]
    result = run(
        "validate",
        BUNDLE,
        *files,
        "--benchmark",
        "gtt_1200_100",
        "-o",
        str(out),
        "--plot",
        str(plot),
    )
    assert result.exit_code == 0, result.output
    assert f"{BUNDLE}, benchmark gtt_1200_100: every step passes" in result.output
    verdict = json.loads(out.read_text())
    assert verdict["passed"] and verdict["normalisation"]["cross_section_source"] == "benchmark"
    assert [r["region"] for r in verdict["regions"]] == ["SR_loose", "SR_btag", "SR_nn", "CR_1L"]
    for region in verdict["regions"]:
        # the reference was made from this very sample: a regression check, to rounding
        assert region["initial"]["recast"] == pytest.approx(region["initial"]["published"], 1e-12)
        for step in region["steps"]:
            assert step["ratio"] == pytest.approx(1.0, abs=1e-12), step
            assert step["pull"] == pytest.approx(0.0, abs=1e-9)
            assert step["recast_relative"] == pytest.approx(step["published_relative"], 1e-12)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validate_fails_when_the_yields_disagree(gtt: GttSample, tmp_path: Path) -> None:
    out = tmp_path / "verdict.json"
    result = run("validate", BUNDLE, str(gtt.small), "--benchmark", "gtt_1200_100", "--xsec", "1pb")
    assert result.exit_code == 1
    assert "FAILED in SR_loose, SR_btag, SR_nn, CR_1L" in result.output
    assert not out.exists()


def test_validate_an_unknown_benchmark(gtt: GttSample) -> None:
    result = run("validate", BUNDLE, str(gtt.small), "--benchmark", "gtt_1200_10")
    assert result.exit_code == 2
    assert "has no published cutflow for benchmark 'gtt_1200_10'; it has gtt_1200_100." in (
        result.output
    )
    assert "Did you mean 'gtt_1200_100'?" in result.output


def test_a_published_cutflow_naming_an_unknown_cut_fails_the_check(copy: Path) -> None:
    relative = "cutflows/gtt_1200_100_SR_loose.json"

    def rename(document: dict[str, Any]) -> None:
        document["steps"][1]["cut"] = "met_20"

    edit_json(copy / relative, rename)
    rerecord(copy, relative)
    result = run("bundle", "check", str(copy))
    assert result.exit_code == 1
    assert "1 problem(s)" in result.output
    assert (
        f"cutflows[0] ({relative}): step 'met_20' is not a cut of region 'SR_loose'"
        in result.output
    )
    assert "Did you mean 'met_200'" in result.output
    with pytest.raises(BundleCheckError, match="step 'met_20'"):
        load_bundle(copy)  # a run refuses it too


def test_every_problem_is_listed_together(copy: Path) -> None:
    relative = "cutflows/gtt_1200_100_CR_1L.json"

    def wrong(document: dict[str, Any]) -> None:
        document["region"] = "CR_2L"
        document["analysis"] = "OTHER"

    edit_json(copy / relative, wrong)
    rerecord(copy, relative)

    def region(document: dict[str, Any]) -> None:
        document["regions"]["SR_nn"]["cuts"].append("nn_scor")

    edit_json(copy / "analysis.json", region)
    with pytest.raises(BundleCheckError) as caught:
        check_bundle(copy)
    problems = caught.value.problems
    assert len(problems) == 3, problems
    assert any("region 'SR_nn' uses cut 'nn_scor'" in p and "'nn_score'" in p for p in problems)
    assert any(
        "region 'CR_2L' is not in analysis.json. Did you mean 'CR_1L'" in p for p in problems
    )
    assert any("analysis 'OTHER' is not this bundle's id" in p for p in problems)


def test_a_tampered_artefact_fails_the_check(copy: Path) -> None:
    card = copy / "networks" / "signal_mlp.card.json"
    card.write_text(card.read_text().replace("sigmoid", "softmax", 1))
    result = run("bundle", "check", str(copy))
    assert result.exit_code == 1
    assert "networks.signal_mlp: networks/signal_mlp.card.json has sha256" in result.output
    assert "the file was modified or replaced" in result.output


def test_an_unknown_bundle() -> None:
    result = run("bundle", "check", "EXAMPLE_JETS_MTE")
    assert result.exit_code == 2
    assert "no analysis bundle 'EXAMPLE_JETS_MTE'" in result.output
    assert "Did you mean 'EXAMPLE_JETS_MET'?" in result.output
    with pytest.raises(BundleNotFoundError):
        load_bundle("NOPE")


def test_a_cut_declared_twice_raises_also_across_subclasses() -> None:
    class Base(Analysis):
        @cut("met_200")
        def met(self, events: ak.Array) -> ak.Array:
            return events.met > 200

    with pytest.raises(AnalysisDefinitionError, match="cut 'met_200' is declared twice"):

        class Child(Base):
            @cut("met_200", "the same name on another method")
            def met_again(self, events: ak.Array) -> ak.Array:
                return events.met > 250

    class Override(Base):  # the same method redefined is not a second declaration
        @cut("met_200")
        def met(self, events: ak.Array) -> ak.Array:
            return events.met > 200.0

    assert list(Override.cuts) == ["met_200"]


@pytest.mark.parametrize("name", ["initial", "2jets", "met 200", ""])
def test_cut_names_must_be_usable_in_analysis_json(name: str) -> None:
    with pytest.raises(AnalysisDefinitionError, match="use letters, digits"):
        cut(name)


def test_a_cut_returning_a_value_outside_zero_one_raises() -> None:
    class Bad(Analysis):
        @cut("weighty")
        def weighty(self, events: ak.Array) -> ak.Array:
            return events.x

    chunk = ak.Array({"x": [0.5, 1.5, float("nan")], "weight": [1.0, 1.0, 1.0]})
    with pytest.raises(AnalysisDefinitionError, match=r"cut 'weighty' returned 1.5 for 2 event"):
        Bad({"SR": ["weighty"]}).process(chunk)


def test_the_wheel_carries_the_bundle(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    prefix = f"recast/_data/analyses/{BUNDLE}/"
    with zipfile.ZipFile(wheel) as archive:
        names = {n for n in archive.namelist() if n.startswith(prefix)}
        document = json.loads(archive.read(prefix + "analysis.json"))
        artefacts = [document["detector"], *document["networks"].values(), *document["cutflows"]]
        for artefact in artefacts:
            data = archive.read(prefix + artefact["path"])
            assert hashlib.sha256(data).hexdigest() == artefact["sha256"], artefact["path"]
    assert {prefix + "analysis.py", prefix + "networks/signal_mlp.onnx"} <= names
    assert not any("__pycache__" in n for n in names)
