"""A folder of SLHA points and its index (``points.json``), which a scan reads back.

The index names the template (file and sha256), the parameters, and per point its name, its
values, its file and that file's sha256. It is written last: a folder with an index holds
every point it lists.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DigestMismatchError, InvalidDocumentError, OutputError, UsageError
from ..io import check_output, write_json, write_text
from ..paths import inside
from ..schema import load_json
from .processes import production
from .template import Point, Template, Value

log = logging.getLogger(__name__)

INDEX = "points.json"
FORMAT = "recast-points"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class StoredPoint:
    """A point as the index lists it: its name, values and SLHA file."""

    name: str
    values: Mapping[str, Value]
    path: Path
    sha256: str


@dataclass(frozen=True)
class PointSet:
    """A folder written by :func:`write_points`, as read back by :func:`read_points`."""

    folder: Path
    template: str
    template_sha256: str
    parameters: tuple[str, ...]
    points: tuple[StoredPoint, ...]
    locations: Mapping[str, str]
    process: str | None = None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def check_folder(
    folder: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]] = ()
) -> None:
    """Refuse an output folder before anything is filled: one that is a file, not writable,
    an input, or already holds files other than an earlier set of points (its index)."""
    target = Path(folder)
    check_output(target, inputs=inputs, field="-o/--output", folder=True)
    if target.is_dir() and any(target.iterdir()) and not (target / INDEX).is_file():
        raise OutputError(
            f"-o/--output {target}: the folder holds other files and no {INDEX}; give a new or "
            "empty folder (or one written by `recast points` before)"
        )


def write_points(
    template: Template,
    points: Sequence[Point],
    folder: str | os.PathLike[str],
    *,
    process: str | None = None,
) -> Path:
    """Write each point's SLHA file and then the index into ``folder``; returns the index.

    Each file is written atomically; the index comes last, so an interrupted run leaves no
    index listing a missing file. Call after :func:`recast.model.points` has checked every
    point (nothing is written for a bad grid). ``process`` (a name of
    :data:`recast.model.PRODUCTIONS`) is recorded for the steps that generate events."""
    if process is not None:
        process = production(process).name  # a known name, refused before writing
    target = Path(folder)
    inputs = [template.source] if Path(template.source).is_file() else []
    check_folder(target, inputs)
    target.mkdir(parents=True, exist_ok=True)
    for point in points:
        write_text(target / point.file_name, point.slha)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "template": {
            "file": template.source,
            "sha256": template.sha256,
            "locations": dict(template.locations),
        },
        "process": process,
        "parameters": list(points[0].values) if points else list(template.parameters),
        "points": [
            {
                "name": point.name,
                "values": dict(point.values),
                "file": point.file_name,
                "sha256": _digest(point.slha),
            }
            for point in points
        ],
    }
    index = target / INDEX
    write_json(index, document)
    log.info("wrote %d points and %s", len(points), index)
    return index


def _field(document: Any, key: str, kind: type | tuple[type, ...], source: str, where: str) -> Any:
    value = document.get(key) if isinstance(document, dict) else None
    if not isinstance(value, kind):
        raise InvalidDocumentError(source, [(f"{where}{key}", f"missing or not a {kind}")])
    return value


def read_points(folder: str | os.PathLike[str], *, verify: bool = True) -> PointSet:
    """The points of a folder written by :func:`write_points` (or its index file).

    With ``verify`` each SLHA file's sha256 is checked against the index: a changed file is
    refused (:class:`DigestMismatchError`), a missing one too."""
    given = Path(folder)
    index = given if given.is_file() else given / INDEX
    root = index.parent
    source = str(index)
    if not index.is_file() and given.is_dir():
        raise UsageError(f"{given}: no {INDEX} here; write the points with `recast points`")
    document = load_json(index)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidDocumentError(source, [("format", f"not {FORMAT!r}: not a points index")])
    if document.get("format_version") != FORMAT_VERSION:
        raise InvalidDocumentError(
            source,
            [("format_version", f"{document.get('format_version')!r}; known: {FORMAT_VERSION}")],
        )
    template = _field(document, "template", dict, source, "")
    parameters = _field(document, "parameters", list, source, "")
    stored = []
    for n, entry in enumerate(_field(document, "points", list, source, "")):
        where = f"points[{n}]."
        name = _field(entry, "name", str, source, where)
        values = _field(entry, "values", dict, source, where)
        file = _field(entry, "file", str, source, where)
        digest = _field(entry, "sha256", str, source, where)
        path = inside(root, file, source, f"{where}file")
        if verify:
            try:
                actual = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                raise UsageError(
                    f"{source}: point {name}: its file {path} is missing or unreadable; "
                    "write the points again with `recast points`"
                ) from None
            if actual != digest:
                raise DigestMismatchError(
                    str(path), digest, actual, f"{source} {where}sha256",
                    fix="Write the points again with `recast points`.",
                )  # fmt: skip
        stored.append(StoredPoint(name, values, path, digest))
    return PointSet(
        folder=root,
        template=str(_field(template, "file", str, source, "template.")),
        template_sha256=str(_field(template, "sha256", str, source, "template.")),
        parameters=tuple(parameters),
        points=tuple(stored),
        locations=dict(template.get("locations") or {}),
        process=document.get("process") if isinstance(document.get("process"), str) else None,
    )
