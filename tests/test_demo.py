"""`make demo` runs: a small version of it, so a broken demo fails CI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from recast import schema
from recast.analysis.bundle import bundles_root, load_bundle
from recast.io import write_json

pytest.importorskip("pythia8mc")

#: small: the demo's numbers are checked for being real, not for their statistics
EVENTS = 300


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from recast.demo import main

    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _check_outputs(out: Path, analysis: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The files exist and hold real numbers; the cutflow has every published step."""
    for name in ("results.json", "validation.json", "validation.png", "yields.png"):
        assert (out / name).stat().st_size > 0, name
    results = json.loads((out / "results.json").read_text())
    schema.validate(results, "results", "results.json")
    assert results["analysis"] == analysis
    assert results["normalisation"]["events"] == EVENTS
    assert results["normalisation"]["cross_section_source"] == "benchmark"
    assert results["provenance"]["generation"][0]["events"] == EVENTS
    assert all(y["value"] >= 0 for y in results["yields"].values())
    verdict = json.loads((out / "validation.json").read_text())
    bundle = load_bundle(analysis if "/" not in analysis else Path(analysis))
    for region in verdict["regions"]:
        (published,) = bundle.published(region["region"], verdict["benchmark"])
        assert [s["cut"] for s in region["steps"]] == [s["cut"] for s in published["steps"]]
        assert all(s["recast"] is not None and s["recast"] >= 0 for s in region["steps"])
    assert verdict["regions"]
    return results, verdict


def _assert_cls(results: dict[str, Any]) -> None:
    verdict = results["limits"]["verdict"]
    assert 0.0 <= verdict["cls"]["observed"] <= 1.0
    assert 0.0 <= verdict["cls"]["expected"]["median"] <= 1.0


def test_the_demo_runs_the_flagship(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from recast import benchmarks
    from recast.demo import ANALYSIS

    if not benchmarks(load_bundle(ANALYSIS)):
        pytest.skip(f"{ANALYSIS} publishes no benchmark cutflow with an SLHA file yet")
    code, output, _ = _run(
        ["--events", str(EVENTS), "--workers", "1", "--out", str(tmp_path)], capsys
    )
    assert code == 0
    results, verdict = _check_outputs(tmp_path, ANALYSIS)
    assert f"validation of {verdict['benchmark']}:" in output
    if "likelihood" in load_bundle(ANALYSIS).document:
        _assert_cls(results)
        assert "excluded at 95 % CL" in output
    else:
        assert "carries no likelihood" in output


@pytest.fixture()
def example_with_likelihood(tmp_path: Path) -> Path:
    """EXAMPLE_JETS_MET with a region table likelihood (made-up counts)."""
    folder = tmp_path / "bundle"
    shutil.copytree(bundles_root() / "EXAMPLE_JETS_MET", folder)
    document = json.loads((folder / "analysis.json").read_text())
    document["likelihood"] = {
        "regions": {
            "SR_loose": {"observed": 30, "background": 25.0, "background_uncertainty": 5.0},
            "SR_nn": {"observed": 1, "background": 1.5, "background_uncertainty": 0.7},
        }
    }
    write_json(folder / "analysis.json", document)
    return folder


def test_the_demo_prints_cutflow_yields_and_cls_and_writes_them(
    example_with_likelihood: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["--analysis", str(example_with_likelihood), "--events", str(EVENTS)]
    code, output, _ = _run([*args, "--workers", "1", "--out", str(out), "--seed", "3"], capsys)
    assert code == 0
    results, verdict = _check_outputs(out, "EXAMPLE_JETS_MET")
    _assert_cls(results)
    assert set(results["limits"]["regions"]) == {"SR_loose", "SR_nn"}
    assert results["provenance"]["seed"] == 3
    assert results["provenance"]["detector"]["name"] == "default"
    # the published numbers stand beside the recast ones
    published = verdict["regions"][0]["steps"][1]["published"]
    assert f"{published:.0f} ±" in output
    for text in ("cutflow of gtt_1200_100", "region yields", "CLs observed", "verdict"):
        assert text in output
    assert "excluded at 95 % CL" in output


def test_without_a_likelihood_the_demo_says_so_and_computes_no_cls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--analysis", "EXAMPLE_JETS_MET", "--events", "60", "--workers", "1"]
    code, output, _ = _run([*args, "--out", str(tmp_path)], capsys)
    assert code == 0
    assert "carries no likelihood" in output
    assert "limits" not in json.loads((tmp_path / "results.json").read_text())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--benchmark", "gtt_1200_10"], "no benchmark 'gtt_1200_10'"),
        (["--detector", "tight"], "no detector 'tight'"),
        (["--events", "0"], "--events must be positive"),
        (["--analysis", "NO_SUCH_BUNDLE"], "no analysis bundle 'NO_SUCH_BUNDLE'"),
    ],
)
def test_real_errors_exit_2_with_a_message_and_write_nothing(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    base = ["--analysis", "EXAMPLE_JETS_MET", "--events", "20", "--out", str(out)]
    code, _, error = _run([*base, *args], capsys)
    assert code == 2
    assert message in error
    assert not (out / "results.json").exists()
