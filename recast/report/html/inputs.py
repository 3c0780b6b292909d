"""What a report is made of: results, validation and scan documents, told apart by content.

Each input is a document already in memory (a mapping) or the path of its JSON file; a scan
may also be the folder `recast scan --points -o FOLDER` wrote (its ``plane.json``). The kind
is read from the content, never from the file name, so ``recast report a.json b.json`` needs
no flags; a document of the wrong kind, or two of one kind, is refused with its name.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import ArtefactNotFoundError, InvalidDocumentError, UsageError
from ...schema import load_json, validate

#: the slots of a report, in the order its sections come
SLOTS = ("results", "validation", "scan")

#: the plane a model scan writes into its folder (recast.pipeline.plane.PLANE_FILE: the
#: report layer may not import the pipeline)
PLANE_FILE = "plane.json"
PLANE_FORMAT = "recast-plane"

#: what each kind is and which command writes it, for messages
WRITERS = {
    "results": "a results document (recast run -o)",
    "validation": "a validation document (recast validate -o)",
    "scan": "a scan document (recast scan --grid -o)",
    "plane": f"a model scan's folder or its {PLANE_FILE} (recast scan --points -o)",
}


@dataclass(frozen=True)
class Source:
    """One input of a report: its ``slot`` (results, validation, scan), its ``form`` (the
    slot, or ``plane`` for a model scan), the document, and the file it came from (None for
    a document given in memory)."""

    slot: str
    form: str
    document: Mapping[str, Any]
    path: Path | None

    @property
    def name(self) -> str:
        """How messages and the page name it: the file, or the slot for a mapping."""
        return str(self.path) if self.path is not None else f"the {self.slot} document"


def kind_of(document: Any) -> str | None:
    """``results``, ``validation``, ``scan`` or ``plane`` from the keys only a document of
    that kind has; None for anything else."""
    if not isinstance(document, Mapping):
        return None
    keys = set(document)
    if document.get("format") == PLANE_FORMAT:
        return "plane"
    if {"normalisation", "yields", "cutflows"} <= keys:
        return "results"
    if {"benchmark", "tolerance", "regions"} <= keys and isinstance(document["regions"], list):
        return "validation"
    if {"grid", "points", "parameters"} <= keys:
        return "scan"
    return None


def _slot_of(form: str) -> str:
    return "scan" if form == "plane" else form


def read_source(value: Any, slot: str | None = None) -> Source:
    """The input ``value`` (a document, an object holding one as ``.document`` such as a
    ``RunResult``, its JSON file, or a scan folder) with its kind; when
    ``slot`` is given the kind must fit it. Refused: a missing file, a folder without
    ``plane.json``, invalid JSON, a document of no known kind or of another slot's kind."""
    path: Path | None = None
    # recast.run's RunResult, Validation, Scan and Plane carry their document
    held = getattr(value, "document", None)
    if isinstance(held, Mapping):
        value = held
    if isinstance(value, Mapping):
        document: Any = value
        where = f"{slot}=" if slot is not None else "a document"
    elif not isinstance(value, str | os.PathLike):
        raise UsageError(
            f"{slot or 'an input'}={type(value).__name__}: give a document (a mapping, or a "
            "RunResult, Validation, Scan or Plane), the path of its JSON file, or a folder"
        )
    else:
        path = Path(value)
        if path.is_dir():
            if not (path / PLANE_FILE).is_file():
                raise UsageError(
                    f"{path}: a folder, but not a model scan's (it holds no {PLANE_FILE}); give "
                    "the JSON files of results, validation or scan, or the folder `recast scan "
                    "--points -o FOLDER` wrote"
                )
            path = path / PLANE_FILE
        elif not path.exists():
            raise ArtefactNotFoundError(
                f"{path}: no such file; give a results, validation or scan JSON file, or a "
                "model scan's folder"
            )
        document = load_json(path)
        where = str(path)
    form = kind_of(document)
    if form is None:
        known = "; ".join(WRITERS.values())
        raise UsageError(f"{where}: not a document a report is made of; it must be one of: {known}")
    if slot is not None and _slot_of(form) != slot:
        raise UsageError(
            f"{where}: is {WRITERS[form]}, given as {slot}; give it as {_slot_of(form)}= instead"
        )
    _check(document, form, where)
    return Source(_slot_of(form), form, document, path)


