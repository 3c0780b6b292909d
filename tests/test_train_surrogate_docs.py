"""docs/train-surrogate.md: its worked example runs as written and prints what the page says;
its config is valid; its figure is there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .docs_pages import DOCS, check_figures, check_worked_example, page_files

PAGE = DOCS / "train-surrogate.md"


def test_the_worked_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    check_worked_example(PAGE, tmp_path, monkeypatch, capsys)


def test_the_config_on_the_page_is_valid_and_the_figure_is_there() -> None:
    pytest.importorskip("torch")
    from recast.train.study import config_problems

    config = json.loads(page_files(PAGE)["surrogate.json"])
    assert config_problems(config, "train-surrogate") == []
    check_figures(PAGE, ("train_surrogate_closure.png",))
