"""The reference experiment stays apart: nothing in recast imports reference_experiment.

The reference experiment is a development package beside ``recast/`` (not in the wheel); the
recast side may use only what the flagship bundle publishes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import recast

PACKAGE = Path(recast.__file__).resolve().parent
ANALYSES = PACKAGE.parent / "analyses"
REFERENCE = "reference_experiment"
# a bundle's optional script that regenerates its artefacts; the runtime never imports it
BUILD_SCRIPT = "make_artefacts.py"


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


def imports_reference(source: str, name: str = "<source>") -> bool:
    """Whether ``source`` imports the reference experiment, or names it at all (which also
    catches ``importlib.import_module("reference_experiment...")``)."""
    top = {module.split(".")[0] for module in imported_modules(source, name)}
    return REFERENCE in top or REFERENCE in source


def test_no_module_of_recast_imports_the_reference() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if imports_reference(path.read_text(), str(path))
    ]
    assert offenders == []


def test_the_reference_left_the_package() -> None:
    assert not (PACKAGE / "reference").exists()


def test_bundle_code_other_than_build_scripts_does_not_import_it() -> None:
    """A bundle's analysis code runs for every user; only its build script may need the
    reference experiment (the flagship's trains the network on reference samples)."""
    offenders = [
        str(path.relative_to(ANALYSES))
        for path in sorted(ANALYSES.rglob("*.py"))
        if path.name != BUILD_SCRIPT and imports_reference(path.read_text(), str(path))
    ]
    assert offenders == []


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
    assert imported_modules("from a.b import c\nimport d.e\n") == {"a.b", "a.b.c", "d.e"}
