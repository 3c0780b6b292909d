"""`recast limits` and `recast scan` on the command line: forms, output, usage errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from recast.cli import cli


def test_regions_form_writes_s95_per_region(tmp_path: Path) -> None:
    table = tmp_path / "regions.json"
    table.write_text(
        json.dumps(
            [
                {
                    "name": "SR_zero",
                    "observed": 0,
                    "background": 0.5,
                    "background_uncertainty": 0.2,
                },
                {
                    "name": "SR_many",
                    "observed": 30,
                    "background": 28.0,
                    "background_uncertainty": 5.0,
                },
            ]
        )
    )
    out = tmp_path / "s95.json"
    result = CliRunner().invoke(cli, ["limits", "--regions", str(table), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "SR_zero" in result.output and "SR_many" in result.output
    rows = {row["region"]: row for row in json.loads(out.read_text())["s95"]}
    # zero observed events: S95 = −ln 0.05 = 2.996 events, whatever the background (CLs)
    assert rows["SR_zero"]["s95"]["observed"] == pytest.approx(2.99573, abs=1e-4)
    assert rows["SR_zero"]["method"] == "exact"
    assert rows["SR_many"]["s95"]["observed"] > rows["SR_zero"]["s95"]["observed"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give exactly one of"),
        (["results.json", "--regions", "r.json"], "give exactly one of"),
        (["--workspace", "w.json"], "--workspace and --patch go together"),
    ],
)
def test_limits_usage_errors(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["limits", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_a_missing_region_table(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["limits", "--regions", str(tmp_path / "nope.json")])
    assert result.exit_code != 0
    assert "nope.json" in result.output
    assert "Traceback" not in result.output


def test_run_and_limits_print_the_verdict_and_agree_when_regions_were_skipped(
    gtt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ATLAS_SUSY_2018_30 without its network file skips the network regions: `recast limits`
    of the run's results gives the limits the run wrote (it once asked for their yields)."""
    monkeypatch.setenv("RECAST_DATA_DIR", str(tmp_path / "no-networks"))
    runner = CliRunner()
    results, limits = tmp_path / "results.json", tmp_path / "limits.json"
    ran = runner.invoke(
        cli, ["run", "ATLAS_SUSY_2018_30", str(gtt.small), "-o", str(results)], terminal_width=200
    )
    assert ran.exit_code == 0, ran.output
    document = json.loads(results.read_text())
    assert "SR-Gtt-2100-1" in document["skipped"] and "SR-Gtt-2100-1" not in document["yields"]
    verdict = document["limits"]["verdict"]
    source = verdict["source"]
    words = "excluded" if verdict["excluded"] else "not excluded"
    # the demo's table, the one-line verdict, and the regions the verdict could not use
    assert "CLs at μ = 1 and upper limit μ95" in ran.output
    assert f"verdict: {words} at 95 % CL by {source}" in ran.output
    assert "not run, so in no limit: SR-Gtt-2100-1" in ran.output
    again = runner.invoke(cli, ["limits", str(results), "-o", str(limits)], terminal_width=200)
    assert again.exit_code == 0, again.output
    assert json.loads(limits.read_text())["limits"] == document["limits"]
    assert f"verdict: {words} at 95 % CL by {source}" in again.output
    assert "regions not run" in again.output and "not run, so in no limit" in again.output
    # nothing but the document on stdout
    piped = runner.invoke(cli, ["run", "ATLAS_SUSY_2018_30", str(gtt.small), "-o", "-"])
    assert piped.exit_code == 0, piped.output
    assert json.loads(piped.stdout)["limits"] == document["limits"]
