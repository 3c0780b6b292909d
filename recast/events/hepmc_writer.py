"""Write chunks (the layout of :mod:`recast.events.chunk`) to HepMC3 ASCII files, atomically.

Example::

    from recast.events.hepmc_writer import write_hepmc
    from recast.events.pythia import generate

    write_hepmc(generate("gtt.slha", n_events=100, seed=1), "gtt.hepmc")

Every event keeps its particles, statuses, momenta, generated masses, vertex positions and
parent/child relations, its named weights and its cross-section (``GenCrossSection``, pb),
in units GeV and mm.

The order of particles in the file differs from the chunk's: HepMC3's reader needs every
vertex's incoming particles written before its outgoing ones and vertex ids in the order they
first appear, and Pythia lists initial-state shower ancestors *after* their daughters. The
writer therefore sorts vertices topologically (by generation depth) and writes each vertex's
outgoing particles together; :func:`file_order` gives that order, so particle ``k`` of an
event read back is particle ``file_order(chunk)[event][k]`` of the chunk.

The output's name chooses its compression: ``.gz``, ``.bz2``, ``.xz`` and ``.zst`` (or
``.zstd``, where Python has zstd: 3.14, or ``backports.zstd``) are compressed as they are
written, into the same unnamed temporary file; any other name is plain text, except the
suffixes of other compressions and archives (``.zip``, ``.lz4``, ...), which are refused
before anything is written (see :func:`output_compression`).

Two kinds of vertex cannot be written and are dropped (with a warning): one without outgoing
particles (HepMC3 writes a vertex only ahead of the particles it produces) and one without
incoming particles (HepMC3 3.2's reader fails on the ``V -n 0 []`` line it would take); the
particles the latter produced are written without a production vertex.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import logging
import lzma
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, Any

import awkward as ak
import numpy as np
import pyhepmc

from ..errors import OutputError, UsageError
from ..io import AtomicFile
from .hepmc_text import zstd_module as zstd_module_or_none

log = logging.getLogger(__name__)


_FIELDS = ("px", "py", "pz", "E", "pid", "status", "generated_mass")

#: the compression of an output by its name's last suffix; the reader knows each one by its
#: first bytes (recast.events.hepmc_text)
COMPRESSIONS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd", ".zstd": "zstd"}
#: suffixes of compressions and archives the writer does not make: refused, rather than plain
#: text written under a name that says otherwise
_FOREIGN = frozenset(
    {".zip", ".7z", ".rar", ".tar", ".tgz", ".tbz2", ".txz", ".lz4", ".lz", ".lzma", ".lzo",
     ".z", ".br", ".sz", ".snappy"}
)  # fmt: skip


def zstd_module(path: str | os.PathLike[str]) -> ModuleType:
    """Python's zstd to write ``path`` with, or an :class:`OutputError` saying what to do."""
    zstd = zstd_module_or_none()
    if zstd is None:
        raise OutputError(
            f"{path}: writing zstd needs Python 3.14 or `pip install backports.zstd`; "
            "or name the file .gz, .bz2 or .xz"
        )
    return zstd


def output_compression(path: str | os.PathLike[str]) -> str | None:
    """``gzip``, ``bzip2``, ``xz`` or ``zstd`` by the name's last suffix, None for plain text;
    a suffix of another compression or archive raises :class:`~recast.errors.OutputError`."""
    suffix = Path(path).suffix.lower()
    kind = COMPRESSIONS.get(suffix)
    if kind == "zstd":
        zstd_module(path)  # refused now, not after the events were generated
    if suffix in _FOREIGN:
        raise OutputError(
            f"{path}: cannot write a HepMC3 file compressed as {suffix!r}; give a name ending "
            f"in {', '.join(COMPRESSIONS)} (compressed by the name), or another name for "
            "plain text"
        )
    return kind


def _compressor(kind: str, raw: IO[bytes], path: Path) -> io.BufferedIOBase:
    """A binary stream compressing into ``raw``: gzip level 6 (gzip's own default) without a
    time stamp, so that the same events give the same bytes; xz preset 1, as its default
    costs 0.4 s an event, twenty times the generation."""
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)
    if kind == "bzip2":
        return bz2.BZ2File(raw, "wb")
    if kind == "xz":
        return lzma.LZMAFile(raw, "wb", preset=1)
    return zstd_module(path).ZstdFile(raw, "wb")  # type: ignore[no-any-return]


