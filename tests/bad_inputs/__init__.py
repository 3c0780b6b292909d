"""The catalogue of bad inputs: every format and command, each case refused plainly.

Each case runs the real command line in process and asserts the contract every user mistake
has: a non-zero exit code (the expected one where it is fixed), the words of the message
(the file, the field or position, the fix), no traceback, and a working folder left exactly as
it was (no output, no partial or hidden file, no input changed). The modules of this package
hold the cases by format: ``test_events`` (event files), ``test_bundles`` (bundles and the
paths inside documents), ``test_outputs`` (every ``-o``, atomic writes, signals),
``test_likelihood`` (region tables, workspaces, patches, scans), ``test_cards`` (network cards),
``test_train`` (training configs), ``test_commands`` (options of run, validate, generate and
the command line's own contract); ``test_trust_page`` runs docs/trust.md's example.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from recast.cli import cli


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file and folder below ``folder``: its relative path → (sha256 or 'dir', mode)."""
    state: dict[str, tuple[str, int]] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            path = Path(root) / name
            state[str(path.relative_to(folder))] = ("dir", path.lstat().st_mode)
        for name in files:
            path = Path(root) / name
            if path.is_symlink() or not path.is_file():
                state[str(path.relative_to(folder))] = ("special", path.lstat().st_mode)
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path.relative_to(folder))] = (digest, path.stat().st_mode)
    return state


def cases(names: Sequence[str], table: Sequence[Sequence[Any]]) -> pytest.MarkDecorator:
    """Parametrize ``names`` from a table of cases whose first column is each case's id."""
    return pytest.mark.parametrize(
        tuple(names), [tuple(c[1:]) for c in table], ids=[c[0] for c in table]
    )


def invoke(args: Iterable[str], cwd: Path) -> Result:
    """The command line run in process from ``cwd``."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, [str(a) for a in args])
    finally:
        os.chdir(previous)


@dataclass
class Refusal:
    result: Result

    @property
    def message(self) -> str:
        return self.result.stderr + self.result.stdout


def assert_refused(
    args: Iterable[str],
    cwd: Path,
    words: Iterable[str],
    exit_code: int | None = None,
    watch: Iterable[Path] = (),
) -> Refusal:
    """Run ``recast ARGS`` in ``cwd`` and assert it refused the input cleanly.

    ``words``: each must appear in the message (case-insensitive): name the file, the field
    or position, and the fix. ``watch``: more folders (beside ``cwd``) that must stay as they
    were. Returns the refusal for further assertions.
    """
    folders = [Path(cwd), *map(Path, watch)]
    before = [snapshot(folder) for folder in folders]
    result = invoke(args, cwd)
    message = result.stderr + result.stdout
    assert result.exit_code != 0, f"exit 0 for a bad input; printed:\n{message}"
    if exit_code is not None:
        assert result.exit_code == exit_code, (
            f"exit {result.exit_code}, not {exit_code}:\n{message}"
        )
    assert "Traceback" not in message, message
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "unexpected failure" not in message, message
    lowered = message.lower()
    missing = [word for word in words if word.lower() not in lowered]
    assert not missing, f"the message lacks {missing}:\n{message}"
    for folder, state in zip(folders, before, strict=True):
        after = snapshot(folder)
        changed = sorted(set(state.items()) ^ set(after.items()))
        assert not changed, f"{folder} changed: {changed}"
    return Refusal(result)
