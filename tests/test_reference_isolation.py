"""The reference experiment stays apart: nothing else in recast imports recast.reference."""

from __future__ import annotations

import ast
from pathlib import Path

import recast

PACKAGE = Path(recast.__file__).resolve().parent
REFERENCE = PACKAGE / "reference"


def _module_name(path: Path) -> str:
    return ".".join(("recast", *path.relative_to(PACKAGE).with_suffix("").parts))


def _imports(path: Path, module: str | None = None) -> list[str]:
    """Absolute names of every module ``path`` (module ``module``) imports, relative resolved."""
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    package = package.removesuffix(".__init__")
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                stem = f"{prefix}.{node.module}" if node.module else prefix
            else:
                stem = node.module or ""
            names += [stem, *(f"{stem}.{alias.name}" for alias in node.names)]
    return names


def _outside() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if REFERENCE not in p.parents]


def test_no_module_outside_the_reference_imports_it() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): name
        for path in _outside()
        for name in _imports(path)
        if name == "recast.reference" or name.startswith("recast.reference.")
    }
    assert offenders == {}


def test_no_module_outside_names_it_at_all() -> None:
    """Also catches importlib.import_module("recast.reference...") and string tricks."""
    named = [str(p.relative_to(PACKAGE)) for p in _outside() if "recast.reference" in p.read_text()]
    assert named == []


def test_the_import_check_sees_relative_imports(tmp_path: Path) -> None:
    """The checker itself: a relative import of the reference is resolved and caught."""
    probe = PACKAGE / "analysis" / "run.py"
    names = _imports(probe)
    assert any(n.startswith("recast.") for n in names)
    fake = tmp_path / "probe.py"
    fake.write_text("from ..reference import detector\nfrom . import x\nimport recast.reference\n")
    names = _imports(fake, "recast.analysis.probe")
    assert {"recast.reference.detector", "recast.analysis.x", "recast.reference"} <= set(names)
