"""docs/limits.md: its worked example runs as written and prints what the page says."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "limits.md"


def test_limits_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PAGE.read_text()
    example = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    printed = re.findall(r"\nIt prints\n\n```\n(.*?)```", text, re.S)[0]
    script = tmp_path / "example.py"
    script.write_text(example)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    assert capsys.readouterr().out == printed


def test_limits_page_is_in_the_site() -> None:
    root = PAGE.parents[1]
    assert "limits.md" in (root / "mkdocs.yml").read_text()
    assert "(limits.md)" in (root / "docs" / "index.md").read_text()
    assert (root / "docs" / "figures" / "limits_exclusion.png").read_bytes()[:4] == b"\x89PNG"
