"""`recast train efficiency`: a bad config gives every problem with its path, exit code 1."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from recast.cli import cli


def test_a_bad_training_config_lists_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "train.json"
    config.write_text(json.dumps({"train": {}}))
    result = CliRunner().invoke(cli, ["train", "efficiency", str(config)])
    assert result.exit_code == 1
    assert "2 problem(s)" in result.output
    assert "at output: missing" in result.output
    assert "give exactly one of 'synthetic' or 'parquet'" in result.output
