"""Analysis bundles: ``analyses/<ID>/`` with ``analysis.json``, the code, networks and cutflows.

A bundle is found by id among the bundles shipped with the package, or by a folder path.
Loading validates ``analysis.json``, verifies every artefact's sha256, imports the analysis
class, and checks that the published cutflows name only cuts of their region.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import schema
from ..errors import (
    ArtefactNotFoundError,
    DigestMismatchError,
    ProblemsError,
    RecastError,
    closest,
)
from ..io import sha256_file
from .base import Analysis, AnalysisDefinitionError

log = logging.getLogger(__name__)


class BundleNotFoundError(RecastError, FileNotFoundError):
    """No bundle of that id or path."""


class BundleCheckError(ProblemsError):
    """`recast bundle check` found problems; carries all of them."""


def bundles_root() -> Path:
    """The folder of shipped bundles: in the wheel, or the repository's ``analyses/``."""
    packaged = importlib.resources.files("recast") / "_data" / "analyses"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "analyses"


def available() -> dict[str, Path]:
    """Shipped bundles by id."""
    root = bundles_root()
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if (p / "analysis.json").is_file()}


def locate(id_or_path: str | Path) -> Path:
    """A bundle folder from a shipped id or a path."""
    path = Path(id_or_path)
    if (path / "analysis.json").is_file():
        return path
    shipped = available()
    if str(id_or_path) in shipped:
        return shipped[str(id_or_path)]
    raise BundleNotFoundError(
        f"no analysis bundle {str(id_or_path)!r}: not a folder with analysis.json, nor a shipped "
        f"bundle (shipped: {', '.join(shipped) or 'none'}).{closest(str(id_or_path), shipped)}"
    )


@dataclass
class Bundle:
    """A loaded bundle: its document, folder, analysis class and published cutflows."""

    folder: Path
    document: dict[str, Any]
    analysis_class: type[Analysis]
    cutflows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.document["id"])

    @property
    def regions(self) -> dict[str, list[str]]:
        return {name: list(r["cuts"]) for name, r in self.document["regions"].items()}

    @property
    def status(self) -> str:
        return str(self.document["status"]["state"])

    def path(self, relative: str) -> Path:
        return self.folder / relative

    def network_cards(self) -> dict[str, Path]:
        return {name: self.path(a["path"]) for name, a in self.document.get("networks", {}).items()}

    def published(
        self, region: str | None = None, benchmark: str | None = None
    ) -> Iterator[dict[str, Any]]:
        for document in self.cutflows:
            if (region is None or document["region"] == region) and (
                benchmark is None or document["benchmark"]["name"] == benchmark
            ):
                yield document


