"""What every training config must satisfy beyond its schema, and how a study writes its files.

The schemas (``schemas/<version>/train-*.json``) check types and lower bounds; a JSON schema
cannot say "finite" (``NaN`` passes ``minimum: 0``), "strictly increasing", or "not so large
it trains until killed". :func:`value_problems` checks those, on the whole config, before any
sample is made: every problem with its JSON path, as the schema's are reported.

:class:`Staging` is how the three studies write: every file goes to a hidden folder beside
the output folder, and moves into it only when the whole study succeeded; a study that fails
(or is interrupted) leaves nothing, and the files already in the output folder stay as they were.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import OutputError

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


def _number(value: Any) -> bool:
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


class Staging:
    """The hidden folder a study writes into; its files move to ``folder`` on success."""

    def __init__(self, folder: Path, staging: Path) -> None:
        self.folder = folder
        self.path = staging

    def final(self, path: Path) -> Path:
        """Where a file written in the staging folder will be once the study succeeded."""
        return self.folder / Path(path).relative_to(self.path)

    def relocate(self, value: Any) -> Any:
        """``value`` (a report) with every string naming a staged file renamed to its final
        place: a report records the maps it checked by path."""
        if isinstance(value, str):
            prefix = str(self.path)
            return str(self.folder) + value[len(prefix) :] if value.startswith(prefix) else value
        if isinstance(value, Mapping):
            return {k: self.relocate(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.relocate(v) for v in value]
        return value


@contextmanager
def staged(folder: str | Path) -> Iterator[Staging]:
    """Write a study's files into a hidden folder next to ``folder`` (made in its nearest
    existing ancestor: the same file system, so the final moves are renames); move them into
    ``folder`` (created if needed) only when the block ends without an exception. On any
    exception, KeyboardInterrupt included, the staged files are removed and ``folder`` is as
    it was."""
    folder = Path(folder).resolve()
    anchor = folder
    while not anchor.exists():
        anchor = anchor.parent
    if not anchor.is_dir():
        raise OutputError(f"{anchor} is a file, not a folder; the output folder {folder} is in it")
    place = Path(tempfile.mkdtemp(prefix=".recast-staging-", dir=anchor))
    try:
        yield Staging(folder, place)
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(place.iterdir()):
            os.replace(path, folder / path.name)
    finally:
        shutil.rmtree(place, ignore_errors=True)


__all__ = ["LIMITS", "MAX_EVENTS", "Staging", "edges_problem", "staged", "value_problems"]
