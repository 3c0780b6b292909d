"""Packaging rules: the runtime core never imports the training stack, nor picks a backend."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import recast


def test_the_runtime_core_imports_neither_torch_nor_sklearn() -> None:
    # the trainers: torch and sklearn are theirs (the [train] extra)
    training = ("recast.train",)
    probe = (
        f"TRAINING = {training!r};"
        "import sys, pkgutil, importlib, recast;"
        "mods = [m.name for m in pkgutil.walk_packages(recast.__path__, 'recast.')"
        "        if not m.name.startswith(TRAINING)];"
        "[importlib.import_module(m) for m in mods];"
        "print(len(mods), sorted(k for k in sys.modules if k.split('.')[0] in"
        " ('torch', 'sklearn', 'skl2onnx')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    count, leaked = result.stdout.split(" ", 1)
    assert int(count) >= 10
    assert leaked.strip() == "[]"


def test_the_library_never_chooses_a_matplotlib_backend() -> None:
    """matplotlib.use() or pyplot's global figures would switch a notebook user's backend;
    figures come from recast.report.figure (a Figure drawn and saved without pyplot)."""
    package = Path(recast.__file__).parent
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(
            r"matplotlib\.use\(|import matplotlib\.pyplot|from matplotlib import pyplot", line
        )
    ]
    assert not offenders, offenders
