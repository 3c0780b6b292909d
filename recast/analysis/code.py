"""A bundle's code: the digest of every Python file (``code.files``), verified before import.

A bundle is code. ``analysis.json`` records the sha256 of every ``.py`` file of the bundle
(schema 1.1.0); :func:`verified_code` compares them with the files before anything is
imported, and :func:`import_file` compiles the very bytes it verified (never a cached
``.pyc``, which could hold other code, and writing none into the bundle).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from .. import schema
from ..errors import BundleCodeError
from ..io import sha256_file
from ..paths import inside

log = logging.getLogger(__name__)


#: resolved path of a bundle's Python file → the sha256 its analysis.json declares
_DECLARED: dict[str, str] = {}


class _VerifiedSourceLoader(importlib.machinery.SourceFileLoader):
    """Compiles the source bytes it reads, never a cached ``.pyc`` (which could hold other
    code), writes no cache into the bundle, and refuses bytes whose digest is not declared."""

    def get_code(self, fullname: str) -> CodeType:
        data = self.get_data(self.path)
        expected = _DECLARED.get(str(Path(self.path).resolve()))
        if expected is not None and (actual := hashlib.sha256(data).hexdigest()) != expected:
            raise BundleCodeError(
                f"{self.path}: sha256 is {actual} but its bundle's analysis.json (code.files) "
                f"records {expected}; the code changed after it was verified: not imported"
            )
        return compile(data, self.path, "exec", dont_inherit=True)


def import_file(module_name: str, path: Path, *, reuse: bool = False) -> ModuleType:
    """Execute the Python file ``path`` as the module ``module_name``, registered in
    ``sys.modules`` (Dask workers unpickle a bundle's classes by module name). With ``reuse``
    a module already imported under that name is returned as it is: how a bundle's files
    import their siblings, and scripts and tests import a bundle's files. A file of a loaded
    bundle is compiled from bytes whose sha256 matches its ``code.files`` entry."""
    if reuse and module_name in sys.modules:
        return sys.modules[module_name]
    loader = _VerifiedSourceLoader(module_name, str(path))
    spec = importlib.util.spec_from_file_location(module_name, path, loader=loader)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]  # a half-executed module must not be reused
        raise
    return module


def python_files(folder: Path) -> list[str]:
    """Every ``.py`` file below ``folder`` (relative, forward slashes), caches left out;
    each must stay inside the folder once links are resolved."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                relative = (Path(root) / name).relative_to(folder).as_posix()
                inside(folder, relative, folder, "the Python file")  # a link leading out
                found.append(relative)
    return found


def stamp_code(folder: Path, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``code.files`` recording every Python file of the bundle at
    ``folder``, stamped with the schema version that has that field (1.1.0)."""
    files = {rel: sha256_file(folder / rel) for rel in python_files(folder)}
    code = {**document["code"], "files": files}
    stamped = {**document, "schema_version": schema.current_version("analysis"), "code": code}
    return stamped


def _normal(relative: str) -> str:
    return Path(os.path.normpath(relative)).as_posix()


def code_problems(folder: Path, document: dict[str, Any]) -> list[str]:
    """Differences between the bundle's Python files and ``code.files``; empty when none.
    Refuses (raises) a code path that leaves the folder."""
    source = folder / "analysis.json"
    module = document["code"]["module"]
    inside(folder, module, source, "code.module")
    declared = document["code"].get("files")
    if declared is None:
        return [
            f"code.files: analysis.json (schema {document['schema_version']}) records no digest "
            f"of the bundle's code; read the code, then run `recast bundle stamp {folder}` to "
            "record them"
        ]
    declared = {_normal(k): v for k, v in declared.items()}
    problems = []
    if _normal(module) not in declared:
        problems.append(f"code.module {module!r} is not listed in code.files")
    for relative, expected in declared.items():
        path = inside(folder, relative, source, f"code.files[{relative!r}]")
        if not path.is_file():
            problems.append(f"code.files lists {relative}, which does not exist")
        elif (actual := sha256_file(path)) != expected:
            problems.append(
                f"code.files: {relative} has sha256 {actual} but analysis.json records "
                f"{expected}: the code differs from what analysis.json declares; read the "
                f"change, then run `recast bundle stamp {folder}` if you trust it"
            )
    for relative in python_files(folder):
        if relative not in declared:
            problems.append(
                f"{relative}: a Python file of the bundle that code.files does not list (it "
                f"could be imported unverified); remove it, or read it and run `recast bundle "
                f"stamp {folder}`"
            )
    return problems


def verified_code(folder: Path, document: dict[str, Any]) -> dict[str, str]:
    """The code digests, verified; raises :class:`BundleCodeError` listing every difference."""
    problems = code_problems(folder, document)
    declared = document["code"].get("files")
    if declared is None:  # schema 1.0.0: still runs, but says so; `bundle check` fails
        log.warning("%s: %s", folder / "analysis.json", problems[0])
        return {rel: sha256_file(folder / rel) for rel in python_files(folder)}
    if problems:
        raise BundleCodeError(
            f"{folder / 'analysis.json'}: the bundle's code is not what it declares, so none of "
            "it is imported:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    for relative, digest in declared.items():
        _DECLARED[str((folder / relative).resolve())] = digest
    return {_normal(k): v for k, v in declared.items()}
