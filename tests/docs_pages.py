"""Checks shared by the tests of a docs page with one worked example, config files and figures."""

from __future__ import annotations

import math
import re
import runpy
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
#: a file the page shows in full: ``<!-- file: NAME -->`` then a fenced block
FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)


def page_files(page: Path) -> dict[str, str]:
    """The files the page shows, by name."""
    return dict(FILE_BLOCK.findall(page.read_text()))


#: a printed number: not part of a word (``chi2``, ``dl1r``), signs and exponents included
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?%?(?![\w.])")


def printed_differences(
    printed: str, expected: str, tolerances: Mapping[str, float] | None = None
) -> list[str]:
    """Where ``printed`` differs from what a page shows, one line per difference.

    The text between numbers must match (runs of spaces count as one: a padded column may
    widen). A number whose label (the text since the previous number on its line, e.g.
    ``", kept "`` or ``" chi2 "``) contains a key of ``tolerances`` may differ from the
    page's by up to that key's tolerance (the longest key found wins); every other number
    must be printed exactly as on the page. Trained and sampled results vary between CPUs and
    thread counts; counts, shapes, degrees of freedom and file names do not.
    """
    tolerances = tolerances or {}
    got_lines, want_lines = printed.splitlines(), expected.splitlines()
    if len(got_lines) != len(want_lines):
        return [f"{len(got_lines)} lines printed, the page shows {len(want_lines)}"]
    problems = []
    for row, (got, want) in enumerate(zip(got_lines, want_lines, strict=True), start=1):
        got_text, want_text = NUMBER.split(got), NUMBER.split(want)
        if [" ".join(t.split()) for t in got_text] != [" ".join(t.split()) for t in want_text]:
            problems.append(f"line {row}: text differs:\n  printed {got!r}\n  page    {want!r}")
            continue
        for label, a, b in zip(want_text, NUMBER.findall(got), NUMBER.findall(want), strict=False):
            keys = [key for key in tolerances if key in label]
            if not keys:
                if a != b:
                    problems.append(f"line {row}: {label.strip()!r} {a} printed, page {b} (exact)")
                continue
            tolerance = tolerances[max(keys, key=len)]
            x, y = float(a.rstrip("%")), float(b.rstrip("%"))
            if not (math.isfinite(x) and abs(x - y) <= tolerance * (1 + 1e-9)):
                problems.append(
                    f"line {row}: {label.strip()!r} {a} printed, page {b} (±{tolerance:g})"
                )
    return problems


def run_example(code: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``code`` as a script from ``folder``, where its temporary folders land too."""
    script = folder / "example.py"
    script.write_text(code)
    monkeypatch.chdir(folder)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))  # the example's mkdtemp lands here
    runpy.run_path(str(script), run_name="__main__")


def check_worked_example(
    page: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tolerances: Mapping[str, float] | None = None,
) -> None:
    """The page's one ```python block, run in ``tmp_path``, prints its "It prints" block:
    exactly, or (trained and sampled numbers) within ``tolerances`` by label, as in
    :func:`printed_differences`. The page states each tolerance to its readers in the words
    ``<label> ±<tolerance>``, and this checks that it does."""
    text = FILE_BLOCK.sub("", page.read_text())
    example = re.findall(r"```python\n(.*?)```", text, re.S)
    printed = re.findall(r"\nIt prints\n\n```\n(.*?)```", text, re.S)
    assert len(example) == 1 and len(printed) == 1
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for label, tolerance in (tolerances or {}).items():
        stated = f"{label.strip()} ±{tolerance:g}"
        assert stated in " ".join(prose.split()), f"{page.name} must tell readers: {stated!r}"
    run_example(example[0], tmp_path, monkeypatch)
    problems = printed_differences(capsys.readouterr().out, printed[0], tolerances)
    assert not problems, "\n".join(problems)


def check_figures(page: Path, names: tuple[str, ...]) -> None:
    """Every figure exists as a PNG under docs/figures and the page shows it."""
    for name in names:
        assert (page.parent / "figures" / name).read_bytes()[:4] == b"\x89PNG"
        assert f"(figures/{name})" in page.read_text()


def console_steps(block: str) -> list[tuple[str, list[str]]]:
    """A ```console block's commands (after ``$ ``) with the lines the page shows each
    prints."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps
