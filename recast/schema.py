"""Versioned JSON schemas: loaded once from the installed package, never from the network.

Every document carries ``schema_version``; :func:`validate` refuses versions it does not know
(listing the known ones) and reports *all* schema violations at once, each with its JSON path.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import referencing
import referencing.jsonschema

from .errors import InvalidDocumentError, UnknownSchemaVersionError

log = logging.getLogger(__name__)

CURRENT_VERSION = "1.0.0"
#: documents whose schema moved on: writers stamp this version, readers accept every known one
#: (1.1.0 added ``code.files`` to bundles: the digest of every Python file)
CURRENT_VERSIONS = {"analysis": "1.1.0"}
BASE_URI = "https://recast-nn.org/schemas/"


def schemas_root() -> Path:
    """Folder holding one sub-folder per schema version.

    In a wheel the schemas live in ``recast/_data/schemas``; in a source checkout (editable
    install) they are the repository's top-level ``schemas/``.
    """
    packaged = importlib.resources.files("recast") / "_data" / "schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "schemas"


def current_version(kind: str) -> str:
    """The version writers stamp on a document of ``kind``."""
    return CURRENT_VERSIONS.get(kind, CURRENT_VERSION)


@functools.cache
def known_versions(kind: str | None = None) -> tuple[str, ...]:
    """Every schema version, or those that define documents of ``kind`` (a later version
    may define only the documents that changed)."""
    root = schemas_root()
    versions = (p for p in root.iterdir() if (p / "defs.json").is_file())
    return tuple(sorted(p.name for p in versions if kind is None or (p / f"{kind}.json").is_file()))


@functools.cache
def _registry() -> referencing.Registry:
    resources = []
    for version in known_versions():
        for path in sorted((schemas_root() / version).glob("*.json")):
            contents = json.loads(path.read_text())
            resource = referencing.jsonschema.DRAFT202012.create_resource(contents)
            resources.append((f"{BASE_URI}{version}/{path.name}", resource))
    return referencing.Registry().with_resources(resources)


@functools.cache
def _validator(kind: str, version: str) -> jsonschema.protocols.Validator:
    uri = f"{BASE_URI}{version}/{kind}.json"
    try:
        schema = _registry().contents(uri)
    except referencing.exceptions.NoSuchResource:
        kinds = sorted(p.stem for p in (schemas_root() / version).glob("*.json"))
        raise ValueError(f"no schema {kind!r} in version {version}; there are {kinds}") from None
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, registry=_registry())


def json_path(parts: Any) -> str:
    """``['inputs', 0, 'features', 3, 'unit']`` -> ``inputs[0].features[3].unit``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _leaf_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For oneOf/anyOf failures, the errors of the branch that came closest."""
    if not error.context:
        return [error]
    best = jsonschema.exceptions.best_match(error.context)
    return _leaf_errors(best) if best is not None else [error]


def validate(document: Any, kind: str, source: str) -> None:
    """Validate a document against ``schemas/<its version>/<kind>.json``.

    Raises :class:`UnknownSchemaVersionError` or :class:`InvalidDocumentError` listing every
    problem with its JSON path.
    """
    if not isinstance(document, Mapping):
        raise InvalidDocumentError(source, [("(document)", "expected a JSON object")])
    version = document.get("schema_version")
    if version is None:
        raise InvalidDocumentError(
            source,
            [("schema_version", f'missing; add "schema_version": "{current_version(kind)}"')],
        )
    if version not in known_versions(kind):
        raise UnknownSchemaVersionError(source, version, known_versions(kind))
    validator = _validator(kind, version)
    problems: list[tuple[str, str]] = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        for leaf in _leaf_errors(error):
            problems.append((json_path(leaf.absolute_path), leaf.message))
    if problems:
        raise InvalidDocumentError(source, problems)
    log.debug("%s is a valid %s %s", source, kind, version)


def load_json(path: str | Path) -> Any:
    """Read a JSON file, turning syntax errors into one clear message."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        from .errors import ArtefactNotFoundError

        raise ArtefactNotFoundError(f"{path}: no such file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidDocumentError(
            str(path), [(f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}")]
        ) from None
