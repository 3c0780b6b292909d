"""The docs: worked examples run as written, the CLI page is current, the site builds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .docs_pages import DOCS, FILE_BLOCK, printed_differences, run_example

# ```python blocks run (```py ones are fragments, highlighted alike but not run); FILE_BLOCK
# blocks are files of the example, not code to run


def python_blocks(page: str) -> str:
    text = FILE_BLOCK.sub("", (DOCS / page).read_text())
    return "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))


def write_files(page: str, folder: Path) -> None:
    """The files a page shows (``<!-- file: PATH -->`` before the block), written to folder."""
    for relative, content in FILE_BLOCK.findall((DOCS / page).read_text()):
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content)


def printed(page: str) -> str:
    """What the page says its examples print: the blocks after the lines "It prints"."""
    return "".join(re.findall(r"\nIt prints\n\n```\n(.*?)```", (DOCS / page).read_text(), re.S))


def assert_prints(output: str, expected: str) -> None:
    """The pages below sample (smearing, tags, Pythia8 events) but train nothing: their draws
    come from counter-based hashes and numpy's Generator, the same on any x86-64 machine
    (measured for detector.md and bundles.md: with numpy's AVX-512 kernels disabled,
    NPY_DISABLE_CPU_FEATURES, and OpenBLAS as Haswell they print the same), so every number
    is compared exactly."""
    problems = printed_differences(output, expected)
    assert not problems, "\n".join(problems)


def test_preserving_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    run_example(python_blocks("preserving.md"), tmp_path, monkeypatch)
    output = capsys.readouterr().out
    assert output.count("ok example_net.onnx") == 5  # ... and the activations agree
    assert "ok example_net.onnx: output activations agree with the graph" in output
    assert (tmp_path / "published" / "example_net.card.json").is_file()


def test_detector_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_example(python_blocks("detector.md"), tmp_path, monkeypatch)
    expected = printed("detector.md")
    assert expected.count("\n") == 11  # both output blocks were found
    assert_prints(capsys.readouterr().out, expected)


@pytest.mark.slow
def test_recasting_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pythia8mc")
    pytest.importorskip("matplotlib")
    run_example(python_blocks("recasting.md"), tmp_path, monkeypatch)
    expected = printed("recasting.md")
    assert expected.count("\n") == 10  # both output blocks were found
    assert_prints(capsys.readouterr().out, expected)
    assert json.loads((tmp_path / "results.json").read_text())["analysis"] == "EXAMPLE_JETS_MET"
    assert (tmp_path / "validation.png").is_file()


def test_bundles_example_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files("bundles.md", tmp_path)
    assert (tmp_path / "MY_SEARCH" / "analysis.py").is_file()
    run_example(python_blocks("bundles.md"), tmp_path, monkeypatch)
    expected = printed("bundles.md")
    assert expected.count("\n") == 13  # both output blocks were found
    assert_prints(capsys.readouterr().out, expected)


def test_cli_page_is_generated_from_the_commands() -> None:
    sys.path.insert(0, str(DOCS / "tools"))
    try:
        from gen_cli import render
    finally:
        sys.path.pop(0)
    assert (DOCS / "cli.md").read_text() == render(), "run: python docs/tools/gen_cli.py"


@pytest.mark.slow
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs", path=os.path.dirname(sys.executable))
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (extra [docs])")
    subprocess.run(
        [mkdocs, "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=DOCS.parent,
        check=True,
    )


def test_printed_numbers_are_compared_exactly_or_within_their_labels_tolerance() -> None:
    """The comparison of every docs page whose example trains or samples (tests/docs_pages.py):
    text and untrained numbers exactly, a labelled number within its tolerance."""
    page = "plain: AUC 0.88, kept 0.14, weighted chi2 8/8\n[[None, 48, 9]]\n"
    tolerances = {"AUC": 0.04, "kept": 0.02, "chi2": 8}
    assert printed_differences(page, page) == []
    moved = page.replace("0.88", "0.84").replace("8/8", "16/8")
    assert printed_differences(moved, page, tolerances) == []
    assert printed_differences(moved, page) != []  # without tolerances: exactly
    too_far = page.replace("0.88", "0.83").replace("8/8", "8/9").replace("48, 9", "48, 8")
    assert printed_differences(too_far, page, tolerances) == [
        "line 1: 'plain: AUC' 0.83 printed, page 0.88 (±0.04)",
        "line 1: '/' 9 printed, page 8 (exact)",
        "line 2: ',' 8 printed, page 9 (exact)",
    ]
    assert printed_differences(page.replace("kept", "kep"), page, tolerances)[0].startswith(
        "line 1: text differs"
    )
    assert printed_differences("pass fraction 0.092\n", page) == [
        "1 lines printed, the page shows 2"
    ]
    # a number that is part of a word is text; padding may widen; nan is never within
    assert printed_differences("dl1r  chi2 12\n", "dl1r chi2 9\n", {"chi2": 3}) == []
    assert printed_differences("chi2 nan\n", "chi2 9\n", {"chi2": 3}) != []
