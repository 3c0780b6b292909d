"""The experimentalist's path end to end: a new bundle is started, given a published benchmark,
checked, packed, installed elsewhere, listed, and validated by generating its own events."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from recast import schema
from recast.cli import cli
from recast.events.slha import write_gluino_slha
from recast.io import sha256_file, write_json

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pythia8mc") is None, reason="pythia8mc (extra [gen]) not installed"
)
EVENTS, SEED = 150, 4242


def _recast(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, f"recast {' '.join(args)}:\n{result.output}"
    return result


def _publish_benchmark(folder: Path) -> None:
    """What the analysis team adds to the scaffold: a benchmark spectrum and the cutflow the
    paper publishes for it (here from a seeded run of the bundle itself)."""
    from recast.analysis.cutflow import Cutflow, step_uncertainties
    from recast.pipeline.run import recast_run

    slha = write_gluino_slha(folder / "cutflows" / "gtt_1400_100.slha", 1400.0, 100.0, "ttbar")
    results = recast_run(folder, [], pythia_slha=slha, n_events=EVENTS, seed=SEED)
    flow = Cutflow.from_dict(results["cutflows"]["SR"])
    errors = step_uncertainties(flow)
    cutflow = {
        "schema_version": "1.0.0",
        "analysis": "MY_SEARCH",
        "region": "SR",
        "benchmark": {
            "name": "gtt_1400_100",
            "slha": slha.name,
            "generator": f"Pythia8 in process, seed {SEED}",
            "cross_section_pb": results["normalisation"]["cross_section_pb"],
        },
        "unit": "events",
        "initial": float(flow.sumw[0]),
        "steps": [
            {"cut": cut, "value": float(flow.sumw[i]), "uncertainty": float(errors[i])}
            for i, cut in enumerate(flow.steps)
            if i > 0
        ],
    }
    path = folder / "cutflows" / "gtt_1400_100_SR.json"
    write_json(path, cutflow)
    document = schema.load_json(folder / "analysis.json")
    document["cutflows"] = [{"path": "cutflows/gtt_1400_100_SR.json", "sha256": sha256_file(path)}]
    document["title"] = "A search for gluinos in events with jets and missing momentum"
    document["likelihood"] = {
        "regions": {"SR": {"observed": 12, "background": 10.5, "background_uncertainty": 2.0}}
    }
    write_json(folder / "analysis.json", document)


def test_new_pack_install_list_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    team, theorist = tmp_path / "team", tmp_path / "theorist"
    team.mkdir()
    theorist.mkdir()
    monkeypatch.setenv("RECAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(team)

    _recast("bundle", "new", "MY_SEARCH")
    _publish_benchmark(team / "MY_SEARCH")
    checked = _recast("bundle", "check", "./MY_SEARCH").output
    assert "ok  benchmark gtt_1400_100: spectrum gtt_1400_100.slha parses" in checked
    assert "note  6 TODO markers left: experiment, status.reason" in checked  # title was done
    _recast("bundle", "pack", "./MY_SEARCH", "-o", str(tmp_path / "MY_SEARCH.tar.gz"))

    monkeypatch.chdir(theorist)
    _recast("bundle", "install", str(tmp_path / "MY_SEARCH.tar.gz"))
    listed = _recast("list").output
    assert "MY_SEARCH" in listed and "installed" in listed
    verdict_path = theorist / "verdict.json"
    args = ["validate", "MY_SEARCH", "--benchmark", "gtt_1400_100", "--events", str(EVENTS)]
    _recast(*args, "--seed", str(SEED), "-o", str(verdict_path))
    verdict = schema.load_json(verdict_path)
    assert verdict["passed"] is True
    # the same seed regenerates the very events the cutflow was made from
    (region,) = (
        verdict["regions"].values() if isinstance(verdict["regions"], dict) else verdict["regions"]
    )
    ratios = [step["ratio"] for step in region["steps"]]
    assert len(ratios) == 2 and all(abs(r - 1.0) < 1e-9 for r in ratios), ratios

    # and the theorist's own point, to a limit, from the results file alone
    slha = write_gluino_slha(theorist / "gtt_1800_100.slha", 1800.0, 100.0, "ttbar")
    results = theorist / "results.json"
    _recast("run", "MY_SEARCH", "--pythia-slha", str(slha), "--events", "100", "-o", str(results))
    limits = _recast("limits", str(results), "-o", str(theorist / "limits.json"))
    assert "CLs" in limits.output
    assert schema.load_json(theorist / "limits.json")["limits"]["regions"]

    # results of the team's folder copy name the same id, but not the installed bundle: a
    # results file never makes recast load a folder it names
    monkeypatch.chdir(team)
    ours = team / "results.json"
    _recast("run", "./MY_SEARCH", "--pythia-slha", str(slha), "--events", "20", "-o", str(ours))
    refused = CliRunner().invoke(cli, ["limits", str(ours)])
    assert refused.exit_code == 2
    assert "did not run from a shipped or installed bundle" in refused.output


def test_the_release_page_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/releasing.md: export, definitions, strict check, a bundle packed, installed and
    validated from its own benchmark. It prints names, counts and verdicts only (the BDT's
    numbers differ between CPUs; the validation compares a seed with itself)."""
    pytest.importorskip("sklearn")
    from .docs_pages import DOCS, check_worked_example, page_files

    (tmp_path / "selection.py").write_text(page_files(DOCS / "releasing.md")["selection.py"])
    monkeypatch.setenv("RECAST_DATA_DIR", str(tmp_path / "data"))
    check_worked_example(DOCS / "releasing.md", tmp_path, monkeypatch, capsys)
