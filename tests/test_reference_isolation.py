"""Runtime code stays apart from the reference experiment and from torch.

The reference experiment is a development package beside ``recast/`` (not in the wheel); the
recast side may use only what the flagship bundle publishes. The rule, checked here on the
source tree and by ``tests/test_wheel.py`` on every ``.py`` of the built wheel (recast's
modules and every file of the shipped bundles, build scripts included): no file imports
``reference_experiment`` or ``torch``, except that ``recast/train/`` (the ``[train]`` extra's
runtime code) imports torch, lazily through ``recast/train/core/_torch.py``. Code that trains
the flagship's network lives in ``reference_experiment`` (``publish_network``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import recast

PACKAGE = Path(recast.__file__).resolve().parent
ROOT = PACKAGE.parent
ANALYSES = ROOT / "analyses"
REFERENCE = "reference_experiment"
TORCH = "torch"
#: the [train] extra's runtime code, the one place allowed to import torch
TRAIN = PurePosixPath("recast", "train")


def imported_modules(source: str, name: str = "<source>") -> set[str]:
    """Every absolute module name ``source`` imports (``from a import b`` gives ``a`` and
    ``a.b``); relative imports are left out, as they cannot leave their top-level package."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _tops(source: str, name: str) -> set[str]:
    return {module.split(".")[0] for module in imported_modules(source, name)}


def imports_reference(source: str, name: str = "<source>") -> bool:
    """Whether ``source`` imports the reference experiment, or names it at all (which also
    catches ``importlib.import_module("reference_experiment...")``)."""
    return REFERENCE in _tops(source, name) or REFERENCE in source


def imports_torch(source: str, name: str = "<source>") -> bool:
    """Whether ``source`` imports torch in any import statement (in a function too)."""
    return TORCH in _tops(source, name)


def rule_breakers(files: Iterable[tuple[PurePosixPath, str]]) -> list[str]:
    """``path: module`` for each (path, source) that breaks the rule of the module docstring;
    paths as the wheel names them (``recast/...``) or relative to the repository."""
    found = []
    for path, source in files:
        if imports_reference(source, str(path)):
            found.append(f"{path}: {REFERENCE}")
        if imports_torch(source, str(path)) and not path.is_relative_to(TRAIN):
            found.append(f"{path}: {TORCH}")
    return found


def _sources(folder: Path) -> list[tuple[PurePosixPath, str]]:
    return [
        (PurePosixPath(path.relative_to(ROOT).as_posix()), path.read_text())
        for path in sorted(folder.rglob("*.py"))
        if "__pycache__" not in path.parts
    ]


def test_no_module_of_recast_imports_the_reference_or_torch() -> None:
    assert rule_breakers(_sources(PACKAGE)) == []


def test_the_reference_left_the_package() -> None:
    assert not (PACKAGE / "reference").exists()


def test_no_bundle_code_imports_the_reference_or_torch() -> None:
    """Every Python file of a bundle ships in the wheel: its analysis code, which runs for
    every user, and its build script (one that trains on reference samples belongs in
    ``reference_experiment``)."""
    assert rule_breakers(_sources(ANALYSES)) == []


def test_the_checker_sees_every_form_of_import() -> None:
    for source in (
        "import reference_experiment\n",
        "import reference_experiment.grid as g\n",
        "from reference_experiment import detector\n",
        "from reference_experiment.read import sample_chunks\n",
        "import importlib\nimportlib.import_module('reference_experiment.samples')\n",
    ):
        assert imports_reference(source), source
    assert not imports_reference("from recast.objects import build_objects\nfrom . import x\n")
    for source in ("import torch\n", "def f():\n    from torch import nn\n", "import torch.nn\n"):
        assert imports_torch(source), source
    assert not imports_torch("from .core._torch import torch\nimport torchvision_like\n")
    assert imported_modules("from a.b import c\nimport d.e\n") == {"a.b", "a.b.c", "d.e"}


def test_only_the_train_package_may_import_torch() -> None:
    torch = "import torch\n"
    files = [
        (PurePosixPath("recast/train/core/_torch.py"), torch),
        (PurePosixPath("recast/trainer.py"), torch),
        (PurePosixPath("recast/_data/analyses/X/make_artefacts.py"), torch),
        (PurePosixPath("recast/train/x.py"), "import reference_experiment\n"),
    ]
    assert rule_breakers(files) == [
        "recast/trainer.py: torch",
        "recast/_data/analyses/X/make_artefacts.py: torch",
        "recast/train/x.py: reference_experiment",
    ]
