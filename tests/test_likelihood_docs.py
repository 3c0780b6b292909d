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


def test_patch_name_example_runs_as_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console block of the workspace section: its commands, run in a folder holding the
    page's files, print what the page shows, and heavy.json holds the numbers the page gives."""
    import json
    import shlex

    from click.testing import CliRunner

    from recast.cli import cli

    from .docs_pages import page_files

    text = PAGE.read_text()
    for name, content in page_files(PAGE).items():
        (tmp_path / name).write_text(content)
    (block,) = re.findall(r"```console\n(.*?)```", text, re.S)
    commands = re.split(r"^\$ ", block, flags=re.M)[1:]
    monkeypatch.chdir(tmp_path)
    for command in commands:
        line, _, shown = command.partition("\n")
        args = shlex.split(line)
        assert args[0] == "recast"
        result = CliRunner().invoke(cli, args[1:])
        assert (result.exit_code == 0) == (not shown.startswith("error:")), result.output
        if shown:
            assert result.output == shown
    (patch,) = json.loads((tmp_path / "heavy.json").read_text())["patches"]
    prose = re.search(
        r"CLs ([\d.]+) observed and ([\d.]+) expected \(median\), an\s+upper limit μ95 of "
        r"([\d.]+) \(observed\) and ([\d.]+) \(median expected\)",
        text,
    )
    assert prose is not None
    got = (
        patch["cls"]["observed"],
        patch["cls"]["expected"]["median"],
        patch["mu_upper"]["observed"],
        patch["mu_upper"]["expected"]["median"],
    )
    assert [f"{g:.3g}" for g in got] == list(prose.groups())


def test_every_option_the_page_names_exists() -> None:
    """docs/limits.md once documented a --patch-name that did not exist."""
    from recast.cli import cli

    known = {opt for param in cli.params for opt in param.opts}
    for name in ("limits", "scan"):
        params = cli.commands[name].params  # --mu95/--no-mu95: the second is secondary
        known |= {opt for param in params for opt in (*param.opts, *param.secondary_opts)}
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", PAGE.read_text()))  # --mu95
    assert named and not named - known, named - known
