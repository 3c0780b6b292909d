"""The list of event inputs of a run, checked before any event is read: no events twice.

A file given twice counts its events twice and understates the Monte Carlo uncertainty by √2
with nothing to show for it. :func:`refuse_duplicates` refuses, naming both paths: the same
path, a symbolic or hard link to another input, two copies with identical contents, and a
Parquet cache made from another input (or two caches made from one file). Only files of equal
size are hashed, and the HepMC3 files when a cache is among the inputs (to compare them with
the source it records), so a run over distinct event files hashes no whole file here.

Copies that differ in their bytes but not in their events (one compressed, a cache of the
other, or one cut from the other) are found by the first event: each input's event number
and the hash of its particle lines (a cache records its source's), read from one event per
input; two inputs that begin with the same event are refused.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from ..errors import DuplicateInputError, EventFileError
from ..io import sha256_file
from .hepmc_text import first_event_fingerprint

log = logging.getLogger(__name__)


def _refuse(what: str) -> None:
    raise DuplicateInputError(
        f"{what}: their events would be counted twice (and the Monte Carlo uncertainty "
        "understated); give each sample once"
    )


def refuse_duplicates(paths: Sequence[str | os.PathLike[str]]) -> None:
    """Raise :class:`DuplicateInputError` if two inputs hold the same events."""
    names = [str(p) for p in paths]
    seen: dict[str, str] = {}
    for name in names:
        real = os.path.realpath(name)
        if real in seen:
            first = seen[real]
            _refuse(
                f"{name} is given twice"
                if first == name
                else f"{first} and {name} are the same file ({real})"
            )
        seen[real] = name
    by_inode: dict[tuple[int, int], str] = {}
    by_size: dict[int, list[str]] = defaultdict(list)
    for name in names:
        info = os.stat(name)
        key = (info.st_dev, info.st_ino)
        if key in by_inode:
            _refuse(f"{by_inode[key]} and {name} are the same file (hard links)")
        by_inode[key] = name
        by_size[info.st_size].append(name)
    digests: dict[str, str] = {}
    for group in by_size.values():
        if len(group) < 2:
            continue
        for name in group:
            digest = sha256_file(name)
            if digest in digests:
                _refuse(f"{digests[digest]} and {name} have identical contents")
            digests[digest] = name
    _refuse_cached_twice(names, digests)
    _refuse_same_first_event(names)


def _refuse_same_first_event(names: list[str]) -> None:
    from .cache import read_cache_header

    seen: dict[str, str] = {}
    for name in names:
        if name.endswith(".parquet"):
            try:
                fingerprint = read_cache_header(name).source_first_event
            except EventFileError:
                continue
        else:
            fingerprint = first_event_fingerprint(Path(name))
        if fingerprint is None:
            continue
        if fingerprint in seen:
            number = fingerprint.split(":", 1)[0]
            _refuse(
                f"{seen[fingerprint]} and {name} begin with the same event (event {number}, "
                "identical particles): one holds the other's events (compressed, cached or "
                "cut from it)"
            )
        seen[fingerprint] = name


def _refuse_cached_twice(names: list[str], digests: dict[str, str]) -> None:
    """A Parquet cache holds the events of its source file: not beside that file, nor beside
    another cache of it."""
    from .cache import read_cache_header

    caches = [n for n in names if n.endswith(".parquet")]
    if not caches:
        return
    sources: dict[str, str] = {}
    for name in caches:
        try:
            digest = read_cache_header(name).source_sha256
        except EventFileError:
            continue  # not a cache of ours: reading it says so, with its own message
        if digest is None:
            continue
        if digest in sources:
            _refuse(f"{sources[digest]} and {name} are caches of the same source file")
        sources[digest] = name
    known = {d: n for d, n in digests.items() if not n.endswith(".parquet")}
    for name in names:
        if name.endswith(".parquet"):
            continue
        digest = next((d for d, n in known.items() if n == name), None) or sha256_file(name)
        if digest in sources:
            _refuse(
                f"{name} and {sources[digest]} hold the same events (the cache was made "
                "from the file)"
            )


__all__ = ["refuse_duplicates"]
