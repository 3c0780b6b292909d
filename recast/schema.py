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
#: (1.1.0 added ``code.files`` to bundles: the digest of every Python file; and to network
#: cards each feature's ``guessed`` fields, with card-definitions documents to state them)
CURRENT_VERSIONS = {
    "analysis": "1.1.0",
    "network-histograms": "1.1.0",
    "network-card": "1.1.0",
    "card-definitions": "1.1.0",
}
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
    """For oneOf/anyOf failures, the errors of the branch that came closest.

    Closest: not a branch that only misses its own required keys (the document meant
    another branch), then the fewest errors, then the error deepest in the document (the
    branch matched further: ``max_count: 4.5`` is a wrong count, not a missing
    ``parameter``)."""
    if not error.context:
        return [error]
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)

    def distance(errors: list[jsonschema.ValidationError]) -> tuple[bool, int, int]:
        missing = all(e.validator == "required" and not e.relative_path for e in errors)
        return missing, len(errors), -max(len(e.relative_path) for e in errors)

    chosen = min(branches.values(), key=distance)
    return [leaf for sub in chosen for leaf in _leaf_errors(sub)]


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


#: deeper nesting than any recast document needs (they nest ~10 levels); the limit also keeps
#: schema validation and the checks, which recurse, far from Python's recursion limit
MAX_DEPTH = 64
#: an integer of more digits is beyond float64 (1.8e308) and would fail on conversion
MAX_INT_DIGITS = 300


class _DuplicateKey(Exception):
    def __init__(self, key: str, first: Any, second: Any, start: int | None = None) -> None:
        super().__init__(key)
        self.key, self.first, self.second, self.start = key, first, second, start


class _HugeInteger(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: a repeated key would silently win otherwise."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key, document[key], value)
        document[key] = value
    return document


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _HugeInteger(text)
    return int(text)


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    return f"line {line} column {index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def _shown(value: Any) -> str:
    shown = json.dumps(value, allow_nan=True) if not isinstance(value, dict | list) else "{...}"
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _locate_duplicate(text: str) -> _DuplicateKey:
    """Parse again, slowly, with the start of each object known, to say where the key is."""
    import json.decoder
    import json.scanner

    decoder = json.JSONDecoder(parse_int=_bounded_int)

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> Any:
        start = s_and_end[1] - 1

        def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            try:
                return _unique_pairs(pairs)
            except _DuplicateKey as exc:
                exc.start = start
                raise

        strict, scan_once, object_hook, _, *memo = args
        # JSONObject is the pure-Python object parser; typeshed does not declare it
        parse = json.decoder.JSONObject  # type: ignore[attr-defined]
        return parse(s_and_end, strict, scan_once, object_hook, hook, *memo)

    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(text)
    except _DuplicateKey as exc:
        return exc
    raise AssertionError("a duplicate key found once is found again")


def _too_deep(document: Any) -> str | None:
    """The JSON path of the first container nested deeper than MAX_DEPTH, or None."""
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(document, 1, ())]
    while stack:
        node, depth, parts = stack.pop()
        if depth > MAX_DEPTH:
            return json_path(parts[:6]) + "..."  # where it starts is enough
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append((value, depth + 1, (*parts, key)))
    return None


def _decode(data: bytes, source: str) -> str:
    """UTF-8 text (a UTF-8 byte-order mark is dropped), or a refusal saying what the bytes are."""
    import codecs

    def refuse(where: str, what: str) -> InvalidDocumentError:
        return InvalidDocumentError(source, [(where, what)])

    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            raise refuse("byte 0", f"the file is {name}, not UTF-8: save it as UTF-8")
    if b"\x00" in data[:4]:  # JSON starts with ASCII: zero bytes there mean UTF-16 or UTF-32
        raise refuse("byte 0", "the file looks like UTF-16 or UTF-32, not UTF-8: save it as UTF-8")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise refuse(
            f"line {line} (byte {exc.start})",
            f"not UTF-8 (byte {data[exc.start : exc.start + 1]!r}): save the file as UTF-8",
        ) from None


def loads_json(text: str | bytes, source: str) -> Any:
    """Parse a JSON document strictly: the one way recast reads a JSON document it is given.

    Refused (:class:`InvalidDocumentError`, with the position and the fix), where ``json``
    would silently pick or crash: a key given twice in one object (the last one would win),
    an integer beyond float64, nesting deeper than :data:`MAX_DEPTH`, text that is not UTF-8
    (UTF-16 and UTF-32 are named). ``NaN`` and ``Infinity`` parse: the checks of each
    document refuse them with their JSON path.
    """
    if isinstance(text, bytes):
        text = _decode(text, source)
    elif text.startswith("\ufeff"):
        text = text[1:]

    def refuse(where: str, what: str) -> InvalidDocumentError:
        return InvalidDocumentError(source, [(where, what)])

    try:
        document = json.loads(text, object_pairs_hook=_unique_pairs, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise refuse(
            f"line {exc.lineno} column {exc.colno}", f"not valid JSON: {exc.msg}"
        ) from None
    except _DuplicateKey:
        found = _locate_duplicate(text)
        raise refuse(
            _position(text, found.start or 0),
            f"the object starting here gives key {found.key!r} twice ({_shown(found.first)}, "
            f"then {_shown(found.second)}): JSON readers disagree on which one counts, so "
            "keep the one you mean and delete the other",
        ) from None
    except _HugeInteger as exc:
        import re

        match = re.search(rf"-?[0-9]{{{MAX_INT_DIGITS + 1},}}", text)
        where = _position(text, match.start()) if match else "(document)"
        raise refuse(
            where,
            f"an integer of {len(str(exc).lstrip('-'))} digits, beyond any finite number "
            f"(float64 ends at 1.8e308): write the value you mean, e.g. 1e10",
        ) from None
    except RecursionError:
        raise refuse("(document)", f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    if isinstance(document, dict | list) and (deep := _too_deep(document)) is not None:
        raise refuse(
            deep, f"nested more than {MAX_DEPTH} levels deep: no recast document nests so deeply"
        )
    return document


def load_json(path: str | Path) -> Any:
    """Read a JSON file through :func:`loads_json`; a missing file, a folder or an unreadable
    file is an ArtefactNotFoundError naming it."""
    from .errors import ArtefactNotFoundError

    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArtefactNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ArtefactNotFoundError(f"{path}: is a folder, not a JSON document") from None
    except OSError as exc:
        raise ArtefactNotFoundError(f"{path}: cannot read it ({exc.strerror})") from None
    return loads_json(data, str(path))
