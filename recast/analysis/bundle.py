"""Analysis bundles: ``analyses/<ID>/`` with ``analysis.json``, the code, networks and cutflows.

A bundle is code: loading one imports its Python files. So a bundle is named either by the id
of a bundle shipped with the package or installed by the user (``recast bundle install``, see
:mod:`.packaging`) or by an explicit path (``./X``, ``dir/X``, ``/abs/X``), never by a folder
that happens to be in the working directory; a bare name that is both is refused, listing
both. Every file a bundle names stays inside its folder
(:func:`recast.paths.inside`), every artefact is verified by its sha256, and so is every
Python file (``code.files``, schema 1.1.0) before any of it is imported. Loading also checks
that the published cutflows name only cuts of their region, and that the published network
histograms (schema ``network-histograms``) name features and outputs of their network's card.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import schema
from ..errors import (
    ArtefactNotFoundError,
    BundleNameError,
    DigestMismatchError,
    ProblemsError,
    RecastError,
    closest,
)
from ..io import sha256_file, write_json
from ..paths import inside
from ..preserve.locate import user_data_dir
from .base import Analysis, AnalysisDefinitionError
from .code import code_problems, import_file, python_files, stamp_code, verified_code
from .network_histograms import KIND as HISTOGRAMS_KIND
from .network_histograms import histogram_problems

__all__ = [  # import_file, python_files and stamp_code are code's, imported from here too
    "Bundle",
    "BundleCheckError",
    "BundleNotFoundError",
    "available",
    "bundles_root",
    "check_bundle",
    "cutflow_problems",
    "import_file",
    "installed",
    "is_explicit_path",
    "is_shipped",
    "list_bundles",
    "load_bundle",
    "locate",
    "python_files",
    "read_document",
    "region_problems",
    "stamp_bundle",
    "stamp_code",
    "user_bundles_root",
]

log = logging.getLogger(__name__)

#: a bundle id, as the schema ``analysis`` requires it (its folder's name)
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]*$")


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


def is_explicit_path(name: str | Path) -> bool:
    """A path, not an id: a Path object, or text with a separator or starting with '.'."""
    if isinstance(name, Path):
        return True
    separators = [s for s in (os.sep, os.altsep, "/") if s]
    return name.startswith((".", "~")) or any(s in name for s in separators)


def is_shipped(folder: Path) -> bool:
    """Whether ``folder`` is one of the bundles shipped with the package."""
    return folder.resolve().parent == bundles_root().resolve()


def user_bundles_root() -> Path:
    """Where bundles are installed (``recast bundle install``, :mod:`.packaging`):
    ``$RECAST_DATA_DIR/analyses``, else ``$XDG_DATA_HOME/recast-nn/analyses``
    (``~/.local/share/recast-nn/analyses``)."""
    return user_data_dir() / "analyses"


def installed() -> dict[str, Path]:
    """Installed bundles by id: the folders of the user bundle folder named by an id and
    holding ``analysis.json`` (the hidden folders of an install in progress are not)."""
    root = user_bundles_root()
    if not root.is_dir():
        return {}
    return {
        p.name: p
        for p in sorted(root.iterdir())
        if ID_PATTERN.match(p.name) and (p / "analysis.json").is_file()
    }


def _listing(shipped: Mapping[str, Path], users: Mapping[str, Path]) -> str:
    """``shipped bundles: A, B`` and, when there are any, the installed ones and where."""
    listing = f"shipped bundles: {', '.join(shipped) or 'none'}"
    if users:
        listing += f"; installed in {user_bundles_root()}: {', '.join(users)}"
    return listing


def locate(id_or_path: str | Path) -> Path:
    """A bundle folder from a shipped id, an installed id or an explicit path (as given).

    A bare name is a shipped id first, then an installed one (``recast bundle install``; an
    installed bundle never has a shipped bundle's id); a folder of that name in the working
    directory is refused (``./NAME`` names it), and so is a name that is both, with both
    listed.
    """
    shipped = available()
    users = installed()
    listing = _listing(shipped, users)
    if is_explicit_path(id_or_path):
        path = Path(id_or_path).expanduser()
        if (path / "analysis.json").is_file():
            return path
        raise BundleNotFoundError(
            f"{id_or_path}: not a bundle folder (no analysis.json in it); give the folder that "
            f"holds analysis.json, or the id of a shipped or installed bundle ({listing})"
        )
    name = str(id_or_path)
    here = (Path(name) / "analysis.json").is_file()
    if name in shipped and here:
        raise BundleNameError(
            f"bundle {name!r} is ambiguous: it is the shipped bundle {shipped[name]} and also the "
            f"folder ./{name} of the working directory. A bundle is code, so recast will not "
            f"guess: write ./{name} for the folder, or {shipped[name]} (or run from another "
            "directory) for the shipped bundle"
        )
    if name in shipped:
        return shipped[name].resolve()
    if name in users and here:
        raise BundleNameError(
            f"bundle {name!r} is ambiguous: it is the installed bundle {users[name]} and "
            f"also the folder ./{name} of the working directory. A bundle is code, so recast "
            f"will not guess: write ./{name} for the folder, or {users[name]} (or run from "
            "another directory) for the installed bundle"
        )
    if name in users:
        return users[name].resolve()
    if here:
        raise BundleNameError(
            f"bundle {name!r}: no shipped or installed bundle has this id, but the working "
            f"directory has a folder of that name. A bare name means a shipped or installed "
            f"bundle only (a bundle is code); write ./{name} to use the folder ({listing})"
        )
    raise BundleNotFoundError(
        f"no analysis bundle {name!r}: not a shipped bundle ({listing}) nor an installed one; "
        f"give a bundle folder by its path (e.g. ./{name}), or install it with `recast bundle "
        f"install`.{closest(name, [*shipped, *users])}"
    )


@dataclass
class Bundle:
    """A loaded bundle: its document, folder, analysis class and published cutflows."""

    folder: Path
    document: dict[str, Any]
    analysis_class: type[Analysis]
    cutflows: list[dict[str, Any]] = field(default_factory=list)
    #: every Python file of the bundle (relative path → sha256), as verified before import
    code_digests: dict[str, str] = field(default_factory=dict)
    #: sha256 of analysis.json when it was loaded
    document_sha256: str = ""
    #: published histograms of the networks' inputs and outputs (``network-histograms``)
    network_histograms: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.document["id"])

    @property
    def regions(self) -> dict[str, list[str]]:
        return {name: list(r["cuts"]) for name, r in self.document["regions"].items()}

    @property
    def status(self) -> str:
        return str(self.document["status"]["state"])

    @property
    def shipped(self) -> bool:
        return is_shipped(self.folder)

    def path(self, relative: str, field: str = "path") -> Path:
        """A file the bundle names, refused if it leaves the bundle's folder."""
        return inside(self.folder, relative, self.folder / "analysis.json", field)

    def network_cards(self) -> dict[str, Path]:
        return {
            name: self.path(a["path"], f"networks.{name}.path")
            for name, a in self.document.get("networks", {}).items()
        }

    def provenance(self) -> dict[str, Any]:
        """What a results document records of the bundle: where it was, whether it is
        shipped, and the digests of analysis.json, of its artefacts and of its code."""
        files = {str(a["path"]): str(a["sha256"]) for _, a in _artefacts(self.document)}
        files.update(self.code_digests)
        return {
            "id": self.id,
            "path": str(self.folder.resolve()),
            "shipped": self.shipped,
            "sha256": self.document_sha256,
            "files": dict(sorted(files.items())),
        }

    def published(
        self, region: str | None = None, benchmark: str | None = None
    ) -> Iterator[dict[str, Any]]:
        for document in self.cutflows:
            if (region is None or document["region"] == region) and (
                benchmark is None or document["benchmark"]["name"] == benchmark
            ):
                yield document

    def published_histograms(self, benchmark: str | None = None) -> list[dict[str, Any]]:
        """The published network histogram documents (of ``benchmark``)."""
        return [
            d
            for d in self.network_histograms
            if benchmark is None or d["benchmark"]["name"] == benchmark
        ]


def _artefacts(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    if "detector" in document:
        yield "detector", document["detector"]
    for name, artefact in document.get("detectors", {}).items():
        yield f"detectors.{name}", artefact
    for name, artefact in document.get("networks", {}).items():
        yield f"networks.{name}", artefact
    for i, artefact in enumerate(document.get("cutflows", [])):
        yield f"cutflows[{i}]", artefact
    for i, artefact in enumerate(document.get("network_histograms", [])):
        yield f"network_histograms[{i}]", artefact
    likelihood = document.get("likelihood", {})
    for name in ("regions_file", "workspace"):  # a bare path (no digest) is checked on use
        entry = likelihood.get(name)
        if isinstance(entry, dict) and isinstance(entry.get("path"), str) and "sha256" in entry:
            yield f"likelihood.{name}", entry


def stamp_bundle(id_or_path: str | Path, *, artefacts: bool = False) -> dict[str, str]:
    """Re-record the digests of a bundle (a shipped id or a folder) in its ``analysis.json``,
    written atomically: the sha256 of every Python file (``code.files``) and, with
    ``artefacts``, of every file it names (detector, networks, cutflows, likelihood), for an
    author who has just regenerated them. Without ``artefacts`` those must already match.
    Returns every file recorded (relative to the bundle) with its sha256, code first."""
    folder, document = read_document(id_or_path)
    source = folder / "analysis.json"
    if artefacts:
        for where, artefact in _artefacts(document):
            path = inside(folder, artefact["path"], source, f"{where}.path")
            if not path.is_file():
                raise ArtefactNotFoundError(
                    f"{source}: {where}.path {artefact['path']!r} is missing"
                )
            artefact["sha256"] = sha256_file(path)  # the document is ours: read just now
    problems = _digest_problems(folder, document)
    if problems:
        raise BundleCheckError(str(source), problems)
    inside(folder, document["code"]["module"], source, "code.module")
    stamped = stamp_code(folder, document)
    schema.validate(stamped, "analysis", str(source))
    write_json(source, stamped)
    recorded = {str(k): str(v) for k, v in stamped["code"]["files"].items()}
    if artefacts:
        recorded.update({str(a["path"]): str(a["sha256"]) for _, a in _artefacts(stamped)})
    return recorded


def _import_class(folder: Path, code: dict[str, Any], source: str) -> type[Analysis]:
    module_path = inside(folder, code["module"], source, "code.module")
    if not module_path.is_file():
        raise ArtefactNotFoundError(f"{source}: code.module {code['module']!r} does not exist")
    if is_shipped(folder):
        log.info("importing the code of the shipped bundle %s", folder.name)
    else:  # a bundle is code: say whose code runs
        log.warning(
            "importing the code of bundle %s from %s: a bundle is code, use only bundles you trust",
            folder.name,
            folder.resolve(),
        )
    module = import_file(f"recast_bundle_{folder.name}", module_path)
    cls = getattr(module, code["class"], None)
    if not (isinstance(cls, type) and issubclass(cls, Analysis)):
        raise AnalysisDefinitionError(
            f"{source}: code.class {code['class']!r} is not an Analysis subclass in "
            f"{module_path.name}"
        )
    return cls


def cutflow_problems(
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


def _histogram_problems(
    folder: Path, document: dict[str, Any], histograms: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    """Published network histograms against the bundle's id and their networks' cards (only
    the cards they name are read)."""
    from ..preserve.card import NetworkCard

    source = folder / "analysis.json"
    named = {str(h["network"]) for _, h in histograms}
    cards: dict[str, Any] = {}
    for name, artefact in document.get("networks", {}).items():
        if name not in named:
            cards[name] = "not named by any histogram"
            continue
        try:
            cards[name] = NetworkCard.load(
                inside(folder, artefact["path"], source, f"networks.{name}.path")
            )
        except RecastError as exc:
            cards[name] = f"its card cannot be read: {exc}"
    return histogram_problems(str(document["id"]), histograms, cards)


def _where_histograms(document: Mapping[str, Any], i: int) -> str:
    return f"network_histograms[{i}] ({document['network_histograms'][i]['path']})"


def region_problems(document: Mapping[str, Any]) -> list[str]:
    """Regions naming networks the bundle does not declare, and option defaults outside their
    choices (for loading and ``recast bundle check``)."""
    networks = document.get("networks", {})
    problems = []
    for region, spec in document["regions"].items():
        for name in spec.get("networks", []):
            if name not in networks:
                problems.append(
                    f"regions.{region}.networks names {name!r}, which is not under 'networks' "
                    f"({', '.join(networks) or 'none'}).{closest(name, networks)}"
                )
    for name, spec in document.get("options", {}).items():
        choices = spec.get("choices")
        if choices is not None and spec["default"] not in choices:
            problems.append(f"options.{name}.default {spec['default']!r} is not among its choices")
    return problems


def read_document(id_or_path: str | Path) -> tuple[Path, dict[str, Any]]:
    """The bundle folder and its validated ``analysis.json`` (no code is run)."""
    folder = locate(id_or_path)
    document = schema.load_json(folder / "analysis.json")
    schema.validate(document, "analysis", str(folder / "analysis.json"))
    return folder, document


def _digest_problems(folder: Path, document: dict[str, Any]) -> list[str]:
    problems = []
    source = folder / "analysis.json"
    for where, artefact in _artefacts(document):
        try:
            path = inside(folder, artefact["path"], source, f"{where}.path")
        except RecastError as exc:
            problems.append(str(exc))
            continue
        if not path.is_file():
            problems.append(f"{where}.path {artefact['path']!r} does not exist")
        elif (actual := sha256_file(path)) != artefact["sha256"]:
            problems.append(
                f"{where}: {artefact['path']} has sha256 {actual}, analysis.json records "
                f"{artefact['sha256']}; the file was modified or replaced"
            )
    return problems


def load_bundle(id_or_path: str | Path, verify: bool = True) -> Bundle:
    """Load and validate a bundle; raise on the first kind of problem (check_bundle: all).

    The code's digests are verified whatever ``verify`` says (it skips the artefacts' only):
    no code is imported that differs from what ``analysis.json`` declares.
    """
    folder, document = read_document(id_or_path)
    source = str(folder / "analysis.json")
    document_sha256 = sha256_file(folder / "analysis.json")
    paths = {
        where: inside(folder, artefact["path"], source, f"{where}.path")
        for where, artefact in _artefacts(document)
    }
    if verify:
        for where, artefact in _artefacts(document):
            path = paths[where]
            if not path.is_file():
                raise ArtefactNotFoundError(
                    f"{source}: {where}.path {artefact['path']!r} is missing"
                )
            actual = sha256_file(path)
            if actual != artefact["sha256"]:
                raise DigestMismatchError(
                    str(path), artefact["sha256"], actual, f"{where}.sha256 of {source}"
                )
    code = verified_code(folder, document)
    cls = _import_class(folder, document["code"], source)
    cutflows = []
    for i, _ in enumerate(document.get("cutflows", [])):
        path = paths[f"cutflows[{i}]"]
        cutflow = schema.load_json(path)
        schema.validate(cutflow, "cutflow", str(path))
        cutflows.append(cutflow)
    histograms = []
    for i, _ in enumerate(document.get("network_histograms", [])):
        path = paths[f"network_histograms[{i}]"]
        histogram = schema.load_json(path)
        schema.validate(histogram, HISTOGRAMS_KIND, str(path))
        histograms.append(histogram)
    bundle = Bundle(folder, document, cls, cutflows, code, document_sha256, histograms)
    problems = cutflow_problems(document, bundle.regions, cutflows) + region_problems(document)
    if histograms:
        located = [(_where_histograms(document, i), h) for i, h in enumerate(histograms)]
        problems += _histogram_problems(folder, document, located)
    if problems:
        raise BundleCheckError(source, problems)
    return bundle


def check_bundle(id_or_path: str | Path) -> list[str]:
    """Everything in a bundle: schemas, digests (artefacts and code), paths, detector,
    networks, cuts, published cutflows. Its code is imported only once its digests match.

    Returns what was verified; raises :class:`BundleCheckError` listing every problem.
    """
    from ..detector.description import load_detector
    from ..preserve.check import check_card

    folder, document = read_document(id_or_path)
    source = str(folder / "analysis.json")
    checked: list[str] = [f"{source}: valid analysis document"]
    problems = _digest_problems(folder, document)
    try:
        problems += code_problems(folder, document)
    except RecastError as exc:
        problems.append(str(exc))
    if problems:  # nothing else can be trusted, and no code is run
        raise BundleCheckError(source, problems)
    checked.append(f"{len(list(_artefacts(document)))} artefact digest(s) match")
    checked.append(
        f"{len(document['code']['files'])} Python file(s) match code.files; no other in the bundle"
    )

    def artefact_path(where: str, artefact: dict[str, Any]) -> Path:
        return inside(folder, artefact["path"], source, f"{where}.path")

    if "detector" in document:
        try:
            detector = load_detector(artefact_path("detector", document["detector"]))
            checked.append(f"detector {detector.name!r}: valid, its maps verified and loaded")
        except RecastError as exc:
            problems.append(f"detector: {exc}")
    for name, artefact in document.get("detectors", {}).items():  # --detector NAME
        try:
            detector = load_detector(artefact_path(f"detectors.{name}", artefact))
            checked.append(
                f"detectors.{name} ({artefact['path']}, {detector.name!r}): valid, its maps "
                "verified and loaded"
            )
        except RecastError as exc:
            problems.append(f"detectors.{name} ({artefact['path']}): {exc}")
    for name, artefact in document.get("networks", {}).items():
        try:
            report = check_card(artefact_path(f"networks.{name}", artefact))
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
        for warning in report.warnings:  # doubts that do not fail the card, said all the same
            if warning not in report.gaps:  # those are the release check's (status-dependent)
                log.warning("network %r: %s", name, warning)
    problems += region_problems(document)
    regions = {name: list(r["cuts"]) for name, r in document["regions"].items()}
    try:
        verified_code(folder, document)
        cls = _import_class(folder, document["code"], source)
        cls(regions)
        checked.append(f"{cls.__name__}: every region's cuts are declared")
    except RecastError as exc:
        problems.append(str(exc))
    cutflows = []
    for i, artefact in enumerate(document.get("cutflows", [])):
        try:
            path = artefact_path(f"cutflows[{i}]", artefact)
            cutflow = schema.load_json(path)
            schema.validate(cutflow, "cutflow", str(path))
            cutflows.append(cutflow)
        except RecastError as exc:
            problems.append(f"cutflows[{i}]: {exc}")
    if len(cutflows) == len(document.get("cutflows", [])):
        problems += cutflow_problems(document, regions, cutflows)
    histograms = []
    for i, artefact in enumerate(document.get("network_histograms", [])):
        try:
            path = artefact_path(f"network_histograms[{i}]", artefact)
            histogram = schema.load_json(path)
            schema.validate(histogram, HISTOGRAMS_KIND, str(path))
            histograms.append((_where_histograms(document, i), histogram))
        except RecastError as exc:
            problems.append(f"network_histograms[{i}]: {exc}")
    if histograms and len(histograms) == len(document.get("network_histograms", [])):
        problems += _histogram_problems(folder, document, histograms)
    if problems:
        raise BundleCheckError(source, problems)
    checked.append(f"{len(cutflows)} published cutflow(s) name only their region's cuts")
    if histograms:
        count = sum(len(h.get("inputs", [])) + len(h.get("outputs", [])) for _, h in histograms)
        checked.append(
            f"{len(histograms)} published network histogram document(s), {count} histogram(s): "
            "features and outputs of their cards, increasing edges"
        )
    return checked


def list_bundles() -> list[dict[str, Any]]:
    """A summary of every shipped bundle, then of every installed one, read from analysis.json
    alone (no code is run): ``origin`` ("shipped" or "installed"), ``path`` (the folder),
    ``digest`` (the first 12 hex digits of the sha256 of analysis.json), and the document's
    id, title, experiment, √s, luminosity, status, regions and their kinds (or ``error``)."""
    rows: list[dict[str, Any]] = []
    bundles = [(i, p, "shipped") for i, p in available().items()]
    bundles += [(i, p, "installed") for i, p in installed().items()]
    for bundle_id, folder, origin in bundles:
        row: dict[str, Any] = {"id": bundle_id, "origin": origin, "path": str(folder.resolve())}
        try:
            row["digest"] = sha256_file(folder / "analysis.json")[:12]
            _, document = read_document(folder)  # the folder: a ./ID of the cwd is no matter
        except (RecastError, OSError) as exc:
            rows.append({**row, "error": str(exc).splitlines()[0]})
            continue
        row.update(
            {
                "title": document.get("title", ""),
                "experiment": document["experiment"],
                "sqrt_s": document["sqrt_s"],
                "luminosity": document["luminosity"],
                "status": document["status"],
                "regions": list(document["regions"]),
                "kinds": [r.get("kind", "signal") for r in document["regions"].values()],
            }
        )
        rows.append(row)
    return rows