def sort_sources(values: Iterable[str | os.PathLike[str]]) -> dict[str, Source]:
    """Inputs of the command line by their kind: at most one of each slot."""
    found: dict[str, Source] = {}
    for value in values:
        source = read_source(value)
        if source.slot in found:
            raise UsageError(
                f"{source.name}: a second {source.slot} input (the first is "
                f"{found[source.slot].name}); a report shows one of each: give one"
            )
        found[source.slot] = source
    return found


def _missing(document: Mapping[str, Any], keys: Sequence[str], where: str) -> list[tuple[str, str]]:
    return [(f"{where}{k}", "missing") for k in keys if k not in document]


def _check(document: Mapping[str, Any], form: str, source: str) -> None:
    """The fields the report reads, so that a hand-edited document fails with its JSON path
    rather than a KeyError; results documents have a schema, the others are checked here."""
    if form == "results":
        validate(document, "results", source)
        return
    problems: list[tuple[str, str]] = []
    if form == "validation":
        problems += _missing(document, ("analysis", "passed"), "")
        problems += _missing(document["tolerance"], ("relative", "max_pull"), "tolerance.")
        for i, region in enumerate(document["regions"]):
            if not isinstance(region, Mapping):
                problems.append((f"regions[{i}]", "expected an object"))
                continue
            problems += _missing(region, ("region", "unit", "steps", "passed"), f"regions[{i}].")
            for j, step in enumerate(region.get("steps") or []):
                problems += _missing(
                    step,
                    ("cut", "recast", "recast_uncertainty", "published", "ratio", "pull", "passed"),
                    f"regions[{i}].steps[{j}].",
                )
        problems += _histogram_problems(document.get("network_histograms"))
    elif form == "scan":
        for i, point in enumerate(document["points"]):
            problems += _missing(point, ("parameters",), f"points[{i}].")
    elif form == "plane":
        problems += _missing(document, ("parameters", "points"), "")
        for i, point in enumerate(document.get("points") or []):
            problems += _missing(point, ("name", "values"), f"points[{i}].")
    if problems:
        raise InvalidDocumentError(source, problems)


def _numbers(value: Any, length: int | None = None, nulls: bool = False) -> str | None:
    """Why ``value`` is not a list of numbers (of ``length``; null entries allowed when
    ``nulls``: an undefined number written as JSON null), or None."""
    if not isinstance(value, list) or not all(
        (isinstance(v, int | float) and not isinstance(v, bool)) or (nulls and v is None)
        for v in value
    ):
        return "expected a list of numbers"
    if length is not None and len(value) != length:
        return f"expected {length} numbers (one per bin of edges), not {len(value)}"
    return None


def _histogram_problems(histograms: Any) -> list[tuple[str, str]]:
    """The problems of a validation's ``network_histograms`` (absent is fine)."""
    if histograms is None:
        return []
    if not isinstance(histograms, list):
        return [("network_histograms", "expected a list of histograms")]
    problems: list[tuple[str, str]] = []
    for i, entry in enumerate(histograms):
        where = f"network_histograms[{i}]"
        if not isinstance(entry, Mapping):
            problems.append((where, "expected an object"))
            continue
        problems += _missing(
            entry, ("network", "feature", "edges", "published", "recast"), f"{where}."
        )
        edges: list[float] = entry.get("edges") or []
        why = _numbers(entry.get("edges"))
        if why is None and (len(edges) < 2 or any(b <= a for a, b in itertools.pairwise(edges))):
            why = "expected at least two increasing bin edges"
        if why is not None:  # without edges the counts cannot be checked
            if "edges" in entry:
                problems.append((f"{where}.edges", why))
            continue
        for side in ("published", "recast"):
            counts = entry.get(side)
            if side not in entry:
                continue
            if not isinstance(counts, Mapping):
                problems.append((f"{where}.{side}", "expected an object with counts and errors"))
                continue
            for key in ("counts", "errors"):
                bad = _numbers(counts.get(key), len(edges) - 1, nulls=True)
                if bad is not None:
                    problems.append((f"{where}.{side}.{key}", bad))
        for key in ("chi2", "p_value", "ks"):
            value = entry.get(key)
            if value is not None and (
                not isinstance(value, int | float) or isinstance(value, bool)
            ):
                problems.append((f"{where}.{key}", "expected a number or null"))
    return problems


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number, NaN or infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