def _artefacts(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    if "detector" in document:
        yield "detector", document["detector"]
    for name, artefact in document.get("detectors", {}).items():
        yield f"detectors.{name}", artefact
    for name, artefact in document.get("networks", {}).items():
        yield f"networks.{name}", artefact
    for i, artefact in enumerate(document.get("cutflows", [])):
        yield f"cutflows[{i}]", artefact


def import_file(module_name: str, path: Path, *, reuse: bool = False) -> ModuleType:
    """Execute the Python file ``path`` as the module ``module_name``, registered in
    ``sys.modules`` (Dask workers unpickle a bundle's classes by module name). With ``reuse``
    a module already imported under that name is returned as it is: how a bundle's files
    import their siblings, and scripts and tests import a bundle's files."""
    if reuse and module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def _import_class(folder: Path, code: dict[str, str], source: str) -> type[Analysis]:
    module_path = folder / code["module"]
    if not module_path.is_file():
        raise ArtefactNotFoundError(f"{source}: code.module {code['module']!r} does not exist")
    module = import_file(f"recast_bundle_{folder.name}", module_path)
    cls = getattr(module, code["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, Analysis)):
        raise AnalysisDefinitionError(
            f"{source}: code.class {code['class']!r} is not an Analysis subclass in "
            f"{module_path.name}"
        )
    return cls


def _cutflow_problems(
    document: dict[str, Any], regions: dict[str, list[str]], cutflows: list[dict[str, Any]]
) -> list[str]:
    """Published cutflows must name their bundle, a region of it, and only its cuts in order."""
    problems = []
    seen: set[tuple[str, str]] = set()
    for i, cutflow in enumerate(cutflows):
        region = cutflow["region"]
        where = f"cutflows[{i}] ({document['cutflows'][i]['path']})"
        if cutflow["analysis"] != document["id"]:
            problems.append(
                f"{where}: analysis {cutflow['analysis']!r} is not this bundle's id "
                f"{document['id']!r}"
            )
        key = (region, cutflow["benchmark"]["name"])
        if key in seen:
            problems.append(
                f"{where}: a second cutflow of region {region!r} for benchmark {key[1]!r}"
            )
        seen.add(key)
        if region not in regions:
            problems.append(
                f"{where}: region {region!r} is not in analysis.json.{closest(region, regions)}"
            )
            continue
        cuts = regions[region]
        for step in cutflow["steps"]:
            if step["cut"] not in cuts:
                problems.append(
                    f"{where}: step {step['cut']!r} is not a cut of region "
                    f"{region!r} ({', '.join(cuts)}).{closest(step['cut'], cuts)}"
                )
        order = [cuts.index(s["cut"]) for s in cutflow["steps"] if s["cut"] in cuts]
        if order != sorted(set(order)):
            problems.append(f"{where}: steps are not in the region's cut order, each once: {cuts}")
    return problems


def read_document(id_or_path: str | Path) -> tuple[Path, dict[str, Any]]:
    """The bundle folder and its validated ``analysis.json`` (no code is run)."""
    folder = locate(id_or_path)
    document = schema.load_json(folder / "analysis.json")
    schema.validate(document, "analysis", str(folder / "analysis.json"))
    return folder, document


def _digest_problems(folder: Path, document: dict[str, Any]) -> list[str]:
    problems = []
    for where, artefact in _artefacts(document):
        path = folder / artefact["path"]
        if not path.is_file():
            problems.append(f"{where}.path {artefact['path']!r} does not exist")
        elif (actual := sha256_file(path)) != artefact["sha256"]:
            problems.append(
                f"{where}: {artefact['path']} has sha256 {actual}, analysis.json records "
                f"{artefact['sha256']}; the file was modified or replaced"
            )
    return problems


def load_bundle(id_or_path: str | Path, verify: bool = True) -> Bundle:
    """Load and validate a bundle; raise on the first kind of problem (check_bundle: all)."""
    folder, document = read_document(id_or_path)
    source = str(folder / "analysis.json")
    if verify:
        for where, artefact in _artefacts(document):
            path = folder / artefact["path"]
            if not path.is_file():
                raise ArtefactNotFoundError(
                    f"{source}: {where}.path {artefact['path']!r} is missing"
                )
            actual = sha256_file(path)
            if actual != artefact["sha256"]:
                raise DigestMismatchError(
                    str(path), artefact["sha256"], actual, f"{where}.sha256 of {source}"
                )
    cls = _import_class(folder, document["code"], source)
    cutflows = []
    for artefact in document.get("cutflows", []):
        path = folder / artefact["path"]
        cutflow = schema.load_json(path)
        schema.validate(cutflow, "cutflow", str(path))
        cutflows.append(cutflow)
    bundle = Bundle(folder, document, cls, cutflows)
    from .settings import region_problems

    problems = _cutflow_problems(document, bundle.regions, cutflows) + region_problems(document)
    if problems:
        raise BundleCheckError(source, problems)
    return bundle


def check_bundle(id_or_path: str | Path) -> list[str]:
    """Everything in a bundle: schemas, digests, detector, networks, cuts, published cutflows.

    Returns what was verified; raises :class:`BundleCheckError` listing every problem.
    """
    from ..detector.description import load_detector
    from ..preserve.check import check_card
    from .settings import region_problems

    folder, document = read_document(id_or_path)
    source = str(folder / "analysis.json")
    checked: list[str] = [f"{source}: valid analysis document"]
    problems = _digest_problems(folder, document)
    if problems:  # nothing else can be trusted
        raise BundleCheckError(source, problems)
    checked.append(f"{len(list(_artefacts(document)))} artefact digest(s) match")
    if "detector" in document:
        try:
            detector = load_detector(folder / document["detector"]["path"])
            checked.append(f"detector {detector.name!r}: valid, its maps verified and loaded")
        except RecastError as exc:
            problems.append(f"detector: {exc}")
    for name, artefact in document.get("detectors", {}).items():  # --detector NAME
        try:
            detector = load_detector(folder / artefact["path"])
            checked.append(
                f"detectors.{name} ({artefact['path']}, {detector.name!r}): valid, its maps "
                "verified and loaded"
            )
        except RecastError as exc:
            problems.append(f"detectors.{name} ({artefact['path']}): {exc}")
    for name, artefact in document.get("networks", {}).items():
        try:
            report = check_card(folder / artefact["path"])
        except RecastError as exc:
            problems.append(f"network {name!r}: {exc}")
            continue
        if report.skipped:
            needing = [r for r, s in document["regions"].items() if name in s.get("networks", [])]
            checked.append(
                f"network {name!r}: card valid; its file is not distributed and not found, so "
                f"regions {', '.join(needing) or '(none)'} will be skipped unless it is given "
                f"(--network {name}=PATH)"
            )
        else:
            checked.append(f"network {name!r}: card passes every check")
    problems += region_problems(document)
    regions = {name: list(r["cuts"]) for name, r in document["regions"].items()}
    try:
        cls = _import_class(folder, document["code"], source)
        cls(regions)
        checked.append(f"{cls.__name__}: every region's cuts are declared")
    except RecastError as exc:
        problems.append(str(exc))
    cutflows = []
    for i, artefact in enumerate(document.get("cutflows", [])):
        try:
            cutflow = schema.load_json(folder / artefact["path"])
            schema.validate(cutflow, "cutflow", str(folder / artefact["path"]))
            cutflows.append(cutflow)
        except RecastError as exc:
            problems.append(f"cutflows[{i}]: {exc}")
    if len(cutflows) == len(document.get("cutflows", [])):
        problems += _cutflow_problems(document, regions, cutflows)
    if problems:
        raise BundleCheckError(source, problems)
    checked.append(f"{len(cutflows)} published cutflow(s) name only their region's cuts")
    return checked


def list_bundles() -> list[dict[str, Any]]:
    """A summary of every shipped bundle, read from analysis.json alone (no code is run)."""
    rows = []
    for bundle_id in available():
        try:
            _, document = read_document(bundle_id)
        except RecastError as exc:
            rows.append({"id": bundle_id, "error": str(exc).splitlines()[0]})
            continue
        rows.append(
            {
                "id": bundle_id,
                "title": document.get("title", ""),
                "experiment": document["experiment"],
                "sqrt_s": document["sqrt_s"],
                "luminosity": document["luminosity"],
                "status": document["status"],
                "regions": list(document["regions"]),
                "kinds": [r.get("kind", "signal") for r in document["regions"].values()],
            }
        )
    return rows
