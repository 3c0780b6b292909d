"""The ``likelihood`` of a bundle (``analysis.json``) or of a stand-alone likelihood file.

Shape, all members optional but one of ``regions``/``regions_file``/``workspace``::

    "likelihood": {
      "regions": {"SR-A": {"observed": 3, "background": 0.81, "background_uncertainty": 0.32}},
      "regions_file": {"path": "likelihood/signal_regions.json", "sha256": "..."},
      "combine": [["SR-A", "SR-B"]],
      "constraint": "lognormal",
      "signal_uncertainty": 0.1,
      "workspace": {"path": "likelihood/BkgOnly.json", "sha256": "...", "poi": "mu_SIG",
                    "map": {"SR-A": {"channel": "SR_A_cuts", "bin": 0}}}
    }

``combine`` lists sets of regions that share no events (so their likelihoods multiply);
regions not in a set are used one at a time and the best expected one is reported.
``signal_uncertainty`` is relative, added to the signal's MC statistical uncertainty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import schema
from ..errors import ArtefactNotFoundError, DigestMismatchError, InvalidDocumentError
from ..io import sha256_file
from ..paths import inside
from .closed_form import CONSTRAINTS
from .simplified import Region, load_regions, regions_from_document
from .workspace import load_workspace


@dataclass
class WorkspaceSpec:
    spec: dict[str, Any]
    source: str
    region_map: dict[str, dict[str, Any]]
    poi: str | None = None


@dataclass
class LikelihoodSpec:
    """What limits can be computed from: regions, independent sets of them, a workspace."""

    source: str
    regions: list[Region] = field(default_factory=list)
    combine: list[list[str]] = field(default_factory=list)
    constraint: str = "lognormal"
    signal_uncertainty: float = 0.0
    workspace: WorkspaceSpec | None = None


def _artefact(entry: Any, folder: Path, where: str, source: str) -> Path:
    if isinstance(entry, str):
        entry = {"path": entry}
    if not isinstance(entry, Mapping) or not isinstance(entry.get("path"), str):
        raise InvalidDocumentError(source, [(where, 'expected {"path": ..., "sha256": ...}')])
    path = inside(folder, entry["path"], source, f"{where}.path")
    if not path.is_file():
        raise ArtefactNotFoundError(f"{source}: {where}.path {entry['path']!r} does not exist")
    if "sha256" in entry and sha256_file(path) != entry["sha256"]:
        raise DigestMismatchError(str(path), entry["sha256"], sha256_file(path), f"{where}.sha256")
    return path


def likelihood_from_document(
    document: Any, folder: Path, source: str, where: str = "likelihood"
) -> LikelihoodSpec:
    """Parse a ``likelihood`` object; paths are relative to ``folder``."""
    if not isinstance(document, Mapping):
        raise InvalidDocumentError(source, [(where, "expected an object")])
    problems = []
    spec = LikelihoodSpec(source)
    if "regions" in document:
        spec.regions = regions_from_document({"regions": document["regions"]}, source)
    if "regions_file" in document:
        path = _artefact(document["regions_file"], folder, f"{where}.regions_file", source)
        spec.regions += load_regions(path)
    names = {r.name for r in spec.regions}
    combine = document.get("combine", [])
    if not isinstance(combine, list) or not all(isinstance(s, list) for s in combine):
        problems.append((f"{where}.combine", "expected a list of lists of region names"))
    else:
        for i, group in enumerate(combine):
            unknown = [n for n in group if n not in names]
            if unknown:
                problems.append((f"{where}.combine[{i}]", f"unknown region(s) {unknown}"))
        spec.combine = [list(map(str, group)) for group in combine]
    constraint = document.get("constraint", "lognormal")
    if constraint not in CONSTRAINTS:
        problems.append((f"{where}.constraint", f"{constraint!r} is not one of {CONSTRAINTS}"))
    spec.constraint = str(constraint)
    relative = document.get("signal_uncertainty", 0.0)
    if isinstance(relative, bool) or not isinstance(relative, int | float) or relative < 0:
        problems.append((f"{where}.signal_uncertainty", "expected a relative uncertainty ≥ 0"))
    else:
        spec.signal_uncertainty = float(relative)
    if "workspace" in document:
        entry = document["workspace"]
        path = _artefact(entry, folder, f"{where}.workspace", source)
        region_map = entry.get("map") if isinstance(entry, Mapping) else None
        if not isinstance(region_map, Mapping) or not region_map:
            problems.append(
                (f"{where}.workspace.map", 'expected {"REGION": {"channel": ..., "bin": 0}}')
            )
        else:
            spec.workspace = WorkspaceSpec(
                load_workspace(path),
                str(path),
                {str(k): dict(v) for k, v in region_map.items()},
                entry.get("poi"),
            )
    if not (spec.regions or spec.workspace or problems):
        problems.append((where, "has neither regions, regions_file nor workspace"))
    if problems:
        raise InvalidDocumentError(source, problems)
    return spec


def load_likelihood(path: str | Path) -> LikelihoodSpec:
    """A likelihood file: a ``{"likelihood": ...}`` document, a bundle's analysis.json, or a
    region table like ``signal_regions.json``."""
    path = Path(path)
    document = schema.load_json(path)
    if isinstance(document, Mapping) and "likelihood" in document:
        return likelihood_from_document(document["likelihood"], path.parent, str(path))
    return LikelihoodSpec(str(path), regions=regions_from_document(document, str(path)))


def needed_regions(spec: LikelihoodSpec) -> Sequence[str]:
    names = [r.name for r in spec.regions]
    if spec.workspace is not None:
        names += [n for n in spec.workspace.region_map if n not in names]
    return names
