"""Checks shared by the tests of a docs page with one worked example, config files and figures."""

from __future__ import annotations

import re
import runpy
import tempfile
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
#: a file the page shows in full: ``<!-- file: NAME -->`` then a fenced block
FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)


def page_files(page: Path) -> dict[str, str]:
    """The files the page shows, by name."""
    return dict(FILE_BLOCK.findall(page.read_text()))


def check_worked_example(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The page's one ```python block, run in ``tmp_path``, prints its "It prints" block."""
    text = FILE_BLOCK.sub("", page.read_text())
    example = re.findall(r"```python\n(.*?)```", text, re.S)
    printed = re.findall(r"\nIt prints\n\n```\n(.*?)```", text, re.S)
    assert len(example) == 1 and len(printed) == 1
    script = tmp_path / "example.py"
    script.write_text(example[0])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the example's mkdtemp lands here
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out == printed[0]


def check_figures(page: Path, names: tuple[str, ...]) -> None:
    """Every figure exists as a PNG under docs/figures and the page shows it."""
    for name in names:
        assert (page.parent / "figures" / name).read_bytes()[:4] == b"\x89PNG"
        assert f"(figures/{name})" in page.read_text()
