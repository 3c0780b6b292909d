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