class _Compressed:
    """What pyhepmc writes a compressed file into: a Python stream over the atomic file.

    pyhepmc's Python stream swallows any exception of ``write`` (a full disk, Ctrl-C), so the
    first one is kept here and raised by :meth:`check` after each event.
    """

    def __init__(self, fd: int, kind: str, path: Path) -> None:
        self._raw = os.fdopen(fd, "wb", closefd=False)
        self._codec = _compressor(kind, self._raw, path)
        self.error: BaseException | None = None
        self.stream = pyhepmc._core.pyiostream(self)

    def write(self, data: bytes) -> int:
        if self.error is None:
            try:
                self._codec.write(data)
            except BaseException as exc:  # any: raised again by check()
                self.error = exc
        return len(data)

    def flush(self) -> None:
        """pyhepmc flushes its stream into :meth:`write`; the codec keeps its own buffer."""

    def check(self, path: Path) -> None:
        """Raise the first error of a write: a failed write as an OutputError."""
        if self.error is None:
            return
        if isinstance(self.error, OSError):
            raise OutputError(
                f"{path}: writing the HepMC3 file failed (disk full?): "
                f"{self.error.strerror or self.error}"
            ) from None
        raise self.error

    def close(self, path: Path) -> None:
        """Flush pyhepmc's stream, end the compressed stream and flush it to the file."""
        self.stream.flush()
        if self.error is None:
            try:
                self._codec.close()
                self._raw.close()  # flushes; the descriptor stays open for the commit
            except OSError as err:
                self.error = err
        self.check(path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._codec.close()


@dataclass(frozen=True)
class _Flat:
    """One chunk as flat numpy arrays, particles in file order, vertices renumbered to it.

    ``block`` numbers the vertices that have outgoing particles, in the order the file
    writes them; each block's outgoing particles are contiguous.
    """

    particles: dict[str, np.ndarray]  # per particle, file order, all events concatenated
    counts: np.ndarray  # particles per event
    order: np.ndarray  # per particle: its index in the chunk's event
    prod: np.ndarray  # per particle: block of its production vertex in its event, or -1
    end: np.ndarray  # per particle: block of its end vertex in its event, or -1
    children: np.ndarray  # (n, 2): first, last place of its end vertex's outgoing, or -1, -1
    block_counts: np.ndarray  # blocks per event
    block_position: np.ndarray  # (n_blocks, 4)
    block_incoming: np.ndarray  # per block: whether it has incoming particles


def _column(array: ak.Array) -> np.ndarray:
    return np.asarray(ak.to_numpy(ak.flatten(array, axis=1)))


def _starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)


def _depth(src: np.ndarray, dst: np.ndarray, n_vertices: int) -> np.ndarray:
    """Generation depth of every vertex: 1 + the deepest production vertex of its inputs.

    ``src -> dst`` are the particles running from one vertex to another. Columnar relaxation:
    one pass per generation (~50 for Pythia events), each a grouped maximum over the chunk.
    """
    depth = np.zeros(n_vertices, dtype=np.int64)
    if not len(dst):
        return depth
    by_dst = np.argsort(dst, kind="stable")
    src, dst = src[by_dst], dst[by_dst]
    starts = np.flatnonzero(np.r_[True, dst[1:] != dst[:-1]])
    targets = dst[starts]
    for _ in range(n_vertices + 1):
        new = np.maximum.reduceat(depth[src] + 1, starts)
        if np.array_equal(new, depth[targets]):
            return depth
        depth[targets] = new
    raise UsageError("the events' vertices form a cycle; they cannot be written as HepMC3")


