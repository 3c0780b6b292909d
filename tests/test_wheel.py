"""The wheel holds only runtime code; the sdist holds what a source build needs.

The wheel is built from this repository with hatchling (no network) and read as a zip: the
``recast`` package with its schemas and shipped bundles under ``recast/_data``, and nothing
of the development tree (the reference experiment, tests, benchmarks, docs). No ``.py`` in it
imports ``reference_experiment`` or ``torch`` (recast's modules and every file of the bundles
under ``recast/_data``, build scripts included), except ``recast/train/``, the ``[train]``
extra's runtime code, which imports torch lazily through ``recast/train/core/_torch.py``
(the rule of ``tests/test_reference_isolation.py``). Unpacked, the wheel imports and checks
the flagship bundle with the reference experiment made unimportable.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from .test_reference_isolation import REFERENCE, rule_breakers

ROOT = Path(__file__).resolve().parents[1]
DEVELOPMENT = {"reference", REFERENCE, "tests", "benchmarks", "docs"}
# schemas and shipped bundles: the package's data, beside its own modules
DATA = PurePosixPath("recast/_data")
BUNDLES = DATA / "analyses"


def _build(target: str, out: Path) -> Path:
    pytest.importorskip("hatchling")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", target, "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    (built,) = out.iterdir()
    return built


def _files(folder: Path) -> list[PurePosixPath]:
    """The files below ``folder`` as a build sees them (bytecode caches left out)."""
    return [
        PurePosixPath(path.relative_to(folder).as_posix())
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build("wheel", tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def listing(wheel: Path) -> set[PurePosixPath]:
    with zipfile.ZipFile(wheel) as archive:
        return {PurePosixPath(name) for name in archive.namelist() if not name.endswith("/")}


def test_the_wheel_holds_the_package_its_schemas_and_bundles(listing: set[PurePosixPath]) -> None:
    expected = {"recast" / path for path in _files(ROOT / "recast")}
    expected |= {DATA / "schemas" / path for path in _files(ROOT / "schemas")}
    expected |= {BUNDLES / path for path in _files(ROOT / "analyses")}
    assert expected - listing == set()
    for name in (
        "recast/__init__.py",
        "recast/cli.py",
        "recast/pipeline/__init__.py",
        "recast/analysis/__init__.py",
        "recast/likelihood/__init__.py",
        "recast/_data/schemas/1.1.0/analysis.json",
        "recast/_data/analyses/DEMO_MULTIB_GLUINO/analysis.json",
        "recast/_data/analyses/DEMO_MULTIB_GLUINO/networks/multib_demo.onnx",
        "recast/_data/analyses/ATLAS_SUSY_2018_30/analysis.py",
    ):
        assert PurePosixPath(name) in listing, name


def test_the_wheel_holds_nothing_else(listing: set[PurePosixPath]) -> None:
    tops = {path.parts[0] for path in listing} - {"recast"}
    assert len(tops) == 1 and tops.pop().endswith(".dist-info")
    assert [str(p) for p in listing if DEVELOPMENT & set(p.parts)] == []
    assert [str(p) for p in listing if "__pycache__" in p.parts or p.suffix == ".pyc"] == []
    # outside _data, the package is Python modules, the cross-section tables (derived
    # from published grids, each naming its source) and the HTML report's templates
    code = [p for p in listing if p.parts[0] == "recast" and not p.is_relative_to(DATA)]
    tables = PurePosixPath("recast/xsec/tables")
    templates = PurePosixPath("recast/report/html/templates")
    ours = [p for p in code if not p.is_relative_to(tables) and not p.is_relative_to(templates)]
    assert {p.suffix for p in ours} == {".py"}
    assert {p.suffix for p in code if p.is_relative_to(tables)} == {".json"}
    assert {p.suffix for p in code if p.is_relative_to(templates)} == {".j2", ".css", ".js"}


def test_no_file_of_the_wheel_imports_the_reference_or_torch(wheel: Path) -> None:
    """Every ``.py`` of the wheel, the bundles' included: only ``recast/train/`` imports torch,
    nothing imports the reference experiment (no exception for build scripts)."""
    with zipfile.ZipFile(wheel) as archive:
        sources = [
            (PurePosixPath(name), archive.read(name).decode())
            for name in archive.namelist()
            if name.endswith(".py")
        ]
    assert any(path.is_relative_to(BUNDLES) for path, _ in sources)
    assert rule_breakers(sources) == []


# run with the unpacked wheel's folder as argument
PROBE = f"""
import importlib, pkgutil, sys
sys.path.insert(0, sys.argv[1])
sys.modules["{REFERENCE}"] = None  # any import of it now fails
import recast
assert recast.__file__.startswith(sys.argv[1]), recast.__file__
for module in pkgutil.walk_packages(recast.__path__, "recast."):
    if not module.name.startswith("recast.train"):  # torch: tests/test_package.py imports it
        importlib.import_module(module.name)
from recast.cli import main
sys.argv = ["recast", "bundle", "check", "DEMO_MULTIB_GLUINO"]
main()
"""


def test_the_unpacked_wheel_runs_without_the_reference(wheel: Path, tmp_path: Path) -> None:
    """Every runtime module imports from the wheel alone, and the flagship bundle passes
    `recast bundle check` from ``recast/_data`` (its recorded code digests included)."""
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "DEMO_MULTIB_GLUINO: bundle passes every check" in result.stdout
    assert str(tmp_path / "recast" / "_data" / "analyses") in result.stdout


def test_the_sdist_holds_what_a_source_build_needs(tmp_path: Path) -> None:
    """`make test`, `make docs` and `make flagship` run from an unpacked sdist."""
    with tarfile.open(_build("sdist", tmp_path)) as archive:
        # names below the sdist's top folder (recast_nn-0.1.0/)
        listing = {
            PurePosixPath(*PurePosixPath(m.name).parts[1:])
            for m in archive.getmembers()
            if m.isfile()
        }
    named = ("Makefile", "pyproject.toml", "mkdocs.yml", "docs/flagship.md")
    expected = {PurePosixPath(n) for n in (*named, "benchmarks/bench_reference.py")}
    # whole folders (benchmarks/ and docs/ may hold local, git-ignored outputs)
    for folder in ("recast", REFERENCE, "schemas", "analyses", "tests"):
        expected |= {folder / path for path in _files(ROOT / folder)}
    assert PurePosixPath(REFERENCE, "grid.json") in expected
    assert expected - listing == set()
