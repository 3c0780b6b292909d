"""What a bundle's page is made of: its documents, read without running any of its code.

``analysis.json`` (validated, :func:`recast.analysis.bundle.read_document`), and the JSON
documents it names: network cards, detector descriptions and their maps, published cutflows,
published network histograms and the likelihood's region table. Each is confined to the
bundle's folder, checked against the sha256 that names it and validated against its schema,
so the page shows what ``recast run`` would load, or refuses the bundle with the file, the
field and the fix. Model files (ONNX) are not opened: the page shows what the cards say of
them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import schema
from ...analysis.bundle import read_document
from ...errors import ArtefactNotFoundError, DigestMismatchError, InvalidDocumentError
from ...io import sha256_file
from ...likelihood.simplified import Region, regions_from_document
from ...paths import inside

#: the name ``recast run --detector`` gives the bundle's ``detector``
DEFAULT_DETECTOR = "default"


@dataclass(frozen=True)
class Network:
    """A network of the bundle: its name, its entry under ``networks`` and its card."""

    name: str
    entry: Mapping[str, Any]
    card: Mapping[str, Any]


@dataclass(frozen=True)
class DetectorMap:
    """A map a detector description names: its path in the bundle, the document, and where
    it is used (``detector: collection role``)."""

    path: str
    document: Mapping[str, Any]
    used_by: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Detector:
    """A detector description: the names it goes by (``default`` and/or those under
    ``detectors``), its path in the bundle, the bundle's words for it and the document."""

    names: list[str]
    path: str
    description: str | None
    document: Mapping[str, Any]


@dataclass(frozen=True)
class BundleDocuments:
    """A bundle as its page shows it."""

    folder: Path
    document: Mapping[str, Any]
    networks: list[Network]
    detectors: list[Detector]
    maps: list[DetectorMap]
    cutflows: list[Mapping[str, Any]]
    #: published network histograms: (path in the bundle, document)
    histograms: list[tuple[str, Mapping[str, Any]]]
    #: the likelihood's published regions by name (observed, background and its uncertainty)
    likelihood_regions: dict[str, Region]

    @property
    def id(self) -> str:
        return str(self.document["id"])


def _relative(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(path, folder)).as_posix()


def _open(
    folder: Path,
    relative: str,
    digest: str | None,
    source: Path,
    where: str,
    kind: str | None,
) -> tuple[Path, Any]:
    """The document ``relative`` to ``folder`` as ``source`` names it (at ``where``):
    confined to the folder, its digest checked, validated as ``kind`` when given."""
    path = inside(folder, relative, source, where)
    if not path.is_file():
        raise ArtefactNotFoundError(
            f"{source}: {where} {relative!r} does not exist; restore the file, or run "
            "`recast bundle check` on the bundle"
        )
    if digest is not None and (actual := sha256_file(path)) != digest:
        raise DigestMismatchError(
            str(path),
            digest,
            actual,
            f"{where.removesuffix('.path')}.sha256 of {source}",
            "Restore the original file, or, if the change is meant, record its digest "
            "(recast bundle stamp --artefacts) and check the bundle (recast bundle check).",
        )
    document = schema.load_json(path)
    if kind is not None:
        schema.validate(document, kind, str(path))
    return path, document


def _detectors(
    folder: Path, document: Mapping[str, Any]
) -> tuple[list[Detector], list[DetectorMap]]:
    source = folder / "analysis.json"
    entries: list[tuple[str, Mapping[str, Any], str]] = []
    if "detector" in document:
        entries.append((DEFAULT_DETECTOR, document["detector"], "detector.path"))
    for name, entry in (document.get("detectors") or {}).items():
        entries.append((str(name), entry, f"detectors.{name}.path"))
    detectors: dict[str, Detector] = {}
    maps: dict[str, DetectorMap] = {}
    for name, entry, where in entries:
        relative = str(entry["path"])
        path, detector = _open(folder, relative, entry.get("sha256"), source, where, "detector")
        key = _relative(path, folder)
        if key in detectors:  # the default is often one of the named ones too
            detectors[key].names.append(name)
            if detectors[key].description is None and entry.get("description"):
                detectors[key] = Detector(
                    detectors[key].names, key, str(entry["description"]), detector
                )
            continue
        detectors[key] = Detector([name], key, entry.get("description"), detector)
        for collection, spec in (detector.get("objects") or {}).items():
            named = []
            if "efficiency" in spec:
                named.append((spec["efficiency"], f"objects.{collection}.efficiency", "efficiency"))
            for i, tag in enumerate(spec.get("tags") or []):
                named.append((tag, f"objects.{collection}.tags[{i}]", f"tag {tag['name']}"))
            for reference, at, role in named:
                map_path, found = _open(
                    path.parent, reference["map"], reference.get("sha256"), path, f"{at}.map",
                    "efficiency-map",
                )  # fmt: skip
                map_key = _relative(map_path, folder)
                entry_map = maps.setdefault(map_key, DetectorMap(map_key, found))
                entry_map.used_by.append(f"{key}: {collection} {role}")
    return list(detectors.values()), list(maps.values())


def _likelihood_regions(folder: Path, document: Mapping[str, Any]) -> dict[str, Region]:
    """The regions the likelihood publishes numbers of: inline and from ``regions_file``."""
    likelihood = document.get("likelihood")
    if not isinstance(likelihood, Mapping):
        return {}
    source = folder / "analysis.json"
    regions: list[Region] = []
    if "regions" in likelihood:
        regions += regions_from_document({"regions": likelihood["regions"]}, str(source))
    entry = likelihood.get("regions_file")
    if entry is not None:
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
            raise InvalidDocumentError(
                str(source), [("likelihood.regions_file", 'expected {"path": ..., "sha256": ...}')]
            )
        path, table = _open(
            folder, entry["path"], entry.get("sha256"), source, "likelihood.regions_file.path",
            None,
        )  # fmt: skip
        regions += regions_from_document(table, str(path))
    found: dict[str, Region] = {}
    for region in regions:
        found.setdefault(region.name, region)
    return found


def read_bundle(analysis: str | os.PathLike[str]) -> BundleDocuments:
    """The documents of the bundle ``analysis`` (a shipped id or a bundle folder): nothing
    of its code is imported or run."""
    folder, document = read_document(analysis if isinstance(analysis, str) else Path(analysis))
    source = folder / "analysis.json"
    networks = []
    for name, entry in (document.get("networks") or {}).items():
        _, card = _open(
            folder, entry["path"], entry.get("sha256"), source, f"networks.{name}.path",
            "network-card",
        )  # fmt: skip
        networks.append(Network(str(name), entry, card))
    detectors, maps = _detectors(folder, document)
    cutflows = []
    for i, entry in enumerate(document.get("cutflows") or []):
        _, cutflow = _open(
            folder, entry["path"], entry.get("sha256"), source, f"cutflows[{i}].path", "cutflow"
        )
        cutflows.append(cutflow)
    histograms = []
    for i, entry in enumerate(document.get("network_histograms") or []):
        path, histogram = _open(
            folder, entry["path"], entry.get("sha256"), source,
            f"network_histograms[{i}].path", None,
        )  # fmt: skip
        if not isinstance(histogram, Mapping):
            raise InvalidDocumentError(str(path), [("(document)", "expected an object")])
        histograms.append((_relative(path, folder), histogram))
    return BundleDocuments(
        folder,
        document,
        networks,
        detectors,
        maps,
        cutflows,
        histograms,
        _likelihood_regions(folder, document),
    )