def _flatten(chunk: ak.Array) -> _Flat:
    parts = chunk["particles"]
    counts = np.asarray(ak.to_numpy(ak.num(parts, axis=1)), dtype=np.int64)
    v_counts = np.asarray(ak.to_numpy(ak.num(chunk["vertices"], axis=1)), dtype=np.int64)
    event = np.repeat(np.arange(len(counts)), counts)
    p_start, v_start = _starts(counts), _starts(v_counts)
    n_v = int(v_counts.sum())
    global_index = {}
    for name in ("production_vertex", "end_vertex"):
        local = _column(parts[name]).astype(np.int64)
        if np.any(local >= v_counts[event]) or np.any(local < -1):
            raise UsageError(f"particles.{name} points outside its event's vertices")
        global_index[name] = np.where(local >= 0, local + v_start[event], -1)
    gp, ge = global_index["production_vertex"], global_index["end_vertex"]
    v_event = np.repeat(np.arange(len(v_counts)), v_counts)

    linked = (gp >= 0) & (ge >= 0)
    depth = _depth(gp[linked], ge[linked], n_v)
    # vertices by (event, depth, index); particles grouped by production vertex in that order,
    # those without one (the beams) first
    v_rank = np.empty(n_v, dtype=np.int64)
    v_rank[np.lexsort((np.arange(n_v), depth, v_event))] = np.arange(n_v)
    p_key = np.where(gp >= 0, v_rank[np.maximum(gp, 0)], -1)
    perm = np.lexsort((np.arange(len(gp)), p_key, event))
    place = np.arange(len(perm)) - p_start[event[perm]]

    # blocks: the vertices with outgoing particles, numbered in the order they now appear
    placed = gp[perm]
    has = placed >= 0
    first = np.full(n_v, -1, dtype=np.int64)
    last = np.full(n_v, -1, dtype=np.int64)
    first[placed[has][::-1]] = place[has][::-1]
    last[placed[has]] = place[has]
    is_block = first >= 0
    block_of = np.full(n_v, -1, dtype=np.int64)
    b_order = np.flatnonzero(is_block)[np.argsort(v_rank[is_block], kind="stable")]
    b_counts = np.bincount(v_event[b_order], minlength=len(counts))
    b_start = _starts(b_counts)
    block_of[b_order] = np.arange(len(b_order)) - b_start[v_event[b_order]]
    ends = ge[perm]
    end_block = np.where(ends >= 0, block_of[np.maximum(ends, 0)], -1)
    children = np.stack(
        [
            np.where(end_block >= 0, first[np.maximum(ends, 0)], -1),
            np.where(end_block >= 0, last[np.maximum(ends, 0)], -1),
        ],
        axis=1,
    )
    incoming = np.zeros(n_v, dtype=bool)
    incoming[ge[ge >= 0]] = True
    xyzt = [_column(chunk["vertices"][f]) for f in ("x", "y", "z", "t")]
    where = np.stack(xyzt, axis=1) if n_v else np.zeros((0, 4))
    return _Flat(
        particles={f: _column(parts[f])[perm] for f in _FIELDS},
        counts=counts,
        order=perm - p_start[event[perm]],
        prod=np.where(placed >= 0, block_of[np.maximum(placed, 0)], -1),
        end=end_block,
        children=children.astype(np.int32),
        block_counts=b_counts,
        block_position=where[b_order],
        block_incoming=incoming[b_order],
    )


def file_order(chunk: ak.Array) -> ak.Array:
    """Per event, the chunk index of the particle written at each place of the HepMC3 file."""
    flat = _flatten(chunk)
    return ak.unflatten(flat.order, flat.counts)


def run_info(weight_names: Iterable[str]) -> pyhepmc.GenRunInfo:
    """A GenRunInfo naming the weights and recast-nn as the writing tool."""
    from importlib.metadata import PackageNotFoundError, version

    info = pyhepmc.GenRunInfo()
    info.weight_names = list(weight_names)
    try:
        ours = version("recast-nn")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        ours = "unknown"
    info.tools = [pyhepmc.GenRunInfo.ToolInfo("recast-nn", ours, "recast.events.hepmc_writer")]
    return info


def _genevent(
    flat: _Flat,
    p: slice,
    b: slice,
    info: pyhepmc.GenRunInfo,
    number: int,
    weights: list[float],
    xsec: tuple[float, float],
) -> pyhepmc.GenEvent:
    """One GenEvent, built in C++ by ``from_hepevt`` from the particles and, per particle, the
    range of its end vertex's outgoing particles (contiguous in file order); a vertex is made
    per distinct range, in the order of the ranges, i.e. of first appearance."""
    event = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
    q = {k: np.ascontiguousarray(v[p]) for k, v in flat.particles.items()}
    prod = flat.prod[p]
    xyzt = np.where((prod >= 0)[:, None], flat.block_position[b][np.maximum(prod, 0)], 0.0)
    event.from_hepevt(
        event_number=number,
        px=q["px"],
        py=q["py"],
        pz=q["pz"],
        en=q["E"],
        m=q["generated_mass"],
        pid=q["pid"].astype(np.int32),
        status=q["status"].astype(np.int32),
        children=np.ascontiguousarray(flat.children[p]),
        vx=np.ascontiguousarray(xyzt[:, 0]),
        vy=np.ascontiguousarray(xyzt[:, 1]),
        vz=np.ascontiguousarray(xyzt[:, 2]),
        vt=np.ascontiguousarray(xyzt[:, 3]),
        fortran=False,
    )
    event.run_info = info  # before weights and cross-section, which are sized by its names
    event.event_number = number
    event.weights = weights
    if np.isfinite(xsec[0]):
        cross_section = pyhepmc.GenCrossSection()
        event.cross_section = cross_section
        cross_section.set_cross_section(xsec[0], xsec[1] if np.isfinite(xsec[1]) else 0.0)
    return event


