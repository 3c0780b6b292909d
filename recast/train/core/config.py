"""Training configs (``recast train efficiency|surrogate|filter CONFIG``): every problem at once.

:func:`config_problems` validates a config against its schema
(``schemas/<version>/train-*.json``) and :func:`value_problems`, each problem with its JSON
path, all collected. The schemas check types and lower bounds; a JSON schema cannot say
"finite" (``NaN`` passes ``minimum: 0``), "strictly increasing", or "not so large it trains
until killed": :func:`value_problems` checks those, on the whole config, before any sample is
made. :func:`checked_config` runs both and confines the files a config names to its folder
(:func:`confine_paths`); :func:`read_parquet` reads a sample's events.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TypeGuard

import awkward as ak
import jsonschema

from ...errors import (
    ArtefactNotFoundError,
    InvalidDocumentError,
    UnknownSchemaVersionError,
    UsageError,
    closest,
)
from ...paths import inside
from ...schema import CURRENT_VERSION, _validator, json_path, known_versions

log = logging.getLogger(__name__)

#: upper bounds of counts: far beyond any config of the docs and tests, low enough that a
#: typo (an extra zero or three) is refused instead of training until killed
LIMITS: dict[str, int] = {
    "n_models": 100,
    "max_epochs": 10_000,
    "patience": 10_000,
    "decorrelation_warmup": 10_000,
    "hidden": 4096,
    "depth": 64,
    "embedding": 1024,
    "vocabulary_size": 100_000,
    "max_neighbours": 1000,
    "batch_size": 1_000_000,
    "threads": 1024,
}
#: events of a generated sample (synthetic or Pythia8): generation is the cost
MAX_EVENTS = 10_000_000
MAX_CHUNK = 1_000_000
#: edges of one axis (bins + 1)
MAX_EDGES = 1001


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _inner(path: str) -> str:
    """A JSON path as :func:`_at` extends it (the root is the empty path)."""
    return "" if path == "(document)" else path


def _non_finite(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every float of the config that is NaN or infinite (JSON's NaN, Infinity, 1e400)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield path or "(document)", f"{value!r} is not a finite number; give a number"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, _at(path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, _at(path, index))


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def edges_problem(edges: Any, least: int = 2) -> str | None:
    """Why ``edges`` cannot be bin edges (None: they can)."""
    if not isinstance(edges, list) or not all(_number(e) for e in edges):
        return None  # the schema reports the type
    if not all(math.isfinite(e) for e in edges):
        return None  # reported as not finite
    if len(edges) < least:
        return None  # the schema's minItems reports it
    if len(edges) > MAX_EDGES:
        return f"has {len(edges)} edges; at most {MAX_EDGES} (merge bins)"
    for k in range(len(edges) - 1):
        if not edges[k] < edges[k + 1]:
            return (
                f"edges must increase strictly, but [{k}] = {edges[k]:g} is followed by "
                f"{edges[k + 1]:g}; sort them and drop repeats"
            )
    return None


def _count(block: Any, key: str, limit: int, path: str) -> Iterator[tuple[str, str]]:
    if not isinstance(block, Mapping):
        return
    value = block.get(key)
    if _number(value) and math.isfinite(value) and value > limit:
        yield _at(path, key), f"{value:g} is more than the limit {limit}; give at most {limit}"


def _samples(config: Mapping[str, Any], kind: str) -> list[tuple[str, Any]]:
    if kind == "train-filter":
        return [("sample", config.get("sample"))]
    samples = [("train", config.get("train"))]
    held_out = config.get("held_out")
    if isinstance(held_out, list):
        samples += [(f"held_out[{i}]", block) for i, block in enumerate(held_out)]
    return samples


def value_problems(config: Mapping[str, Any], kind: str) -> list[tuple[str, str]]:
    """Non-finite numbers, edges that are not strictly increasing, and counts beyond
    :data:`LIMITS` anywhere in a training config of ``kind``; each with its JSON path."""
    problems = list(_non_finite(config, ""))
    trainer = config.get("trainer")
    for key, limit in LIMITS.items():
        problems += _count(trainer, key, limit, "trainer")
    for where, block in _samples(config, kind):
        problems += _count(block, "events", MAX_EVENTS, where)
        problems += _count(block, "chunk_size", MAX_CHUNK, where)
    edges: list[tuple[str, Any, int]] = []
    axes = config.get("binned_axes")
    if isinstance(axes, list):
        edges += [
            (f"binned_axes[{i}].edges", a.get("edges"), 2)
            for i, a in enumerate(axes)
            if isinstance(a, Mapping)
        ]
    if isinstance(trainer, Mapping) and "score_edges" in trainer:
        edges.append(("trainer.score_edges", trainer["score_edges"], 3))
    check = config.get("check")
    if isinstance(check, Mapping) and "pt_edges" in check:
        edges.append(("check.pt_edges", check["pt_edges"], 2))
    for where, values, least in edges:
        problem = edges_problem(values, least)
        if problem:
            problems.append((where, problem))
    bias = config.get("bias")
    if isinstance(bias, Mapping):
        problems += _count(bias, "bins", MAX_EDGES - 1, "bias")
    return problems


#: JSON types as a Python user reads them in a message
_TYPE_NAMES = {
    "integer": "int",
    "number": "float",
    "string": "str",
    "boolean": "bool",
    "object": "dict",
    "array": "list",
    "null": "null",
}


def _messages(error: jsonschema.ValidationError) -> list[tuple[str, str]]:
    """One schema error as (JSON path, message) pairs a user can act on. A schema may word
    its own messages with an ``x-messages`` annotation (keyword → text) beside the keyword."""
    path = json_path(error.absolute_path)
    own = error.schema if isinstance(error.schema, Mapping) else {}
    worded: Mapping[str, str] = own.get("x-messages", {})
    keyword, value, instance = error.validator, error.validator_value, error.instance
    if keyword == "additionalProperties":
        allowed = list(own.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        text = worded.get(keyword, "unknown key")
        return [(_at(_inner(path), k), f"{text}.{closest(k, allowed)}") for k in extra]
    if keyword == "required":
        missing = [k for k in value if k not in instance]
        if keyword in worded:
            return [(path, worded[keyword].format(name=repr(k))) for k in missing]
        return [(_at(_inner(path), k), "missing") for k in missing]
    if keyword == "type":
        names = " or ".join(
            _TYPE_NAMES.get(t, t) for t in ([value] if isinstance(value, str) else value)
        )
        return [(path, f"expected {names}, got {instance!r}")]
    if keyword == "enum":
        return [(path, f"{worded.get(keyword, f'{instance!r} is not allowed')}; known: {value}")]
    if keyword in worded:
        return [(path, worded[keyword])]
    if keyword in ("oneOf", "anyOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            return _messages(best)
    return [(path, error.message)]


def config_problems(config: Any, kind: str, source: str = "<config>") -> list[tuple[str, str]]:
    """Every problem of a training config against ``schemas/<version>/<kind>.json`` and
    :func:`value_problems` (finite numbers, increasing edges, bounded counts), each
    with its JSON path (all collected, none raised). ``schema_version`` is optional in a config
    (the current version); an unknown one raises :class:`UnknownSchemaVersionError`."""
    if not isinstance(config, Mapping):
        return [("(document)", "expected a JSON object (a mapping of settings)")]
    version = config.get("schema_version", CURRENT_VERSION)
    if version not in known_versions(kind):
        raise UnknownSchemaVersionError(source, version, known_versions(kind))
    problems: list[tuple[str, str]] = []
    errors = _validator(kind, version).iter_errors(config)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        problems += [p for p in _messages(error) if p not in problems]
    problems += [p for p in value_problems(config, kind) if p not in problems]
    return problems


def confine_paths(config: Mapping[str, Any], source: str | Path) -> None:
    """The files a config file names (``output``, each sample's ``parquet``) must stay inside
    its folder: :class:`~recast.errors.PathEscapeError` otherwise. A config given as a mapping
    in Python (``source`` ``<config>``) names paths from the working directory, as its caller
    chose."""
    if str(source) == "<config>":
        return
    fields = [("output", config.get("output"))]
    samples = [("train", config.get("train"))]
    samples += [(f"held_out[{i}]", b) for i, b in enumerate(config.get("held_out", []))]
    fields += [(f"{w}.parquet", b.get("parquet")) for w, b in samples if isinstance(b, Mapping)]
    folder = Path(source).resolve().parent
    for where, value in fields:
        if isinstance(value, str):
            inside(folder, value, source, where)


def read_parquet(path: Path, where: str) -> ak.Array:
    """The events of a sample's Parquet file; a missing or unreadable file is a user error
    naming the file and the config field."""
    if not path.is_file():
        raise ArtefactNotFoundError(
            f"{path}: no such file, named by {where}.parquet of the training config; "
            "give a path relative to the config file"
        )
    try:
        return ak.from_parquet(path)
    except (ValueError, OSError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise UsageError(
            f"{path}: not a Parquet file ({exc}), named by {where}.parquet of the training "
            "config; write the events with ak.to_parquet"
        ) from None


def checked_config(config: Mapping[str, Any], kind: str, source: str | Path) -> Path:
    """Refuse a config with problems (:class:`~recast.errors.InvalidDocumentError` listing
    them all) or naming files outside its folder; return the folder its paths are relative to
    (the working directory for a config given in Python, ``source`` ``<config>``)."""
    problems = config_problems(config, kind, str(source))
    if problems:
        raise InvalidDocumentError(str(source), problems)
    confine_paths(config, source)
    return Path(source).resolve().parent if str(source) != "<config>" else Path.cwd()


__all__ = [
    "LIMITS",
    "MAX_EVENTS",
    "checked_config",
    "config_problems",
    "confine_paths",
    "edges_problem",
    "read_parquet",
    "value_problems",
]
