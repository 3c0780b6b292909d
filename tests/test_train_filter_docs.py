"""docs/train-filter.md: its worked example runs as written and prints what the page says; its
config is valid; its figures are there."""

from __future__ import annotations

import json
import re
import runpy
import tempfile
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "train-filter.md"
FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)


def test_the_worked_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    text = FILE_BLOCK.sub("", PAGE.read_text())
    example = re.findall(r"```python\n(.*?)```", text, re.S)
    printed = re.findall(r"\nIt prints\n\n```\n(.*?)```", text, re.S)
    assert len(example) == 1 and len(printed) == 1
    script = tmp_path / "example.py"
    script.write_text(example[0])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the example's mkdtemp lands here
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out == printed[0]


def test_the_config_on_the_page_is_valid_and_the_figures_are_there() -> None:
    pytest.importorskip("torch")
    from recast.train.study import config_problems

    files = dict(FILE_BLOCK.findall(PAGE.read_text()))
    assert config_problems(json.loads(files["ttbar_filter.json"]), "train-filter") == []
    for name in ("train_filter_bias.png", "train_filter_speed_up.png"):
        figure = PAGE.parent / "figures" / name
        assert figure.read_bytes()[:4] == b"\x89PNG"
        assert f"(figures/{name})" in PAGE.read_text()