class HepMCWriter:
    """Writes chunks to a HepMC3 ASCII file; the file appears only when the writer closes
    without error (it is written beside the target, then renamed over it).

    Use as a context manager::

        with HepMCWriter("out.hepmc") as writer:
            for chunk in chunks:
                writer.write(chunk)
    """

    def __init__(self, path: str | os.PathLike[str], precision: int = 16) -> None:
        self.path = Path(path)
        self.compression = output_compression(self.path)  # before any file is made
        self.precision = precision
        self.n_events = 0
        self.weight_names: list[str] | None = None
        self._writer: Any = None
        self._info: pyhepmc.GenRunInfo = run_info([])
        self._done = False
        # unnamed until closed (see AtomicFile): no partial or hidden file survives any signal
        self._file = AtomicFile(self.path)
        self._tmp = self._file.name
        self._compressed: _Compressed | None = None

    def _open(self) -> Any:
        """pyhepmc's writer: by the file's name when plain (faster), else into a codec."""
        if self.compression is None:
            return pyhepmc.io.WriterAscii(str(self._tmp), self._info)
        assert self._file.fd is not None
        self._compressed = _Compressed(self._file.fd, self.compression, self.path)
        return pyhepmc.io.WriterAscii(self._compressed.stream, self._info)

    def write(self, chunk: ak.Array) -> int:
        """Write every event of ``chunk``; returns how many."""
        if not len(chunk):
            return 0
        names = list(ak.fields(chunk["weights"]))
        if self._done:
            raise UsageError(f"{self.path}: the writer is already closed")
        if self._writer is None:
            self.weight_names = names
            self._info = run_info(names)
            self._writer = self._open()
            self._writer.precision = self.precision
        elif names != self.weight_names:
            raise UsageError(
                f"{self.path}: the chunk's weights {names} differ from the file's "
                f"{self.weight_names}; one HepMC3 file has one list of weight names"
            )
        flat = _flatten(chunk)
        orphans = int(np.count_nonzero(~flat.block_incoming))
        if orphans:
            log.warning(
                "%s: dropping %d vertices without incoming particles (HepMC3 cannot read "
                "them back); their particles are written without a production vertex",
                self.path,
                orphans,
            )
        numbers = np.asarray(ak.to_numpy(chunk["event_number"])).tolist()
        table = np.stack([ak.to_numpy(chunk["weights"][n]) for n in names], axis=1)
        xsec = np.asarray(ak.to_numpy(chunk["cross_section"]))
        xerr = np.asarray(ak.to_numpy(chunk["cross_section_error"]))
        p_start, b_start = _starts(flat.counts), _starts(flat.block_counts)
        for i in range(len(flat.counts)):
            p = slice(p_start[i], p_start[i] + flat.counts[i])
            b = slice(b_start[i], b_start[i] + flat.block_counts[i])
            event = _genevent(
                flat, p, b, self._info, numbers[i], table[i].tolist(), (xsec[i], xerr[i])
            )
            self._writer.write_event(event)
            if self._compressed is not None:
                self._compressed.check(self.path)
        if self._writer.failed():
            raise OutputError(f"{self.path}: writing the HepMC3 file failed (disk full?)")
        self.n_events += len(flat.counts)
        return len(flat.counts)

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._done:
            return
        self._done = True
        if self._writer is None:  # no event: still a valid, empty HepMC3 file
            self._writer = self._open()
        self._writer.close()
        if self._compressed is not None:
            try:
                self._compressed.close(self.path)
            except BaseException:
                self._file.discard()
                raise
        if self._writer.failed():
            self._file.discard()
            raise OutputError(f"{self.path}: writing the HepMC3 file failed (disk full?)")
        self._file.commit()
        log.debug("wrote %d events to %s", self.n_events, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        if self._done:
            return
        self._done = True
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        if self._compressed is not None:
            self._compressed.abort()
        self._file.discard()

    def __enter__(self) -> HepMCWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def write_hepmc(
    chunks: ak.Array | Iterable[ak.Array], path: str | os.PathLike[str], precision: int = 16
) -> int:
    """Write one chunk or an iterable of chunks to a HepMC3 ASCII file, compressed by its name
    (see :func:`output_compression`); returns the event count."""
    with HepMCWriter(path, precision) as writer:
        for chunk in [chunks] if isinstance(chunks, ak.Array) else chunks:
            writer.write(chunk)
    return writer.n_events
