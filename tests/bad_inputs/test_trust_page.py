"""docs/trust.md: its worked example prints what the page says."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from recast.analysis.bundle import bundles_root

from ..docs_pages import DOCS, console_steps
from . import invoke

PAGE = DOCS / "trust.md"
#: placeholders the page uses for what differs between machines and edits
PLACEHOLDERS = {"SHIPPED": r"/\S+?/EXAMPLE_JETS_MET", "NEW": "[0-9a-f]{64}", "OLD": "[0-9a-f]{64}"}


def transcript() -> list[tuple[str, list[str]]]:
    """The example's commands and what the page says each prints."""
    block = re.search(r"```console\n(.*?)```", PAGE.read_text(), re.S)
    assert block is not None
    return console_steps(block.group(1))


def pattern(lines: list[str]) -> re.Pattern[str]:
    text = re.escape("\n".join(lines))
    for word, regex in PLACEHOLDERS.items():
        text = text.replace(word, regex)
    return re.compile(text)


def test_the_worked_example_prints_what_the_page_says(gtt, tmp_path: Path) -> None:
    shutil.copy(gtt.tiny_a, tmp_path / "events.hepmc")
    ran = 0
    for command, printed in transcript():
        if command.startswith("cp "):
            shutil.copytree(bundles_root() / "EXAMPLE_JETS_MET", tmp_path / "EXAMPLE_JETS_MET")
        elif command.startswith("echo "):
            with open(tmp_path / "EXAMPLE_JETS_MET" / "analysis.py", "a") as handle:
                handle.write("# one more line\n")
        else:
            assert command.startswith("recast ")
            result = invoke(command.split()[1:], tmp_path)
            assert result.exit_code != 0
            said = result.stderr.strip()
            assert pattern(printed).fullmatch(said), f"{command}:\n{said}"
            ran += 1
    assert ran == 2
