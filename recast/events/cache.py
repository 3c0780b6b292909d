"""A columnar cache of a run's chunks: one Parquet file, one row group per chunk.

Reading a HepMC3 file (or clustering its jets) once and the cache many times saves most of a
rerun. The file records the source's sha256, the number of events and the recast-nn version
that wrote it; reading refuses a cache whose source changed or that another version wrote,
so a stale cache is never used silently::

    for chunk in cached_chunks("events.hepmc", "events.parquet",
                               lambda: read_hepmc("events.hepmc")):
        ...   # the first run reads HepMC3 and writes the cache, later runs read the cache

Any awkward array of records can be cached (particles, objects, ...); record names such as
``Momentum4D`` survive the round trip, so ``vector`` behaviours work on what is read back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import awkward as ak
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import EventFileError, UsageError
from ..io import atomic_open, sha256_file
from .hepmc_text import first_event_fingerprint

log = logging.getLogger(__name__)

METADATA_KEY = "recast.cache"
FORMAT = "recast-nn chunk cache"
FORMAT_VERSION = 1


def _recast_version() -> str:
    from ..version import __version__

    return __version__


@dataclass(frozen=True)
class CacheHeader:
    """What a cache file says about itself."""

    recast_version: str
    events: int
    chunks: int
    source: str | None = None
    source_sha256: str | None = None
    #: the source's first event (see :func:`~.hepmc_text.first_event_fingerprint`): a run
    #: refuses this cache beside any input that begins with the same event
    source_first_event: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION


class CacheWriter:
    """Write chunks to a cache file; the file appears only when the block ends without error.

    ``source`` (the event file the chunks come from) is hashed first, so that a reader can tell
    whether the cache still describes it. ``extra`` is any JSON-able note (e.g. the settings
    that produced the chunks: a cache is only as fresh as those too)::

        with CacheWriter("events.parquet", source="events.hepmc") as cache:
            for chunk in read_hepmc("events.hepmc"):
                cache.write(chunk)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        source: str | os.PathLike[str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.source = None if source is None else Path(source)
        self.extra = dict(extra or {})
        self.events = 0
        self.chunks = 0
        self._stack = contextlib.ExitStack()
        self._handle: Any = None
        self._writer: pq.ParquetWriter | None = None
        self._sha256: str | None = None
        self._first_event: str | None = None

    def __enter__(self) -> CacheWriter:
        if self.source is not None:
            if not self.source.is_file():
                raise EventFileError(f"{self.source}: no such file (the source of {self.path})")
            self._sha256 = sha256_file(self.source)
            self._first_event = first_event_fingerprint(self.source)
        self._handle = self._stack.enter_context(atomic_open(self.path, "wb"))
        return self

    def write(self, chunk: ak.Array) -> None:
        """Append one chunk as one row group; every chunk must have the first one's type."""
        if self._handle is None:
            raise UsageError("CacheWriter.write outside its `with` block")
        if len(chunk) == 0:
            return  # an empty row group carries nothing
        table = ak.to_arrow_table(ak.to_packed(chunk), extensionarray=True)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self._handle, table.schema, compression="zstd")
        elif not table.schema.equals(self._writer.schema):
            try:
                table = table.cast(self._writer.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                raise UsageError(
                    f"{self.path}: chunk {self.chunks} has type {chunk.type}, unlike the first "
                    "chunk's; a cache holds chunks of one type"
                ) from None
        self._writer.write_table(table, row_group_size=len(table))
        self.events += len(chunk)
        self.chunks += 1

    def header(self) -> CacheHeader:
        return CacheHeader(
            recast_version=_recast_version(),
            events=self.events,
            chunks=self.chunks,
            source=None if self.source is None else str(self.source),
            source_sha256=self._sha256,
            source_first_event=self._first_event,
            extra=self.extra,
        )

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None:
            self._abort(kind, err, tb)
            return
        try:
            if self._writer is None:
                raise UsageError(f"{self.path}: no chunks to cache (every chunk was empty)")
            self._writer.add_key_value_metadata({METADATA_KEY: json.dumps(asdict(self.header()))})
            self._writer.close()
        except BaseException as exc:
            self._abort(type(exc), exc, exc.__traceback__)
            raise
        self._stack.close()  # renames the finished file into place

    def _abort(
        self, kind: type[BaseException], err: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Drop the temporary file: a half-written cache is never left behind."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        self._stack.__exit__(kind, err, tb)


def write_cache(
    path: str | os.PathLike[str],
    chunks: Iterable[ak.Array],
    source: str | os.PathLike[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> CacheHeader:
    """Write all ``chunks`` to ``path`` atomically; see :class:`CacheWriter`."""
    with CacheWriter(path, source=source, extra=extra) as cache:
        for chunk in chunks:
            cache.write(chunk)
    return cache.header()


def read_cache_header(path: str | os.PathLike[str]) -> CacheHeader:
    """The header of a cache file, without checking it against anything."""
    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: no such cache file")
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError) as exc:
        raise EventFileError(f"{path}: not a Parquet file ({exc})") from None
    raw = (meta.metadata or {}).get(METADATA_KEY.encode())
    if raw is None:
        raise EventFileError(f"{path}: a Parquet file but not a recast-nn cache (no header)")
    from ..schema import loads_json

    header = loads_json(raw, f"{path} (its {METADATA_KEY} header)")
    if header.get("format_version") != FORMAT_VERSION:
        raise EventFileError(
            f"{path}: cache format version {header.get('format_version')!r}; this recast-nn "
            f"reads version {FORMAT_VERSION}. Delete the cache to rebuild it"
        )
    if meta.num_rows != header["events"] or meta.num_row_groups != header["chunks"]:
        raise EventFileError(
            f"{path}: holds {meta.num_rows} events in {meta.num_row_groups} chunks but its header "
            f"says {header['events']} in {header['chunks']}: the file is damaged; delete it"
        )
    return CacheHeader(**header)


def check_cache(
    path: str | os.PathLike[str], source: str | os.PathLike[str] | None = None
) -> CacheHeader:
    """The header, if the cache is fresh: same recast-nn version and, if given, same source."""
    header = read_cache_header(path)
    if header.recast_version != _recast_version():
        raise EventFileError(
            f"{path}: written by recast-nn {header.recast_version}, this is "
            f"{_recast_version()}: the cache is stale; delete it to rebuild it"
        )
    if source is not None:
        digest = sha256_file(source) if Path(source).is_file() else None
        if digest is None:
            raise EventFileError(f"{source}: no such file (the source of the cache {path})")
        if header.source_sha256 is None:
            raise EventFileError(
                f"{path}: records no source file, so it cannot vouch for {source}; rebuild it "
                "with its source"
            )
        if digest != header.source_sha256:
            raise EventFileError(
                f"{path}: made from a file with sha256 {header.source_sha256}, but {source} now "
                f"has sha256 {digest}: the cache is stale; delete it to rebuild it"
            )
    return header


def read_cache(
    path: str | os.PathLike[str], source: str | os.PathLike[str] | None = None
) -> Iterator[ak.Array]:
    """The cached chunks, one per row group; :func:`check_cache` runs first and may raise."""
    check_cache(path, source)
    return _row_groups(Path(path))


def _row_groups(path: Path) -> Iterator[ak.Array]:
    with pq.ParquetFile(path) as file:
        for group in range(file.metadata.num_row_groups):
            yield ak.from_arrow(file.read_row_group(group))


def cached_chunks(
    source: str | os.PathLike[str],
    cache: str | os.PathLike[str],
    produce: Callable[[], Iterable[ak.Array]],
    extra: Mapping[str, Any] | None = None,
) -> Iterator[ak.Array]:
    """Chunks from ``cache`` if it is fresh for ``source``; else from ``produce()``, cached on
    the way (the cache file appears once every chunk has been produced and consumed)."""
    cache = Path(cache)
    if cache.exists():
        try:
            header = check_cache(cache, source)
        except EventFileError as exc:
            log.info("rebuilding the cache: %s", exc)
        else:
            if extra is None or header.extra == dict(extra):
                yield from read_cache(cache)
                return
            log.info("rebuilding the cache %s: it was made with other settings", cache)
    with CacheWriter(cache, source=source, extra=extra) as writer:
        for chunk in produce():
            writer.write(chunk)
            yield chunk
